//! Upgrading a data dir written by the release that stored lifecycle rules and logging settings as XML
//! documents: the new ossd answers the same documents, its workers act on them, they are rewritten in the typed
//! form, and a document it cannot read is kept and answered as it is, never dropped.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Exactly what that release's PutBucketLifecycle stored (its canonical rendering, in `bucket_configs`).
const OLD_LIFECYCLE: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration><Rule><ID>tmp-rule</ID>\
<Prefix>tmp/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>uploads</ID>\
<Prefix>up/</Prefix><Status>Disabled</Status><Tag><Key>k</Key><Value>v</Value></Tag><AbortMultipartUpload>\
<CreatedBeforeDate>2020-01-02T00:00:00.000Z</CreatedBeforeDate></AbortMultipartUpload></Rule></LifecycleConfiguration>";
/// And what its PutBucketLogging stored.
const OLD_LOGGING: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BucketLoggingStatus><LoggingEnabled>\
<TargetBucket>logs</TargetBucket><TargetPrefix>access/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>";
/// A document this release cannot read (a Status no release accepted).
const UNREADABLE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration><Rule><ID>x</ID>\
<Prefix>a/</Prefix><Status>Sometimes</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";

fn ok(r: std::io::Result<Resp>, what: &str) -> Resp {
    let r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(r.status < 300, "{what}: {} {}", r.status, r.text());
    r
}

fn stored(db: &rusqlite::Connection, bucket: &str, kind: &str) -> Option<String> {
    db.query_row("SELECT body FROM bucket_configs WHERE bucket=?1 AND kind=?2", [bucket, kind], |r| r.get(0)).ok()
}

#[test]
fn configurations_stored_as_xml_survive_the_upgrade_and_are_applied() {
    let data = temp_dir("upgrade");
    // A data dir with buckets and objects; then the configurations written into the metadata store as the
    // earlier release wrote them.
    let s = Server::start(&data, &[]);
    for b in ["src", "logs", "broken"] {
        ok(request(s.port, "PUT", b, "", b""), "create bucket");
    }
    ok(request(s.port, "PUT", "src", "tmp/old", b"expires"), "put tmp/old");
    ok(request(s.port, "PUT", "src", "keep", b"stays"), "put keep");
    assert!(s.stop(), "the server stops cleanly");
    {
        let db = rusqlite::Connection::open(data.join("meta.sqlite")).expect("open metadata");
        let put = |bucket: &str, kind: &str, body: &str| {
            db.execute(
                "INSERT OR REPLACE INTO bucket_configs(bucket, kind, body) VALUES(?1,?2,?3)",
                [bucket, kind, body],
            )
            .expect("insert config");
        };
        put("src", "lifecycle", OLD_LIFECYCLE);
        put("src", "logging", OLD_LOGGING);
        put("broken", "lifecycle", UNREADABLE);
    }

    let s = Server::start(&data, &["--lifecycle-day-seconds", "1", "--log-flush-seconds", "1"]);
    // GET answers what the earlier release answered, byte for byte.
    let life = ok(request(s.port, "GET", "src", "?lifecycle", b""), "GetBucketLifecycle");
    assert_eq!(life.text(), OLD_LIFECYCLE);
    let logging = ok(request(s.port, "GET", "src", "?logging", b""), "GetBucketLogging");
    assert_eq!(logging.text(), OLD_LOGGING);
    let broken = ok(request(s.port, "GET", "broken", "?lifecycle", b""), "GetBucketLifecycle of the unreadable one");
    assert_eq!(broken.text(), UNREADABLE, "kept and answered as it is, not NoSuchLifecycle");
    assert!(s.logged("cannot be read"), "the unreadable document is reported: {}", s.log.lock().unwrap());

    // The lifecycle worker applies the upgraded rule: tmp/old is older than a (one-second) day.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let get = request(s.port, "GET", "src", "tmp/old", b"").expect("GET");
        if get.status == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "the lifecycle worker did not expire tmp/old (GET {})", get.status);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(request(s.port, "GET", "src", "keep", b"").expect("GET").status, 200, "outside the rule's prefix");

    // Access logging to the upgraded target: the requests above reach `logs` under access/.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = ok(request(s.port, "GET", "logs", "", b""), "list logs");
        if list.text().contains("<Key>access/src") {
            break;
        }
        assert!(Instant::now() < deadline, "no access log was delivered: {}", list.text());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(s.stop(), "the server stops cleanly");

    // Stored in the typed form now (the migration is done once), the unreadable one as it was.
    let db = rusqlite::Connection::open(data.join("meta.sqlite")).expect("open metadata");
    for kind in ["lifecycle", "logging"] {
        let body = stored(&db, "src", kind).expect("still configured");
        assert!(!body.starts_with('<'), "{kind} rewritten in the typed form: {body}");
    }
    assert_eq!(stored(&db, "broken", "lifecycle").as_deref(), Some(UNREADABLE));
    drop(db);

    // And after the rewrite, a restart answers the same documents.
    let s = Server::start(&data, &[]);
    assert_eq!(ok(request(s.port, "GET", "src", "?lifecycle", b""), "again").text(), OLD_LIFECYCLE);
    assert_eq!(ok(request(s.port, "GET", "src", "?logging", b""), "again").text(), OLD_LOGGING);
    assert!(s.stop());
    std::fs::remove_dir_all(&data).expect("clean up");
}
