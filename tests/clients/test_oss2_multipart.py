"""Multipart upload through oss2: the whole flow, copy parts, listings, and each multipart error."""
import hashlib

import crcmod
import oss2

from conftest import check_error, raises, signed

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)
P = 100 * 1024


def test_full_flow_with_etag_and_crc(server, bucket):
    parts_data = [b"a" * P, b"b" * P, b"c" * 10]
    up = bucket.init_multipart_upload("mp", headers={"x-oss-meta-m": "v", "Content-Type": "text/m"})
    parts = []
    for i, d in enumerate(parts_data, 1):
        r = bucket.upload_part("mp", up.upload_id, i, d)
        assert r.etag == hashlib.md5(d).hexdigest().upper() and r.crc == crc64(d)
        parts.append(oss2.models.PartInfo(i, r.etag))
    listed = bucket.list_parts("mp", up.upload_id)
    assert [p.part_number for p in listed.parts] == [1, 2, 3] and listed.parts[2].size == 10
    assert up.upload_id in [u.upload_id for u in oss2.MultipartUploadIterator(bucket)]
    r = bucket.complete_multipart_upload("mp", up.upload_id, parts)
    whole = b"".join(parts_data)
    md5s = b"".join(hashlib.md5(d).digest() for d in parts_data)
    assert r.etag == hashlib.md5(md5s).hexdigest().upper() + "-3"
    g = bucket.get_object("mp")
    assert g.read() == whole and int(g.headers["x-oss-hash-crc64ecma"]) == crc64(whole)
    assert g.headers["x-oss-object-type"] == "Multipart" and g.headers["x-oss-meta-m"] == "v"
    assert g.headers["Content-Type"] == "text/m"
    assert bucket.get_object("mp", byte_range=(P - 5, P + 4)).read() == b"a" * 5 + b"b" * 5
    assert up.upload_id not in [u.upload_id for u in oss2.MultipartUploadIterator(bucket)]


def test_resumable_upload_uses_multipart(server, bucket, tmp_path):
    f = tmp_path / "file.bin"
    data = bytes(range(256)) * 4096 + b"tail"
    f.write_bytes(data)
    oss2.resumable_upload(bucket, "resumable", str(f), multipart_threshold=200 * 1024, part_size=200 * 1024,
                          store=oss2.ResumableStore(root=str(tmp_path)))
    assert bucket.get_object("resumable").read() == data
    assert bucket.head_object("resumable").object_type == "Multipart"


def test_upload_part_copy(server, bucket):
    src = bytes(range(256)) * 1000
    bucket.put_object("src", src)
    up = bucket.init_multipart_upload("dst")
    r1 = bucket.upload_part_copy(bucket.bucket_name, "src", (0, P - 1), "dst", up.upload_id, 1)
    r2 = bucket.upload_part_copy(bucket.bucket_name, "src", (P, len(src) - 1), "dst", up.upload_id, 2)
    bucket.complete_multipart_upload("dst", up.upload_id, [oss2.models.PartInfo(1, r1.etag), oss2.models.PartInfo(2, r2.etag)])
    assert bucket.get_object("dst").read() == src


def test_complete_all(server, bucket):
    up = bucket.init_multipart_upload("all")
    bucket.upload_part("all", up.upload_id, 1, b"x" * P)
    bucket.upload_part("all", up.upload_id, 2, b"y")
    bucket.complete_multipart_upload("all", up.upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert bucket.get_object("all").read() == b"x" * P + b"y"
    up = bucket.init_multipart_upload("all2")
    r = bucket.upload_part("all2", up.upload_id, 1, b"x")
    e = raises(bucket.complete_multipart_upload, "all2", up.upload_id, [oss2.models.PartInfo(1, r.etag)],
               headers={"x-oss-complete-all": "yes"})
    check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument")


def test_errors(server, bucket):
    up = bucket.init_multipart_upload("e")
    r1 = bucket.upload_part("e", up.upload_id, 1, b"small")
    r2 = bucket.upload_part("e", up.upload_id, 2, b"x")
    e = raises(bucket.complete_multipart_upload, "e", up.upload_id,
               [oss2.models.PartInfo(1, r1.etag), oss2.models.PartInfo(2, r2.etag)])
    check_error(server, e, oss2.exceptions.ServerError, 400, "EntityTooSmall")
    # oss2 sorts the parts itself, so send them out of order as another client would.
    body = ("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part>"
            "<Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>" % (r2.etag, r1.etag))
    r = signed(server, "POST", bucket.bucket_name, "e", params={"uploadId": up.upload_id}, data=body.encode())
    assert r.status_code == 400 and "<Code>InvalidPartOrder</Code>" in r.text
    assert "<Message>The list of parts was not in ascending order.</Message>" in r.text
    e = raises(bucket.complete_multipart_upload, "e", up.upload_id, [oss2.models.PartInfo(1, "0" * 32)])
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidPart")
    e = raises(bucket.complete_multipart_upload, "e", up.upload_id, [oss2.models.PartInfo(7, r1.etag)])
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidPart")
    e = raises(bucket.upload_part, "e", up.upload_id, 10001, b"x")
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidArgument", row="InvalidPartNumber")
    assert e.message == "Part number must be an integer between 1 and 10000, inclusive."
    bucket.abort_multipart_upload("e", up.upload_id)
    for call in (lambda: bucket.upload_part("e", up.upload_id, 1, b"x"),
                 lambda: bucket.list_parts("e", up.upload_id),
                 lambda: bucket.abort_multipart_upload("e", up.upload_id),
                 lambda: bucket.complete_multipart_upload("e", up.upload_id, [oss2.models.PartInfo(1, r1.etag)])):
        check_error(server, raises(call), oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")
    # An upload id is bound to its key.
    up2 = bucket.init_multipart_upload("k1")
    check_error(server, raises(bucket.list_parts, "k2", up2.upload_id), oss2.exceptions.NoSuchUpload, 404, "NoSuchUpload")


def test_malformed_complete_body(server, bucket):
    up = bucket.init_multipart_upload("mx")
    r = signed(server, "POST", bucket.bucket_name, "mx", params={"uploadId": up.upload_id}, data=b"<Complete")
    assert r.status_code == 400 and b"<Code>MalformedXML</Code>" in r.content
