//! The whole front end: an arbitrary method, path, query, headers and body (text form, see the crate docs;
//! `v1`/`v4` requests are signed with a real key) go to the in-process server through dialect detection,
//! authentication and routing into the engine. No answer may be a 500, and the server must keep answering. With OSSD_FUZZ_SHOW set, each
//! answer's status line and error code are printed (to check what the seeds reach).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = ossd_fuzz::server();
    let answer = s.send_text(data).unwrap_or_default();
    if std::env::var_os("OSSD_FUZZ_SHOW").is_some() {
        // To see what the seeds get: the status line and the error code.
        let text = String::from_utf8_lossy(&answer);
        let code = text.split("<Code>").nth(1).and_then(|c| c.split('<').next()).unwrap_or("");
        eprintln!("{} {code}", text.lines().next().unwrap_or("(no answer)"));
    }
    // Bad input gets a documented error, never an InternalError.
    assert!(!answer.starts_with(b"HTTP/1.1 500"), "{}", String::from_utf8_lossy(&answer));
    s.assert_alive();
});
