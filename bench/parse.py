"""Parse and validate a large SWIPE file; compare with a bare decode-and-split loop.

    .venv/bin/python bench/parse.py [--records 1000000]

Baseline: the same file's lines decoded (GB18030, 1 MiB chunks) and split on ``|``,
nothing else. Ours: ``schemas.read`` with every rule checked and every record typed.
Each measurement runs in a fresh subprocess so that its peak RSS (VmHWM, reset after imports) minus the
interpreter's RSS after imports is the memory the parse itself needs (Linux /proc). Times are CPU
seconds of that process (``time.process_time``), best of three alternating runs: the
machine is shared, and CPU time is what other processes disturb least.
Targets (issue 4): at most 5x the bare loop's time; at most 100 MB above baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

# Memory: after imports, the peak (VmHWM) is reset through /proc/self/clear_refs and the
# current RSS taken as the baseline; the loop's figure is the new peak minus that, i.e.
# what parsing adds on top of a loaded interpreter.
RSS_NOW = """
def _status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(key))

def rss_now_kb():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status("VmRSS:")

def peak_kb():
    return _status("VmHWM:")
"""

BARE = """
import codecs, sys, time
base = rss_now_kb()
t = time.process_time()
dec = codecs.getincrementaldecoder("gb18030")("strict")
n = fields = 0
pending = ""
with open(sys.argv[1], "rb") as f:
    while chunk := f.read(1 << 20):
        parts = (pending + dec.decode(chunk)).split("\\n")
        pending = parts.pop()
        for line in parts:
            fields += len(line.split("|"))
            n += 1
print(json.dumps({"seconds": time.process_time() - t, "lines": n,
      "rss_kb": peak_kb() - base}))
"""

OURS = """
import sys, time
from schemas import reader, errors
base = rss_now_kb()
t = time.process_time()
r = reader.read(sys.argv[1], sender="BOCSZ", receiver="SVA", expected_type="SWIPE")
good = bad = 0
for item in r:
    if isinstance(item, reader.Record):
        good += 1
    else:
        bad += 1
print(json.dumps({"seconds": time.process_time() - t, "records": good, "errors": bad,
      "control_sum": r.summary.control_sum,
      "rss_kb": peak_kb() - base}))
"""


def run(code: str, path: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + RSS_NOW + code, path],
        check=True, capture_output=True, text=True, cwd=os.path.dirname(HERE),
    )  # fmt: skip
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from schemas.samples import write_sample

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "SWIPE_BOCSZ_20270111_001.txt")
        t = time.process_time()
        with open(path, "wb") as f:
            res = write_sample(f, "SWIPE", args.records, seed=args.seed, business_date=date(2027, 1, 11))
        gen = time.process_time() - t
        size = os.path.getsize(path)
        print(f"file: {res.count:,} SWIPE records, {size / 1e6:.1f} MB, generated and written in {gen:.1f} s")
        bares, ourss = [], []
        for _ in range(args.repeat):
            bares.append(run(BARE, path))
            ourss.append(run(OURS, path))
        bare = min(bares, key=lambda r: r["seconds"])
        ours = min(ourss, key=lambda r: r["seconds"])
        ours["rss_kb"] = max(r["rss_kb"] for r in ourss)
    assert ours["records"] == args.records and ours["errors"] == 0, ours
    n = args.records
    ratio = ours["seconds"] / bare["seconds"]
    print(
        f"baseline (decode + split):  {bare['seconds']:6.2f} s  {n / bare['seconds']:>12,.0f} lines/s   peak +{bare['rss_kb'] / 1024:6.1f} MB"
    )
    print(
        f"ours (parse + validate):    {ours['seconds']:6.2f} s  {n / ours['seconds']:>12,.0f} records/s peak +{ours['rss_kb'] / 1024:6.1f} MB"
    )
    print(
        f"ratio: {ratio:.2f}x the bare loop (target <= 5x); memory +{ours['rss_kb'] / 1024:.1f} MB (target <= 100 MB)"
    )


if __name__ == "__main__":
    main()
