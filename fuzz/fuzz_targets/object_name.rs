//! Object and bucket names: the engine's name rules on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    let _ = ossd_engine::names::check_object_name(&name);
    let _ = ossd_engine::names::check_bucket_name(&name);
});
