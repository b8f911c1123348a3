"""The COS dialect through cos-python-sdk-v5, unchanged (configured with IP, Port and Scheme): operations, and
CosServiceError's accessors returning ossd's real values."""
import pytest
from qcloud_cos import CosConfig, CosS3Client, CosServiceError

from conftest import AK, SK, new_name


def client(server, secret=SK, anonymous=False):
    cfg = CosConfig(Region="ap-guangzhou", SecretId=AK, SecretKey=secret, IP="127.0.0.1", Port=server.port,
                    Scheme="http", Anonymous=anonymous)
    return CosS3Client(cfg, retry=0)


@pytest.fixture
def cos(server):
    return client(server)


@pytest.fixture
def bkt(cos):
    name = new_name("cos") + "-1250000000"
    cos.create_bucket(Bucket=name)
    yield name
    for o in cos.list_objects(Bucket=name).get("Contents", []):
        cos.delete_object(Bucket=name, Key=o["Key"])
    for u in cos.list_multipart_uploads(Bucket=name).get("Upload", []):
        cos.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
    cos.delete_bucket(Bucket=name)


def service_error(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except CosServiceError as e:
        return e
    pytest.fail("no CosServiceError")


def check(server, e, code, status):
    assert e.get_error_code() == code and e.get_status_code() == status, e.get_digest_msg()
    rid = e.get_request_id()
    assert rid and len(rid) == 24 and rid in server.log_text()
    assert e.get_trace_id() == rid
    assert e.get_error_msg() and e.get_error_msg() != "Unknown"
    assert e.get_resource_location() and e.get_resource_location() != "Unknown"


def test_operations(cos, bkt):
    cos.put_object(Bucket=bkt, Key="dir/a.txt", Body=b"hello cos", ContentType="text/plain",
                   Metadata={"x-cos-meta-who": "cos"})
    g = cos.get_object(Bucket=bkt, Key="dir/a.txt")
    assert g["Body"].get_raw_stream().read() == b"hello cos" and g["x-cos-meta-who"] == "cos"
    assert cos.head_object(Bucket=bkt, Key="dir/a.txt")["content-length"] == "9"
    assert [o["Key"] for o in cos.list_objects(Bucket=bkt)["Contents"]] == ["dir/a.txt"]
    cos.copy_object(Bucket=bkt, Key="copy", CopySource={"Bucket": bkt, "Key": "dir/a.txt", "Region": "ap-guangzhou"})
    assert cos.get_object(Bucket=bkt, Key="copy")["Body"].get_raw_stream().read() == b"hello cos"
    up = cos.create_multipart_upload(Bucket=bkt, Key="mp")["UploadId"]
    e1 = cos.upload_part(Bucket=bkt, Key="mp", Body=b"a" * 1024 * 1024, PartNumber=1, UploadId=up)["etag"]
    e2 = cos.upload_part(Bucket=bkt, Key="mp", Body=b"b", PartNumber=2, UploadId=up)["etag"]
    cos.complete_multipart_upload(Bucket=bkt, Key="mp", UploadId=up,
                                  MultipartUpload={"Part": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert cos.get_object(Bucket=bkt, Key="mp")["Body"].get_raw_stream().read() == b"a" * 1024 * 1024 + b"b"
    r = cos.delete_objects(Bucket=bkt, Delete={"Object": [{"Key": "copy"}, {"Key": "mp"}], "Quiet": "false"})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["copy", "mp"]


def test_service_errors(server, cos, bkt):
    cos.put_object(Bucket=bkt, Key="k", Body=b"v")
    check(server, service_error(cos.get_object, Bucket=bkt, Key="missing"), "NoSuchKey", 404)
    check(server, service_error(cos.list_objects, Bucket=new_name("none") + "-1250000000"), "NoSuchBucket", 404)
    check(server, service_error(client(server, anonymous=True).get_object, Bucket=bkt, Key="k"), "AccessDenied", 403)
    check(server, service_error(client(server, secret="wrong").get_object, Bucket=bkt, Key="k"), "SignatureDoesNotMatch", 403)
    check(server, service_error(cos.delete_bucket, Bucket=bkt), "BucketNotEmpty", 409)
    check(server, service_error(cos.get_object, Bucket=bkt, Key="k", IfMatch='"0"'), "PreconditionFailed", 412)
    e = service_error(cos.head_object, Bucket=bkt, Key="missing")
    assert e.get_error_code() == "NoSuchResource" and e.get_status_code() == 404
    assert e.get_request_id() in server.log_text()
