"""Buckets and the service through oss2, signed with V1 and V4."""
import oss2
import pytest

from conftest import AK, REGION, SK, check_error, new_name, raises, signed


def test_create_list_info_location_acl_delete(server, auth):
    name = new_name("life")
    b = oss2.Bucket(auth, server.endpoint, name, region=REGION)
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ, oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA))
    svc = oss2.Service(auth, server.endpoint, region=REGION)
    names = [x.name for x in oss2.BucketIterator(svc)]
    assert name in names
    listed = [x for x in svc.list_buckets(prefix=name).buckets]
    assert len(listed) == 1 and listed[0].storage_class == "IA" and listed[0].location == "oss-" + REGION
    info = b.get_bucket_info()
    assert info.name == name and info.storage_class == "IA" and info.acl.grant == "public-read"
    assert info.extranet_endpoint == "127.0.0.1:%d" % server.port
    assert info.owner.id == AK
    assert b.get_bucket_location().location == "oss-" + REGION
    b.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    assert b.get_bucket_acl().acl == "private"
    # Creating it again as its owner succeeds.
    b.create_bucket()
    b.delete_bucket()
    assert name not in [x.name for x in oss2.BucketIterator(svc)]


def test_list_buckets_pages_with_marker(server, auth):
    prefix = new_name("pg")
    for i in range(5):
        oss2.Bucket(auth, server.endpoint, "%s-%d" % (prefix, i), region=REGION).create_bucket()
    svc = oss2.Service(auth, server.endpoint, region=REGION)
    r = svc.list_buckets(prefix=prefix, max_keys=2)
    assert [x.name for x in r.buckets] == [prefix + "-0", prefix + "-1"] and r.is_truncated
    r2 = svc.list_buckets(prefix=prefix, marker=r.next_marker, max_keys=10)
    assert [x.name for x in r2.buckets] == ["%s-%d" % (prefix, i) for i in range(2, 5)] and not r2.is_truncated
    for i in range(5):
        oss2.Bucket(auth, server.endpoint, "%s-%d" % (prefix, i), region=REGION).delete_bucket()


@pytest.mark.parametrize("bad", ["ab", "-abc", "abc-", "Upper", "a_b", "x" * 64])
def test_invalid_bucket_name(server, auth, bad):
    b = oss2.Bucket(auth, server.endpoint, "placeholder", region=REGION)
    b.bucket_name = bad  # oss2 validates names itself; send the bad name as a user of another client would
    e = raises(b.create_bucket)
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidBucketName")


def test_no_such_bucket(server, auth):
    b = oss2.Bucket(auth, server.endpoint, new_name("gone"), region=REGION)
    for call in (b.get_bucket_info, b.delete_bucket, lambda: b.get_object("k"), lambda: b.put_object("k", b"x")):
        e = raises(call)
        check_error(server, e, oss2.exceptions.NoSuchBucket, 404, "NoSuchBucket")


def test_bucket_not_empty_with_object_and_with_upload(server, bucket):
    bucket.put_object("k", b"x")
    check_error(server, raises(bucket.delete_bucket), oss2.exceptions.BucketNotEmpty, 409, "BucketNotEmpty")
    bucket.delete_object("k")
    up = bucket.init_multipart_upload("m")
    check_error(server, raises(bucket.delete_bucket), oss2.exceptions.BucketNotEmpty, 409, "BucketNotEmpty")
    bucket.abort_multipart_upload("m", up.upload_id)


def test_anonymous_service_and_private_bucket_are_denied(server, bucket):
    svc = oss2.Service(oss2.AnonymousAuth(), server.endpoint)
    check_error(server, raises(svc.list_buckets), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    anon = oss2.Bucket(oss2.AnonymousAuth(), server.endpoint, bucket.bucket_name)
    bucket.put_object("secret", b"s")
    check_error(server, raises(anon.get_object, "secret"), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    check_error(server, raises(anon.put_object, "x", b"1"), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    check_error(server, raises(anon.list_objects), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    check_error(server, raises(anon.get_bucket_info), oss2.exceptions.AccessDenied, 403, "AccessDenied")


def test_anonymous_public_read_and_public_read_write(server, bucket):
    anon = oss2.Bucket(oss2.AnonymousAuth(), server.endpoint, bucket.bucket_name)
    bucket.put_object("pub", b"data")
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert anon.get_object("pub").read() == b"data"
    assert [o.key for o in anon.list_objects().object_list] == ["pub"]
    check_error(server, raises(anon.put_object, "x", b"1"), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    anon.put_object("x", b"1")
    assert bucket.get_object("x").read() == b"1"
    # An object ACL overrides the bucket's.
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    bucket.put_object_acl("pub", oss2.OBJECT_ACL_PUBLIC_READ)
    assert anon.get_object("pub").read() == b"data"
    check_error(server, raises(anon.get_object, "x"), oss2.exceptions.AccessDenied, 403, "AccessDenied")


def test_bad_acl_value_is_invalid_argument(server, bucket):
    r = signed(server, "PUT", bucket.bucket_name, None, params={"acl": ""}, headers={"x-oss-acl": "everyone"})
    assert r.status_code == 400 and b"<Code>InvalidArgument</Code>" in r.content
    assert b"<ArgumentName>x-oss-acl</ArgumentName>" in r.content


def test_unimplemented_bucket_feature_is_400_not_implemented(server, bucket):
    r = signed(server, "GET", bucket.bucket_name, None, params={"inventory": ""})
    assert r.status_code == 400 and b"<Code>NotImplemented</Code>" in r.content
    assert r.headers["x-oss-ec"] and r.headers["x-oss-request-id"]


def test_method_not_allowed(server, bucket):
    r = signed(server, "PATCH", bucket.bucket_name, "k")
    assert r.status_code == 405 and b"<Code>MethodNotAllowed</Code>" in r.content
