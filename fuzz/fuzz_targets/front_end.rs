//! The whole front end: an arbitrary method, path, query, headers and body (text form, see the crate docs;
//! `v1`/`v4` requests are signed with a real key) go to the in-process server through dialect detection,
//! authentication and routing into the engine. The server must keep answering.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = ossd_fuzz::server();
    let _ = s.send_text(data);
    s.assert_alive();
});
