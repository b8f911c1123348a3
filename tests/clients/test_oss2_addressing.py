"""Virtual-hosted addressing (`bucket.HOST`, HOST from --public-endpoint) beside path-style."""
import oss2
import pytest
import requests

from conftest import AK, REGION, SK, Server


@pytest.fixture(scope="module")
def vserver():
    s = Server(extra_args=["--public-endpoint", "oss.ossd.test:9000"])
    yield s
    s.cleanup()


def vhost(server, method, bucket, key, data=b""):
    req = oss2.http.Request(method, "http://%s.oss.ossd.test/%s" % (bucket, key), data=data, headers={})
    oss2.Auth(AK, SK)._sign_request(req, bucket, key)
    headers = {k: v for k, v in req.headers.items() if v is not None}
    headers["Host"] = "%s.oss.ossd.test:9000" % bucket
    return requests.request(method, server.endpoint + "/" + key, headers=headers, data=data)


def test_virtual_hosted_and_path_style_reach_the_same_bucket(vserver):
    b = oss2.Bucket(oss2.Auth(AK, SK), vserver.endpoint, "vbkt", region=REGION)
    b.create_bucket()
    assert vhost(vserver, "PUT", "vbkt", "dir/k", b"virtual").status_code == 200
    assert b.get_object("dir/k").read() == b"virtual"
    r = vhost(vserver, "GET", "vbkt", "dir/k")
    assert r.status_code == 200 and r.content == b"virtual"
    info = b.get_bucket_info()
    assert info.extranet_endpoint == "oss.ossd.test:9000" and info.intranet_endpoint == "oss.ossd.test:9000"
    r = vhost(vserver, "GET", "vbkt", "missing")
    assert r.status_code == 404 and "<HostId>vbkt.oss.ossd.test</HostId>" in r.text
    b.delete_object("dir/k")
    b.delete_bucket()
