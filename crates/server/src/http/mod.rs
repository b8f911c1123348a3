//! The wire: accept loops and connections (plain and TLS), request parsing and addressing, request and response
//! bodies (including aws-chunked), limits, the access-log line, and the small text helpers every layer uses.
//! This is the floor: nothing here knows a dialect or an operation.

pub mod accept;
pub mod access_log;
pub mod body;
pub mod chunked;
pub mod conn;
pub mod json;
pub mod limits;
pub mod req;
pub mod tls;
pub mod util;
pub mod xml;
