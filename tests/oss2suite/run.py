"""Runs oss2's own test suite (the tests/ directory of the oss2 2.19.1 sdist on PyPI, unedited) against a real ossd,
once per signature version the suite knows (OSS_TEST_AUTH_VERSION v1, v2, v4).

    python tests/oss2suite/run.py                    # every version; exits 1 if a test outside excluded.txt fails
    python tests/oss2suite/run.py --version v4 -k multipart --list-failures
    python tests/oss2suite/run.py -- --tb=long -x    # anything after -- goes to pytest

The sdist is fetched with `pip download` (pip's own cache answers when it can) into a cache dir (OSS2SUITE_CACHE, or
~/.cache/ossd-oss2suite) and checked against the sha256 pinned below. Its tests/ and unittests/ (the mock tests import
the latter) are unpacked into a fresh work dir per run. For each version the script starts its own ossd on a free
loopback port with a fresh data dir (the root user, and a second user for the request-payment tests' payer), sets the
environment variables the suite reads (its tests/common.py), runs pytest on every test file of the suite except the
ids in excluded.txt, and stops the server by its process id. The binary comes from OSSD_BIN, or target/debug/ossd.
The suite runs against the installed oss2, which must be 2.19.1 too (tests/clients/requirements.txt, requirements.txt
here).
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OSS2_VERSION = "2.19.1"
SDIST = "oss2-%s.tar.gz" % OSS2_VERSION
SDIST_SHA256 = "a8ab9ee7eb99e88a7e1382edc6ea641d219d585a7e074e3776e9dec9473e59c1"
VERSIONS = ("v1", "v2", "v4")
REGION = "cn-hangzhou"
ROOT_KEY = ("Oss2SuiteRootKey01", "oss2-suite-root-secret-not-real")
PAYER_KEY = ("Oss2SuitePayerKey01", "oss2-suite-payer-secret-not-real")


def ossd_bin():
    return os.environ.get("OSSD_BIN") or os.path.join(ROOT, "target", "debug", "ossd")


def cache_dir():
    return os.environ.get("OSS2SUITE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ossd-oss2suite")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_sdist():
    """The path of the verified sdist, downloaded into the cache dir when it is not there yet."""
    cache = cache_dir()
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, SDIST)
    if not os.path.exists(path):
        subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
                        "oss2==%s" % OSS2_VERSION, "--no-deps", "--no-binary", ":all:", "-d", cache], check=True)
    got = sha256(path)
    if got != SDIST_SHA256:
        sys.exit("%s: sha256 %s, expected %s (delete it to download it again)" % (path, got, SDIST_SHA256))
    return path


def unpack_suite(sdist, dest):
    """Unpacks the sdist's tests/ and unittests/ into dest, as they are."""
    top = "oss2-%s/" % OSS2_VERSION
    with tarfile.open(sdist) as tar:
        members = []
        for m in tar.getmembers():
            if m.name.startswith(top + "tests/") or m.name.startswith(top + "unittests/"):
                m.name = m.name[len(top):]
                members.append(m)
        tar.extractall(dest, members=members, filter="data")
    return dest


def read_excluded(path):
    """{test id prefix: reason} from excluded.txt: `<id> <reason>`, one a line; # starts a comment line."""
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                sys.exit("%s:%d: %s has no reason" % (path, n, parts[0]))
            out[parts[0]] = parts[1]
    return out


def is_excluded(test_id, excluded):
    """An entry names a test, or a file or class (then every test in it)."""
    return any(test_id == e or test_id.startswith(e + "::") for e in excluded)


class Server:
    """A running ossd with its own data dir, the root key pair and the payer user."""

    def __init__(self, workdir):
        self.data = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "server.log")
        self.log = open(self.log_path, "w")
        args = [ossd_bin(), "serve", "--listen", "127.0.0.1:0", "--data", self.data,
                "--access-key-id", ROOT_KEY[0], "--access-key-secret", ROOT_KEY[1], "--region", REGION]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            time.sleep(0.05)
            if self.proc.poll() is not None:
                sys.exit("ossd exited: " + self.log_text())
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log_text())
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            sys.exit("ossd did not start: " + self.log_text())
        subprocess.run([ossd_bin(), "user", "add", "--data", self.data, PAYER_KEY[0], PAYER_KEY[1]], check=True,
                       stdout=subprocess.DEVNULL)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def suite_env(port, version):
    """The environment variables the suite's tests/common.py reads. An ossd user's id is its access key id.
    The STS variables stay unset: the tests that read them call Alibaba Cloud's STS service, and are excluded."""
    env = dict(os.environ)
    loopback = "127.0.0.1,localhost"
    env["NO_PROXY"] = env["no_proxy"] = ",".join(x for x in (env.get("NO_PROXY"), loopback) if x)
    env.update({
        "OSS_TEST_ENDPOINT": "http://127.0.0.1:%d" % port,
        "OSS_TEST_ACCESS_KEY_ID": ROOT_KEY[0],
        "OSS_TEST_ACCESS_KEY_SECRET": ROOT_KEY[1],
        "OSS_TEST_BUCKET": "oss2suite-",
        "OSS_TEST_REGION": REGION,
        "OSS_TEST_AUTH_VERSION": version,
        "OSS_TEST_UID": ROOT_KEY[0],
        "OSS_TEST_PAYER_UID": PAYER_KEY[0],
        "OSS_TEST_PAYER_ACCESS_KEY_ID": PAYER_KEY[0],
        "OSS_TEST_PAYER_ACCESS_KEY_SECRET": PAYER_KEY[1],
        "OSS_TEST_RAM_UID": ROOT_KEY[0],
        "OSS_TEST_RAM_ROLE_ARN": "acs:ram::%s:role/oss2-suite-role" % ROOT_KEY[0],
    })
    for name in ("OSS_TEST_CNAME", "OSS_TEST_STS_ID", "OSS_TEST_STS_KEY", "OSS_TEST_STS_ARN", "TRAVIS"):
        env.pop(name, None)
    return env


def pytest_base(junit=None):
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "ignore", "-o", "junit_family=xunit1",
           "-o", "junit_logging=no"]
    if junit:
        cmd += ["--junitxml", junit]
    return cmd


def collect(suite, env, keyword, pytest_args):
    """The ids of the tests pytest collects from the suite (with -k applied)."""
    cmd = pytest_base() + ["--collect-only", "-q", "tests"] + pytest_args
    if keyword:
        cmd += ["-k", keyword]
    out = subprocess.run(cmd, cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ids = [line.strip() for line in out.stdout.splitlines() if line.startswith("tests/") and "::" in line]
    if out.returncode not in (0, 5) or re.search(r"^ERROR ", out.stdout, re.M):
        sys.exit("collecting the suite failed:\n" + out.stdout[-5000:])
    return ids


def outcomes(junit_path):
    """{test id: (outcome, first line of the failure)} from a junit report."""
    res = {}
    for case in ET.parse(junit_path).iter("testcase"):
        cls = case.get("classname", "").split(".")
        # classname: tests.test_object.TestObject
        node = "tests/%s.py::%s::%s" % ("/".join(cls[1:-1]), cls[-1], case.get("name"))
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            msg = (bad.get("message") or bad.text or "").strip().splitlines()
            res[node] = ("failed", msg[0][:300] if msg else "")
        elif case.find("skipped") is not None:
            res[node] = ("skipped", "")
        else:
            res[node] = ("passed", "")
    return res


def run_version(version, suite, workdir, excluded, opts):
    vdir = os.path.join(workdir, version)
    os.makedirs(vdir)
    server = Server(vdir)
    try:
        env = suite_env(server.port, version)
        ids = collect(suite, env, opts.k, opts.pytest_args)
        out = [i for i in ids if is_excluded(i, excluded)]
        run = [i for i in ids if not is_excluded(i, excluded)]
        res = {}
        if run:
            junit = os.path.join(vdir, "junit.xml")
            cmd = pytest_base(junit) + ["-q", "--tb=line", "--timeout", str(opts.timeout)] + opts.pytest_args
            # The ids themselves (not --deselect, which matches prefixes: test_upload_large would drop
            # test_upload_large_with_tagging too).
            subprocess.run(cmd + run, cwd=suite, env=env)
            res = outcomes(junit) if os.path.exists(junit) else {}
        missing = [i for i in run if i not in res]
        for i in missing:
            res[i] = ("failed", "no result in the junit report (pytest stopped early?)")
        return ids, out, res
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", choices=VERSIONS, action="append",
                    help="signature version to run (repeatable); default: all of them")
    ap.add_argument("-k", help="pytest -k expression: run only the matching tests")
    ap.add_argument("--list-failures", action="store_true", help="print each failed test id and its first error line")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per test (pytest-timeout); default 300")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (suite, server logs, data, junit reports)")
    ap.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    opts = ap.parse_args()

    import oss2
    if oss2.__version__ != OSS2_VERSION:
        sys.exit("the installed oss2 is %s; the suite is %s's" % (oss2.__version__, OSS2_VERSION))
    excluded = read_excluded(os.path.join(HERE, "excluded.txt"))
    workdir = tempfile.mkdtemp(prefix="ossd-oss2suite-")
    failed_any = False
    summary = []
    try:
        suite = unpack_suite(fetch_sdist(), os.path.join(workdir, "suite"))
        for version in opts.version or VERSIONS:
            ids, out, res = run_version(version, suite, workdir, excluded, opts)
            passed = sorted(i for i, (o, _) in res.items() if o == "passed")
            failed = sorted(i for i, (o, _) in res.items() if o == "failed")
            skipped = sorted(i for i, (o, _) in res.items() if o == "skipped")
            failed_any = failed_any or bool(failed)
            line = "oss2 %s suite, %s: %d passed, %d failed, %d excluded, %d total" % (
                OSS2_VERSION, version, len(passed), len(failed), len(out), len(ids))
            if skipped:
                line += " (%d skipped by the suite itself)" % len(skipped)
            summary.append(line)
            print(line, flush=True)
            if opts.list_failures:
                for i in failed:
                    print("  FAILED %s: %s" % (i, res[i][1]))
        stale = [e for e in excluded if not opts.k and not any(is_excluded(i, {e: ""}) for i in ids)]
        for e in stale:
            print("excluded.txt: %s matches no test" % e)
        print("\n".join(["", "summary:"] + summary))
        return 1 if failed_any else 0
    finally:
        if opts.keep:
            print("work dir kept:", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
