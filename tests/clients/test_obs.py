"""The OBS dialect through esdk-obs-python, unchanged, in both of its signature modes: AWS V2 with path-style
addressing (an IP endpoint), and the OBS signature with virtual-hosted addressing (`*.obs.test`, resolved to
loopback inside this test process only). GetResult's status, errorCode, errorMessage, requestId and hostId carry
ossd's values for each status cause OBS documents."""
import socket
import time

import pytest
import requests
from obs import ObsClient, PutObjectHeader

from conftest import AK, SK, Server, new_name

_real = socket.getaddrinfo


def _resolve(host, *a, **k):
    if isinstance(host, str) and host.endswith(".obs.test") or host == "obs.test":
        host = "127.0.0.1"
    return _real(host, *a, **k)


@pytest.fixture(scope="module")
def osrv():
    s = Server(extra_args=["--public-endpoint", "obs.test:9000", "--idle-timeout", "1"])
    socket.getaddrinfo = _resolve
    yield s
    socket.getaddrinfo = _real
    s.cleanup()


@pytest.fixture(params=["aws-v2-path-style", "obs-virtual-hosted"])
def obs(osrv, request):
    host = "127.0.0.1" if request.param.startswith("aws") else "obs.test"
    c = ObsClient(access_key_id=AK, secret_access_key=SK, server="http://%s:%d" % (host, osrv.port), max_retry_count=0)
    c.mode = request.param
    return c


@pytest.fixture
def bkt(obs):
    name = new_name("obs")
    assert obs.createBucket(name).status == 200
    yield name
    for o in obs.listObjects(name).body.contents or []:
        obs.deleteObject(name, o.key)
    obs.deleteBucket(name)


def check(srv, r, status, code):
    assert r.status == status and r.errorCode == code, (r.status, r.errorCode, r.errorMessage)
    assert r.errorMessage and r.requestId and r.requestId in srv.log_text()
    assert r.hostId == r.requestId


def test_operations(obs, bkt):
    assert obs.putContent(bkt, "dir/a.txt", "hello obs").status == 200
    g = obs.getObject(bkt, "dir/a.txt", loadStreamInMemory=True)
    assert g.status == 200 and g.body.buffer == b"hello obs"
    m = obs.getObjectMetadata(bkt, "dir/a.txt")
    assert m.status == 200 and int(m.body.contentLength) == 9
    assert [o.key for o in obs.listObjects(bkt).body.contents] == ["dir/a.txt"]
    assert obs.copyObject(bkt, "dir/a.txt", bkt, "copy").status == 200
    assert obs.getObject(bkt, "copy", loadStreamInMemory=True).body.buffer == b"hello obs"
    assert obs.deleteObject(bkt, "copy").status == 204


def test_status_causes(osrv, obs, bkt):
    obs.putContent(bkt, "k", "v")
    # 400: MD5 mismatch
    r = obs.putContent(bkt, "k2", "v", headers=PutObjectHeader(md5="1B2M2Y8AsgTpgAmY7PhCfg=="))
    check(osrv, r, 400, "BadDigest")  # OBS's error-code table: BadDigest, the MD5 did not match
    # 403: signature, bad AK, quota
    host = "127.0.0.1" if obs.mode.startswith("aws") else "obs.test"
    wrong = ObsClient(access_key_id=AK, secret_access_key="wrong-secret", server="http://%s:%d" % (host, osrv.port), max_retry_count=0)
    check(osrv, wrong.getObject(bkt, "k"), 403, "SignatureDoesNotMatch")
    stranger = ObsClient(access_key_id="NoSuchKeyId", secret_access_key=SK, server="http://%s:%d" % (host, osrv.port), max_retry_count=0)
    check(osrv, stranger.getObject(bkt, "k"), 403, "InvalidAccessKeyId")
    assert obs.setBucketQuota(bkt, 10).status == 200
    assert obs.getBucketQuota(bkt).body.quota == 10
    check(osrv, obs.putContent(bkt, "big", "x" * 100), 403, "InsufficientStorageSpace")
    assert obs.setBucketQuota(bkt, 0).status == 200
    # 404: bucket, object, configuration, upload
    check(osrv, obs.getObject(new_name("none"), "k"), 404, "NoSuchBucket")
    check(osrv, obs.getObject(bkt, "missing"), 404, "NoSuchKey")
    check(osrv, obs.getBucketCors(bkt), 404, "NoSuchCORSConfiguration")
    check(osrv, obs.abortMultipartUpload(bkt, "k", "0" * 32), 404, "NoSuchUpload")
    head = obs.getObjectMetadata(bkt, "missing")
    assert head.status == 404 and head.requestId in osrv.log_text()
    if obs.mode.startswith("obs"):  # OBS tells a HEAD's error in x-obs-error-code (S3 does not)
        assert dict(head.header).get("error-code") == "NoSuchKey"
    # 409: bucket exists, bucket not empty
    check(osrv, obs.createBucket(bkt), 409, "BucketAlreadyOwnedByYou")
    check(osrv, obs.deleteBucket(bkt), 409, "BucketNotEmpty")


def test_405_and_408(osrv, bkt):
    r = requests.request("PATCH", "http://127.0.0.1:%d/%s/k" % (osrv.port, bkt), headers={"x-obs-date": "now"})
    assert r.status_code == 405 and "<Code>MethodNotAllowed</Code>" in r.text and r.headers["x-obs-request-id"]
    s = socket.create_connection(("127.0.0.1", osrv.port))
    s.sendall(("PUT /%s/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nx-obs-acl: public-read\r\nContent-Length: 100\r\n\r\nonly" % bkt).encode())
    s.settimeout(10)
    answer = s.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 403") or answer.startswith("HTTP/1.1 408"), answer
