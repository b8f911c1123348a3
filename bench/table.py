"""Prints a benchmark run (JSON lines) as a table: ossd's figures as fractions of the machine's limits, and
ossd's S3 dialect beside the S3 peers on the same workload."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
PEERS = ("s3s-fs", "garage")


def find(label, op, size=None, conc=None):
    for r in rows:
        if r["label"] == label and r["op"].lower() == op.lower() and (size is None or r.get("size") == size) \
                and (conc is None or r.get("concurrency") == conc):
            return r
    return None


def rate(r):
    """The figure a workload is judged by: MB/s for large objects, operations (or keys) per second otherwise."""
    if r["op"] == "List":
        return r["keys_per_s"]
    return r["mb_per_s"] if r.get("size", 0) > 4096 else r["ops_per_s"]


seq = find("disk", "seq_write_fsync")
create = find("disk", "create_4k_fsync")
print("%-9s %-9s %10s %4s %10s %8s %8s %8s %10s  %s" % ("who", "op", "size", "conc", "ops/s", "MB/s", "p50 us", "p99 us", "cpu s/op", "ratio"))
for r in rows:
    if r["label"] in ("disk", "prep") or "rss_kib" in r:
        continue
    notes = []
    ossd = r["label"].startswith("ossd")
    if ossd and r["op"] == "Get" and r["size"] in (4096, 1048576):
        n = find("nginx", "get", r["size"], r["concurrency"])
        if n and rate(n) > 0:
            notes.append("%.0f%% of nginx" % (100 * rate(r) / rate(n)))
    if ossd and r["op"] == "Put" and r["size"] == 4096 and create:
        notes.append("%.0f%% of create+fsync" % (100 * r["ops_per_s"] / create["files_per_s"]))
    if ossd and r["op"] in ("Put", "Multipart") and r["size"] >= 1 << 26 and seq:
        notes.append("%.0f%% of seq write+fsync" % (100 * r["mb_per_s"] / seq["mb_per_s"]))
    if r["label"] == "ossd-s3":
        for peer in PEERS:
            if peer == "s3s-fs" and r["op"] in ("Put", "Multipart", "Delete"):
                continue  # not durable: another class
            p = find(peer, r["op"], r.get("size"), r["concurrency"])
            if p and rate(p) > 0:
                notes.append("%.1fx %s" % (rate(r) / rate(p), peer))
    if r["op"] == "List":
        notes.append("%.0f keys or prefixes/s" % r["keys_per_s"])
    if r.get("errors"):
        notes.append("%d errors" % r["errors"])
    print("%-9s %-9s %10s %4s %10.1f %8.2f %8d %8d %10s  %s" % (
        r["label"], r["op"], r.get("size", ""), r["concurrency"], r["ops_per_s"], r["mb_per_s"], r["p50_us"],
        r["p99_us"], r["cpu_s_per_op"], "; ".join(notes)))
for r in rows:
    if "rss_kib" in r:
        print("memory: %-7s %-20s %7.1f MiB" % (r["label"], r["op"], r["rss_kib"] / 1024))
if seq:
    print("disk: sequential write + fsync %.1f MB/s" % seq["mb_per_s"])
if create:
    print("disk: 4 KiB create + fsync %.0f files/s at concurrency %d" % (create["files_per_s"], create["concurrency"]))
print("Peers: s3s-fs writes without fsync, so its PUT rows are another durability class and are not compared with")
print("ossd's PUT; Garage runs with metadata_fsync and data_fsync on.")
