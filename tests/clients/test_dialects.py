"""Choosing the dialect: from the request's signals, from --dialect for anonymous requests, and from listeners
pinned with --also-listen; several listeners serve one store at once."""
import re

import boto3
import oss2
import requests

from conftest import AK, SK, Server, new_name


def test_pinned_listeners_share_one_store():
    s = Server(extra_args=["--also-listen", "s3=127.0.0.1:0", "--also-listen", "cos=127.0.0.1:0"])
    try:
        text = s.log_text()
        ports = dict((d, int(p)) for p, d in re.findall(r"also listening on 127\.0\.0\.1:(\d+) \((\w+)\)", text))
        assert set(ports) == {"s3", "cos"}, text
        b = oss2.Bucket(oss2.Auth(AK, SK), s.endpoint, new_name("pin"))
        b.create_bucket()
        b.put_object("k", b"shared")
        s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % ports["s3"], aws_access_key_id=AK,
                          aws_secret_access_key=SK, region_name="us-east-1")
        assert s3.get_object(Bucket=b.bucket_name, Key="k")["Body"].read() == b"shared"
        # An anonymous request answers in the listener's dialect.
        r = requests.get("http://127.0.0.1:%d/%s/missing" % (ports["s3"], b.bucket_name))
        assert r.status_code == 403 and "x-amz-request-id" in r.headers and "x-oss-ec" not in r.headers
        r = requests.get("http://127.0.0.1:%d/%s/missing" % (s.port, b.bucket_name))
        assert r.status_code == 403 and "x-oss-request-id" in r.headers and r.headers["x-oss-ec"]
        r = requests.get("http://127.0.0.1:%d/%s/missing" % (ports["cos"], b.bucket_name))
        assert "x-cos-request-id" in r.headers and "<TraceId>" in r.text
        b.delete_object("k")
        b.delete_bucket()
    finally:
        s.cleanup()


def test_default_dialect_for_anonymous_requests():
    s = Server(extra_args=["--dialect", "s3"])
    try:
        r = requests.get(s.endpoint + "/nobucket-here/k")
        assert r.status_code == 404 and "x-amz-request-id" in r.headers and "<Code>NoSuchBucket</Code>" in r.text
        assert "<EC>" not in r.text
        # Signals win over the default: an x-oss- header makes it OSS.
        r = requests.get(s.endpoint + "/nobucket-here/k", headers={"x-oss-date": "x"})
        assert "x-oss-request-id" in r.headers and "<EC>0015-00000101</EC>" in r.text
    finally:
        s.cleanup()
