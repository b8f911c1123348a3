"""Prints a benchmark run (JSON lines) as a table, with ossd's figures as fractions of the machine's limits."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]


def find(label, op, size=None, conc=None):
    for r in rows:
        if r["label"] == label and r["op"].lower() == op and (size is None or r.get("size") == size) and (conc is None or r.get("concurrency") == conc):
            return r
    return None


seq = find("disk", "seq_write_fsync")
create = find("disk", "create_4k_fsync")
print("%-10s %-7s %9s %5s %11s %9s %9s %9s %11s  %s" % ("who", "op", "size", "conc", "ops/s", "MB/s", "p50 us", "p99 us", "cpu s/op", "vs limit"))
for r in rows:
    if r["label"] in ("disk", "prep"):
        continue
    limit = ""
    if r["label"].startswith("ossd") and r["op"] == "Get" and r["size"] in (4096, 1048576):
        n = find("nginx", "get", r["size"], r["concurrency"])
        if n and n["ops_per_s"] > 0:
            limit = "%.0f%% of nginx %s" % (100 * (r["mb_per_s"] / n["mb_per_s"] if r["size"] > 4096 else r["ops_per_s"] / n["ops_per_s"]),
                                           "MB/s" if r["size"] > 4096 else "ops/s")
    if r["label"].startswith("ossd") and r["op"] == "Put" and r["size"] == 4096 and create:
        limit = "%.0f%% of create+fsync files/s" % (100 * r["ops_per_s"] / create["files_per_s"])
    if r["label"].startswith("ossd") and r["op"] == "Put" and r["size"] >= 1 << 26 and seq:
        limit = "%.0f%% of seq write+fsync" % (100 * r["mb_per_s"] / seq["mb_per_s"])
    if r["op"] == "List":
        limit = "%.0f keys/s" % r["keys_per_s"]
    print("%-10s %-7s %9s %5s %11.1f %9.2f %9d %9d %11s  %s" % (r["label"], r["op"], r.get("size", ""), r["concurrency"], r["ops_per_s"],
                                                              r["mb_per_s"], r["p50_us"], r["p99_us"], r["cpu_s_per_op"], limit))
if seq:
    print("disk: sequential write + fsync %.1f MB/s" % seq["mb_per_s"])
if create:
    print("disk: 4 KiB create + fsync %.0f files/s at concurrency %d" % (create["files_per_s"], create["concurrency"]))
