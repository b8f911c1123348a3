"""Several users, managed with `ossd user` while the server runs, and the access errors between them."""
import os
import subprocess
import time

import oss2
import pytest

from conftest import AK, REGION, SK, Server, check_error, new_name, ossd_bin, raises


def user_cmd(server, *args):
    return subprocess.run([ossd_bin(), "user", *args, "--data", os.path.join(server.data, "d")],
                          capture_output=True, text=True)


@pytest.fixture
def bob(server):
    uid = "bob" + new_name("u").replace("-", "")
    r = user_cmd(server, "add", uid, "bob-secret-123")
    assert r.returncode == 0, r.stderr
    yield uid, "bob-secret-123"
    user_cmd(server, "enable", uid)
    for b in oss2.BucketIterator(oss2.Service(oss2.Auth(uid, "bob-secret-123"), server.endpoint)):
        oss2.Bucket(oss2.Auth(uid, "bob-secret-123"), server.endpoint, b.name).delete_bucket()
    user_cmd(server, "remove", uid)


def test_users_own_their_buckets(server, bob, auth):
    uid, secret = bob
    bob_auth = oss2.Auth(uid, secret) if isinstance(auth, oss2.Auth) else oss2.AuthV4(uid, secret)
    bb = oss2.Bucket(bob_auth, server.endpoint, new_name("bob"), region=REGION)
    bb.create_bucket()
    bb.create_bucket()  # again, as its owner: fine
    bb.put_object("mine", b"bob's")
    root_view = oss2.Bucket(auth, server.endpoint, bb.bucket_name, region=REGION)
    for call in (lambda: root_view.get_object("mine"), lambda: root_view.put_object("x", b"1"),
                 root_view.list_objects, root_view.get_bucket_info, root_view.delete_bucket):
        check_error(server, raises(call), oss2.exceptions.AccessDenied, 403, "AccessDenied")
    # Another user's bucket name is taken.
    e = raises(root_view.create_bucket)
    check_error(server, e, oss2.exceptions.ServerError, 409, "BucketAlreadyExists")
    # ListBuckets shows each user only their own.
    assert bb.bucket_name in [b.name for b in oss2.BucketIterator(oss2.Service(bob_auth, server.endpoint, region=REGION))]
    assert bb.bucket_name not in [b.name for b in oss2.BucketIterator(oss2.Service(auth, server.endpoint, region=REGION))]
    bb.delete_object("mine")


def test_disable_enable_take_effect_at_once(server, bob):
    uid, secret = bob
    b = oss2.Bucket(oss2.Auth(uid, secret), server.endpoint, new_name("dis"))
    b.create_bucket()
    assert user_cmd(server, "disable", uid).returncode == 0
    deadline = time.time() + 1.0
    e = None
    while e is None and time.time() < deadline:
        try:
            b.put_object("k", b"x")
            time.sleep(0.05)
        except oss2.exceptions.ServerError as err:
            e = err
    assert e is not None, "a disabled user must be refused within a second"
    check_error(server, e, oss2.exceptions.ServerError, 403, "UserDisable")
    assert user_cmd(server, "enable", uid).returncode == 0
    time.sleep(1.0)
    b.put_object("k", b"x")
    b.delete_object("k")


def test_user_cli_refuses_bad_input(server, bob):
    uid, _ = bob
    assert user_cmd(server, "add", uid, "another-secret").returncode == 2
    assert user_cmd(server, "add", "bad id!", "long-enough").returncode == 2
    assert user_cmd(server, "add", "shortsecret", "x").returncode == 2
    assert user_cmd(server, "disable", "nobody-here").returncode == 2
    assert user_cmd(server, "remove", AK).returncode == 2  # the root user
    b = oss2.Bucket(oss2.Auth(uid, "bob-secret-123"), server.endpoint, new_name("own"))
    b.create_bucket()
    r = user_cmd(server, "remove", uid)
    assert r.returncode == 2 and "owns" in r.stderr
    listed = user_cmd(server, "list").stdout
    assert uid in listed and AK + "\tenabled\troot" in listed


def test_too_many_buckets():
    s = Server(extra_args=["--max-buckets", "2"])
    try:
        auth = oss2.Auth(AK, SK)
        names = [new_name("mx") for _ in range(3)]
        oss2.Bucket(auth, s.endpoint, names[0]).create_bucket()
        oss2.Bucket(auth, s.endpoint, names[1]).create_bucket()
        e = raises(oss2.Bucket(auth, s.endpoint, names[2]).create_bucket)
        check_error(s, e, oss2.exceptions.ServerError, 400, "TooManyBuckets")
        oss2.Bucket(auth, s.endpoint, names[1]).create_bucket()  # an existing one is not a new one
    finally:
        s.cleanup()
