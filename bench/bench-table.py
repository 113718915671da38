#!/usr/bin/python3
"""Turns a pitool-bench JSON file (--benchmark_out=F --benchmark_out_format=json)
into the markdown table of docs/performance.md.

    /usr/bin/python3 bench/bench-table.py build/micro.json
"""
import json
import sys

UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def fmt_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_rate(v, unit):
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g} {suffix}{unit}"
    return f"{v:.3g} {unit}"


data = json.load(open(sys.argv[1]))
ctx = data["context"]
print(f"Run {ctx['date']} on {ctx['num_cpus']} CPUs @ {ctx['mhz_per_cpu']} MHz, "
      f"load average {', '.join(f'{x:.1f}' for x in ctx.get('load_avg', []))}.")
print()
print("| benchmark | wall / iter | CPU / iter | throughput | iterations | notes |")
print("|---|---:|---:|---:|---:|---|")
for b in data["benchmarks"]:
    name = b["name"].replace("/real_time", "")
    if b.get("error_occurred"):
        print(f"| {name} | – | – | – | – | ERROR: {b.get('error_message', '')} |")
        continue
    scale = UNIT[b.get("time_unit", "ns")]
    rate = []
    if "bytes_per_second" in b:
        rate.append(fmt_rate(b["bytes_per_second"], "B/s"))
    if "items_per_second" in b:
        rate.append(fmt_rate(b["items_per_second"], "items/s"))
    notes = []
    if b.get("label"):
        notes.append(b["label"])
    for k in ("json_bytes", "file_bytes", "due"):
        if k in b:
            notes.append(f"{k}={int(b[k])}")
    print(f"| {name} | {fmt_time(b['real_time'] * scale)} | {fmt_time(b['cpu_time'] * scale)} | "
          f"{', '.join(rate)} | {b['iterations']} | {'; '.join(notes)} |")
