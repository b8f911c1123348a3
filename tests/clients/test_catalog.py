"""Walks the error catalog: every row has a real scenario that a user could hit, run through oss2, and the
exception oss2 raises has the catalog's status, code and EC, the class oss2 maps that pair to, and a request
id that the server logged."""
import base64
import datetime
import glob
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import boto3
import botocore
import oss2
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import AK, REGION, SK, Server, as_oss2_error, new_name, ossd_bin, signed

ROWS = [line.split("\t") for line in
        subprocess.run([ossd_bin(), "explain", "--list"], capture_output=True, text=True, check=True).stdout.splitlines()]


class Ctx:
    """Servers by configuration, started on first use, and helpers for the scenarios."""

    CONFIGS = {
        "fast": ["--lifecycle-day-seconds", "2", "--restore-seconds", "60", "--idle-timeout", "1", "--copy-limit", "1000"],
        "maxb": ["--max-buckets", "1"],
        "meta": ["--meta-qps-limit", "2"],
        "user": ["--user-qps-limit", "3"],
        "total": ["--total-qps-limit", "3"],
        "bw": ["--download-bandwidth-limit", "100000", "--upload-bandwidth-limit", "100000"],
        "rtmp": ["--rtmp-listen", "127.0.0.1:0"],
    }

    def __init__(self, default):
        self.servers = {"default": default}
        self.mounts = []
        self.last = default

    def srv(self, name="default"):
        if name not in self.servers:
            self.servers[name] = Server(extra_args=self.CONFIGS[name])
        self.last = self.servers[name]
        return self.last

    def bucket(self, name="default", auth=None):
        s = self.srv(name)
        b = oss2.Bucket(auth or oss2.Auth(AK, SK), s.endpoint, new_name("c"), region=REGION)
        oss2.Bucket(oss2.Auth(AK, SK), s.endpoint, b.bucket_name, region=REGION).create_bucket()
        self.last = s
        return b

    def user(self, name="default"):
        uid = "u" + new_name("x").replace("-", "")
        s = self.srv(name)
        subprocess.run([ossd_bin(), "user", "add", uid, "user-secret-1", "--data", os.path.join(s.data, "d")], check=True)
        return uid, "user-secret-1"

    def close(self):
        for n, s in self.servers.items():
            if n != "default":
                s.cleanup()
        for m in self.mounts:
            subprocess.run(["umount", "-l", m])
            shutil.rmtree(m, ignore_errors=True)


@pytest.fixture(scope="module")
def ctx():
    # Its own server: the walk creates a bucket or more per row (over a hundred rows), more than the
    # shared server's default --max-buckets leaves to the other test modules.
    own = Server(extra_args=["--max-buckets", "1000"])
    c = Ctx(own)
    yield c
    c.close()
    own.cleanup()


def caught(fn, *a, **kw):
    try:
        r = fn(*a, **kw)
    except oss2.exceptions.OssError as e:
        return e
    if hasattr(r, "resp") and r.status == 203:
        return oss2.exceptions.make_exception(r.resp)
    raise AssertionError("no error from the scenario")


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def form(ctx, fields, files=None, data=b"0123456789abcdef", raw=None, ctype=None):
    b = ctx.bucket()
    url = "%s/%s" % (ctx.last.endpoint, b.bucket_name)
    if raw is not None:
        return as_oss2_error(requests.post(url, data=raw, headers={"Content-Type": ctype}))
    pol = b64(json.dumps({"expiration": "2099-01-01T00:00:00.000Z",
                          "conditions": [["content-length-range", 10, 20], ["starts-with", "$key", "ok/"]]}))
    signed_fields = {"OSSAccessKeyId": AK, "policy": pol,
                     "Signature": b64(__import__("hmac").new(SK.encode(), pol.encode(), hashlib.sha1).digest()), "key": "ok/k"}
    signed_fields.update(fields)
    return as_oss2_error(requests.post(url, data=signed_fields,
                                       files=files if files is not None else {"file": ("f", data)}))


def stalled_put(ctx):
    b = ctx.bucket("fast")
    req = oss2.http.Request("PUT", ctx.last.endpoint + "/%s/slow" % b.bucket_name, headers={"Content-Length": "1000"})
    oss2.Auth(AK, SK)._sign_request(req, b.bucket_name, "slow")
    s = socket.create_connection(("127.0.0.1", ctx.last.port))
    head = "PUT /%s/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n" % b.bucket_name
    head += "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items() if v is not None) + "\r\n"
    s.sendall(head.encode() + b"only ten b")
    c = http.client.HTTPResponse(s)
    c.begin()
    return oss2.exceptions.make_exception(_wrap(c))


def no_length_put(ctx):
    b = ctx.bucket()
    req = oss2.http.Request("PUT", ctx.last.endpoint + "/%s/nolen" % b.bucket_name, headers={})
    oss2.Auth(AK, SK)._sign_request(req, b.bucket_name, "nolen")
    c = http.client.HTTPConnection("127.0.0.1", ctx.last.port)
    c.putrequest("PUT", "/%s/nolen" % b.bucket_name, skip_accept_encoding=True)
    for k, v in req.headers.items():
        if v is not None:
            c.putheader(k, v)
    c.endheaders()
    return oss2.exceptions.make_exception(_wrap(c.getresponse()))


def _wrap(r):
    """An http.client response in the shape oss2's make_exception reads."""
    body = r.read()

    class R:
        status = r.status
        headers = dict(r.getheaders())

        def read(self, *a):
            return body
    return R()


def full_disk(ctx):
    mnt = tempfile.mkdtemp(prefix="ossd-full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], check=True)
    ctx.mounts.append(mnt)
    s = Server.__new__(Server)
    s.data = mnt
    s.log_path = os.path.join(mnt, "server.log")
    s.log = open(s.log_path, "w")
    proc = subprocess.Popen([ossd_bin(), "serve", "--listen", "127.0.0.1:0", "--data", os.path.join(mnt, "d"),
                             "--access-key-id", AK, "--access-key-secret", SK], stdout=s.log, stderr=subprocess.STDOUT)
    s.proc = proc
    for _ in range(200):
        time.sleep(0.05)
        text = open(s.log_path).read()
        if "listening on" in text:
            s.port = int(text.split("listening on 127.0.0.1:")[1].split()[0])
            break
    s.endpoint = "http://127.0.0.1:%d" % s.port
    ctx.servers["full"] = s
    ctx.last = s
    b = oss2.Bucket(oss2.Auth(AK, SK), s.endpoint, "fullbucket")
    b.create_bucket()
    for i in range(64):
        try:
            b.put_object("fill-%d" % i, b"x" * (1 << 20))
        except oss2.exceptions.ServerError as e:
            return e
    raise AssertionError("the disk never filled")


def lost_part(ctx):
    b = ctx.bucket()
    blobs = os.path.join(ctx.last.data, "d", "blobs")
    before = set(glob.glob(blobs + "/*/*"))
    up = b.init_multipart_upload("lost")
    # Larger than the blobs the metadata store keeps inline, so that the part is a file that can go missing.
    p = b.upload_part("lost", up.upload_id, 1, b"part data" * 4000)
    for f in set(glob.glob(blobs + "/*/*")) - before:
        os.remove(f)  # the part's data disappears from the data dir
    return caught(b.complete_multipart_upload, "lost", up.upload_id, [oss2.models.PartInfo(1, p.etag)])


def skewed(ctx, monkeypatch):
    b = ctx.bucket()
    old = oss2.utils.http_date(int(time.time()) - 3600)
    monkeypatch.setattr(oss2.auth.utils, "http_date", lambda *a: old)
    return caught(b.get_object, "k")


def worm_locked(ctx):
    b = ctx.bucket()
    wid = b.init_bucket_worm(1).worm_id
    b.complete_bucket_worm(wid)
    return caught(b.abort_bucket_worm)


def immutable(ctx):
    b = ctx.bucket()
    b.put_object("k", b"v")
    b.init_bucket_worm(1)
    return caught(b.delete_object, "k")


def restore_twice(ctx):
    b = ctx.bucket("fast")
    b.put_object("cold", b"v", headers={"x-oss-storage-class": "Archive"})
    b.restore_object("cold")
    return caught(b.restore_object, "cold")


def symlink_to_symlink(ctx):
    b = ctx.bucket()
    b.put_object("t", b"v")
    b.put_symlink("t", "l1")
    b.put_symlink("l1", "l2")
    return caught(b.get_object, "l2")


def other_users_bucket_name(ctx):
    uid, sk = ctx.user()
    b = oss2.Bucket(oss2.Auth(uid, sk), ctx.last.endpoint, new_name("theirs"))
    b.create_bucket()
    return caught(oss2.Bucket(oss2.Auth(AK, SK), ctx.last.endpoint, b.bucket_name).create_bucket)


def disabled(ctx, what):
    uid, sk = ctx.user()
    subprocess.run([ossd_bin(), "user", what, uid, "--data", os.path.join(ctx.last.data, "d")], check=True)
    return caught(oss2.Service(oss2.Auth(uid, sk), ctx.last.endpoint).list_buckets)


def first_failure(calls):
    for c in calls:
        try:
            c()
        except oss2.exceptions.ServerError as e:
            return e
    raise AssertionError("the limit never tripped")


def bandwidth(ctx, direction):
    b = ctx.bucket("bw")
    b.put_object("big", b"z" * 300_000) if direction == "down" else None
    if direction == "down":
        return first_failure([lambda: b.get_object("big").read()] * 5)
    return first_failure([lambda: b.put_object("up", b"z" * 300_000)] * 5)


def callback_fails(ctx):
    cb = {"x-oss-callback": b64(json.dumps({"callbackUrl": "http://127.0.0.1:9/none", "callbackBody": "k=${object}"}))}
    return caught(ctx.bucket().put_object, "cb", b"v", headers=cb)


def callback_not_json(ctx):
    import http.server
    import threading

    class NotJson(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = b"plain text, not JSON"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), NotJson)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/cb" % httpd.server_address[1]
        cb = {"x-oss-callback": b64(json.dumps({"callbackUrl": url, "callbackBody": "k=${object}"}))}
        return caught(ctx.bucket().put_object, "cb", b"v", headers=cb)
    finally:
        httpd.shutdown()
        httpd.server_close()


def complete_over_existing(ctx):
    b = ctx.bucket()
    b.put_object("mp", b"old")
    u = b.init_multipart_upload("mp")
    part = b.upload_part("mp", u.upload_id, 1, b"new")
    return caught(b.complete_multipart_upload, "mp", u.upload_id, [oss2.models.PartInfo(1, part.etag)],
                  headers={"x-oss-forbid-overwrite": "true"})


def xml_declared_too_large(ctx):
    """A DeleteMultipleObjects body declared past the XML cap: refused from Content-Length alone."""
    b = ctx.bucket()
    path = "/%s/" % b.bucket_name
    req = oss2.http.Request("POST", ctx.last.endpoint + path, data=b"", params={"delete": ""},
                            headers={"Content-MD5": "1B2M2Y8AsgTpgAmY5PhCfg==", "Content-Length": str(1 << 30)})
    oss2.Auth(AK, SK)._sign_request(req, b.bucket_name, "")
    c = http.client.HTTPConnection("127.0.0.1", ctx.last.port)
    c.putrequest("POST", path + "?delete", skip_accept_encoding=True, skip_host=False)
    for k, v in req.headers.items():
        if v is not None and k.lower() != "host":
            c.putheader(k, v)
    c.endheaders()
    return oss2.exceptions.make_exception(_wrap(c.getresponse()))


def s3_presign_expired(ctx):
    b = ctx.bucket()
    b.put_object("k", b"v")
    c = boto3.client("s3", endpoint_url=ctx.srv().endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                     region_name="us-east-1", config=botocore.config.Config(signature_version="s3v4"))
    url = c.generate_presigned_url("get_object", Params={"Bucket": b.bucket_name, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.5)
    return as_client_error(requests.get(url), "GetObject")


def bad_complete_order(ctx):
    b = ctx.bucket()
    up = b.init_multipart_upload("o")
    e1 = b.upload_part("o", up.upload_id, 1, b"x" * 102400).etag
    e2 = b.upload_part("o", up.upload_id, 2, b"y").etag
    body = ("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>1</PartNumber>"
            "<ETag>%s</ETag></Part></CompleteMultipartUpload>" % (e2, e1)).encode()
    return as_oss2_error(signed(ctx.last, "POST", b.bucket_name, "o", params={"uploadId": up.upload_id}, data=body))


def entity_too_small_part(ctx):
    b = ctx.bucket()
    up = b.init_multipart_upload("s")
    e1 = b.upload_part("s", up.upload_id, 1, b"x").etag
    e2 = b.upload_part("s", up.upload_id, 2, b"y").etag
    return caught(b.complete_multipart_upload, "s", up.upload_id, [oss2.models.PartInfo(1, e1), oss2.models.PartInfo(2, e2)])


def png_broken(ctx):
    b = ctx.bucket()
    b.put_object("p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    return caught(b.get_object, "p.png", process="image/info")


def archived_get(ctx):
    b = ctx.bucket()
    b.put_object("a", b"v", headers={"x-oss-storage-class": "Archive"})
    return caught(b.get_object, "a")


def appended_wrong(ctx):
    b = ctx.bucket()
    b.append_object("a", 0, b"abc")
    return caught(b.append_object, "a", 1, b"d")


def append_to_normal(ctx):
    b = ctx.bucket()
    b.put_object("n", b"abc")
    return caught(b.append_object, "n", 3, b"d")


def with_object(ctx, fn):
    b = ctx.bucket()
    b.put_object("k", b"value")
    return fn(b)


def copy_too_large(ctx):
    b = ctx.bucket("fast")
    b.put_object("big", b"x" * 2000)
    return caught(b.copy_object, b.bucket_name, "big", "copy")


def bad_bucket_name(ctx):
    b = oss2.Bucket(oss2.Auth(AK, SK), ctx.srv().endpoint, "placeholder")
    b.bucket_name = "Bad_Name"
    return caught(b.create_bucket)


def too_many_buckets(ctx):
    ctx.bucket("maxb")
    return caught(oss2.Bucket(oss2.Auth(AK, SK), ctx.last.endpoint, new_name("one-more")).create_bucket)


def expired_presign(ctx):
    b = ctx.bucket()
    return as_oss2_error(requests.get(b.sign_url("GET", "k", -10)))


def lifecycle_malformed(ctx):
    b = ctx.bucket()
    return as_oss2_error(signed(ctx.last, "PUT", b.bucket_name, None, params={"lifecycle": ""},
                                data=b"<LifecycleConfiguration><Rule></Rule>"))


def preflight_denied(ctx):
    b = ctx.bucket()
    return as_oss2_error(requests.options("%s/%s/k" % (ctx.last.endpoint, b.bucket_name),
                                          headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}))


def batch_delete_too_many(ctx):
    b = ctx.bucket()
    body = ("<Delete>" + "".join("<Object><Key>k%d</Key></Object>" % i for i in range(1001)) + "</Delete>").encode()
    return as_oss2_error(signed(ctx.last, "POST", b.bucket_name, None, params={"delete": ""}, data=body,
                                headers={"Content-MD5": b64(hashlib.md5(body).digest())}))


def key_not_utf8(ctx):
    b = ctx.bucket()
    return as_oss2_error(requests.put("%s/%s/bad%%FFkey" % (ctx.last.endpoint, b.bucket_name), data=b"v"))


def png(w, h):
    """A grey PNG of w x h pixels, all black (compresses to almost nothing)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = (b"\x00" * (w + 1)) * h
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def image_too_large(ctx):
    b = ctx.bucket()
    b.put_object("wide.png", png(30001, 1))
    return caught(b.get_object, "wide.png", process="image/info")


def batch_delete_empty_key(ctx):
    b = ctx.bucket()
    body = b"<Delete><Object><Key></Key></Object></Delete>"
    return as_oss2_error(signed(ctx.last, "POST", b.bucket_name, None, params={"delete": ""}, data=body,
                                headers={"Content-MD5": b64(hashlib.md5(body).digest())}))


def s3_client(ctx):
    return boto3.client("s3", endpoint_url=ctx.srv().endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                        region_name="us-east-1")


def s3_caught(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        return e
    raise AssertionError("no error from the S3 scenario")


def s3_owner_recreates(ctx):
    c = s3_client(ctx)
    name = new_name("s3own")
    c.create_bucket(Bucket=name)
    return s3_caught(c.create_bucket, Bucket=name)


def s3_presign_too_long(ctx):
    b = ctx.bucket()
    b.put_object("k", b"v")
    c = boto3.client("s3", endpoint_url=ctx.srv().endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                     region_name="us-east-1", config=botocore.config.Config(signature_version="s3v4"))
    url = c.generate_presigned_url("get_object", Params={"Bucket": b.bucket_name, "Key": "k"},
                                                ExpiresIn=604801)
    return as_client_error(requests.get(url), "GetObject")


def s3_sha_mismatch(ctx):
    b = ctx.bucket()
    url = "%s/%s/k" % (ctx.last.endpoint, b.bucket_name)
    req = AWSRequest(method="PUT", url=url, data=b"aaaa")
    S3SigV4Auth(Credentials(AK, SK), "s3", "us-east-1").add_auth(req)
    return as_client_error(requests.put(url, data=b"bbbb", headers=dict(req.headers)), "PutObject")


def as_client_error(resp, operation):
    """A raw S3 error response, shaped as botocore would raise it."""
    parsed = {"Error": {"Code": "", "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": resp.status_code,
                                                                      "RequestId": resp.headers.get("x-amz-request-id")}}
    code = resp.text.split("<Code>")[1].split("</Code>")[0]
    parsed["Error"]["Code"] = code
    return botocore.exceptions.ClientError(parsed, operation)


def oss_range_not_satisfiable(ctx):
    b = ctx.bucket()
    b.put_object("small", b"0123456789")
    return caught(b.get_object, "small", headers={"Range": "bytes=500-600", "x-oss-range-behavior": "standard"})


def quota_exceeded(ctx):
    from obs import ObsClient
    b = ctx.bucket()
    obs = ObsClient(access_key_id=AK, secret_access_key=SK, server=ctx.last.endpoint, max_retry_count=0)
    assert obs.setBucketQuota(b.bucket_name, 5).status == 200  # a quota is set through the OBS API
    return caught(b.put_object, "big", b"x" * 100)



def v2_header(ctx, authorization, headers=None):
    """A GET of an object with the given V2 Authorization header (malformed on purpose)."""
    b = ctx.bucket()
    h = {"Date": oss2.utils.http_date(), "Authorization": authorization}
    h.update(headers or {})
    return as_oss2_error(requests.get("%s/%s/k" % (ctx.last.endpoint, b.bucket_name), headers=h))


def v2_url(ctx, drop=(), **params):
    """A GET through a V2 presigned URL made by oss2.AuthV2, with parameters dropped or replaced."""
    b = ctx.bucket(auth=oss2.AuthV2(AK, SK))
    url = b.sign_url("GET", "k", 60)
    base, query = url.split("?", 1)
    q = [p.split("=", 1) for p in query.split("&")]
    q = [(k, v) for k, v in q if k not in drop and k.replace("-", "_") not in params]
    q += [(k.replace("_", "-"), v) for k, v in params.items()]
    return as_oss2_error(requests.get(base + "?" + "&".join(k if v is None else "%s=%s" % (k, v) for k, v in q)))


def v2_url_signed(ctx, additional, headers):
    """A V2 presigned URL signed by oss2 over `additional` headers, sent with `headers`."""
    b = ctx.bucket(auth=oss2.AuthV2(AK, SK))
    url = b.sign_url("GET", "k", 60, headers={"custom-header": "abc"}, additional_headers={"custom-header"})
    if additional is not None:
        url = url.replace("x-oss-additional-headers=custom-header", "x-oss-additional-headers=" + additional)
    return as_oss2_error(requests.get(url, headers=headers))


class RtmpRefusal:
    """A publish refused over RTMP: the code and EC as the refusal's description (printed by ffmpeg) gives them."""

    def __init__(self, text):
        m = re.search(r"(\w+) \(EC (\d{4}-\d{8})\)", text)
        assert m, text
        self.code, self.ec = m.group(1), m.group(2)


def live_channel_disabled(ctx):
    b = ctx.bucket("rtmp")
    b.create_live_channel("ch", oss2.models.LiveChannelInfo(status="disabled", target=oss2.models.LiveChannelInfoTarget()))
    port = re.search(r"RTMP ingest listening on 127\.0\.0\.1:(\d+)", ctx.last.log_text()).group(1)
    url = re.sub(r"^rtmp://[^/]+", "rtmp://127.0.0.1:" + port, b.sign_rtmp_url("ch", "playlist.m3u8", 300))
    p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc", "-t", "1",
                        "-c:v", "libx264", "-f", "flv", url], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    return RtmpRefusal(p.stderr)

def logging_to_others_bucket(ctx):
    uid, sk = ctx.user()
    theirs = oss2.Bucket(oss2.Auth(uid, sk), ctx.last.endpoint, new_name("theirs"))
    theirs.create_bucket()
    return caught(ctx.bucket().put_bucket_logging, oss2.models.BucketLogging(theirs.bucket_name, "p/"))


def worm_wrong_id(ctx):
    b = ctx.bucket()
    b.init_bucket_worm(1)
    return caught(b.complete_bucket_worm, "0" * 16)


def worm_days_not_a_number(ctx):
    b = ctx.bucket()
    body = b"<InitiateWormConfiguration><RetentionPeriodInDays>test</RetentionPeriodInDays></InitiateWormConfiguration>"
    return as_oss2_error(signed(ctx.last, "POST", b.bucket_name, None, params={"worm": ""}, data=body))


def presign_expires_not_a_number(ctx):
    b = ctx.bucket()
    import re
    url = re.sub(r"Expires=\d+", "Expires=soon", b.sign_url("GET", "k", 60))
    assert "Expires=soon" in url, url
    return as_oss2_error(requests.get(url))


def v4_other_region(ctx, presigned):
    b = ctx.bucket()
    b.put_object("k", b"v")
    other = oss2.Bucket(oss2.AuthV4(AK, SK), ctx.last.endpoint, b.bucket_name, region="cn-hangzhou-test-1")
    if presigned:
        return as_oss2_error(requests.get(other.sign_url("GET", "k", 60)))
    return caught(other.get_object, "k")


SCENARIOS = {
    "LiveChannelDisabled": live_channel_disabled,
    "LiveChannelDescriptionTooLong": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(description="d" * 129, target=oss2.models.LiveChannelInfoTarget())),
    "LiveChannelInvalidStatus": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(status="on", target=oss2.models.LiveChannelInfoTarget())),
    "LiveChannelInvalidType": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(type="DASH"))),
    "LiveChannelInvalidFragDuration": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(frag_duration=0))),
    "LiveChannelInvalidFragCount": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(frag_count=101))),
    "LiveChannelPlaylistNameSlash": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(playlist_name="a/b.m3u8"))),
    "LiveChannelPlaylistNameLength": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(playlist_name="x.m3u8".rjust(200, "x")))),
    "LiveChannelPlaylistNameSuffix": lambda c: caught(c.bucket().create_live_channel, "ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget(playlist_name="abc.text"))),
    "LiveChannelInvalidName": lambda c: caught(c.bucket().put_live_channel_status, "a/b", "enabled"),
    "LiveChannelInvalidTimeRange": lambda c: (lambda b: (b.create_live_channel("ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget())), caught(b.get_vod_playlist, "ch", 200, 100))[1])(c.bucket()),
    "LiveChannelNoSegments": lambda c: (lambda b: (b.create_live_channel("ch", oss2.models.LiveChannelInfo(target=oss2.models.LiveChannelInfoTarget())), caught(b.get_vod_playlist, "ch", 100, 200))[1])(c.bucket()),
    "NoSuchLiveChannel": lambda c: caught(c.bucket().get_live_channel, "ch"),
    "InsufficientStorageSpace": quota_exceeded,
    "InvalidRange": oss_range_not_satisfiable,
    "XAmzContentSHA256Mismatch": s3_sha_mismatch,
    "BucketAlreadyOwnedByYou": s3_owner_recreates,
    "CallbackFailed": callback_fails,
    "CallbackFailedNotJson": callback_not_json,
    "NotModified": lambda c: with_object(c, lambda b: caught(b.get_object, "k", headers={"If-None-Match": b.head_object("k").etag})),
    "InvalidBucketName": bad_bucket_name,
    "InvalidObjectNameEmpty": batch_delete_empty_key,
    "InvalidObjectNameTooLong": lambda c: caught(c.bucket().put_object, "k" * 1024, b"v"),
    "TooManyBuckets": too_many_buckets,
    "RequestIsNotMultiPartContent": lambda c: form(c, {}, raw="key=x", ctype="application/x-www-form-urlencoded"),
    "RequestTimeout": stalled_put,
    "NotImplemented": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"If-Modified-Since": "Thu, 11 Aug 2016 01:43:51 GMT"}),
    "InvalidArgument": lambda c: caught(c.bucket().list_objects, max_keys=5000),
    "MissingArgument": lambda c: as_oss2_error(signed(c.srv(), "POST", c.bucket().bucket_name, "a", params={"append": ""}, data=b"x")),
    "MaxPOSTPreDataLengthExceededError": lambda c: form(c, {"f%d" % i: "v" * 4000 for i in range(20)}),
    "FieldItemTooLong": lambda c: form(c, {"long": "v" * 5000}),
    "MalformedPOSTRequest": lambda c: form(c, {}, raw=b"no boundary here", ctype="multipart/form-data; boundary=Q"),
    "InvalidPolicyDocument": lambda c: form(c, {"policy": "%%%", "Signature": b64(
        __import__("hmac").new(SK.encode(), b"%%%", hashlib.sha1).digest())}),
    "IncorrectNumberOfFilesInPOSTRequest": lambda c: form(c, {}, files={"note": (None, "no file")}),
    "EntityTooSmall": entity_too_small_part,
    "EntityTooSmallPostPolicy": lambda c: form(c, {}, data=b"x" * 5),
    "EntityTooLarge": xml_declared_too_large,
    "EntityTooLargePostPolicy": lambda c: form(c, {}, data=b"x" * 100),
    "EntityTooLargeCopySource": copy_too_large,
    "MalformedXML": lifecycle_malformed,
    "MalformedXMLTooManyObjects": batch_delete_too_many,
    "ImageTooLarge": image_too_large,
    "CallbackTooManyUrls": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-callback": b64(
        '{"callbackUrl":"%s","callbackBody":"b"}' % ";".join("http://127.0.0.1:9/%d" % i for i in range(6)))}),
    "CallbackTooLong": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-callback": "A" * 6000}),
    "CallbackVarTooLong": lambda c: caught(c.bucket().put_object, "k", b"v", headers={
        "x-oss-callback": b64('{"callbackUrl":"http://127.0.0.1:9/","callbackBody":"b"}'), "x-oss-callback-var": "A" * 6000}),
    "UserMetaTooLarge": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-meta-big": "m" * 8200}),
    "InvalidTaggingHeader": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-tagging": "aa=bb=cc"}),
    "InvalidObjectNameNotUtf8": key_not_utf8,
    "InvalidObjectNameSlash": lambda c: caught(c.bucket().put_object, "/leading-slash", b"v"),
    "InvalidTargetBucketForLogging": lambda c: caught(c.bucket().put_bucket_logging, oss2.models.BucketLogging(new_name("none"), "p/")),
    "InvalidPart": lambda c: (lambda b, u: caught(b.complete_multipart_upload, "p", u.upload_id, [oss2.models.PartInfo(1, "00")]))(
        *(lambda b: (b, b.init_multipart_upload("p")))(c.bucket())),
    "FilePartNotExist": lost_part,
    "InvalidPartOrder": bad_complete_order,
    "InvalidPartNumber": lambda c: (lambda b: caught(b.upload_part, "p", b.init_multipart_upload("p").upload_id, 0, b"x"))(c.bucket()),
    "InvalidEncryptionAlgorithmError": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-server-side-encryption": "X"}),
    "InvalidDigest": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"Content-MD5": "not-an-md5"}),
    "InvalidDigestMismatch": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"Content-MD5": b64(hashlib.md5(b"w").digest())}),
    "InvalidTag": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-tagging": "&".join("k%d=v" % i for i in range(11))}),
    "AuthorizationQueryParametersError": s3_presign_too_long,
    "InvalidTargetType": symlink_to_symlink,
    "NotSymlink": lambda c: with_object(c, lambda b: caught(b.get_symlink, "k")),
    "OperationNotSupported": lambda c: with_object(c, lambda b: caught(b.restore_object, "k")),
    "InvalidWORMConfiguration": worm_wrong_id,
    "InvalidWORMConfigurationDays": lambda c: caught(c.bucket().init_bucket_worm, 0),
    "InvalidWORMConfigurationNotNumber": worm_days_not_a_number,
    "InvalidTargetBucketForLoggingNotOwner": logging_to_others_bucket,
    "InvalidObjectAcl": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-object-acl": "open"}),
    "InvalidBucketAcl": lambda c: caught(c.bucket().put_bucket_acl, "open"),
    "InvalidStorageClass": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-storage-class": "GLACIER"}),
    "InvalidStorageClassCopy": lambda c: with_object(c, lambda b: caught(b.copy_object, b.bucket_name, "k", "k2",
                                                                         headers={"x-oss-storage-class": "GLACIER"})),
    "InvalidEncodingType": lambda c: as_oss2_error(signed(c.srv(), "GET", c.bucket().bucket_name, None, params={"encoding-type": "base64"})),
    "InvalidListType": lambda c: as_oss2_error(signed(c.srv(), "GET", c.bucket().bucket_name, None, params={"list-type": "3"})),
    "InvalidSigningRegion": lambda c: v4_other_region(c, False),
    "InvalidSigningRegionPresigned": lambda c: v4_other_region(c, True),
    "AccessDenied": lambda c: caught(oss2.Bucket(oss2.AnonymousAuth(), c.srv().endpoint, c.bucket().bucket_name).get_object, "k"),
    "AccessDeniedExpired": expired_presign,
    "V2AuthorizationInvalid": lambda c: v2_header(c, "OSS2 AccessKeyId:%s," % AK),
    "V2AuthorizationNoColon": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,AdditionalHeadershost,Signature:abc" % AK),
    "V2AuthorizationUnknownKey": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,Signature:abc,UnknownKey:ABC" % AK),
    "V2AccessKeyIdMissing": lambda c: v2_header(c, "OSS2 AdditionalHeaders:host,Signature:abc"),
    "V2AccessKeyIdEmpty": lambda c: v2_header(c, "OSS2 AccessKeyId:,AdditionalHeaders:host,Signature:abc"),
    "V2SignatureMissing": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,AdditionalHeaders:host" % AK),
    "V2SignatureEmpty": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,AdditionalHeaders:host,Signature:" % AK),
    "V2AdditionalHeadersEmpty": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,AdditionalHeaders:,Signature:abc" % AK),
    "V2AdditionalHeadersEmptyItem": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,AdditionalHeaders:host;,Signature:abc" % AK),
    "V2AdditionalHeaderAbsent": lambda c: v2_header(c, "OSS2 AccessKeyId:%s,AdditionalHeaders:range,Signature:abc" % AK),
    "SignatureVersionInvalid": lambda c: v2_url(c, x_oss_signature_version="ABC"),
    "ExpiresInvalid": lambda c: v2_url(c, x_oss_expires="abc"),
    "V2UrlAdditionalHeadersEmpty": lambda c: v2_url(c, x_oss_additional_headers=""),
    "V2UrlAdditionalHeadersInvalid": lambda c: v2_url_signed(c, "%20;host", {"custom-header": "abc"}),
    "V2UrlAdditionalHeaderAbsent": lambda c: v2_url_signed(c, None, {}),
    "V2UrlExpiresMissing": lambda c: v2_url(c, drop=("x-oss-expires",)),
    "V2UrlExpiresEmpty": lambda c: v2_url(c, x_oss_expires=""),
    "V2UrlAccessKeyIdMissing": lambda c: v2_url(c, drop=("x-oss-access-key-id",)),
    "V2UrlAccessKeyIdEmpty": lambda c: v2_url(c, x_oss_access_key_id=""),
    "V2UrlSignatureMissing": lambda c: v2_url(c, drop=("x-oss-signature",)),
    "V2UrlSignatureEmpty": lambda c: v2_url(c, x_oss_signature=""),
    "AccessDeniedExpiredS3": s3_presign_expired,
    "InvalidAccessKeyId": lambda c: caught(oss2.Service(oss2.Auth("NoSuchKeyId", SK), c.srv().endpoint).list_buckets),
    "InvalidAccessKeyIdDisabled": lambda c: disabled(c, "disable-key"),
    "InvalidAccessKeyIdChars": lambda c: caught(oss2.Service(oss2.Auth("bad-key!", SK), c.srv().endpoint).list_buckets),
    "SignatureDoesNotMatch": lambda c: caught(oss2.Service(oss2.Auth(AK, "wrong-secret"), c.srv().endpoint).list_buckets),
    "RequestTimeTooSkewed": None,  # needs monkeypatch: see test_each_row
    "ImageDamage": png_broken,
    "UserDisable": lambda c: disabled(c, "disable"),
    "AccessForbidden": preflight_denied,
    "InvalidObjectState": archived_get,
    "KmsServiceNotEnabled": lambda c: caught(c.bucket().put_object, "k", b"v", headers={"x-oss-server-side-encryption": "KMS"}),
    "WORMConfigurationLocked": worm_locked,
    "SymlinkTargetNotExist": lambda c: (lambda b: (b.put_symlink("gone", "l"), caught(b.get_object, "l"))[1])(c.bucket()),
    "NoSuchBucket": lambda c: caught(oss2.Bucket(oss2.Auth(AK, SK), c.srv().endpoint, new_name("none")).get_bucket_info),
    "NoSuchKey": lambda c: caught(c.bucket().get_object, "missing"),
    "NoSuchUpload": lambda c: caught(c.bucket().list_parts, "k", "0" * 32),
    "NoSuchWebsiteConfiguration": lambda c: caught(c.bucket().get_bucket_website),
    "NoSuchLifecycle": lambda c: caught(c.bucket().get_bucket_lifecycle),
    "NoSuchCORSConfiguration": lambda c: caught(c.bucket().get_bucket_cors),
    "NoSuchWORMConfiguration": lambda c: caught(c.bucket().get_bucket_worm),
    "MethodNotAllowed": lambda c: as_oss2_error(signed(c.srv(), "PATCH", c.bucket().bucket_name, "k")),
    "BucketAlreadyExists": other_users_bucket_name,
    "BucketNotEmpty": lambda c: with_object(c, lambda b: caught(b.delete_bucket)),
    "ObjectNotAppendable": append_to_normal,
    "PositionNotEqualToLength": appended_wrong,
    "FileImmutable": immutable,
    "FileAlreadyExists": lambda c: with_object(c, lambda b: caught(b.put_object, "k", b"v", headers={"x-oss-forbid-overwrite": "true"})),
    "FileAlreadyExistsMultipart": complete_over_existing,
    "RestoreAlreadyInProgress": restore_twice,
    "MissingContentLength": no_length_put,
    "PreconditionFailed": lambda c: with_object(c, lambda b: caught(b.get_object, "k", headers={"If-Match": '"0"'})),
    "QpsLimitExceeded": lambda c: (lambda b: first_failure([lambda: b.object_exists("k")] * 30))(c.bucket("user")),
    "InternalError": full_disk,
    "DownloadTrafficRateLimitExceeded": lambda c: bandwidth(c, "down"),
    "UploadTrafficRateLimitExceeded": lambda c: bandwidth(c, "up"),
    "MetaOperationQpsLimitExceeded": lambda c: (lambda b: first_failure([b.get_bucket_info] * 30))(c.bucket("meta")),
    "TotalQpsLimitExceeded": lambda c: (lambda b: first_failure([lambda: b.object_exists("k")] * 30))(c.bucket("total")),
}


def test_every_row_has_a_scenario():
    names = {r[0] for r in ROWS}
    assert names == set(SCENARIOS), (names - set(SCENARIOS), set(SCENARIOS) - names)
    assert len(ROWS) >= 60


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_each_row(ctx, row, monkeypatch):
    name, code, status, ec, _retry, s3_code, s3_status = row
    status = int(status)
    if name == "RequestTimeTooSkewed":
        e = skewed(ctx, monkeypatch)
    else:
        e = SCENARIOS[name](ctx)
    if isinstance(e, RtmpRefusal):  # a row answered over RTMP only
        assert (e.code, e.ec) == (code, ec), vars(e)
        return
    if isinstance(e, botocore.exceptions.ClientError):  # a row of the S3 dialect only
        assert e.response["Error"]["Code"] == s3_code, e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == int(s3_status)
        rid = e.response["ResponseMetadata"]["RequestId"]
        assert len(rid) == 24 and rid in ctx.last.log_text(), rid
        # S3 answers carry no EC: the server's request line names the row's EC (the line ends "<code> <EC>").
        lines = [l for l in ctx.last.log_text().splitlines() if rid in l]
        assert any(l.split()[-1] == ec for l in lines), (ec, lines)
        return
    assert isinstance(e, oss2.exceptions.ServerError), repr(e)
    expected_class = oss2.exceptions._OSS_ERROR_TO_EXCEPTION.get((status, code if status != 304 else ""), oss2.exceptions.ServerError)
    assert isinstance(e, expected_class), (type(e), expected_class)
    assert e.status == status, e
    assert len(e.request_id) == 24 and e.request_id in ctx.last.log_text(), e.request_id
    if status == 304:  # no body: the code and EC are in the headers only
        assert e.headers.get("x-oss-ec") == ec
    else:
        assert (e.code, e.ec) == (code, ec), e
        assert e.headers.get("x-oss-ec") == ec
