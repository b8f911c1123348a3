"""Objects through oss2: put, get, head, meta, delete, copy, ACL, tagging, conditions, ranges and their errors."""
import base64
import hashlib
import http.client
import time

import crcmod
import oss2
import pytest
import requests

from conftest import AK, SK, check_error, raises, signed

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def test_put_get_head_with_metadata(server, bucket):
    body = b"hello object" * 100
    headers = {
        "x-oss-meta-author": "alice",
        "Content-Type": "text/plain",
        "Cache-Control": "no-cache",
        "Content-Disposition": "attachment; filename=a.txt",
        "Content-Encoding": "identity",
        "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
        "x-oss-storage-class": "IA",
        "x-oss-object-acl": "private",
    }
    r = bucket.put_object("dir/obj.txt", body, headers=headers)
    md5 = hashlib.md5(body).hexdigest().upper()
    assert r.etag == md5 and r.crc == crc64(body)
    g = bucket.get_object("dir/obj.txt")
    assert g.read() == body
    h = g.headers
    assert h["ETag"] == '"%s"' % md5
    assert int(h["x-oss-hash-crc64ecma"]) == crc64(body)
    assert h["x-oss-object-type"] == "Normal" and h["x-oss-storage-class"] == "IA"
    assert h["Accept-Ranges"] == "bytes" and h["Last-Modified"].endswith("GMT")
    assert h["Content-Type"] == "text/plain" and h["Cache-Control"] == "no-cache"
    assert h["Content-Disposition"] == "attachment; filename=a.txt" and h["Expires"] == headers["Expires"]
    assert h["x-oss-meta-author"] == "alice"
    m = bucket.head_object("dir/obj.txt")
    assert m.content_length == len(body) and m.etag == md5 and m.object_type == "Normal"
    meta = bucket.get_object_meta("dir/obj.txt")
    assert meta.content_length == len(body) and meta.etag == md5
    assert bucket.object_exists("dir/obj.txt") and not bucket.object_exists("nope")


def test_overwrite_and_delete(server, bucket):
    bucket.put_object("k", b"one")
    bucket.put_object("k", b"two")
    assert bucket.get_object("k").read() == b"two"
    assert bucket.delete_object("k").status == 204
    assert bucket.delete_object("k").status == 204  # a missing key deletes fine
    check_error(server, raises(bucket.get_object, "k"), oss2.exceptions.NoSuchKey, 404, "NoSuchKey")


def test_chunked_upload_and_empty_object(server, bucket):
    def gen():
        for i in range(50):
            yield bytes([i]) * 10000
    bucket.put_object("chunked", gen())
    want = b"".join(bytes([i]) * 10000 for i in range(50))
    assert bucket.get_object("chunked").read() == want
    bucket.put_object("empty", b"")
    assert bucket.get_object("empty").read() == b""
    assert bucket.head_object("empty").content_length == 0


def test_large_streamed_object_crc_checked_by_sdk(server, bucket):
    data = bytes(range(256)) * (3 * 1024 * 1024 // 256 + 7)
    bucket.enable_crc = True
    bucket.put_object("big", data)
    assert bucket.get_object("big").read() == data  # oss2 compares the CRC it computed with ours


@pytest.mark.parametrize("key", ["../../x", "a//b", "%2e%2e/", "k" * 1023, "日本語/キー ü", "sp ace+plus&amp?q=1#h", "ctl\x01\x1f"])
def test_keys_never_reach_the_filesystem(server, bucket, key):
    bucket.put_object(key, key.encode())
    assert bucket.get_object(key).read() == key.encode()
    assert key in [o.key for o in oss2.ObjectIteratorV2(bucket)]
    bucket.delete_object(key)


@pytest.mark.parametrize("key", ["/lead", "\\lead"])
def test_leading_slash_or_backslash_is_invalid_object_name(server, bucket, key):
    e = raises(bucket.put_object, key, b"x")
    check_error(server, e, oss2.exceptions.InvalidObjectName, 400, "InvalidObjectName", row="InvalidObjectNameSlash")


def test_invalid_object_name_too_long(server, bucket):
    e = raises(bucket.put_object, "k" * 1024, b"x")
    check_error(server, e, oss2.exceptions.InvalidObjectName, 400, "InvalidObjectName", row="InvalidObjectNameTooLong")
    assert e.message == "The Length of Object name must be less than 1024."


def test_content_md5_mismatch_is_invalid_digest(server, bucket):
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    e = raises(bucket.put_object, "k", b"data", headers={"Content-MD5": bad})
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidDigest", row="InvalidDigestMismatch")
    assert not bucket.object_exists("k")
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    bucket.put_object("k", b"data", headers={"Content-MD5": good})


def test_forbid_overwrite(server, bucket):
    bucket.put_object("k", b"1", headers={"x-oss-forbid-overwrite": "true"})
    e = raises(bucket.put_object, "k", b"2", headers={"x-oss-forbid-overwrite": "true"})
    check_error(server, e, oss2.exceptions.ServerError, 409, "FileAlreadyExists")
    assert bucket.get_object("k").read() == b"1"


def test_unsupported_header_on_put_is_not_implemented(server, bucket):
    e = raises(bucket.put_object, "k", b"x", headers={"If-Modified-Since": "Thu, 11 Aug 2016 01:43:51 GMT"})
    check_error(server, e, oss2.exceptions.ServerError, 400, "NotImplemented")
    assert e.details["Header"] == "If-Modified-Since"
    assert e.message == "A header you provided implies functionality that is not implemented."


def test_missing_content_length_is_411(server, bucket):
    req = oss2.http.Request("PUT", server.endpoint + "/%s/nolen" % bucket.bucket_name, headers={})
    oss2.Auth(AK, SK)._sign_request(req, bucket.bucket_name, "nolen")
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.putrequest("PUT", "/%s/nolen" % bucket.bucket_name, skip_accept_encoding=True)
    for k, v in req.headers.items():
        if v is not None:
            c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    assert r.status == 411 and b"<Code>MissingContentLength</Code>" in body
    assert r.getheader("x-oss-ec") and r.getheader("x-oss-request-id")


def test_invalid_sse_algorithm(server, bucket):
    e = raises(bucket.put_object, "k", b"x", headers={"x-oss-server-side-encryption": "ROT13"})
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidEncryptionAlgorithmError")


def test_ranges(server, bucket):
    data = bytes(range(100))
    bucket.put_object("r", data)
    g = bucket.get_object("r", byte_range=(10, 19))
    assert g.status == 206 and g.read() == data[10:20] and g.headers["Content-Range"] == "bytes 10-19/100"
    assert bucket.get_object("r", byte_range=(90, None)).read() == data[90:]
    assert bucket.get_object("r", byte_range=(None, 5)).read() == data[95:]
    # An unsatisfiable range returns the whole object, as OSS does.
    g = bucket.get_object("r", byte_range=(200, 300))
    assert g.status == 200 and g.read() == data


def test_conditional_get(server, bucket):
    r = bucket.put_object("c", b"cond")
    etag = r.etag
    assert bucket.get_object("c", headers={"If-Match": '"%s"' % etag}).read() == b"cond"
    e = raises(bucket.get_object, "c", headers={"If-Match": '"0000"'})
    check_error(server, e, oss2.exceptions.PreconditionFailed, 412, "PreconditionFailed")
    e = raises(bucket.get_object, "c", headers={"If-Unmodified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"})
    check_error(server, e, oss2.exceptions.PreconditionFailed, 412, "PreconditionFailed")
    e = raises(bucket.get_object, "c", headers={"If-None-Match": '"%s"' % etag})
    assert isinstance(e, oss2.exceptions.NotModified) and e.status == 304
    future = oss2.utils.http_date(int(time.time()) + 3600)
    e = raises(bucket.get_object, "c", headers={"If-Modified-Since": future})
    assert isinstance(e, oss2.exceptions.NotModified) and e.status == 304
    assert bucket.get_object("c", headers={"If-Modified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"}).read() == b"cond"


def test_response_header_overrides(server, bucket):
    bucket.put_object("o", b"x", headers={"Content-Type": "text/plain"})
    g = bucket.get_object("o", params={"response-content-type": "image/png", "response-cache-control": "max-age=9",
                                       "response-content-disposition": "inline"})
    assert g.headers["Content-Type"] == "image/png" and g.headers["Cache-Control"] == "max-age=9"
    assert g.headers["Content-Disposition"] == "inline"


def test_head_error_carries_x_oss_err(server, bucket):
    r = signed(server, "HEAD", bucket.bucket_name, "missing")
    assert r.status_code == 404 and r.content == b""
    xml = base64.b64decode(r.headers["x-oss-err"])
    assert b"<Code>NoSuchKey</Code>" in xml and r.headers["x-oss-request-id"].encode() in xml
    assert r.headers["x-oss-ec"] == "0026-00000001" and r.headers["Content-Type"] == "application/xml"


def test_error_body_and_headers(server, bucket):
    r = signed(server, "GET", bucket.bucket_name, "missing")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/xml" and r.headers["Server"] and r.headers["Date"]
    rid = r.headers["x-oss-request-id"]
    body = r.text
    for el in ["<Code>NoSuchKey</Code>", "<Message>The specified key does not exist.</Message>",
               "<RequestId>%s</RequestId>" % rid, "<HostId>127.0.0.1</HostId>", "<Key>missing</Key>",
               "<EC>0026-00000001</EC>", "<RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001</RecommendDoc>"]:
        assert el in body, (el, body)


def test_copy_object(server, bucket):
    bucket.put_object("src", b"copy me", headers={"x-oss-meta-a": "1", "Content-Type": "text/x-src"})
    r = bucket.copy_object(bucket.bucket_name, "src", "dst")
    assert r.etag == hashlib.md5(b"copy me").hexdigest().upper()
    g = bucket.get_object("dst")
    assert g.read() == b"copy me" and g.headers["x-oss-meta-a"] == "1" and g.headers["Content-Type"] == "text/x-src"
    bucket.copy_object(bucket.bucket_name, "src", "dst2",
                       headers={"x-oss-metadata-directive": "REPLACE", "x-oss-meta-b": "2", "Content-Type": "text/new"})
    g = bucket.get_object("dst2")
    assert "x-oss-meta-a" not in g.headers and g.headers["x-oss-meta-b"] == "2" and g.headers["Content-Type"] == "text/new"
    # Copy-source conditions.
    e = raises(bucket.copy_object, bucket.bucket_name, "src", "d3", headers={"x-oss-copy-source-if-match": '"0000"'})
    check_error(server, e, oss2.exceptions.PreconditionFailed, 412, "PreconditionFailed")
    e = raises(bucket.copy_object, bucket.bucket_name, "src", "d3",
               headers={"x-oss-copy-source-if-unmodified-since": "Thu, 01 Jan 2015 00:00:00 GMT"})
    check_error(server, e, oss2.exceptions.PreconditionFailed, 412, "PreconditionFailed")
    etag = bucket.head_object("src").etag
    bucket.copy_object(bucket.bucket_name, "src", "d3", headers={"x-oss-copy-source-if-match": etag})
    e = raises(bucket.copy_object, bucket.bucket_name, "missing", "d4")
    check_error(server, e, oss2.exceptions.NoSuchKey, 404, "NoSuchKey")
    e = raises(bucket.copy_object, bucket.bucket_name, "src", "d5", headers={"x-oss-metadata-directive": "MERGE"})
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidArgument")


def test_object_acl(server, bucket):
    bucket.put_object("a", b"x")
    assert bucket.get_object_acl("a").acl == "default"
    bucket.put_object_acl("a", oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl("a").acl == "public-read"
    e = raises(bucket.get_object_acl, "missing")
    check_error(server, e, oss2.exceptions.NoSuchKey, 404, "NoSuchKey")


def test_tagging(server, bucket):
    bucket.put_object("t", b"x", headers={"x-oss-tagging": "k1=v1&k2=v%202"})
    tags = bucket.get_object_tagging("t").tag_set.tagging_rule
    assert tags == {"k1": "v1", "k2": "v 2"}
    rule = oss2.models.TaggingRule()
    rule.add("a", "b")
    bucket.put_object_tagging("t", oss2.models.Tagging(rule))
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {"a": "b"}
    assert bucket.get_object("t").headers["x-oss-tagging-count"] == "1"
    bucket.delete_object_tagging("t")
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {}
    r = signed(server, "PUT", bucket.bucket_name, "t", params={"tagging": ""}, data=b"<Tagging><TagSet>")
    assert r.status_code == 400 and b"<Code>MalformedXML</Code>" in r.content and b"<EC>0031-00000001</EC>" in r.content


def test_batch_delete(server, bucket):
    keys = ["d/1", "d/2", "d/x y&z", "d/日本"]
    for k in keys:
        bucket.put_object(k, b"x")
    r = bucket.batch_delete_objects(keys + ["d/missing"])
    assert sorted(r.deleted_keys) == sorted(keys + ["d/missing"])
    assert list(oss2.ObjectIteratorV2(bucket, prefix="d/")) == []
    bucket.put_object("q", b"x")
    r = signed(server, "POST", bucket.bucket_name, None, params={"delete": ""},
               data=b"<Delete><Quiet>true</Quiet><Object><Key>q</Key></Object></Delete>",
               headers={"Content-MD5": base64.b64encode(hashlib.md5(
                   b"<Delete><Quiet>true</Quiet><Object><Key>q</Key></Object></Delete>").digest()).decode()})
    assert r.status_code == 200 and b"<Deleted>" not in r.content and not bucket.object_exists("q")
    with pytest.raises(oss2.exceptions.ClientError):
        bucket.batch_delete_objects([])


def test_batch_delete_needs_content_md5(server, bucket):
    body = b"<Delete><Object><Key>q</Key></Object></Delete>"
    r = signed(server, "POST", bucket.bucket_name, None, params={"delete": ""}, data=body)
    assert r.status_code == 400 and b"<Code>MissingArgument</Code>" in r.content
    assert b"<EC>0016-00000502</EC>" in r.content
    r = signed(server, "POST", bucket.bucket_name, None, params={"delete": ""}, data=body,
               headers={"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()})
    assert r.status_code == 400 and b"<Code>InvalidDigest</Code>" in r.content


def test_presigned_urls_v1_and_v4(server, bucket, auth):
    bucket.put_object("p", b"presigned")
    url = bucket.sign_url("GET", "p", 60)
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"presigned"
    put_url = bucket.sign_url("PUT", "p2", 60)
    assert requests.put(put_url, data=b"up").status_code == 200
    assert bucket.get_object("p2").read() == b"up"
