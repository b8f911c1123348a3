"""Server-side encryption at rest (AES256) through oss2: the bytes on disk are ciphertext."""

import oss2

from conftest import check_error, raises

MARK = b"PLAINTEXT-MARKER-0123456789-" * 40


def blobs_contain(server, needle):
    return any(needle in b for b in server.stored_blobs())


SSE = {"x-oss-server-side-encryption": "AES256"}


def test_put_get_encrypted(server, bucket):
    r = bucket.put_object("enc", MARK, headers=SSE)
    assert r.headers["x-oss-server-side-encryption"] == "AES256"
    g = bucket.get_object("enc")
    assert g.read() == MARK and g.headers["x-oss-server-side-encryption"] == "AES256"
    assert bucket.get_object("enc", byte_range=(100, 199)).read() == MARK[100:200]
    assert bucket.head_object("enc").resp.headers["x-oss-server-side-encryption"] == "AES256"
    assert not blobs_contain(server, MARK[:100]), "encrypted object found as plaintext on disk"
    bucket.put_object("plain", MARK)
    assert blobs_contain(server, MARK[:100]), "the check itself must see plaintext objects"
    bucket.delete_object("plain")


def test_multipart_append_and_copy_encrypted(server, bucket):
    up = bucket.init_multipart_upload("mp", headers=SSE)
    p1 = bucket.upload_part("mp", up.upload_id, 1, MARK * 100)
    p2 = bucket.upload_part("mp", up.upload_id, 2, MARK)
    bucket.complete_multipart_upload("mp", up.upload_id, [oss2.models.PartInfo(1, p1.etag), oss2.models.PartInfo(2, p2.etag)])
    whole = MARK * 101
    assert bucket.get_object("mp").read() == whole
    assert bucket.get_object("mp", byte_range=(len(whole) - 1500, len(whole) - 1)).read() == whole[-1500:]
    bucket.append_object("ap", 0, MARK, headers=SSE)
    bucket.append_object("ap", len(MARK), MARK)
    assert bucket.get_object("ap").read() == MARK * 2
    bucket.copy_object(bucket.bucket_name, "mp", "copy-plain")
    assert "x-oss-server-side-encryption" not in bucket.head_object("copy-plain").resp.headers
    assert bucket.get_object("copy-plain").read() == whole
    bucket.delete_object("copy-plain")
    bucket.copy_object(bucket.bucket_name, "ap", "copy-enc", headers=SSE)
    assert bucket.get_object("copy-enc").read() == MARK * 2
    assert not blobs_contain(server, MARK[:100])


def test_kms_and_unknown_algorithms(server, bucket):
    e = raises(bucket.put_object, "k", b"x", headers={"x-oss-server-side-encryption": "KMS"})
    check_error(server, e, oss2.exceptions.ServerError, 403, "KmsServiceNotEnabled")
    e = raises(bucket.put_object, "k", b"x", headers={"x-oss-server-side-encryption": "DES"})
    check_error(server, e, oss2.exceptions.InvalidEncryptionAlgorithmError, 400, "InvalidEncryptionAlgorithmError")
    e = raises(bucket.init_multipart_upload, "k", headers={"x-oss-server-side-encryption": "DES"})
    check_error(server, e, oss2.exceptions.InvalidEncryptionAlgorithmError, 400, "InvalidEncryptionAlgorithmError")
