#!/usr/bin/env bash
# Benchmarks ossd (release build, fsync on) beside the machine's limits, in one run:
#   nginx serving the same 4 KiB and 1 MiB files over keep-alive, and the disk's sequential write+fsync and
#   4 KiB create+fsync rates. Loopback only; every workload is bounded in time and requests.
# Usage: bench/run.sh [seconds-per-workload]   (results: bench/results/<timestamp>.jsonl and a table)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
WARM=1
OUT=bench/results
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES="$OUT/$STAMP.jsonl"
: > "$RES"
WORK=$(mktemp -d /tmp/ossd-bench.XXXXXX)
chmod 755 "$WORK"   # nginx's workers read the files below it
cleanup() { [ -n "${OSSD_PID:-}" ] && kill "$OSSD_PID" 2>/dev/null; [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release -q -p ossd -p ossd-bench
B=target/release/ossd-bench
if ! command -v nginx >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nginx >/dev/null
fi

AK=BenchKey01
SK=bench-secret-not-real
target/release/ossd serve --listen 127.0.0.1:0 --also-listen s3=127.0.0.1:0 --data "$WORK/data" \
    --access-key-id $AK --access-key-secret $SK --fsync true --log warn > "$WORK/ossd.log" 2>&1 &
OSSD_PID=$!
for _ in $(seq 100); do grep -q "also listening" "$WORK/ossd.log" && break; sleep 0.1; done
OSS_ADDR=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/ossd.log" | head -1 | sed 's/listening on //')
S3_ADDR=$(grep -o 'also listening on 127.0.0.1:[0-9]*' "$WORK/ossd.log" | sed 's/also listening on //')

# nginx with the same files.
mkdir -p "$WORK/www/k4" "$WORK/www/m1" "$WORK/nginx"
head -c 4096 /dev/urandom > "$WORK/f4k"; head -c 1048576 /dev/urandom > "$WORK/f1m"
for i in $(seq 0 999); do cp "$WORK/f4k" "$WORK/www/k4/obj-$i"; done
for i in $(seq 0 99); do cp "$WORK/f1m" "$WORK/www/m1/obj-$i"; done
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/nginx/nginx.conf" <<NGX
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
NGX
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
sleep 0.5

run() { "$B" load --seconds "$SECS" --warmup "$WARM" "$@" | tee -a "$RES"; }
oss() { run --addr "$OSS_ADDR" --sign oss --ak $AK --sk $SK --server-pid "$OSSD_PID" "$@"; }
s3() { run --addr "$S3_ADDR" --sign s3 --ak $AK --sk $SK --server-pid "$OSSD_PID" "$@"; }
ngx() { run --addr "127.0.0.1:$NGINX_PORT" --sign none "$@"; }

for c in 1 16 64; do oss --label ossd-oss --op put --size 4096 --concurrency $c --bucket put4k; done
for c in 1 16 64; do oss --label ossd-oss --op get --size 4096 --concurrency $c --keys 1000 --bucket get4k $([ $c = 1 ] && echo --prepare); done
s3 --label ossd-s3 --op put --size 4096 --concurrency 16 --bucket s3put4k
s3 --label ossd-s3 --op get --size 4096 --concurrency 16 --keys 1000 --bucket s3get4k --prepare
for c in 1 16 64; do ngx --label nginx --op get --size 4096 --concurrency $c --keys 1000 --bucket k4; done
for c in 1 8; do oss --label ossd-oss --op put --size 1048576 --concurrency $c --bucket put1m; done
for c in 1 8; do oss --label ossd-oss --op get --size 1048576 --concurrency $c --keys 100 --bucket get1m $([ $c = 1 ] && echo --prepare); done
for c in 1 8; do ngx --label nginx --op get --size 1048576 --concurrency $c --keys 100 --bucket m1; done
oss --label ossd-oss --op put --size 67108864 --concurrency 1 --bucket put64m
oss --label ossd-oss --op get --size 67108864 --concurrency 1 --keys 4 --bucket get64m --prepare
oss --label ossd-oss --op head --concurrency 16 --keys 1000 --bucket get4k
# DELETE gets its own, larger key set and no warmup: 1000 deletes finish inside a warmup period.
"$B" load --seconds "$SECS" --warmup 0 --addr "$OSS_ADDR" --sign oss --ak $AK --sk $SK --server-pid "$OSSD_PID" \
    --label ossd-oss --op delete --concurrency 16 --keys 20000 --bucket del4k --prepare | tee -a "$RES"
LIST_KEYS=${LIST_KEYS:-100000}
"$B" load --addr "$OSS_ADDR" --sign oss --ak $AK --sk $SK --op put --size 0 --concurrency 64 --seconds 0.01 --warmup 0 \
    --keys "$LIST_KEYS" --prepare --bucket list --label prep > /dev/null
oss --label ossd-oss --op list --concurrency 1 --bucket list
oss --label ossd-oss --op list --concurrency 1 --bucket list --delimiter /
mkdir -p "$WORK/disk"
"$B" disk-seq --dir "$WORK/disk" --mib 256 | tee -a "$RES"
"$B" disk-create --dir "$WORK/disk" --seconds "$SECS" --concurrency 16 | tee -a "$RES"

python3 bench/table.py "$RES"
