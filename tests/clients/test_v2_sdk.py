"""The same operations and errors through alibabacloud-oss-v2 (V4 signing, path-style addressing)."""
import re

import alibabacloud_oss_v2 as oss
import pytest

from conftest import AK, REGION, SK, catalog_ec, new_name


@pytest.fixture
def client(server):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, SK)
    cfg.region = REGION
    cfg.endpoint = server.endpoint
    cfg.use_path_style = True
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


def service_error(fn):
    try:
        fn()
    except oss.exceptions.OperationError as e:
        err = e.unwrap()
        assert isinstance(err, oss.exceptions.ServiceError), repr(err)
        return err
    pytest.fail("no exception raised")


def check(server, err, status, code, row=None):
    assert err.status_code == status and err.code == code, err
    assert re.fullmatch(r"[0-9A-F]{24}", err.request_id) and err.request_id in server.log_text()
    assert err.ec == catalog_ec(row or code)


def test_roundtrip_and_errors(server, client):
    name = new_name("v2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    client.put_object(oss.PutObjectRequest(bucket=name, key="k/1", body=b"v2 data", metadata={"x": "y"}))
    g = client.get_object(oss.GetObjectRequest(bucket=name, key="k/1"))
    assert g.body.read() == b"v2 data" and g.metadata.get("x") == "y"
    h = client.head_object(oss.HeadObjectRequest(bucket=name, key="k/1"))
    assert h.content_length == 7 and h.object_type == "Normal"
    lst = client.list_objects_v2(oss.ListObjectsV2Request(bucket=name, delimiter="/"))
    assert [p.prefix for p in lst.common_prefixes] == ["k/"]
    a = client.append_object(oss.AppendObjectRequest(bucket=name, key="ap", position=0, body=b"12"))
    assert a.next_position == 2
    err = service_error(lambda: client.append_object(oss.AppendObjectRequest(bucket=name, key="ap", position=0, body=b"3")))
    check(server, err, 409, "PositionNotEqualToLength")
    err = service_error(lambda: client.get_object(oss.GetObjectRequest(bucket=name, key="missing")))
    check(server, err, 404, "NoSuchKey")
    err = service_error(lambda: client.head_object(oss.HeadObjectRequest(bucket=name, key="missing")))
    check(server, err, 404, "NoSuchKey")
    err = service_error(lambda: client.delete_bucket(oss.DeleteBucketRequest(bucket=name)))
    check(server, err, 409, "BucketNotEmpty")
    err = service_error(lambda: client.get_bucket_info(oss.GetBucketInfoRequest(bucket=new_name("none"))))
    check(server, err, 404, "NoSuchBucket")
    up = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=name, key="mp"))
    p1 = client.upload_part(oss.UploadPartRequest(bucket=name, key="mp", upload_id=up.upload_id, part_number=1, body=b"x" * 102400))
    p2 = client.upload_part(oss.UploadPartRequest(bucket=name, key="mp", upload_id=up.upload_id, part_number=2, body=b"y"))
    client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=name, key="mp", upload_id=up.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=[
            oss.UploadPart(part_number=1, etag=p1.etag), oss.UploadPart(part_number=2, etag=p2.etag)])))
    assert client.get_object(oss.GetObjectRequest(bucket=name, key="mp")).body.read() == b"x" * 102400 + b"y"
    client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=name, objects=[oss.DeleteObject(key=k) for k in ("k/1", "ap", "mp")]))
    client.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def test_presign(server, client):
    import requests
    name = new_name("v2p")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    client.put_object(oss.PutObjectRequest(bucket=name, key="p", body=b"signed"))
    pre = client.presign(oss.GetObjectRequest(bucket=name, key="p"))
    assert requests.get(pre.url).content == b"signed"
    client.delete_object(oss.DeleteObjectRequest(bucket=name, key="p"))
    client.delete_bucket(oss.DeleteBucketRequest(bucket=name))
