"""OSS signature V2 with oss2's own signer (oss2.AuthV2): every kind of request in the Authorization header,
presigned V2 URLs fetched with `requests`, additional signed headers, and V2's errors; and requests whose Host
is one of OSS's own names (`<bucket>.oss-<region>.aliyuncs.com`, ...) sent to 127.0.0.1, the way ali-oss and
other SDKs send them."""
import oss2
import pytest
import requests

from conftest import AK, REGION, SK, check_error, new_name, raises


@pytest.fixture
def v2bucket(server):
    b = oss2.Bucket(oss2.AuthV2(AK, SK), server.endpoint, new_name("v2"), region=REGION)
    b.create_bucket()
    yield b
    for u in oss2.MultipartUploadIterator(b):
        b.abort_multipart_upload(u.key, u.upload_id)
    for o in oss2.ObjectIteratorV2(b):
        b.delete_object(o.key)
    b.delete_bucket()


def test_put_get_list_multipart_copy_delete(v2bucket):
    b = v2bucket
    key = "目录/a b+c~d.txt"
    b.put_object(key, b"hello v2", headers={"x-oss-meta-who": "v2", "Content-Type": "text/plain"})
    assert b.get_object(key).read() == b"hello v2"
    assert b.get_object(key, byte_range=(6, 7)).read() == b"v2"  # Range is one of AuthV2's signed headers
    head = b.head_object(key)
    assert head.headers["x-oss-meta-who"] == "v2" and head.content_length == 8
    listed = b.list_objects(prefix="目录/", delimiter="/", max_keys=10)
    assert [o.key for o in listed.object_list] == [key]
    assert [o.key for o in b.list_objects_v2(prefix="目", delimiter="/").object_list] == []
    assert b.list_objects_v2(prefix="目", delimiter="/").prefix_list == ["目录/"]

    up = b.init_multipart_upload("mp").upload_id
    parts = [oss2.models.PartInfo(n, b.upload_part("mp", up, n, bytes([n]) * (100 * 1024 if n < 3 else 10)).etag)
             for n in (1, 2, 3)]
    assert [p.part_number for p in b.list_parts("mp", up).parts] == [1, 2, 3]
    b.complete_multipart_upload("mp", up, parts)
    assert b.head_object("mp").content_length == 200 * 1024 + 10

    b.copy_object(b.bucket_name, key, "copy")
    assert b.get_object("copy").read() == b"hello v2"
    b.put_object_acl("copy", oss2.OBJECT_ACL_PUBLIC_READ)
    assert b.get_object_acl("copy").acl == oss2.OBJECT_ACL_PUBLIC_READ
    assert b.get_bucket_info().name == b.bucket_name
    r = b.batch_delete_objects([key, "copy"])
    assert sorted(r.deleted_keys) == sorted([key, "copy"])
    b.delete_object("mp")
    assert not b.object_exists(key)
    assert b.bucket_name in [x.name for x in oss2.Service(oss2.AuthV2(AK, SK), b.endpoint).list_buckets().buckets]


def test_presigned_v2_urls(v2bucket):
    b = v2bucket
    put_url = b.sign_url("PUT", "dir/k 1", 60, headers={"Content-Type": "text/plain"})
    assert "x-oss-signature-version=OSS2" in put_url and "x-oss-access-key-id=" in put_url
    assert requests.put(put_url, data=b"via url", headers={"Content-Type": "text/plain"}).status_code == 200
    get_url = b.sign_url("GET", "dir/k 1", 60, params={"response-content-type": "application/x-test"})
    r = requests.get(get_url)
    assert r.status_code == 200 and r.content == b"via url"
    assert r.headers["Content-Type"] == "application/x-test"
    # A parameter added after signing is signed too in V2 (V1 signs only its sub-resources).
    r = requests.get(get_url + "&max-keys=1")
    e = oss2.exceptions.make_exception(oss2.http.Response(r))
    assert (e.status, e.code, e.ec) == (403, "SignatureDoesNotMatch", "0002-00000040")
    # The same content type sent with the PUT is part of the signature.
    r = requests.put(put_url, data=b"x", headers={"Content-Type": "image/png"})
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_expired_v2_url(server, v2bucket):
    v2bucket.put_object("k", b"v")
    r = requests.get(v2bucket.sign_url("GET", "k", -10))
    e = oss2.exceptions.make_exception(oss2.http.Response(r))
    check_error(server, e, oss2.exceptions.AccessDenied, 403, "AccessDenied", row="AccessDeniedExpired")
    assert e.ec == "0002-00000069" and e.message == "Request has expired."
    assert "<Expires>" in r.text and "<ServerTime>" in r.text


def test_wrong_secret(server, v2bucket):
    v2bucket.put_object("k", b"v")
    wrong = oss2.Bucket(oss2.AuthV2(AK, "not-the-secret"), server.endpoint, v2bucket.bucket_name)
    e = raises(wrong.get_object, "k")
    check_error(server, e, oss2.exceptions.SignatureDoesNotMatch, 403, "SignatureDoesNotMatch")
    sts = e.details["StringToSign"]
    assert sts.startswith("GET\n") and sts.endswith("\n%%2F%s%%2Fk" % v2bucket.bucket_name), sts
    r = requests.get(wrong.sign_url("GET", "k", 60))
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_additional_headers(server, v2bucket):
    b = v2bucket
    b.put_object("k", b"0123456789")
    headers = {"custom-header": "abc", "Range": "bytes=2-4"}
    url = b.sign_url("GET", "k", 60, headers=headers, additional_headers={"custom-header", "Range"})
    assert "x-oss-additional-headers=" in url
    r = requests.get(url, headers=headers)
    assert r.status_code == 206 and r.content == b"234"
    # A signed additional header with another value, or left out: the signature no longer holds.
    r = requests.get(url, headers={"custom-header": "abd", "Range": "bytes=2-4"})
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    e = oss2.exceptions.make_exception(oss2.http.Response(requests.get(url, headers={"Range": "bytes=2-4"})))
    check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", row="V2UrlAdditionalHeaderAbsent")
    # In the Authorization header: oss2's AuthV2 signs a custom additional header when told to.
    req = oss2.http.Request("GET", "%s/%s/k" % (server.endpoint, b.bucket_name), headers={"custom-header": "abc"})
    oss2.AuthV2(AK, SK)._sign_request(req, b.bucket_name, "k", in_additional_headers={"custom-header"})
    assert "AdditionalHeaders:custom-header" in req.headers["authorization"]
    assert requests.get(req.url, headers=dict(req.headers)).content == b"0123456789"
    sent = dict(req.headers)
    sent["custom-header"] = "changed"
    assert requests.get(req.url, headers=sent).status_code == 403


@pytest.mark.parametrize("authorization,row", [
    ("OSS2 AccessKeyId:%s," % AK, "V2AuthorizationInvalid"),
    ("OSS2 AccessKeyId:%s,Signature:abc,UnknownKey:ABC" % AK, "V2AuthorizationUnknownKey"),
    ("OSS2 AdditionalHeaders:host,Signature:abc", "V2AccessKeyIdMissing"),
    ("OSS2 AccessKeyId:%s,AdditionalHeaders:host" % AK, "V2SignatureMissing"),
    ("OSS2 AccessKeyId:%s,AdditionalHeaders:host;,Signature:abc" % AK, "V2AdditionalHeadersEmptyItem"),
    ("OSS2 AccessKeyId:%s,AdditionalHeaders:range,Signature:abc" % AK, "V2AdditionalHeaderAbsent"),
])
def test_malformed_v2_headers(server, v2bucket, authorization, row):
    r = requests.get("%s/%s/k" % (server.endpoint, v2bucket.bucket_name),
                     headers={"Date": oss2.utils.http_date(), "Authorization": authorization})
    e = oss2.exceptions.make_exception(oss2.http.Response(r))
    check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", row=row)


def test_v2_skew_uses_x_oss_date(v2bucket):
    e = raises(v2bucket.list_objects, headers={"x-oss-date": oss2.utils.http_date(int(__import__("time").time()) - 86400)})
    assert (e.status, e.code) == (403, "RequestTimeTooSkewed")


def host_request(server, auth, method, host, bucket_name, key, **kw):
    """A request signed by oss2 for `bucket_name`/`key`, sent to 127.0.0.1 with Host set to `host`."""
    req = oss2.http.Request(method, "http://%s/%s" % (host, key), headers={}, **kw)
    req.region, req.product, req.cloudbox_id = REGION, "oss", None
    auth._sign_request(req, bucket_name, key)
    headers = {k: v for k, v in req.headers.items() if v is not None}
    headers["Host"] = host
    return requests.request(method, "%s/%s" % (server.endpoint, key), headers=headers, **kw)


@pytest.mark.parametrize("signer", [oss2.Auth(AK, SK), oss2.AuthV2(AK, SK), oss2.AuthV4(AK, SK)], ids=["v1", "v2", "v4"])
def test_osss_own_host_names(server, signer):
    b = oss2.Bucket(oss2.Auth(AK, SK), server.endpoint, new_name("h"), region=REGION)
    b.create_bucket()
    try:
        for i, suffix in enumerate(["oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou-internal.aliyuncs.com",
                                    "oss-accelerate.aliyuncs.com", "oss-accelerate-overseas.aliyuncs.com"]):
            host = "%s.%s" % (b.bucket_name, suffix)
            r = host_request(server, signer, "PUT", host, b.bucket_name, "k%d" % i, data=b"by host")
            assert r.status_code == 200, r.text
            r = host_request(server, signer, "GET", host, b.bucket_name, "k%d" % i)
            assert r.status_code == 200 and r.content == b"by host", r.text
        assert b.get_object("k3").read() == b"by host"
        # Signed for this bucket, sent with another bucket's host name: the Host is what addresses the bucket.
        r = host_request(server, signer, "GET", "other-%s.oss-cn-hangzhou.aliyuncs.com" % b.bucket_name, b.bucket_name, "k0")
        assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text
        # The bare endpoint is the service.
        req = oss2.http.Request("GET", "http://oss-cn-hangzhou.aliyuncs.com/", headers={})
        req.region, req.product, req.cloudbox_id = REGION, "oss", None
        signer._sign_request(req, "", "")
        headers = dict(req.headers)
        headers["Host"] = "oss-cn-hangzhou.aliyuncs.com"
        r = requests.get(server.endpoint + "/", headers=headers)
        assert r.status_code == 200 and "<Name>%s</Name>" % b.bucket_name in r.text, r.text
    finally:
        for i in range(4):
            b.delete_object("k%d" % i)
        b.delete_bucket()
