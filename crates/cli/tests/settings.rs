//! `ossd serve` has settings of its own: it takes no client flags, the root key pair has its own environment
//! names, and a data dir's root key changes only when asked to (`--replace-root-key`), saying what it did.

mod common;
use common::*;
use ossd_client::{Client, Config};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started server and what it printed up to its "listening" line; or, when it exited, its status and output.
enum Start {
    Up { child: Child, port: u16, said: String },
    Failed { code: Option<i32>, said: String },
}

fn serve(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Start {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ossd"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"]).arg(data).args(args);
    for v in ["OSSD_ACCESS_KEY_ID", "OSSD_ACCESS_KEY_SECRET", "OSSD_ROOT_ACCESS_KEY_ID", "OSSD_ROOT_ACCESS_KEY_SECRET"]
    {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn ossd");
    let stdout = child.stdout.take().expect("stdout");
    let mut said = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        said.push_str(&line);
        said.push('\n');
        if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
            let port = rest.split_whitespace().next().and_then(|p| p.parse().ok()).expect("port");
            return Start::Up { child, port, said };
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let out = child.wait_with_output().expect("wait");
    said.push_str(&String::from_utf8_lossy(&out.stderr));
    Start::Failed { code: out.status.code(), said }
}

fn up(s: Start) -> (Child, u16, String) {
    match s {
        Start::Up { child, port, said } => (child, port, said),
        Start::Failed { said, .. } => panic!("ossd did not start: {said}"),
    }
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}

async fn works(port: u16, id: &str, secret: &str) -> bool {
    let c = Client::new(Config::new(&format!("http://127.0.0.1:{port}"), id, secret)).expect("client");
    c.list_buckets("").await.is_ok()
}

#[test]
fn serve_takes_no_client_flags() {
    let data = temp_dir("settings-flags");
    for flag in [&["--endpoint", "http://127.0.0.1:1"][..], &["--profile", "/dev/null"], &["--v1"], &["--ca-file", "x"]]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_ossd"))
            .args(["serve", "--data"])
            .arg(&data)
            .args(flag)
            .output()
            .expect("run ossd");
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"), "{flag:?}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_ossd")).args(["serve", "--help"]).output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(!help.contains("--endpoint") && !help.contains("--profile") && !help.contains("--v1"), "{help}");
    for f in ["OSSD_ROOT_ACCESS_KEY_ID", "--replace-root-key", "--tls-cert", "--max-connections", "http://"] {
        assert!(help.contains(f), "{f} missing from serve --help");
    }
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_key_changes_only_when_asked() {
    let data = temp_dir("settings-root").join("d");
    let cli_env = [("OSSD_ACCESS_KEY_ID", "CliUserKey"), ("OSSD_ACCESS_KEY_SECRET", "cli-secret")];

    // A shell set up for the CLI: its key pair is not the server's. A fresh data dir gets a generated root key.
    let (child, port, said) = up(serve(&data, &[], &cli_env));
    assert!(said.contains("created the root access key pair"), "{said}");
    assert!(!said.contains("CliUserKey"), "{said}");
    let generated = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("access key id:"))
        .map(|s| s.trim().to_string())
        .expect("the generated id");
    assert!(!works(port, "CliUserKey", "cli-secret").await);
    stop(child);

    // Restarted in that shell: the root key is kept.
    let (child, port, said) = up(serve(&data, &[], &cli_env));
    assert!(said.contains(&format!("root access key id: {generated}")), "{said}");
    assert!(!works(port, "CliUserKey", "cli-secret").await);
    stop(child);

    // A different key pair on the command line: start-up fails and says how to proceed; nothing changed.
    let other = ["--access-key-id", "NewRootKey", "--access-key-secret", "new-root-secret"];
    match serve(&data, &other, &[]) {
        Start::Failed { code, said } => {
            assert_ne!(code, Some(0));
            assert!(said.contains(&generated) && said.contains("--replace-root-key"), "{said}");
        }
        Start::Up { child, said, .. } => {
            stop(child);
            panic!("started with a different root key: {said}");
        }
    }
    // The same through the server's own environment names.
    let root_env = [("OSSD_ROOT_ACCESS_KEY_ID", "NewRootKey"), ("OSSD_ROOT_ACCESS_KEY_SECRET", "new-root-secret")];
    assert!(matches!(serve(&data, &[], &root_env), Start::Failed { .. }));

    // Asked explicitly: replaced, and said so; the new pair is root.
    let (child, port, said) = up(serve(&data, &["--replace-root-key"], &root_env));
    assert!(said.contains("replaced the root access key pair") && said.contains(&generated), "{said}");
    assert!(works(port, "NewRootKey", "new-root-secret").await);
    let c = Client::new(Config::new(&format!("http://127.0.0.1:{port}"), "NewRootKey", "new-root-secret")).unwrap();
    c.create_bucket("after-replace", None, None).await.expect("root can create");
    stop(child);

    // The same pair again is no change, with or without the flag.
    let (child, _, said) = up(serve(&data, &other, &[]));
    assert!(said.contains("root access key id: NewRootKey"), "{said}");
    stop(child);
    // A new secret for the same id is a replacement too.
    let secret_only = ["--access-key-id", "NewRootKey", "--access-key-secret", "rotated", "--replace-root-key"];
    let (child, port, said) = up(serve(&data, &secret_only, &[]));
    assert!(said.contains("replaced the secret of the root access key id NewRootKey"), "{said}");
    assert!(works(port, "NewRootKey", "rotated").await);
    assert!(!works(port, "NewRootKey", "new-root-secret").await);
    stop(child);
    let _ = std::fs::remove_dir_all(data.parent().unwrap_or(&data));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_key_from_its_own_environment_names() {
    let data = temp_dir("settings-env").join("d");
    let env = [
        ("OSSD_ROOT_ACCESS_KEY_ID", "EnvRootKey"),
        ("OSSD_ROOT_ACCESS_KEY_SECRET", "env-root-secret"),
        ("OSSD_ACCESS_KEY_ID", "CliUserKey"),
        ("OSSD_ACCESS_KEY_SECRET", "cli-secret"),
    ];
    let (child, port, said) = up(serve(&data, &[], &env));
    assert!(said.contains("root access key id: EnvRootKey"), "{said}");
    assert!(works(port, "EnvRootKey", "env-root-secret").await);
    stop(child);
    let _ = std::fs::remove_dir_all(data.parent().unwrap_or(&data));
}

#[test]
fn half_a_key_pair_is_refused() {
    let data = temp_dir("settings-half").join("d");
    match serve(&data, &["--access-key-id", "OnlyId"], &[]) {
        Start::Failed { said, .. } => assert!(said.contains("must be given together"), "{said}"),
        Start::Up { child, .. } => {
            stop(child);
            panic!("started with half a key pair");
        }
    }
    // --replace-root-key without a key pair is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_ossd"))
        .args(["serve", "--replace-root-key", "--data"])
        .arg(&data)
        .env_remove("OSSD_ROOT_ACCESS_KEY_ID")
        .output()
        .expect("run ossd");
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(data.parent().unwrap_or(&data));
}
