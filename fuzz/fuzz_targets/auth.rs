//! Authorization headers and presigned query strings of every dialect (OSS V1, V2 and V4, S3 SigV4 and V2, COS,
//! OBS): the request (text form, see the crate docs) goes to every dialect's authenticator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ossd_errors::Dialect;

fuzz_target!(|data: &[u8]| {
    for d in [Dialect::Oss, Dialect::S3, Dialect::Cos, Dialect::Obs] {
        ossd_fuzz::authenticate(d, data);
    }
});
