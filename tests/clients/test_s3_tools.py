"""awscli, s3cmd and rclone, unchanged, against the S3 dialect: buckets, small and multipart transfers, sync, removal."""
import os
import subprocess
import sys

import pytest

from conftest import AK, SK, new_name

BIN = os.path.dirname(sys.executable)


def run(args, env=None):
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


@pytest.fixture
def data(tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("hello tools")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "a" / "1.txt").write_text("one")
    (tree / "2.txt").write_text("two")
    return tmp_path


def test_awscli(server, data):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_DEFAULT_REGION="us-east-1")
    aws = [os.path.join(BIN, "aws"), "--endpoint-url", server.endpoint]
    b = new_name("aws")
    run(aws + ["s3", "mb", "s3://" + b], env)
    run(aws + ["s3", "cp", str(data / "small.txt"), "s3://%s/x/small.txt" % b], env)
    assert "small.txt" in run(aws + ["s3", "ls", "s3://%s/x/" % b], env)
    assert run(aws + ["s3", "cp", "s3://%s/x/small.txt" % b, "-"], env) == "hello tools"
    run(aws + ["s3", "cp", str(data / "big.bin"), "s3://%s/big.bin" % b], env)
    run(aws + ["s3", "cp", "s3://%s/big.bin" % b, str(data / "back.bin")], env)
    assert (data / "back.bin").read_bytes() == (data / "big.bin").read_bytes()
    run(aws + ["s3", "sync", str(data / "tree"), "s3://%s/tree/" % b], env)
    listed = run(aws + ["s3", "ls", "--recursive", "s3://%s/tree/" % b], env)
    assert "tree/a/1.txt" in listed and "tree/2.txt" in listed
    head = run(aws + ["s3api", "head-object", "--bucket", b, "--key", "x/small.txt"], env)
    assert '"ContentLength": 11' in head
    run(aws + ["s3", "rm", "--recursive", "s3://%s/" % b], env)
    run(aws + ["s3", "rb", "s3://" + b], env)


def test_s3cmd(server, data, tmp_path):
    cfg = tmp_path / "s3cfg"
    host = "127.0.0.1:%d" % server.port
    cfg.write_text("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\nuse_https = False\n"
                   "bucket_location = us-east-1\n" % (AK, SK, host, host))
    s3cmd = [sys.executable, os.path.join(BIN, "s3cmd"), "-c", str(cfg)]
    b = new_name("s3cmd")
    run(s3cmd + ["mb", "s3://" + b])
    run(s3cmd + ["put", str(data / "small.txt"), "s3://%s/small.txt" % b])
    assert "s3://%s/small.txt" % b in run(s3cmd + ["ls", "s3://" + b])
    run(s3cmd + ["put", str(data / "big.bin"), "s3://%s/big.bin" % b, "--multipart-chunk-size-mb=5"])
    run(s3cmd + ["get", "--force", "s3://%s/big.bin" % b, str(tmp_path / "got.bin")])
    assert (tmp_path / "got.bin").read_bytes() == (data / "big.bin").read_bytes()
    run(s3cmd + ["del", "s3://%s/small.txt" % b, "s3://%s/big.bin" % b])
    run(s3cmd + ["rb", "s3://" + b])


def test_rclone(server, data, tmp_path):
    env = dict(os.environ, RCLONE_CONFIG_OSSD_TYPE="s3", RCLONE_CONFIG_OSSD_PROVIDER="Other",
               RCLONE_CONFIG_OSSD_ENDPOINT=server.endpoint, RCLONE_CONFIG_OSSD_ACCESS_KEY_ID=AK,
               RCLONE_CONFIG_OSSD_SECRET_ACCESS_KEY=SK, RCLONE_CONFIG_OSSD_FORCE_PATH_STYLE="true",
               RCLONE_CONFIG_OSSD_REGION="us-east-1", RCLONE_CONFIG="/dev/null")
    env.pop("AWS_CA_BUNDLE", None)  # rclone's plain-http transport refuses a custom CA bundle
    b = new_name("rclone")
    rc = ["rclone", "-q"]
    run(rc + ["mkdir", "ossd:" + b], env)
    run(rc + ["copy", str(data / "tree"), "ossd:%s/tree" % b], env)
    run(rc + ["copy", str(data / "big.bin"), "ossd:%s/" % b, "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"], env)
    listed = run(["rclone", "ls", "ossd:" + b], env)
    assert "tree/a/1.txt" in listed and "big.bin" in listed
    run(rc + ["check", str(data / "tree"), "ossd:%s/tree" % b], env)
    run(rc + ["copy", "ossd:%s/big.bin" % b, str(tmp_path / "back")], env)
    assert (tmp_path / "back" / "big.bin").read_bytes() == (data / "big.bin").read_bytes()
    run(rc + ["purge", "ossd:" + b], env)
