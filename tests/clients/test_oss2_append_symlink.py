"""AppendObject and symlinks through oss2."""
import crcmod
import oss2

from conftest import check_error, raises, signed

crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)


def test_append_flow_with_sdk_crc_check(server, bucket):
    bucket.enable_crc = True
    r = bucket.append_object("ap", 0, b"hello ", init_crc=0)
    assert r.next_position == 6 and r.crc == crc64(b"hello ")
    r = bucket.append_object("ap", r.next_position, b"world", init_crc=r.crc)
    assert r.next_position == 11 and r.crc == crc64(b"hello world")
    g = bucket.get_object("ap")
    assert g.read() == b"hello world" and g.headers["x-oss-object-type"] == "Appendable"
    assert g.headers["x-oss-next-append-position"] == "11"
    assert bucket.get_object("ap", byte_range=(4, 7)).read() == b"o wo"


def test_position_not_equal_to_length(server, bucket):
    bucket.append_object("ap", 0, b"abc")
    e = raises(bucket.append_object, "ap", 1, b"x")
    check_error(server, e, oss2.exceptions.PositionNotEqualToLength, 409, "PositionNotEqualToLength")
    assert e.headers["x-oss-next-append-position"] == "3"
    e = raises(bucket.append_object, "new", 5, b"x")
    check_error(server, e, oss2.exceptions.PositionNotEqualToLength, 409, "PositionNotEqualToLength")
    assert e.headers["x-oss-next-append-position"] == "0"


def test_object_not_appendable(server, bucket):
    bucket.put_object("normal", b"abc")
    e = raises(bucket.append_object, "normal", 3, b"x")
    check_error(server, e, oss2.exceptions.ObjectNotAppendable, 409, "ObjectNotAppendable")
    assert bucket.get_object("normal").read() == b"abc"


def test_append_without_position_is_missing_argument(server, bucket):
    r = signed(server, "POST", bucket.bucket_name, "ap", params={"append": ""}, data=b"x")
    assert r.status_code == 400 and b"<Code>MissingArgument</Code>" in r.content
    assert b"<ArgumentName>position</ArgumentName>" in r.content and r.headers["x-oss-ec"] == "0016-00000502"
    r = signed(server, "POST", bucket.bucket_name, "ap", params={"append": "", "position": "x"}, data=b"x")
    assert r.status_code == 400 and b"<Code>InvalidArgument</Code>" in r.content


def test_symlinks(server, bucket):
    bucket.put_object("target", b"pointed", headers={"Content-Type": "text/t"})
    bucket.put_symlink("target", "link")
    assert bucket.get_symlink("link").target_key == "target"
    g = bucket.get_object("link")
    assert g.read() == b"pointed" and g.headers["x-oss-object-type"] == "Symlink"
    assert bucket.head_object("link").content_length == 7
    e = raises(bucket.get_symlink, "target")
    check_error(server, e, oss2.exceptions.ServerError, 400, "NotSymlink")
    bucket.put_symlink("missing-target", "dangling")
    e = raises(bucket.get_object, "dangling")
    check_error(server, e, oss2.exceptions.ServerError, 404, "SymlinkTargetNotExist")
    bucket.put_symlink("link", "link2")
    e = raises(bucket.get_object, "link2")
    check_error(server, e, oss2.exceptions.ServerError, 400, "InvalidTargetType")
    bucket.put_symlink("日本 語", "ulink")
    assert bucket.get_symlink("ulink").target_key == "日本 語"
