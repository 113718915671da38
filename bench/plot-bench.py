#!/usr/bin/python3
"""Plots bench/bench-peers.sh results: median cost of one call (ms, log y)
against the number of stored credentials (log x, 1..100,000), one line per
tool. Debian's python3 has matplotlib (python3-matplotlib, see
bench/bench-deps.sh); a pyenv python may not, hence /usr/bin/python3.

    /usr/bin/python3 bench/plot-bench.py [build/bench-peers/results.csv] [docs/perf-scale.png]
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src = sys.argv[1] if len(sys.argv) > 1 else "build/bench-peers/results.csv"
dst = sys.argv[2] if len(sys.argv) > 2 else "docs/perf-scale.png"

series = defaultdict(dict)  # tool -> {size: median_ms}
kdf = {}
with open(src, newline="") as f:
    for row in csv.DictReader(f):
        size = int(row["size"])
        tool = row["tool"]
        # The floor appears in every invocation; keep the first per size.
        series[tool].setdefault(size, float(row["median_ms"]))
        kdf.setdefault(tool, row.get("kdf", ""))

# pitool first, in bold; peers thinner; floors dotted.
def style(tool):
    if tool.startswith("pitool"):
        return dict(linewidth=2.4, marker="o")
    if "floor" in tool:
        return dict(linewidth=1.2, linestyle=":", marker=".", color="grey" if tool.startswith("trivial") else "silver")
    return dict(linewidth=1.3, marker="s", markersize=4, linestyle="--")

order = sorted(series, key=lambda t: (not t.startswith("pitool"), "floor" in t, t))
fig, ax = plt.subplots(figsize=(13, 6.5), dpi=110)
for tool in order:
    pts = sorted(series[tool].items())
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    label = tool + (f"  [{kdf[tool]}]" if kdf.get(tool) else "")
    ax.plot(xs, ys, label=label, **style(tool))

ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlim(0.7, 150000)
ax.set_xticks([1, 10, 100, 1000, 10000, 100000])
ax.set_xticklabels(["1", "10", "100", "1k", "10k", "100k"])
ax.set_xlabel("credentials stored (N)")
ax.set_ylabel("median wall time of one process (ms, log)")
ax.set_title("One call, whole process, by store size\n(hyperfine medians on a shared 2-core machine; missing points: see docs/performance.md)")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
fig.tight_layout()
fig.savefig(dst)
print(f"wrote {dst} from {src}: {len(series)} series")
