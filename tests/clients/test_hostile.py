"""A hostile client: malformed, oversized, cut-off and forged requests, each answered with the documented error,
and after every case the server still serves (the process is alive and a PUT then GET round trip succeeds).

Raw sockets and `requests` send what a real SDK would refuse to send."""
import base64
import datetime
import hashlib
import hmac
import os
import socket
import struct
import subprocess
import time
import uuid
import zlib

import oss2
import pytest
import requests

from conftest import AK, REGION, SK, Server, as_oss2_error, new_name, ossd_bin, signed


@pytest.fixture(scope="module")
def srv():
    # Its own server: a case that kills the process must fail here, not in other modules.
    s = Server(extra_args=["--idle-timeout", "3"])
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def bkt(srv):
    b = oss2.Bucket(oss2.Auth(AK, SK), srv.endpoint, new_name("h"), region=REGION)
    b.create_bucket()
    return b


@pytest.fixture(autouse=True)
def still_serves(srv, bkt):
    """Runs the case, then checks that the server process lives and answers a normal round trip."""
    yield
    assert srv.proc.poll() is None, "ossd exited: " + srv.log_text()[-2000:]
    key = "alive-" + uuid.uuid4().hex
    data = os.urandom(1000)
    bkt.put_object(key, data)
    assert bkt.get_object(key).read() == data
    bkt.delete_object(key)
    assert "panicked" not in srv.log_text(), srv.log_text()[-2000:]


def b64md5(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def error_of(resp):
    """(status, Code, EC) of an OSS error response."""
    e = as_oss2_error(resp)
    return e.status, e.code, e.ec


def raw(srv, data, read_timeout=10.0, shutdown=False):
    """Sends raw bytes on a fresh connection and returns everything the server answers until it closes or
    stays silent for `read_timeout`."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=read_timeout)
    try:
        s.sendall(data)
        if shutdown:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def status_of(answer):
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def delete_body(srv, bkt, body):
    return signed(srv, "POST", bkt.bucket_name, None, params={"delete": ""}, data=body,
                  headers={"Content-MD5": b64md5(body)})


# --- XML ---------------------------------------------------------------------------------------------------------

def test_deep_xml(srv, bkt):
    depth = 100_000
    body = b"<Delete>" + b"<Object>" * depth + b"</Object>" * depth + b"</Delete>"
    assert len(body) > 1_500_000
    assert error_of(delete_body(srv, bkt, body)) == (400, "MalformedXML", "0031-00000001")


def test_many_elements(srv, bkt):
    body = b"<Delete>" + b"<Quiet/>" * 200_000 + b"</Delete>"
    assert error_of(delete_body(srv, bkt, body)) == (400, "MalformedXML", "0031-00000001")


def test_too_many_keys(srv, bkt):
    body = ("<Delete>" + "".join("<Object><Key>k%d</Key></Object>" % i for i in range(1001)) + "</Delete>").encode()
    assert error_of(delete_body(srv, bkt, body)) == (400, "MalformedXML", "0016-00000609")


def test_huge_xml_is_refused_before_it_is_read(srv, bkt):
    # 1 GB declared, nothing sent: the answer comes at once, from the Content-Length alone.
    url_path = "/%s/?delete" % bkt.bucket_name
    req = oss2.http.Request("POST", srv.endpoint + "/" + bkt.bucket_name + "/", data=b"", params={"delete": ""},
                            headers={"Content-MD5": "1B2M2Y8AsgTpgAmY5PhCfg==", "Content-Length": str(1 << 30)})
    oss2.Auth(AK, SK)._sign_request(req, bkt.bucket_name, "")
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (url_path, srv.port)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items() if k.lower() != "host")
    t = time.time()
    answer = raw(srv, (head + "\r\n").encode(), read_timeout=5)
    assert time.time() - t < 4, "the server waited for the body"
    assert status_of(answer) == 400 and b"<Code>EntityTooLarge</Code>" in answer, answer[:500]


def test_huge_chunked_xml_stops_at_the_cap(srv, bkt):
    # Chunked, so no length up front: the server answers once the cap (6 MB for a delete) is passed.
    req = oss2.http.Request("POST", srv.endpoint + "/" + bkt.bucket_name + "/", data=b"", params={"delete": ""},
                            headers={"Content-MD5": "1B2M2Y8AsgTpgAmY5PhCfg=="})
    oss2.Auth(AK, SK)._sign_request(req, bkt.bucket_name, "")
    head = "POST /%s/?delete HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: chunked\r\n" % (bkt.bucket_name, srv.port)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items() if k.lower() not in ("host", "content-length"))
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    sent = 0
    chunk = b"<Delete>" + b" " * (64 * 1024 - 8)
    try:
        s.sendall((head + "\r\n").encode())
        s.setblocking(False)
        answer = b""
        deadline = time.time() + 20
        while time.time() < deadline and sent < 64 << 20:
            try:
                s.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
            try:
                got = s.recv(65536)
                if got or answer:
                    answer += got
                    if not got or b"</Error>" in answer:
                        break
            except BlockingIOError:
                time.sleep(0.001)
            except ConnectionResetError:
                break
    finally:
        s.close()
    assert status_of(answer) == 400 and b"<Code>EntityTooLarge</Code>" in answer, answer[:300]
    assert sent < 16 << 20, "the server read %d bytes before answering" % sent


def test_billion_laughs(srv, bkt):
    body = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Delete><Object><Key>&lol9;</Key></Object></Delete>"""
    t = time.time()
    assert error_of(delete_body(srv, bkt, body)) == (400, "MalformedXML", "0031-00000001")
    assert time.time() - t < 5


def test_external_entity_reads_no_file(srv, bkt):
    secret = os.path.join(srv.data, "xxe-secret.txt")
    with open(secret, "w") as f:
        f.write("XXE-SECRET-CONTENT")
    for body in [
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://%s">]>'
         '<Delete><Object><Key>&x;</Key></Object></Delete>' % secret).encode(),
        ('<?xml version="1.0"?><!DOCTYPE d SYSTEM "file://%s"><Delete><Object><Key>k</Key></Object></Delete>'
         % secret).encode(),
    ]:
        r = delete_body(srv, bkt, body)
        assert error_of(r) == (400, "MalformedXML", "0031-00000001")
        assert b"XXE-SECRET" not in r.content
    # Tagging and lifecycle bodies go through the same reader.
    bkt.put_object("xxe", b"v")
    body = ('<!DOCTYPE d [<!ENTITY x SYSTEM "file://%s">]><Tagging><TagSet><Tag><Key>k</Key><Value>&x;</Value></Tag>'
            '</TagSet></Tagging>' % secret).encode()
    r = signed(srv, "PUT", bkt.bucket_name, "xxe", params={"tagging": ""}, data=body)
    assert error_of(r) == (400, "MalformedXML", "0031-00000001")
    assert bkt.get_object_tagging("xxe").tag_set.tagging_rule == {}


def test_tagging_limits(srv, bkt):
    bkt.put_object("tags", b"v")

    def put(tags):
        body = "<Tagging><TagSet>%s</TagSet></Tagging>" % "".join(
            "<Tag><Key>%s</Key><Value>%s</Value></Tag>" % kv for kv in tags)
        return signed(srv, "PUT", bkt.bucket_name, "tags", params={"tagging": ""}, data=body.encode())
    ok = put([("k%d" % i, "v") for i in range(10)])
    assert ok.status_code == 200, ok.text
    for bad in ([("k%d" % i, "v") for i in range(11)], [("k" * 129, "v")], [("k", "v" * 257)]):
        assert error_of(put(bad))[:2] == (400, "InvalidArgument")


def test_configuration_rule_counts(srv, bkt):
    rule = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    for n, status in [(10, 200), (11, 400)]:
        body = ("<CORSConfiguration>%s</CORSConfiguration>" % (rule * n)).encode()
        r = signed(srv, "PUT", bkt.bucket_name, None, params={"cors": ""}, data=body)
        assert r.status_code == status, r.text[:300]
    assert error_of(r)[:2] == (400, "MalformedXML")
    rule = "<Rule><ID>r%d</ID><Prefix>p%d/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
    for n, status in [(1000, 200), (1001, 400)]:
        body = ("<LifecycleConfiguration>%s</LifecycleConfiguration>" % "".join(rule % (i, i) for i in range(n))).encode()
        r = signed(srv, "PUT", bkt.bucket_name, None, params={"lifecycle": ""}, data=body)
        assert r.status_code == status, r.text[:300]
    assert error_of(r)[:2] == (400, "MalformedXML")
    for sub in ("cors", "lifecycle"):
        assert signed(srv, "DELETE", bkt.bucket_name, None, params={sub: ""}).status_code == 204


def test_user_metadata_limit(srv, bkt):
    bkt.put_object("meta-ok", b"v", headers={"x-oss-meta-a": "m" * 8000})
    r = signed(srv, "PUT", bkt.bucket_name, "meta-big", data=b"v",
               headers={"x-oss-meta-%d" % i: "m" * 1000 for i in range(9)})
    assert error_of(r) == (400, "InvalidArgument", "0011-00000002")
    assert not bkt.object_exists("meta-big")


# --- uploads cut off, framing ------------------------------------------------------------------------------------

def signed_head(srv, method, bkt, key, extra=None):
    req = oss2.http.Request(method, "%s/%s/%s" % (srv.endpoint, bkt.bucket_name, key), data=b"",
                            headers=dict(extra or {}))
    oss2.Auth(AK, SK)._sign_request(req, bkt.bucket_name, key)
    lines = ["%s /%s/%s HTTP/1.1" % (method, bkt.bucket_name, key), "Host: 127.0.0.1:%d" % srv.port]
    lines += ["%s: %s" % (k, v) for k, v in req.headers.items() if k.lower() not in ("host", "content-length")]
    return "\r\n".join(lines) + "\r\n"


def test_truncated_upload_leaves_nothing(srv, bkt):
    head = signed_head(srv, "PUT", bkt, "cut") + "Content-Length: 100000\r\n\r\n"
    raw(srv, head.encode() + b"x" * 1000, read_timeout=0.5, shutdown=True)
    time.sleep(0.3)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bkt.get_object("cut")


def test_cut_off_chunked_upload_leaves_nothing(srv, bkt):
    head = signed_head(srv, "PUT", bkt, "cut-chunked") + "Transfer-Encoding: chunked\r\n\r\n"
    raw(srv, head.encode() + b"400\r\n" + b"y" * 1024 + b"\r\n400\r\nyy", read_timeout=0.5, shutdown=True)
    time.sleep(0.3)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bkt.get_object("cut-chunked")


def test_bad_chunk_framing(srv, bkt):
    for body in [b"zz\r\nabc\r\n0\r\n\r\n", b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n"]:
        head = signed_head(srv, "PUT", bkt, "badchunk") + "Transfer-Encoding: chunked\r\n\r\n"
        answer = raw(srv, head.encode() + body, read_timeout=3)
        assert answer == b"" or status_of(answer) == 400, answer[:300]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bkt.get_object("badchunk")


def test_content_length_and_transfer_encoding(srv, bkt):
    # Both headers: a smuggled second request hides in the body. Whatever the server makes of the first, it must
    # never answer the hidden DELETE as a request of its own.
    bkt.put_object("victim", b"keep me")
    hidden = "DELETE /%s/victim HTTP/1.1\r\nHost: x\r\n\r\n" % bkt.bucket_name
    body = "0\r\n\r\n" + hidden
    head = signed_head(srv, "PUT", bkt, "smuggle")
    data = head + "Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s" % (len(body), body)
    answer = raw(srv, data.encode(), read_timeout=2)
    assert answer.count(b"HTTP/1.1 ") <= 2
    assert b"HTTP/1.1 204" not in answer, answer
    assert bkt.get_object("victim").read() == b"keep me"


def test_duplicate_content_length(srv, bkt):
    head = signed_head(srv, "PUT", bkt, "dup")
    answer = raw(srv, (head + "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde").encode(), read_timeout=2)
    assert answer == b"" or status_of(answer) == 400, answer[:300]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bkt.get_object("dup")


def test_garbage_request_lines(srv, bkt):
    for data in [b"\x00\xff\xfe garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n"]:
        answer = raw(srv, data, read_timeout=3)
        assert answer == b"" or 400 <= status_of(answer) < 500, answer[:300]


def s3_put_head(srv, bkt, key, body_len, payload_hash, extra):
    """A SigV4-signed S3 PutObject request head (path-style), signed by hand so any payload hash can be claimed."""
    amzdate = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = "/%s/%s" % (bkt.bucket_name, key)
    headers = {"host": "127.0.0.1:%d" % srv.port, "x-amz-date": amzdate, "x-amz-content-sha256": payload_hash}
    headers.update({k.lower(): v for k, v in extra.items()})
    names = sorted(headers)
    canonical = "\n".join(["PUT", path, "", "".join("%s:%s\n" % (k, headers[k]) for k in names), ";".join(names),
                           payload_hash])
    scope = "%s/us-east-1/s3/aws4_request" % amzdate[:8]
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key_ = ("AWS4" + SK).encode()
    for part in (amzdate[:8], "us-east-1", "s3", "aws4_request"):
        key_ = hmac.new(key_, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key_, sts.encode(), hashlib.sha256).hexdigest()
    auth = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (AK, scope, ";".join(names), sig)
    lines = ["PUT %s HTTP/1.1" % path] + ["%s: %s" % (k, headers[k]) for k in names]
    lines += ["Authorization: " + auth, "Content-Length: %d" % body_len]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


BAD_AWS_CHUNKED = [
    b"zz\r\nabc\r\n0\r\n\r\n",                                  # size not hex
    b"ffffffffffffffff\r\nabc",                                   # a huge declared size, then the body ends
    b"1ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",                 # a size past 64 bits
    b"3\r\nabcdef\r\n0\r\n\r\n",                                # a chunk longer than its size
    b"3\r\nab",                                                   # cut off inside a chunk
    b"1" * 10000,                                                  # a chunk header that never ends
    b"3\r\nabc\r\n0\r\n" + b"x-amz-trailer: " + b"t" * 10000,      # a trailer line that never ends
]


@pytest.mark.parametrize("body", BAD_AWS_CHUNKED, ids=range(len(BAD_AWS_CHUNKED)))
def test_bad_aws_chunked_framing(srv, bkt, body):
    head = s3_put_head(srv, bkt, "chunked", len(body), "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                       {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "3"})
    answer = raw(srv, head + body, read_timeout=5)
    assert status_of(answer) == 400, answer[:400]
    assert b"<Code>InvalidArgument</Code>" in answer or b"<Code>IncompleteBody</Code>" in answer, answer[:400]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bkt.get_object("chunked")


def test_good_aws_chunked_still_works(srv, bkt):
    body = b"3\r\nabc\r\n0\r\n\r\n"
    head = s3_put_head(srv, bkt, "chunked-ok", len(body), "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                       {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "3"})
    answer = raw(srv, head + body, read_timeout=2)
    assert status_of(answer) == 200, answer[:400]
    assert bkt.get_object("chunked-ok").read() == b"abc"
    bkt.delete_object("chunked-ok")


# --- authentication ----------------------------------------------------------------------------------------------

GARBAGE_AUTH = [
    "OSS", "OSS ", "OSS :", "OSS a:b:c", "OSS " + AK, "OSS " + AK + ":", "OSS :sig", "OSS \u00e9\u00e9:x",
    "OSS " + "A" * 5000 + ":x", "OSS4-HMAC-SHA256", "OSS4-HMAC-SHA256 ", "OSS4-HMAC-SHA256 Credential=",
    "OSS4-HMAC-SHA256 Credential=%s/20240101/cn-hangzhou/oss/aws4_request,Signature=" % AK,
    "OSS4-HMAC-SHA256 Credential=%s,AdditionalHeaders=,Signature=zz" % AK,
    "OSS4-HMAC-SHA256 Credential=////,Signature=", "OSS4-HMAC-SHA256 ,,,,=,=,=",
    "AWS4-HMAC-SHA256 Credential=%s/x, SignedHeaders=, Signature=" % AK,
    "AWS4-HMAC-SHA256 Credential=%s/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;;;, Signature=00" % AK,
    "AWS4-HMAC-SHA256", "AWS " + AK, "AWS :", "AWS " + AK + ":" + "=" * 100,
    "q-sign-algorithm=sha1&q-ak=%s&q-sign-time=x;y&q-key-time=1;2&q-signature=0" % AK,
    "q-sign-algorithm=sha1&q-ak=%s&q-sign-time=-9223372036854775808;9223372036854775807&q-key-time=;&q-signature=0" % AK,
    "OBS " + AK + ":x", "Bearer abc", "Basic Zm9vOmJhcg==", "=", ";", "x\ty",
]


@pytest.mark.parametrize("value", GARBAGE_AUTH, ids=range(len(GARBAGE_AUTH)))
def test_garbage_authorization(srv, bkt, value):
    bkt.put_object("auth-target", b"secret")
    r = requests.get("%s/%s/auth-target" % (srv.endpoint, bkt.bucket_name),
                     headers={"Authorization": value.encode("utf-8"), "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())})
    assert r.status_code in (400, 403), (r.status_code, r.text[:300])
    assert b"secret" != r.content
    assert b"<Code>" in r.content and b"<Code>InternalError</Code>" not in r.content


GARBAGE_PRESIGN = [
    {"OSSAccessKeyId": AK, "Expires": "abc", "Signature": "x"},
    {"OSSAccessKeyId": AK, "Expires": "-9223372036854775808", "Signature": "x"},
    {"OSSAccessKeyId": AK, "Expires": "99999999999999999999999", "Signature": "x"},
    {"OSSAccessKeyId": AK, "Expires": "9223372036854775807", "Signature": ""},
    {"OSSAccessKeyId": "", "Expires": "1", "Signature": "x"},
    {"OSSAccessKeyId": AK},
    {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
    {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": "garbage", "x-oss-date": "x",
     "x-oss-expires": "1", "x-oss-signature": "0"},
    {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": AK + "/20240101/cn-hangzhou/oss/aliyun_v4_request",
     "x-oss-date": "20240101T000000Z", "x-oss-expires": "9223372036854775807", "x-oss-signature": "0"},
    {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": AK + "/20240101/cn-hangzhou/oss/aliyun_v4_request",
     "x-oss-date": "99999999T999999Z", "x-oss-expires": "-9223372036854775808", "x-oss-signature": "0"},
    {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "a/b/c", "X-Amz-Date": "x", "X-Amz-Expires": "x",
     "X-Amz-SignedHeaders": "host", "X-Amz-Signature": "0"},
    {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": AK + "/20240101/us-east-1/s3/aws4_request",
     "X-Amz-Date": "20240101T000000Z", "X-Amz-Expires": "-9223372036854775808", "X-Amz-SignedHeaders": "host",
     "X-Amz-Signature": "0"},
    {"AWSAccessKeyId": AK, "Expires": "-9223372036854775808", "Signature": "x"},
    {"q-sign-algorithm": "sha1", "q-ak": AK, "q-sign-time": ";", "q-key-time": ";", "q-signature": "x"},
]


@pytest.mark.parametrize("params", GARBAGE_PRESIGN, ids=range(len(GARBAGE_PRESIGN)))
def test_garbage_presigned_query(srv, bkt, params):
    bkt.put_object("presign-target", b"secret")
    r = requests.get("%s/%s/presign-target" % (srv.endpoint, bkt.bucket_name), params=params)
    assert r.status_code in (400, 403), (r.status_code, r.text[:300])
    assert b"<Code>" in r.content and b"<Code>InternalError</Code>" not in r.content


def test_garbage_dates(srv, bkt):
    bkt.put_object("date-target", b"secret")
    for date in ["Tue, 07 Jul 9223372036854775807 21:53:04 GMT", "Tue, 07 Jul 2010 -1:-1:-1 GMT", "x" * 4000,
                 "Tue, 07 Jul 2010 99999999999999999999:00:00 GMT"]:
        r = requests.get("%s/%s/date-target" % (srv.endpoint, bkt.bucket_name),
                         headers={"Authorization": "OSS %s:x" % AK, "Date": date})
        assert error_of(r)[:2] == (403, "AccessDenied"), (r.status_code, r.text[:300])
    # A control character in a header value is refused by the HTTP layer itself.
    r = requests.get("%s/%s/date-target" % (srv.endpoint, bkt.bucket_name),
                     headers={"Authorization": "OSS %s:x" % AK, "Date": "\x01"})
    assert r.status_code == 400


# --- names and access --------------------------------------------------------------------------------------------

def test_path_like_keys_stay_keys(srv, bkt):
    outside = os.path.join(os.path.dirname(srv.data), "escaped-" + uuid.uuid4().hex)
    for key in ["../../" + os.path.basename(outside), "..\\..\\x", "a/../../b", "./.", "\x00nul", "%00", "..%2F..%2Fx"]:
        bkt.put_object(key, key.encode())
        assert bkt.get_object(key).read() == key.encode()
        assert key in [o.key for o in oss2.ObjectIteratorV2(bkt, prefix=key[:2])]
        bkt.delete_object(key)
    assert not os.path.exists(outside)
    # Sent raw: the path is decoded once into a key, never resolved as a path.
    r = signed(srv, "PUT", bkt.bucket_name, "..%2F..%2Fraw", data=b"raw")
    assert r.status_code == 200, r.text
    assert bkt.get_object("..%2F..%2Fraw").read() == b"raw"
    bkt.delete_object("..%2F..%2Fraw")


def test_invalid_object_names(srv, bkt):
    r = requests.put("%s/%s/%%FFbad" % (srv.endpoint, bkt.bucket_name), data=b"v")
    assert error_of(r) == (400, "InvalidObjectName", "0016-00000004")
    r = signed(srv, "PUT", bkt.bucket_name, "/lead", data=b"v")
    assert error_of(r) == (400, "InvalidObjectName", "0016-00000005")
    r = signed(srv, "GET", bkt.bucket_name, "\\lead")
    assert error_of(r) == (400, "InvalidObjectName", "0016-00000005")
    r = signed(srv, "PUT", bkt.bucket_name, "k" * 1024, data=b"v")
    assert error_of(r) == (400, "InvalidObjectName", "0016-00000002")


@pytest.fixture(scope="module")
def mallory(srv):
    uid = "mallory" + uuid.uuid4().hex[:8]
    r = subprocess.run([ossd_bin(), "user", "add", uid, "mallory-secret-1", "--data", os.path.join(srv.data, "d")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return uid, "mallory-secret-1"


def test_other_users_bucket(srv, bkt, mallory):
    bkt.put_object("private", b"root's data")
    theirs = oss2.Bucket(oss2.Auth(*mallory), srv.endpoint, bkt.bucket_name, region=REGION)
    for call in [lambda: theirs.get_object("private"), lambda: theirs.put_object("planted", b"x"),
                 lambda: theirs.delete_object("private"), lambda: list(oss2.ObjectIteratorV2(theirs)),
                 lambda: theirs.get_bucket_acl(), lambda: theirs.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE),
                 lambda: theirs.delete_bucket(), lambda: theirs.init_multipart_upload("m"),
                 lambda: theirs.batch_delete_objects(["private"])]:
        with pytest.raises(oss2.exceptions.AccessDenied) as e:
            call()
        assert e.value.status == 403 and e.value.code == "AccessDenied"
    assert bkt.get_object("private").read() == b"root's data"
    assert not bkt.object_exists("planted")
    # Mallory's copy cannot read root's object as its source either.
    mine = oss2.Bucket(oss2.Auth(*mallory), srv.endpoint, new_name("m"), region=REGION)
    mine.create_bucket()
    with pytest.raises(oss2.exceptions.AccessDenied):
        mine.copy_object(bkt.bucket_name, "private", "stolen")
    mine.delete_bucket()


def test_anonymous_access(srv, bkt):
    bkt.put_object("anon", b"secret")
    base = "%s/%s" % (srv.endpoint, bkt.bucket_name)
    for method, url in [("GET", base + "/anon"), ("HEAD", base + "/anon"), ("PUT", base + "/anon2"),
                        ("DELETE", base + "/anon"), ("GET", base + "/"), ("GET", srv.endpoint + "/"),
                        ("PUT", srv.endpoint + "/" + new_name("anon")), ("POST", base + "/?delete")]:
        r = requests.request(method, url, data=b"x" if method in ("PUT", "POST") else None)
        assert r.status_code == 403, (method, url, r.status_code, r.text[:200])
        if method != "HEAD":
            assert b"<Code>AccessDenied</Code>" in r.content
    assert bkt.get_object("anon").read() == b"secret"
    assert not bkt.object_exists("anon2")


# --- ranges and part numbers -------------------------------------------------------------------------------------

ODD_RANGES = ["bytes=", "bytes=abc", "bytes=5-1", "bytes=-0", "bytes=0-18446744073709551615",
              "bytes=99999999999999999999999-", "bytes=--1", "bytes=1--2", "items=0-1", "bytes=0-0,1-1",
              "bytes=" + ",".join("%d-%d" % (i, i) for i in range(2000)), "bytes=" + "9" * 5000 + "-",
              "bytes=-18446744073709551616", "bytes= 3 - 4 ", "bytes=100-200", "bytes=-100"]


@pytest.mark.parametrize("rng", ODD_RANGES, ids=range(len(ODD_RANGES)))
def test_odd_ranges(srv, bkt, rng):
    data = bytes(range(100))
    bkt.put_object("ranged", data)
    r = signed(srv, "GET", bkt.bucket_name, "ranged", headers={"Range": rng})
    assert r.status_code in (200, 206, 416), (r.status_code, r.text[:300])
    if r.status_code == 200:
        assert r.content == data
    if r.status_code == 206:
        first, last = (int(x) for x in r.headers["Content-Range"].split(" ")[1].split("/")[0].split("-"))
        assert r.content == data[first:last + 1]


ODD_PARTS = ["0", "10001", "-1", "abc", "1e3", "99999999999999999999", "", " 1", "0x10", "1.5", "４"]


@pytest.mark.parametrize("n", ODD_PARTS, ids=range(len(ODD_PARTS)))
def test_odd_part_numbers(srv, bkt, n):
    up = bkt.init_multipart_upload("parts")
    try:
        r = signed(srv, "PUT", bkt.bucket_name, "parts", params={"partNumber": n, "uploadId": up.upload_id},
                   data=b"x")
        if n == " 1":  # OSS reads surrounding blanks as the number they hold
            assert r.status_code in (200, 400)
            return
        assert error_of(r) == (400, "InvalidArgument", "0017-00000220"), r.text
    finally:
        bkt.abort_multipart_upload("parts", up.upload_id)


def test_complete_with_odd_parts(srv, bkt):
    up = bkt.init_multipart_upload("cparts")
    etag = bkt.upload_part("cparts", up.upload_id, 1, b"x").etag
    for parts in ["<Part><PartNumber>abc</PartNumber><ETag>%s</ETag></Part>" % etag,
                  "<Part><PartNumber>10001</PartNumber><ETag>%s</ETag></Part>" % etag,
                  "<Part><PartNumber>0</PartNumber><ETag>%s</ETag></Part>" % etag,
                  "<Part><ETag>%s</ETag></Part>" % etag,
                  "".join("<Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>" % etag for _ in range(10001))]:
        body = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % parts).encode()
        r = signed(srv, "POST", bkt.bucket_name, "cparts", params={"uploadId": up.upload_id}, data=body)
        assert r.status_code == 400, r.text[:300]
        assert error_of(r)[1] in ("MalformedXML", "InvalidArgument", "InvalidPartOrder"), r.text[:300]
    bkt.abort_multipart_upload("cparts", up.upload_id)


# --- image processing --------------------------------------------------------------------------------------------

def png(w, h):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress((b"\x00" * (w + 1)) * h, 9)) + chunk(b"IEND", b""))


def test_decompression_bomb(srv, bkt):
    # 20,000 x 15,000 black pixels: 300 million, past OSS's 250 million; well under 1 MB stored.
    bomb = png(20000, 15000)
    assert len(bomb) < 1 << 20
    bkt.put_object("bomb.png", bomb)
    t = time.time()
    r = signed(srv, "GET", bkt.bucket_name, "bomb.png", params={"x-oss-process": "image/info"})
    assert error_of(r) == (400, "ImageTooLarge", "0040-00000012")
    assert time.time() - t < 5, "the bomb was decoded"


def test_odd_image_parameters(srv, bkt):
    bkt.put_object("small.png", png(8, 8))
    for spec in ["image/resize,w_0", "image/resize,w_16385", "image/resize,w_99999999999", "image/resize,m_fixed,w_5000,h_5000",
                 "image/resize,w_-1", "image/resize,h_1,l_0", "image/" + "info/" * 50, "image/resize", "x" * 5000,
                 "image/resize,w_16384"]:
        r = signed(srv, "GET", bkt.bucket_name, "small.png", params={"x-oss-process": spec})
        assert error_of(r)[:2] == (400, "InvalidArgument"), (spec, r.text[:300])
    r = signed(srv, "GET", bkt.bucket_name, "small.png", params={"x-oss-process": "image/resize,w_4,h_4"})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
