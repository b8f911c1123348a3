"""The S3 dialect through boto3, unchanged: SigV4 and SigV2, every operation the engine has, and S3's errors."""
import hashlib
import io
import time

import boto3
import botocore
import pytest
import requests
from botocore.config import Config

from conftest import AK, SK, new_name


def make(server, sigv="s3v4", **cfg):
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                        region_name="us-east-1", config=Config(signature_version=sigv, retries={"max_attempts": 1}, **cfg))


@pytest.fixture(params=["s3v4", "s3"])
def s3(server, request):
    return make(server, request.param)


@pytest.fixture
def bkt(s3):
    name = new_name("s3")
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
    for u in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
    s3.delete_bucket(Bucket=name)


def err(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        return e
    pytest.fail("no error")


def check(server, e, code, status):
    assert e.response["Error"]["Code"] == code, e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == status
    rid = e.response["ResponseMetadata"]["RequestId"]
    assert len(rid) == 24 and rid in server.log_text()


def test_buckets(server, s3, bkt):
    assert bkt in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=bkt)
    assert s3.get_bucket_location(Bucket=bkt)["LocationConstraint"] in (None, "", "cn-hangzhou")
    check(server, err(s3.create_bucket, Bucket=bkt), "BucketAlreadyOwnedByYou", 409)
    check(server, err(s3.head_bucket, Bucket=new_name("none")), "404", 404)
    check(server, err(s3.delete_bucket, Bucket=new_name("none")), "NoSuchBucket", 404)
    s3.put_object(Bucket=bkt, Key="k", Body=b"x")
    check(server, err(s3.delete_bucket, Bucket=bkt), "BucketNotEmpty", 409)
    s3.put_bucket_acl(Bucket=bkt, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bkt)["Grants"]
    assert {g["Permission"] for g in grants} == {"FULL_CONTROL", "READ"}


def test_objects(server, s3, bkt):
    body = b"hello s3 dialect" * 100
    r = s3.put_object(Bucket=bkt, Key="dir/o b.txt", Body=body, ContentType="text/plain", Metadata={"who": "boto"},
                      StorageClass="STANDARD_IA")
    assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    g = s3.get_object(Bucket=bkt, Key="dir/o b.txt")
    assert g["Body"].read() == body and g["Metadata"] == {"who": "boto"} and g["ContentType"] == "text/plain"
    assert g["StorageClass"] == "STANDARD_IA"
    h = s3.head_object(Bucket=bkt, Key="dir/o b.txt")
    assert h["ContentLength"] == len(body) and h["ETag"] == r["ETag"]
    part = s3.get_object(Bucket=bkt, Key="dir/o b.txt", Range="bytes=0-4")
    assert part["Body"].read() == b"hello" and part["ContentRange"] == "bytes 0-4/%d" % len(body)
    check(server, err(s3.get_object, Bucket=bkt, Key="dir/o b.txt", Range="bytes=99999-"), "InvalidRange", 416)
    check(server, err(s3.get_object, Bucket=bkt, Key="dir/o b.txt", IfMatch='"0"'), "PreconditionFailed", 412)
    e = err(s3.get_object, Bucket=bkt, Key="dir/o b.txt", IfNoneMatch=r["ETag"])
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    s3.copy_object(Bucket=bkt, Key="copy", CopySource={"Bucket": bkt, "Key": "dir/o b.txt"})
    assert s3.get_object(Bucket=bkt, Key="copy")["Body"].read() == body
    s3.copy_object(Bucket=bkt, Key="copy2", CopySource="%s/dir/o b.txt" % bkt, MetadataDirective="REPLACE",
                   Metadata={"new": "1"})
    assert s3.head_object(Bucket=bkt, Key="copy2")["Metadata"] == {"new": "1"}
    s3.put_object_tagging(Bucket=bkt, Key="copy", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert s3.get_object_tagging(Bucket=bkt, Key="copy")["TagSet"] == [{"Key": "a", "Value": "b"}]
    check(server, err(s3.get_object, Bucket=bkt, Key="missing"), "NoSuchKey", 404)
    check(server, err(s3.head_object, Bucket=bkt, Key="missing"), "404", 404)
    s3.delete_object(Bucket=bkt, Key="missing")
    out = s3.delete_objects(Bucket=bkt, Delete={"Objects": [{"Key": "copy"}, {"Key": "copy2"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["copy", "copy2"]


def test_listing(s3, bkt):
    keys = ["a", "b/1", "b/2", "c/d/e", "x y"]
    for k in keys:
        s3.put_object(Bucket=bkt, Key=k, Body=b"")
    got = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bkt, PaginationConfig={"PageSize": 2})
           for o in p.get("Contents", [])]
    assert got == keys
    got = [o["Key"] for p in s3.get_paginator("list_objects").paginate(Bucket=bkt, PaginationConfig={"PageSize": 2})
           for o in p.get("Contents", [])]
    assert got == keys
    r = s3.list_objects_v2(Bucket=bkt, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a", "x y"] and [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/", "c/"]
    v = s3.list_object_versions(Bucket=bkt, Prefix="b/")
    assert [(x["Key"], x["VersionId"], x["IsLatest"]) for x in v["Versions"]] == [("b/1", "null", True), ("b/2", "null", True)]


def test_multipart(server, s3, bkt):
    up = s3.create_multipart_upload(Bucket=bkt, Key="mp")["UploadId"]
    p1 = s3.upload_part(Bucket=bkt, Key="mp", UploadId=up, PartNumber=1, Body=b"a" * 5 * 1024 * 1024)
    p2 = s3.upload_part(Bucket=bkt, Key="mp", UploadId=up, PartNumber=2, Body=b"b" * 10)
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bkt, Key="mp", UploadId=up)["Parts"]] == [1, 2]
    assert up in [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bkt)["Uploads"]]
    parts = [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]
    check(server, err(s3.complete_multipart_upload, Bucket=bkt, Key="mp", UploadId=up,
                      MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]}), "InvalidPart", 400)
    r = s3.complete_multipart_upload(Bucket=bkt, Key="mp", UploadId=up, MultipartUpload={"Parts": parts})
    assert r["ETag"].endswith('-2"')
    assert s3.get_object(Bucket=bkt, Key="mp")["Body"].read() == b"a" * 5 * 1024 * 1024 + b"b" * 10
    check(server, err(s3.upload_part, Bucket=bkt, Key="mp", UploadId=up, PartNumber=3, Body=b"x"), "NoSuchUpload", 404)
    up = s3.create_multipart_upload(Bucket=bkt, Key="small")["UploadId"]
    e1 = s3.upload_part(Bucket=bkt, Key="small", UploadId=up, PartNumber=1, Body=b"x")["ETag"]
    e2 = s3.upload_part(Bucket=bkt, Key="small", UploadId=up, PartNumber=2, Body=b"y")["ETag"]
    check(server, err(s3.complete_multipart_upload, Bucket=bkt, Key="small", UploadId=up,
                      MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}),
          "EntityTooSmall", 400)
    s3.abort_multipart_upload(Bucket=bkt, Key="small", UploadId=up)


def test_s3_spellings_of_shared_rows(server, s3, bkt):
    """Rows whose S3 code differs from OSS's: BadDigest, InvalidTag; and presign expiry bounds."""
    import base64
    other = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    check(server, err(s3.put_object, Bucket=bkt, Key="k", Body=b"v", ContentMD5=other), "BadDigest", 400)
    check(server, err(s3.put_object, Bucket=bkt, Key="k", Body=b"v", ContentMD5="bm90LWFuLW1kNQ=="),
          "InvalidDigest", 400)
    s3.put_object(Bucket=bkt, Key="k", Body=b"v")
    tags = {"TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]}
    check(server, err(s3.put_object_tagging, Bucket=bkt, Key="k", Tagging=tags), "InvalidTag", 400)
    assert s3.get_object_tagging(Bucket=bkt, Key="k")["TagSet"] == []
    if s3.meta.config.signature_version != "s3v4":
        return  # X-Amz-Expires belongs to SigV4 presigning
    params = {"Bucket": bkt, "Key": "k"}
    for expires, status, code in [(0, 403, "AccessDenied"), (-7, 403, "AccessDenied"), (604801, 400, "AuthorizationQueryParametersError")]:
        r = requests.get(s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires))
        assert (r.status_code, r.text.split("<Code>")[1].split("</Code>")[0]) == (status, code), r.text
    assert requests.get(s3.generate_presigned_url("get_object", Params=params, ExpiresIn=604800)).content == b"v"


def test_v4_request_time_from_the_date_header_and_lenient_dates(server, bkt):
    """SigV4 takes the request time from Date when x-amz-date is absent; a wrong weekday is not refused, and an
    old date is RequestTimeTooSkewed (not a malformed date) in both signature versions."""
    from email.utils import formatdate
    for sigv in ("s3v4", "s3"):
        c = make(server, sigv)
        hdrs = {}
        c.meta.events.register("before-call.s3.PutObject", lambda **kw: kw["params"]["headers"].update(hdrs))
        hdrs.update({"Date": formatdate(usegmt=True), "X-Amz-Date": formatdate(usegmt=True)})
        c.put_object(Bucket=bkt, Key="dated", Body=b"x")
        hdrs.clear()
        hdrs["x-amz-date"] = "Tue, 07 Jul 2010 21:53:04 GMT"  # a Wednesday, and long ago
        if sigv == "s3":
            check(server, err(c.put_object, Bucket=bkt, Key="old", Body=b"x"), "RequestTimeTooSkewed", 403)


def blob_files(server):
    return len(server.stored_blobs())


def test_delete_bucket_aborts_unfinished_uploads(server, s3):
    """S3 removes a bucket whose only content is unfinished multipart uploads, and the parts with it (OSS answers
    BucketNotEmpty instead: test_oss2_buckets)."""
    name = new_name("s3")
    s3.create_bucket(Bucket=name)
    before = blob_files(server)
    up = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=1, Body=b"p" * 1000)
    assert blob_files(server) == before + 1
    s3.put_object(Bucket=name, Key="obj", Body=b"x")
    check(server, err(s3.delete_bucket, Bucket=name), "BucketNotEmpty", 409)
    s3.delete_object(Bucket=name, Key="obj")
    s3.delete_bucket(Bucket=name)
    check(server, err(s3.head_bucket, Bucket=name), "404", 404)
    assert blob_files(server) == before


def test_managed_transfers(s3, bkt, tmp_path):
    data = bytes(range(256)) * 50000
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), bkt, "managed", Config=cfg)
    s3.upload_fileobj(io.BytesIO(data), bkt, "managed-obj", Config=cfg)
    dst = tmp_path / "out.bin"
    s3.download_file(bkt, "managed", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    buf = io.BytesIO()
    s3.download_fileobj(bkt, "managed-obj", buf)
    assert buf.getvalue() == data


def test_presigned(s3, bkt):
    s3.put_object(Bucket=bkt, Key="p", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bkt, "Key": "p"}, ExpiresIn=60)
    assert requests.get(url).content == b"presigned"
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bkt, "Key": "p2"}, ExpiresIn=60)
    assert requests.put(put, data=b"up").status_code == 200
    assert s3.get_object(Bucket=bkt, Key="p2")["Body"].read() == b"up"
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bkt, "Key": "p"}, ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(expired)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text


def test_auth_errors(server, bkt):
    bad = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=AK, aws_secret_access_key="wrong",
                       region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    check(server, err(bad.list_buckets), "SignatureDoesNotMatch", 403)
    stranger = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id="NoSuchKeyId",
                            aws_secret_access_key=SK, region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    check(server, err(stranger.list_buckets), "InvalidAccessKeyId", 403)
    anon = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))
    check(server, err(anon.get_object, Bucket=bkt, Key="k"), "AccessDenied", 403)
