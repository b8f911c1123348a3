"""Fixtures for the real-client tests: a real ossd child process on port 0, and the clients that talk to it.

The server binary comes from OSSD_BIN, or target/debug/ossd (build it first: `cargo build`).
Each test session starts its own server with a fresh data directory and stops it by its process id.
"""
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import uuid

import oss2
import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AK = "TestRootKey01"
SK = "test-root-secret-not-a-real-one"
REGION = "cn-hangzhou"


def ossd_bin():
    return os.environ.get("OSSD_BIN") or os.path.join(ROOT, "target", "debug", "ossd")


class Server:
    """A running ossd: its endpoint, log file, data dir and process."""

    def __init__(self, extra_args=(), env=None):
        self.data = tempfile.mkdtemp(prefix="ossd-test-")
        self.log_path = os.path.join(self.data, "server.log")
        self.log = open(self.log_path, "w")
        args = [ossd_bin(), "serve", "--listen", "127.0.0.1:0", "--data", os.path.join(self.data, "d"),
                "--access-key-id", AK, "--access-key-secret", SK, "--region", REGION, *extra_args]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.05)
            if self.proc.poll() is not None:
                raise RuntimeError("ossd exited: " + open(self.log_path).read())
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(self.log_path).read())
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            raise RuntimeError("ossd did not start: " + open(self.log_path).read())
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def stored_blobs(self):
        """Every blob's bytes as stored: the files under blobs/ and the small blobs kept in the metadata store."""
        out = []
        for dirpath, _, files in os.walk(os.path.join(self.data, "d", "blobs")):
            for f in files:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    out.append(fh.read())
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.data, "d", "meta.sqlite"), uri=True)
        try:
            out.extend(bytes(row[0]) for row in db.execute("SELECT data FROM inline_blobs"))
        finally:
            db.close()
        return out


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    s.cleanup()


@pytest.fixture(params=["v1", "v4"])
def auth(request):
    return oss2.Auth(AK, SK) if request.param == "v1" else oss2.AuthV4(AK, SK)


def new_name(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def root_bucket(server, prefix="t"):
    """A new bucket on `server`, created with the root key pair and signed V1."""
    b = oss2.Bucket(oss2.Auth(AK, SK), server.endpoint, new_name(prefix), region=REGION)
    b.create_bucket()
    return b


@pytest.fixture
def bucket(server, auth):
    """A fresh bucket, signed with V1 or V4, emptied and removed afterwards."""
    b = oss2.Bucket(auth, server.endpoint, new_name("b"), region=REGION)
    b.create_bucket()
    yield b
    root = oss2.Bucket(oss2.Auth(AK, SK), server.endpoint, b.bucket_name, region=REGION)
    for u in oss2.MultipartUploadIterator(root):
        root.abort_multipart_upload(u.key, u.upload_id)
    for o in oss2.ObjectIteratorV2(root):
        root.delete_object(o.key)
    root.delete_bucket()


_EC_CACHE = {}


def catalog_ec(name):
    """The EC the catalog gives a row (by row name or code), read from `ossd explain`."""
    if name not in _EC_CACHE:
        out = subprocess.run([ossd_bin(), "explain", name], capture_output=True, text=True, check=True).stdout
        rows = re.findall(r"^(\S+) \((\S+)\)\s+HTTP \d+\s+EC (\d{4}-\d{8})", out, re.M)
        exact = [ec for code, row, ec in rows if row == name]
        _EC_CACHE[name] = exact[0] if exact else rows[0][2]
    return _EC_CACHE[name]


def check_error(server, e, cls, status, code, row=None):
    """Checks an oss2 exception: its class, status, code, request id (as the server logged it) and EC."""
    assert isinstance(e, cls), "expected %s, got %r" % (cls.__name__, e)
    assert e.status == status, e
    assert e.code == code, e
    assert re.fullmatch(r"[0-9A-F]{24}", e.request_id), e.request_id
    assert e.request_id in server.log_text(), "request id not in the server log"
    assert e.ec == catalog_ec(row or code), (e.ec, row or code)


def raises(fn, *args, **kwargs):
    """Runs fn and returns the oss2 exception it raised (failing the test if it raised none)."""
    try:
        fn(*args, **kwargs)
    except oss2.exceptions.OssError as e:
        return e
    pytest.fail("no exception raised")


def signed(server, method, bucket_name, key, params=None, headers=None, data=b""):
    """Sends a request signed with V1 by oss2's own signer, through `requests`: for requests the SDK cannot make."""
    params = dict(params or {})
    headers = dict(headers or {})
    url = server.endpoint + "/" + (bucket_name or "") + ("/" + oss2.urlquote(key, "/") if key else "/" if bucket_name else "")
    req = oss2.http.Request(method, url, data=data, params=params, headers=headers)
    oss2.Auth(AK, SK)._sign_request(req, bucket_name or "", key or "")
    return requests.request(method, url, params=params, headers=dict(req.headers), data=data)


def as_oss2_error(resp):
    """Decodes a raw `requests` response the way oss2 decodes an error response."""
    return oss2.exceptions.make_exception(oss2.http.Response(resp))
