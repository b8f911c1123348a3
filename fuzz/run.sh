#!/usr/bin/env bash
# Builds the fuzz targets (nightly, cargo-fuzz) and runs each for SECONDS, one after the other, starting from its
# committed seeds (fuzz/corpus/<target>) plus what earlier runs here found (fuzz/target/corpus/<target>), with
# the target's dictionary (fuzz/dict/<target>.dict).
# Prints, per target, the inputs executed, the time and the crashes; exits non-zero if any target crashed.
# A crashing input is kept in fuzz/artifacts/<target>/; replay it with
#   fuzz/target/<host>/release/<target> fuzz/artifacts/<target>/crash-...
#
# usage: fuzz/run.sh SECONDS [TARGET...]      (all targets when none is named)
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_EACH=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^ossd-fuzz$')
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# No sanitizer: the code under test is safe Rust (and bundled C that is not instrumented anyway); panics,
# overflows (debug assertions are on), aborts, timeouts and memory blow-ups are what is looked for.
cargo +nightly fuzz build -s none
HOST=$(rustc +nightly -vV | sed -n 's/^host: //p')
BIN=target/$HOST/release

summary=()
failed=0
for t in "${TARGETS[@]}"; do
    work=$(mktemp -d)
    mkdir -p "target/corpus/$t" "artifacts/$t" "$work/tmp"
    log="$work/log"
    start=$(date +%s)
    status=0
    dict=()
    if [ -f "dict/$t.dict" ]; then dict=(-dict="dict/$t.dict"); fi
    # The first corpus directory receives new inputs; the committed seeds are only read.
    TMPDIR="$work/tmp" "$BIN/$t" "target/corpus/$t" "corpus/$t" \
        -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" "${dict[@]}" >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=0
    if [ "$status" -ne 0 ]; then
        crashes=1
        failed=1
        cp "$log" "artifacts/$t/log-$(date +%Y%m%dT%H%M%S)"
        echo "=== $t crashed (exit $status); its log is kept in fuzz/artifacts/$t/; the panic:"
        grep -A3 -m1 "panicked at" "$log" || tail -20 "$log"
        grep -A2 "^SUMMARY\|^artifact_prefix" "$log" || true
        ls -1 "artifacts/$t"
    fi
    summary+=("$(printf '%-16s %14s %8s %8s' "$t" "${runs:-?}" "${elapsed}s" "$crashes")")
    rm -rf "$work"
done

printf '%-16s %14s %8s %8s\n' target inputs time crashes
printf '%s\n' "${summary[@]}"
exit $failed
