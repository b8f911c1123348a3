//! ossd-client: a Rust SDK for Alibaba Cloud OSS and ossd. Errors come in three families (client, request,
//! server), server errors decode all four vendors' formats, and requests are signed (OSS V1, V2 or V4; S3, COS or OBS) and retried by class.

pub mod decode;
pub mod error;
pub mod retry;
pub mod tls;
pub mod transport;

pub use error::{
    ClientError, ClientErrorKind, CodeSource, Error, ErrorCode, RequestError, RequestErrorKind, Result, ServerError,
    StatusClass, TimeoutPhase, Vendor,
};

pub mod client;
pub mod multipart;

pub use client::{
    AppendResult, BucketInfo, Client, Config, GetOptions, ListEntry, Lister, ObjectBody, ObjectMeta, ObjectSummary,
    PutOptions, PutResult,
};
pub use multipart::MultipartOptions;
pub use retry::RetryPolicy;
pub use transport::{Credentials, Payload, SignVersion};

pub use ossd_sign::crc64::{checksum as crc64, combine as crc64_combine};
