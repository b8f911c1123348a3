"""Listing through oss2: ListObjects and ListObjectsV2 with prefixes, delimiters, markers and URL encoding."""
import oss2

from conftest import check_error, raises, signed

KEYS = ["a", "a/1", "a/2", "a/b/1", "a//x", "b/", "b/c", "c/d/e", "日本/1", "x y/z&w"]


def fill(bucket):
    for k in KEYS:
        bucket.put_object(k, b"")


def test_v1_and_v2_full_walks_match(server, bucket):
    fill(bucket)
    want = sorted(k.encode() for k in KEYS)
    assert [o.key.encode() for o in oss2.ObjectIterator(bucket, max_keys=3)] == want
    assert [o.key.encode() for o in oss2.ObjectIteratorV2(bucket, max_keys=2)] == want


def test_delimiter_pages_never_repeat_or_skip(server, bucket):
    fill(bucket)
    for max_keys in (1, 2, 3, 100):
        got = [(o.key, o.is_prefix()) for o in oss2.ObjectIterator(bucket, delimiter="/", max_keys=max_keys)]
        assert got == [("a", False), ("a/", True), ("b/", True), ("c/", True), ("x y/", True), ("日本/", True)], max_keys
        got2 = [o.key for o in oss2.ObjectIteratorV2(bucket, delimiter="/", max_keys=max_keys)]
        assert got2 == [k for k, _ in got]


def test_prefix_and_fields(server, bucket):
    fill(bucket)
    r = bucket.list_objects(prefix="a/", delimiter="/")
    assert [o.key for o in r.object_list] == ["a/1", "a/2"] and r.prefix_list == ["a//", "a/b/"]
    o = r.object_list[0]
    assert o.type == "Normal" and o.size == 0 and o.storage_class == "Standard" and o.etag and o.last_modified > 0
    assert o.owner is not None and o.owner.id
    r2 = bucket.list_objects_v2(prefix="a/", fetch_owner=True)
    assert all(x.owner is not None for x in r2.object_list)
    r3 = bucket.list_objects_v2(prefix="a/")
    assert all(x.owner is None for x in r3.object_list)


def test_start_after_and_truncation(server, bucket):
    fill(bucket)
    r = bucket.list_objects_v2(start_after="a/2", max_keys=2)
    assert [o.key for o in r.object_list] == ["a/b/1", "b/"] and r.is_truncated and r.next_continuation_token
    r2 = bucket.list_objects_v2(continuation_token=r.next_continuation_token, max_keys=100)
    assert r2.object_list[0].key == "b/c" and not r2.is_truncated


def test_url_encoding_in_the_xml(server, bucket):
    fill(bucket)
    r = signed(server, "GET", bucket.bucket_name, None, params={"encoding-type": "url", "prefix": "x y/"})
    assert b"<Key>x%20y%2Fz%26w</Key>" in r.content and b"<EncodingType>url</EncodingType>" in r.content
    # oss2 asks for url encoding and decodes it back.
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix="x y/")] == ["x y/z&w"]


def test_max_keys_out_of_range(server, bucket):
    e = raises(bucket.list_objects, max_keys=1001)
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidArgument")
    e = raises(bucket.list_objects_v2, continuation_token="!!not-a-token!!")
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidArgument")
