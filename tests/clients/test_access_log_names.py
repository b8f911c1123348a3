"""The access log names each operation by its OSS API name: a table of real requests (oss2, boto3, raw HTTP) on a
bucket with access logging, and the operation each one's log line gives, found by its request id."""
import re
import time

import boto3
import botocore
import oss2
import pytest
import requests
from botocore.config import Config
from oss2.models import (BucketCors, BucketLifecycle, BucketLogging, BucketWebsite, CorsRule, LifecycleExpiration,
                         LifecycleRule, Tagging, TaggingRule)

from conftest import AK, REGION, SK, Server, new_name, root_bucket, signed


@pytest.fixture(scope="module")
def logged():
    s = Server(extra_args=["--log-flush-seconds", "1"])
    yield s
    s.cleanup()


def rid(fn, *args, **kwargs):
    """Runs an oss2 call and gives the request id of its response, success or error."""
    try:
        out = fn(*args, **kwargs)
    except oss2.exceptions.OssError as e:
        return e.request_id
    if hasattr(out, "read"):
        out.read()
    return out.request_id


def s3_rid(fn, **kwargs):
    """Runs a boto3 call and gives the request id of its response, success or error."""
    try:
        out = fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        out = e.response
    return out["ResponseMetadata"]["RequestId"]


def tagging():
    rule = TaggingRule()
    rule.add("k", "v")
    return Tagging(rule)


def test_access_log_names_each_operation(logged):
    b = root_bucket(logged, "named")
    target = root_bucket(logged, "logs")
    name = b.bucket_name
    expect = []

    def row(op, request_id):
        assert request_id, op
        expect.append((request_id, op))

    row("PutBucketLogging", rid(b.put_bucket_logging, BucketLogging(target.bucket_name, "access/")))
    row("GetBucketLogging", rid(b.get_bucket_logging))
    row("PutBucket", rid(b.create_bucket))
    row("HeadBucket", signed(logged, "HEAD", name, None).headers["x-oss-request-id"])
    row("GetBucketInfo", rid(b.get_bucket_info))
    row("GetBucketLocation", rid(b.get_bucket_location))
    row("GetBucketAcl", rid(b.get_bucket_acl))
    row("PutBucketAcl", rid(b.put_bucket_acl, oss2.BUCKET_ACL_PRIVATE))
    row("PutObject", rid(b.put_object, "k", b"v"))
    row("ListObjects", rid(b.list_objects))
    row("ListObjectsV2", rid(b.list_objects_v2))
    row("GetObject", rid(b.get_object, "k"))
    row("GetObject", rid(b.get_object, "absent"))
    row("HeadObject", rid(b.head_object, "k"))
    row("GetObjectMeta", rid(b.get_object_meta, "k"))
    row("CopyObject", rid(b.copy_object, name, "k", "k2"))
    row("AppendObject", rid(b.append_object, "ap", 0, b"x"))
    row("PutObjectACL", rid(b.put_object_acl, "k", oss2.OBJECT_ACL_PRIVATE))
    row("GetObjectACL", rid(b.get_object_acl, "k"))
    row("PutObjectTagging", rid(b.put_object_tagging, "k", tagging()))
    row("GetObjectTagging", rid(b.get_object_tagging, "k"))
    row("DeleteObjectTagging", rid(b.delete_object_tagging, "k"))
    row("PutSymlink", rid(b.put_symlink, "k", "ln"))
    row("GetSymlink", rid(b.get_symlink, "ln"))
    row("RestoreObject", rid(b.restore_object, "k"))
    up = b.init_multipart_upload("m")
    row("InitiateMultipartUpload", up.request_id)
    row("UploadPart", rid(b.upload_part, "m", up.upload_id, 1, b"p" * (100 * 1024)))
    row("UploadPartCopy", rid(b.upload_part_copy, name, "k", (0, 0), "m", up.upload_id, 2))
    row("ListParts", rid(b.list_parts, "m", up.upload_id))
    row("ListMultipartUploads", rid(b.list_multipart_uploads))
    parts = [oss2.models.PartInfo(p.part_number, p.etag) for p in b.list_parts("m", up.upload_id).parts]
    row("CompleteMultipartUpload", rid(b.complete_multipart_upload, "m", up.upload_id, parts))
    up2 = b.init_multipart_upload("m2")
    row("AbortMultipartUpload", rid(b.abort_multipart_upload, "m2", up2.upload_id))
    row("DeleteMultipleObjects", rid(b.batch_delete_objects, ["k2"]))
    row("DeleteObject", rid(b.delete_object, "ap"))
    cors = BucketCors([CorsRule(allowed_origins=["*"], allowed_methods=["GET"])])
    row("PutBucketCors", rid(b.put_bucket_cors, cors))
    row("GetBucketCors", rid(b.get_bucket_cors))
    row("DeleteBucketCors", rid(b.delete_bucket_cors))
    life = BucketLifecycle([LifecycleRule("r", "old/", status=LifecycleRule.ENABLED,
                                          expiration=LifecycleExpiration(days=3))])
    row("PutBucketLifecycle", rid(b.put_bucket_lifecycle, life))
    row("GetBucketLifecycle", rid(b.get_bucket_lifecycle))
    row("DeleteBucketLifecycle", rid(b.delete_bucket_lifecycle))
    row("PutBucketWebsite", rid(b.put_bucket_website, BucketWebsite("index.html", "error.html")))
    row("GetBucketWebsite", rid(b.get_bucket_website))
    row("DeleteBucketWebsite", rid(b.delete_bucket_website))
    row("GetBucketVersioning", rid(b.get_bucket_versioning))
    row("ListObjectVersions", signed(logged, "GET", name, None, params={"versions": ""}).headers["x-oss-request-id"])
    row("GetBucketReferer", rid(b.get_bucket_referer))
    row("PutBucketTags", rid(b.put_bucket_tagging, tagging()))
    row("GetBucketPolicy", signed(logged, "GET", name, None, params={"policy": ""}).headers["x-oss-request-id"])
    row("Unknown", signed(logged, "PATCH", name, "k").headers["x-oss-request-id"])
    url = "%s/%s/k" % (logged.endpoint, name)
    pre = requests.options(url, headers={"Origin": "https://a.example.com", "Access-Control-Request-Method": "GET"})
    row("Options", pre.headers["x-oss-request-id"])
    form = requests.post("%s/%s" % (logged.endpoint, name), files={"key": (None, "form"), "file": ("f", b"x")})
    row("PostObject", form.headers["x-oss-request-id"])

    s3 = boto3.client("s3", endpoint_url=logged.endpoint, aws_access_key_id=AK, aws_secret_access_key=SK,
                      region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    row("PutObject", s3_rid(s3.put_object, Bucket=name, Key="s3", Body=b"v"))
    row("ListObjectsV2", s3_rid(s3.list_objects_v2, Bucket=name))
    row("CopyObject", s3_rid(s3.copy_object, Bucket=name, Key="s3c", CopySource={"Bucket": name, "Key": "s3"}))
    row("PutObjectACL", s3_rid(s3.put_object_acl, Bucket=name, Key="s3", ACL="private"))
    row("PutObjectTagging", s3_rid(s3.put_object_tagging, Bucket=name, Key="s3",
                                   Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}))
    row("GetBucketLocation", s3_rid(s3.get_bucket_location, Bucket=name))
    row("PutBucketVersioning", s3_rid(s3.put_bucket_versioning, Bucket=name,
                                      VersioningConfiguration={"Status": "Enabled"}))
    row("DeleteMultipleObjects", s3_rid(s3.delete_objects, Bucket=name,
                                        Delete={"Objects": [{"Key": "s3"}, {"Key": "s3c"}]}))

    # Retention last: a locked policy would refuse the deletes above.
    worm = b.init_bucket_worm(1)
    row("InitiateBucketWorm", worm.request_id)
    row("GetBucketWorm", rid(b.get_bucket_worm))
    row("CompleteBucketWorm", rid(b.complete_bucket_worm, worm.worm_id))
    row("ExtendBucketWorm", rid(b.extend_bucket_worm, worm.worm_id, 2))
    row("AbortBucketWorm", rid(b.abort_bucket_worm))

    wanted = {r for r, _ in expect}
    assert len(wanted) == len(expect), "request ids repeat"
    found = {}
    deadline = time.time() + 20
    while time.time() < deadline and not wanted <= found.keys():
        time.sleep(0.5)
        text = "".join(target.get_object(o.key).read().decode()
                       for o in oss2.ObjectIterator(target, prefix="access/"))
        found = dict(re.findall(r'"([0-9A-F]{24})" "true" "[^"]*" "([^"]*)"', text))
    missing = [(op, r) for r, op in expect if r not in found]
    assert not missing, "not in the access log: %r" % missing
    wrong = [(op, found[r]) for r, op in expect if found[r] != op]
    assert not wrong, "(expected, logged): %r" % wrong
