"""WORM retention and archive restore through oss2, on a server whose "day" is 2 seconds."""
import time

import oss2
import pytest

from conftest import Server, check_error, raises, root_bucket


@pytest.fixture(scope="module")
def fast():
    s = Server(extra_args=["--lifecycle-day-seconds", "2", "--restore-seconds", "1"])
    yield s
    s.cleanup()


@pytest.fixture
def fbucket(fast):
    return root_bucket(fast, "w")


def test_worm_protects_objects_until_retention_ends(fast, fbucket):
    b = fbucket
    check_error(fast, raises(b.get_bucket_worm), oss2.exceptions.NoSuchWORMConfiguration, 404, "NoSuchWORMConfiguration")
    b.put_object("kept", b"v1")
    up = b.init_multipart_upload("kept")
    part = b.upload_part("kept", up.upload_id, 1, b"x")
    b.append_object("log", 0, b"a")
    wid = b.init_bucket_worm(1).worm_id
    assert b.get_bucket_worm().state == "InProgress"
    for call in (lambda: b.delete_object("kept"), lambda: b.put_object("kept", b"v2"),
                 lambda: b.copy_object(b.bucket_name, "kept", "kept"),
                 lambda: b.append_object("log", 1, b"b"),
                 lambda: b.complete_multipart_upload("kept", up.upload_id, [oss2.models.PartInfo(1, part.etag)])):
        check_error(fast, raises(call), oss2.exceptions.ServerError, 409, "FileImmutable")
    assert b.get_object("kept").read() == b"v1"
    b.put_object("new-object", b"creating is allowed")
    b.complete_bucket_worm(wid)
    w = b.get_bucket_worm()
    assert w.state == "Locked" and w.retention_period_days == 1 and w.worm_id == wid
    check_error(fast, raises(b.abort_bucket_worm), oss2.exceptions.WORMConfigurationLocked, 403, "WORMConfigurationLocked")
    check_error(fast, raises(b.extend_bucket_worm, wid, 1), oss2.exceptions.InvalidWORMConfiguration, 400,
                "InvalidWORMConfiguration")
    check_error(fast, raises(b.extend_bucket_worm, "not-the-id", 3), oss2.exceptions.InvalidWORMConfiguration, 400,
                "InvalidWORMConfiguration")
    b.extend_bucket_worm(wid, 2)
    assert b.get_bucket_worm().retention_period_days == 2
    time.sleep(4.5)
    b.delete_object("kept")
    b.abort_multipart_upload("kept", up.upload_id)


def test_unlocked_worm_can_be_aborted(fast, fbucket):
    b = fbucket
    b.init_bucket_worm(3)
    b.abort_bucket_worm()
    check_error(fast, raises(b.get_bucket_worm), oss2.exceptions.NoSuchWORMConfiguration, 404, "NoSuchWORMConfiguration")
    check_error(fast, raises(b.init_bucket_worm, 0), oss2.exceptions.InvalidWORMConfiguration, 400, "InvalidWORMConfiguration",
                row="InvalidWORMConfigurationDays")


def test_archive_restore_cycle(fast, fbucket):
    b = fbucket
    b.put_object("cold", b"frozen bytes", headers={"x-oss-storage-class": "Archive"})
    h = b.head_object("cold")
    assert h.resp.headers["x-oss-storage-class"] == "Archive" and "x-oss-restore" not in h.resp.headers
    check_error(fast, raises(b.get_object, "cold"), oss2.exceptions.ServerError, 403, "InvalidObjectState")
    assert b.restore_object("cold").status == 202
    check_error(fast, raises(b.restore_object, "cold"), oss2.exceptions.RestoreAlreadyInProgress, 409,
                "RestoreAlreadyInProgress")
    assert b.head_object("cold").resp.headers["x-oss-restore"] == 'ongoing-request="true"'
    time.sleep(1.3)
    restore = b.head_object("cold").resp.headers["x-oss-restore"]
    assert restore.startswith('ongoing-request="false", expiry-date="') and restore.endswith('GMT"')
    assert b.get_object("cold").read() == b"frozen bytes"
    assert b.restore_object("cold").status == 200
    b.put_object("warm", b"x")
    check_error(fast, raises(b.restore_object, "warm"), oss2.exceptions.OperationNotSupported, 400, "OperationNotSupported")
    check_error(fast, raises(b.restore_object, "missing"), oss2.exceptions.NoSuchKey, 404, "NoSuchKey")
    # A ColdArchive object follows the same rules.
    b.put_object("colder", b"y", headers={"x-oss-storage-class": "ColdArchive"})
    check_error(fast, raises(b.get_object, "colder"), oss2.exceptions.ServerError, 403, "InvalidObjectState")
