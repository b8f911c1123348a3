"""QPS and bandwidth limits (each on a server of its own), and x-oss-traffic-limit."""
import time

import oss2
import pytest

from conftest import Server, check_error, raises, root_bucket


def with_server(args, fn):
    s = Server(extra_args=args)
    try:
        fn(s, root_bucket(s, "l"))
    finally:
        s.cleanup()


def first_error(calls):
    for c in calls:
        try:
            c()
        except oss2.exceptions.ServerError as e:
            return e
    return None


@pytest.mark.parametrize("args, calls, status, code", [
    (["--total-qps-limit", "5"], 50, 503, "TotalQpsLimitExceeded"),
    (["--user-qps-limit", "4"], 30, 429, "QpsLimitExceeded"),
])
def test_request_rate_limits(args, calls, status, code):
    def run(s, b):
        e = first_error([lambda: b.object_exists("k")] * calls)
        assert e is not None
        check_error(s, e, oss2.exceptions.ServerError, status, code)
    with_server(args, run)


def test_meta_qps_counts_only_service_and_bucket_operations():
    def run(s, b):
        time.sleep(1.1)
        for _ in range(10):
            b.put_object("k", b"x")  # object operations are not meta operations
        e = first_error([b.get_bucket_info] * 20)
        assert e is not None
        check_error(s, e, oss2.exceptions.ServerError, 503, "MetaOperationQpsLimitExceeded")
    with_server(["--meta-qps-limit", "3"], run)


def test_bandwidth_limits():
    def run(s, b):
        data = b"z" * 300_000
        b.put_object("big", data)
        e = raises(b.put_object, "big2", data)
        check_error(s, e, oss2.exceptions.ServerError, 503, "UploadTrafficRateLimitExceeded")
        assert b.get_object("big").read() == data
        e = raises(b.get_object, "big")
        check_error(s, e, oss2.exceptions.ServerError, 503, "DownloadTrafficRateLimitExceeded")
    with_server(["--download-bandwidth-limit", "100000", "--upload-bandwidth-limit", "100000"], run)


def test_traffic_limit_header(server, bucket):
    data = bytes(range(256)) * 800  # 200 KiB
    bucket.put_object("t", data)
    started = time.time()
    got = bucket.get_object("t", headers={"x-oss-traffic-limit": "819200"}).read()
    assert got == data and time.time() - started >= 1.5, "100 KB/s for 200 KiB takes about 2 s"
    started = time.time()
    bucket.put_object("t2", data, headers={"x-oss-traffic-limit": "819200"})
    assert time.time() - started >= 1.5
    e = raises(bucket.get_object, "t", headers={"x-oss-traffic-limit": "100"})
    check_error(server, e, oss2.exceptions.InvalidArgument, 400, "InvalidArgument")
