//! `ossd user …` on a data dir a server is running on (the server holds the data dir's lock): the commands work,
//! the server sees a change at once, and refusals exit with status 2 and say why.

mod common;
use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn user(data: &Path, args: &[&str]) -> (i32, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_ossd")).arg("user").args(args).arg("--data").arg(data).output().expect("run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// PutBucket signed with another key pair than the root's.
fn put_bucket_as(port: u16, ak: &str, sk: &str, bucket: &str) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let date = http_date();
    let sig = ossd_server::dialect::oss::auth::v1_sign(sk, &format!("PUT\n\n\n{date}\n/{bucket}/"));
    let head = format!(
        "PUT /{bucket}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nDate: {date}\r\nAuthorization: OSS {ak}:{sig}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).expect("head");
    read_response(&mut s).expect("response")
}

#[test]
fn user_commands_work_while_the_server_runs() {
    let data = temp_dir("users");
    let (code, text) = user(&data, &["list"]);
    assert_eq!(code, 2, "no data dir yet: {text}");
    assert!(text.contains("no ossd data"), "{text}");

    let s = Server::start(&data, &[]);
    assert_eq!(user(&data, &["add", "bob", "bob-secret-1"]).0, 0);
    assert_eq!(put_bucket_as(s.port, "bob", "bob-secret-1", "bobs-bucket").status, 200, "the server sees bob at once");
    let (code, text) = user(&data, &["list"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("bob\tenabled") && text.contains(&format!("{AK}\tenabled\troot")), "{text}");

    for (args, says) in [
        (&["add", "bob", "another-secret"][..], "exists already"),
        (&["add", "bad id!", "long-enough"], "access key id is made of"),
        (&["add", "carol", "short"], "at least 8 characters"),
        (&["disable", "nobody"], "no user nobody"),
        (&["remove", AK], "root user"),
        (&["remove", "bob"], "owns 1 bucket"),
    ] {
        let (code, text) = user(&data, args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains(says), "{args:?}: {text}");
    }

    assert_eq!(user(&data, &["disable", "bob"]).0, 0);
    // The server may answer from what it read a moment ago; within a second it refuses.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let refused = loop {
        let r = put_bucket_as(s.port, "bob", "bob-secret-1", "bobs-bucket");
        if r.status != 200 || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("UserDisable"), "{}", refused.text());
    assert!(s.stop());
    std::fs::remove_dir_all(&data).expect("clean up");
}
