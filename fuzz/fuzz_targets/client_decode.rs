//! The SDK's decoder of vendors' error responses. Input: the status on the first line, header lines, a blank
//! line, the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ossd_client::decode::{decode, error_in_success, Failed};

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let status = lines.next().and_then(|s| s.trim().parse().ok()).unwrap_or(400u16);
    let mut headers = http::HeaderMap::new();
    for (k, v) in lines.filter_map(|l| l.split_once(':')) {
        if let (Ok(k), Ok(v)) =
            (http::HeaderName::from_bytes(k.trim().as_bytes()), http::HeaderValue::from_str(v.trim()))
        {
            headers.append(k, v);
        }
    }
    let _ =
        decode(Failed { operation: "GetObject", bucket: Some("b"), key: Some("k"), status, headers: &headers, body });
    let _ = error_in_success(body);
});
