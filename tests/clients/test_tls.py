"""HTTPS: oss2 and boto3, unchanged, against ossd's TLS listener, trusting a CA the test makes with the openssl
command; untrusted, they fail with their TLS errors; a plain-HTTP listener serves the same store beside it."""
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile

import boto3
import botocore
import oss2
import pytest
import requests
from botocore.config import Config

from conftest import AK, REGION, SK, Server, new_name


def make_certs(d):
    """A CA, and a server certificate it signed for 127.0.0.1 and localhost."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ossd test CA")
    run("req", *ec, "-keyout", "key.pem", "-out", "srv.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cert.pem",
        "-days", "2", "-extfile", "ext.cnf")
    return [os.path.join(d, n) for n in ("ca.pem", "cert.pem", "key.pem")]


@pytest.fixture(scope="module")
def tls():
    d = tempfile.mkdtemp(prefix="ossd-tls-")
    ca, cert, key = make_certs(d)
    s = Server(extra_args=["--tls-cert", cert, "--tls-key", key, "--also-listen", "s3=http://127.0.0.1:0"])
    m = re.search(r"also listening on 127\.0\.0\.1:(\d+) \(s3\) over http", s.log_text())
    assert m, s.log_text()
    assert "(https;" in s.log_text()
    s.https = "https://127.0.0.1:%d" % s.port
    s.plain_s3 = "http://127.0.0.1:%d" % int(m.group(1))
    s.ca = ca
    yield s
    s.cleanup()
    shutil.rmtree(d, ignore_errors=True)


def oss2_bucket(server, name, verify=True):
    session = oss2.Session()
    session.session.trust_env = False   # REQUESTS_CA_BUNDLE in the environment would win over `verify`
    session.session.verify = server.ca if verify else True
    return oss2.Bucket(oss2.AuthV4(AK, SK), server.https, name, region=REGION, session=session)


def s3(endpoint, verify):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                        region_name="us-east-1", verify=verify,
                        config=Config(signature_version="s3v4", retries={"max_attempts": 1}))


def test_oss2_over_https(tls):
    b = oss2_bucket(tls, new_name("tls"))
    b.create_bucket()
    data = os.urandom(300_000)
    b.put_object("k", data)
    assert b.get_object("k").read() == data
    assert b.get_object("k", byte_range=(10, 19)).read() == data[10:20]
    assert [o.key for o in oss2.ObjectIteratorV2(b)] == ["k"]
    # A multipart upload over TLS.
    up = b.init_multipart_upload("m").upload_id
    parts = [oss2.models.PartInfo(1, b.upload_part("m", up, 1, data[:200_000]).etag),
             oss2.models.PartInfo(2, b.upload_part("m", up, 2, data[200_000:]).etag)]
    b.complete_multipart_upload("m", up, parts)
    assert b.get_object("m").read() == data
    # Errors come over TLS as they do over HTTP.
    with pytest.raises(oss2.exceptions.NoSuchKey) as e:
        b.get_object("missing")
    assert e.value.status == 404 and re.fullmatch(r"[0-9A-F]{24}", e.value.request_id)


def test_boto3_over_https_and_plain_http_beside_it(tls):
    c = s3(tls.https, tls.ca)
    name = new_name("tls3")
    c.create_bucket(Bucket=name)
    c.put_object(Bucket=name, Key="a/b", Body=b"over tls")
    assert c.get_object(Bucket=name, Key="a/b")["Body"].read() == b"over tls"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.head_object(Bucket=name, Key="missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The plain listener (pinned to S3) sees the same store.
    plain = s3(tls.plain_s3, False)
    assert plain.get_object(Bucket=name, Key="a/b")["Body"].read() == b"over tls"
    # Plain HTTP on the TLS port gets no answer in HTTP.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://127.0.0.1:%d/" % tls.port, timeout=5)


def test_untrusted_certificate_fails_in_each_client(tls):
    b = oss2_bucket(tls, new_name("untrusted"), verify=False)
    with pytest.raises(oss2.exceptions.RequestError) as e:
        b.create_bucket()
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value) or "certificate verify failed" in str(e.value)
    with pytest.raises(botocore.exceptions.SSLError):
        s3(tls.https, True).list_buckets()


def test_failed_handshakes_do_not_disturb_other_connections(tls):
    b = oss2_bucket(tls, new_name("steady"))
    b.create_bucket()
    b.put_object("k", b"steady")
    keep = oss2.Bucket(oss2.AuthV4(AK, SK), tls.https, b.bucket_name, region=REGION, session=b.session)
    assert keep.get_object("k").read() == b"steady"
    for i in range(30):
        raw = socket.create_connection(("127.0.0.1", tls.port), timeout=5)
        try:
            if i % 3 == 0:
                raw.sendall(b"\x16\x03\x01\x00\x05garbage")          # a broken ClientHello
            elif i % 3 == 1:
                raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")      # plain HTTP
            else:
                ctx = ssl.create_default_context()                     # a client that does not trust the CA
                with pytest.raises(ssl.SSLError):
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            try:
                raw.recv(64)
            except OSError:
                pass
        finally:
            raw.close()
    # The connection opened before the failures, and new ones, still work.
    assert keep.get_object("k").read() == b"steady"
    assert oss2_bucket(tls, b.bucket_name).get_object("k").read() == b"steady"
