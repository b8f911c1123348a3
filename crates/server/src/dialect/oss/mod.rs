//! The OSS dialect: V1 and V4 signatures (header and presigned), and OSS's error envelope.

pub mod auth;
mod error;

pub use auth::authenticate;
pub use error::error_response;
