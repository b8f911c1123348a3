//! The `x-oss-process` parameter (image actions).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ossd_server::fuzzing::process_params(&String::from_utf8_lossy(data));
});
