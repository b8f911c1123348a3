"""Authentication errors through oss2: every signature failure the OSS documentation lists."""
import datetime

import oss2
import requests

from conftest import AK, REGION, SK, check_error, new_name, raises


def test_wrong_secret_is_signature_does_not_match(server, bucket, auth):
    bad = oss2.Auth(AK, "wrong") if isinstance(auth, oss2.Auth) else oss2.AuthV4(AK, "wrong")
    b = oss2.Bucket(bad, server.endpoint, bucket.bucket_name, region=REGION)
    e = raises(b.get_object, "k")
    check_error(server, e, oss2.exceptions.SignatureDoesNotMatch, 403, "SignatureDoesNotMatch")
    assert e.details["OSSAccessKeyId"] == AK and e.details["SignatureProvided"]
    sts = e.details["StringToSign"]
    assert sts.startswith("GET\n") or sts.startswith("OSS4-HMAC-SHA256\n")
    assert e.details["StringToSignBytes"].split(" ")[0] == "%02X" % ord(sts[0])


def test_unknown_key_and_bad_characters(server, bucket):
    b = oss2.Bucket(oss2.Auth("NoSuchKeyId", SK), server.endpoint, bucket.bucket_name)
    e = raises(b.get_object, "k")
    check_error(server, e, oss2.exceptions.ServerError, 403, "InvalidAccessKeyId")
    assert e.message == "The OSS Access Key Id you provided does not exist in our records."
    b = oss2.Bucket(oss2.Auth("bad-key!", SK), server.endpoint, bucket.bucket_name)
    e = raises(b.get_object, "k")
    check_error(server, e, oss2.exceptions.ServerError, 403, "InvalidAccessKeyId", row="InvalidAccessKeyIdChars")
    assert "non-acceptable characters" in e.message


def test_v1_clock_skew(server, bucket, monkeypatch):
    old = oss2.utils.http_date(int(datetime.datetime.now().timestamp()) - 3600)
    monkeypatch.setattr(oss2.auth.utils, "http_date", lambda *a: old)
    b = oss2.Bucket(oss2.Auth(AK, SK), server.endpoint, bucket.bucket_name)
    e = raises(b.get_object, "k")
    check_error(server, e, oss2.exceptions.ServerError, 403, "RequestTimeTooSkewed")
    assert e.details["RequestTime"] == old and e.details["MaxAllowedSkewMilliseconds"] == "900000"
    assert e.details["ServerTime"].endswith("Z")


def test_v4_clock_skew(server, bucket, monkeypatch):
    real = datetime.datetime

    class Past(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - datetime.timedelta(hours=2)

    monkeypatch.setattr(oss2.auth, "datetime", Past)
    b = oss2.Bucket(oss2.AuthV4(AK, SK), server.endpoint, bucket.bucket_name, region=REGION)
    e = raises(b.get_object, "k")
    check_error(server, e, oss2.exceptions.ServerError, 403, "RequestTimeTooSkewed")


def test_v4_wrong_region(server, bucket):
    b = oss2.Bucket(oss2.AuthV4(AK, SK), server.endpoint, bucket.bucket_name, region="cn-shanghai")
    e = raises(b.get_object, "k")
    check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument", row="InvalidSigningRegion")
    assert e.ec == "0002-00000226" and e.message == "Invalid signing region in Authorization header."


def test_expired_presigned_urls(server, bucket, auth):
    bucket.put_object("p", b"x")
    for url in (bucket.sign_url("GET", "p", -30),):
        r = requests.get(url)
        assert r.status_code == 403, r.text
        assert "<Code>AccessDenied</Code>" in r.text and "<Message>Request has expired.</Message>" in r.text


def test_tampered_presigned_url(server, bucket, auth):
    bucket.put_object("p", b"x")
    url = bucket.sign_url("GET", "p", 60).replace("/p?", "/q?")
    r = requests.get(url)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_incomplete_query_auth(server, bucket):
    r = requests.get(server.endpoint + "/%s/p?OSSAccessKeyId=%s" % (bucket.bucket_name, AK))
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    assert "Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters" in r.text


def test_garbage_authorization_header(server, bucket):
    r = requests.get(server.endpoint + "/%s/p" % bucket.bucket_name, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    name = new_name("n")
    r = requests.get(server.endpoint + "/%s/p" % name, headers={"Authorization": "OSS4-HMAC-SHA256 Credential=x"})
    assert r.status_code == 403
