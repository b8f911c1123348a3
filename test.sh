#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests, then the real-client tests (Python SDKs from PyPI)
# against a freshly built ossd. Installs what the tests need into .venv on first use.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
REQ=tests/clients/requirements.txt
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/requirements.installed"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
    cp "$REQ" "$VENV/requirements.installed"
fi

# rclone (a Debian package) is one of the S3 clients the tests drive.
if ! command -v rclone >/dev/null; then
    apt-get update -qq && apt-get install -y -qq rclone >/dev/null
fi
# ffmpeg (a Debian package) pushes RTMP to LiveChannels and checks the segments (tests/clients/test_live_channel.py).
if ! command -v ffmpeg >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
fi

cargo build --workspace --all-targets
cargo test --workspace
# Every fuzz target for a short while (nightly toolchain and cargo-fuzz; see fuzz/README.md).
fuzz/run.sh "${OSSD_FUZZ_SECONDS:-20}"
OSSD_BIN="$PWD/target/debug/ossd" "$VENV/bin/python" -m pytest tests/clients -q -p no:cacheprovider
# ceph's s3-tests (the PyPI port), on the subset ossd passes: tests/s3tests/subset.txt.
OSSD_BIN="$PWD/target/debug/ossd" "$VENV/bin/python" tests/s3tests/run.py
# Crash points (engine built with the `failpoints` feature): the process dies at each step of each write path.
cargo test -p ossd --features failpoints --test crash_points
