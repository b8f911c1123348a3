//! The `Range` header. Input: the object size on the first line, the header value after it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (size, header) = match text.split_once('\n') {
        Some((s, h)) => (s.trim().parse().unwrap_or(1000), h),
        None => (1000, text.as_ref()),
    };
    ossd_server::fuzzing::range(header, size);
});
