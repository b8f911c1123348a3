//! PostObject form parsing: the input is the body of a multipart/form-data POST (boundary `fuzzbnd`) to a
//! bucket anyone may write, sent to the in-process server, which must keep answering.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = ossd_fuzz::server();
    let head = format!(
        "POST /{} HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=fuzzbnd\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        ossd_fuzz::PUBLIC_BUCKET,
        s.addr,
        data.len()
    );
    let mut wire = head.into_bytes();
    wire.extend_from_slice(data);
    let _ = s.send_raw(&wire);
    s.assert_alive();
});
