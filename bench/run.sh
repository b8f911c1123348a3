#!/usr/bin/env bash
# Benchmarks ossd (release build, fsync on) beside the machine's limits and its peers, in one run:
#   - nginx serving the same 4 KiB and 1 MiB files over keep-alive;
#   - the disk's sequential write+fsync and 4 KiB create+fsync rates;
#   - s3s-fs and Garage (S3 only, so beside ossd's S3 dialect), installed once into a cache directory.
# Loopback only; every workload is bounded in time and requests.
# Usage: bench/run.sh [seconds-per-workload]   (results: bench/results/<timestamp>.jsonl and a table)
# Environment: PEERS=0 skips the peers; LIST_KEYS (default 1000000) sizes the listing bucket;
#   OSSD_BENCH_CACHE (default ~/.cache/ossd-bench) is where the peers are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
WARM=2
OUT=bench/results
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES="$OUT/$STAMP.jsonl"
: > "$RES"
WORK=$(mktemp -d /tmp/ossd-bench.XXXXXX)
chmod 755 "$WORK"   # nginx's workers read the files below it
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release -q -p ossd -p ossd-bench
B=target/release/ossd-bench
if ! command -v nginx >/dev/null; then
    apt-get update -qq && apt-get install -y -qq nginx >/dev/null
fi

# The peers build for minutes; they are installed once and reused.
CACHE=${OSSD_BENCH_CACHE:-$HOME/.cache/ossd-bench}
if [ "${PEERS:-1}" = 1 ]; then
    [ -x "$CACHE/bin/s3s-fs" ] || cargo install -q --root "$CACHE" s3s-fs@0.14.1 --locked --features binary ||
        echo "s3s-fs could not be installed; its rows are left out"
    [ -x "$CACHE/bin/garage" ] || cargo install -q --root "$CACHE" garage --locked --no-default-features \
        --features bundled-libs,lmdb,sqlite || echo "Garage could not be installed; its rows are left out"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
kib() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/status"; }
rss() { echo "{\"label\":\"$1\",\"op\":\"$2\",\"rss_kib\":$3}" | tee -a "$RES"; }

AK=BenchKey01
SK=bench-secret-not-real
# Starts an ossd; sets OSSD_PID, OSS_ADDR and S3_ADDR.
start_ossd() {
    local dir=$1 fsync=$2
    target/release/ossd serve --listen 127.0.0.1:0 --also-listen s3=127.0.0.1:0 --data "$dir" \
        --access-key-id $AK --access-key-secret $SK --fsync "$fsync" --log warn > "$dir.log" 2>&1 &
    OSSD_PID=$!
    PIDS+=("$OSSD_PID")
    for _ in $(seq 100); do grep -q "also listening" "$dir.log" 2>/dev/null && break; sleep 0.1; done
    OSS_ADDR=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$dir.log" | head -1 | sed 's/listening on //')
    S3_ADDR=$(grep -o 'also listening on 127.0.0.1:[0-9]*' "$dir.log" | sed 's/also listening on //')
}
start_ossd "$WORK/data" true
MAIN_PID=$OSSD_PID
MAIN_OSS=$OSS_ADDR
MAIN_S3=$S3_ADDR
sleep 1
rss ossd idle "$(kib "$MAIN_PID" VmRSS)"

S3S_ADDR=""
if [ "${PEERS:-1}" = 1 ] && [ -x "$CACHE/bin/s3s-fs" ]; then
    mkdir -p "$WORK/s3s"
    S3S_ADDR=127.0.0.1:$(free_port)
    "$CACHE/bin/s3s-fs" --host 127.0.0.1 --port "${S3S_ADDR#*:}" --access-key $AK --secret-key $SK "$WORK/s3s" \
        > "$WORK/s3s.log" 2>&1 &
    S3S_PID=$!
    PIDS+=("$S3S_PID")
    sleep 1
    rss s3s-fs idle "$(kib "$S3S_PID" VmRSS)"
fi

GARAGE_ADDR=""
if [ "${PEERS:-1}" = 1 ] && [ -x "$CACHE/bin/garage" ]; then
    G="$CACHE/bin/garage -c $WORK/garage.toml"
    RPC=$(free_port)
    GARAGE_ADDR=127.0.0.1:$(free_port)
    # Single node, replication 1, fsync of data and metadata on: the same durability class as ossd's default.
    cat > "$WORK/garage.toml" <<GT
metadata_dir = "$WORK/garage/meta"
data_dir = "$WORK/garage/data"
db_engine = "lmdb"
metadata_fsync = true
data_fsync = true
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC"
rpc_public_addr = "127.0.0.1:$RPC"
rpc_secret = "$(hex 32)"
[s3_api]
s3_region = "us-east-1"
api_bind_addr = "$GARAGE_ADDR"
root_domain = ".s3.garage.localhost"
GT
    $G server > "$WORK/garage.log" 2>&1 &
    GARAGE_PID=$!
    PIDS+=("$GARAGE_PID")
    for _ in $(seq 100); do $G status 2>/dev/null | grep -q "NO ROLE" && break; sleep 0.2; done
    NODE=$($G status 2>/dev/null | awk '/NO ROLE/ {print $1}')
    $G layout assign -z dc1 -c 10G "$NODE" > /dev/null
    $G layout apply --version 1 > /dev/null
    GAK=GK$(hex 12)
    GSK=$(hex 32)
    $G key import --yes "$GAK" "$GSK" > /dev/null
    $G key allow --create-bucket "$GAK" > /dev/null
    sleep 1
    rss garage idle "$(kib "$GARAGE_PID" VmRSS)"
fi

# nginx with the same files.
mkdir -p "$WORK/www/k4" "$WORK/www/m1" "$WORK/nginx"
head -c 4096 /dev/urandom > "$WORK/f4k"; head -c 1048576 /dev/urandom > "$WORK/f1m"
for i in $(seq 0 999); do cp "$WORK/f4k" "$WORK/www/k4/obj-$i"; done
for i in $(seq 0 99); do cp "$WORK/f1m" "$WORK/www/m1/obj-$i"; done
NGINX_PORT=$(free_port)
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
PIDS+=("$!")
sleep 0.5

run() { "$B" load --seconds "$SECS" --warmup "${W:-$WARM}" "$@" | tee -a "$RES"; }
oss() { run --addr "$MAIN_OSS" --sign oss --ak $AK --sk $SK --server-pid "$MAIN_PID" --label ossd-oss "$@"; }
s3() { run --addr "$MAIN_S3" --sign s3 --ak $AK --sk $SK --server-pid "$MAIN_PID" --label ossd-s3 "$@"; }
s3s() { [ -z "$S3S_ADDR" ] || run --addr "$S3S_ADDR" --sign s3 --ak $AK --sk $SK --server-pid "$S3S_PID" --label s3s-fs "$@"; }
garage() { [ -z "$GARAGE_ADDR" ] || run --addr "$GARAGE_ADDR" --sign s3 --ak "$GAK" --sk "$GSK" --server-pid "$GARAGE_PID" --label garage "$@"; }
ngx() { run --addr "127.0.0.1:$NGINX_PORT" --sign none --label nginx "$@"; }
# The keys are uploaded once, in the run at 16 connections (a peer that stalls on each request would take minutes
# to fill them over one).
prep() { [ "$1" = 16 ] && echo --prepare; true; }

# 4 KiB
for c in 1 16 64; do oss --op put --size 4096 --concurrency $c --bucket put4k; done
for c in 16 1 64; do oss --op get --size 4096 --concurrency $c --keys 1000 --bucket get4k $(prep $c); done
for c in 1 16 64; do ngx --op get --size 4096 --concurrency $c --keys 1000 --bucket k4; done
for who in s3 s3s garage; do
    $who --op put --size 4096 --concurrency 16 --bucket put4k
    for c in 16 1 64; do $who --op get --size 4096 --concurrency $c --keys 1000 --bucket get4k $(prep $c); done
done
# 1 MiB
for c in 1 8; do oss --op put --size 1048576 --concurrency $c --bucket put1m; done
for c in 8 1; do oss --op get --size 1048576 --concurrency $c --keys 100 --bucket get1m $([ $c = 8 ] && echo --prepare); done
for c in 1 8; do ngx --op get --size 1048576 --concurrency $c --keys 100 --bucket m1; done
for who in s3 s3s garage; do
    $who --op put --size 1048576 --concurrency 8 --bucket put1m
    $who --op get --size 1048576 --concurrency 8 --keys 100 --bucket get1m --prepare
done
# 64 MiB: single PUT, multipart PUT (8 MiB parts), GET
for who in oss s3 s3s garage; do
    for c in 1 4; do $who --op put --size 67108864 --concurrency $c --bucket put64m; done
    for c in 1 4; do $who --op multipart --size 67108864 --concurrency $c --bucket mp64m; done
    for c in 1 4; do $who --op get --size 67108864 --concurrency $c --keys 4 --bucket get64m $([ $c = 1 ] && echo --prepare); done
done
# HEAD and DELETE. DELETE gets its own, larger key set and no warmup: 1000 deletes finish inside a warmup period.
# Garage gets fewer keys: it stores about 300 objects a second here, and the key set is uploaded first.
for who in oss s3 s3s garage; do
    $who --op head --concurrency 16 --keys 1000 --bucket get4k
    W=0 $who --op delete --concurrency 16 --keys $([ $who = garage ] && echo 3000 || echo 20000) --bucket del4k --prepare
done

# Memory: the peak RSS while one 2 GiB object goes in and comes back out (the peak is reset first).
echo 5 > "/proc/$MAIN_PID/clear_refs"
"$B" load --addr "$MAIN_OSS" --sign oss --ak $AK --sk $SK --op get --size 2147483648 --concurrency 1 --keys 1 \
    --prepare --max-requests 1 --seconds 600 --warmup 0 --bucket big --label ossd-oss > /dev/null
rss ossd peak-2GiB-put-get "$(kib "$MAIN_PID" VmHWM)"
rss ossd after-run "$(kib "$MAIN_PID" VmRSS)"

# Listing: a full walk (ListObjectsV2 pages of 1000), and with delimiter "/" over keys spread across 100 prefixes
# (one page of 100 common prefixes a walk). Listing runs on its own ossd with fsync off, only so that filling a bucket with LIST_KEYS keys takes minutes,
# not longer; a listing reads, and fsync does not change it.
LIST_KEYS=${LIST_KEYS:-1000000}
start_ossd "$WORK/list" false
"$B" load --addr "$OSS_ADDR" --sign oss --ak $AK --sk $SK --op put --size 0 --concurrency 64 --seconds 0.01 --warmup 0 \
    --keys "$LIST_KEYS" --dirs 100 --prepare --bucket list --label prep > /dev/null
run --addr "$OSS_ADDR" --sign oss --ak $AK --sk $SK --server-pid "$OSSD_PID" --label ossd-oss --op list --concurrency 1 --bucket list
run --addr "$OSS_ADDR" --sign oss --ak $AK --sk $SK --server-pid "$OSSD_PID" --label ossd-oss --op list --concurrency 1 --bucket list --delimiter /

mkdir -p "$WORK/disk"
"$B" disk-seq --dir "$WORK/disk" --mib 512 | tee -a "$RES"
"$B" disk-create --dir "$WORK/disk" --seconds "$SECS" --concurrency 16 | tee -a "$RES"

python3 bench/table.py "$RES"
