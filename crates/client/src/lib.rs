//! ossd-client: a Rust SDK for Alibaba Cloud OSS and ossd. Errors come in three families (client, request,
//! server), server errors decode all four vendors' formats, and requests are signed (V1 or V4) and retried by class.

pub mod decode;
pub mod error;

pub use error::{
    ClientError, ClientErrorKind, CodeSource, Error, ErrorCode, RequestError, RequestErrorKind, Result, ServerError,
    StatusClass, TimeoutPhase, Vendor,
};
