"""`make bench`: every benchmark in turn (or those named in BENCH, e.g. BENCH="national documents"),
each writing its section of docs/benchmarks.md. BENCH_SCALE=0.05 runs smaller sizes."""

from __future__ import annotations

import importlib
import os
import sys
import time

from bench.common import load, scale

ORDER = ("documents", "campaign", "national", "approvals")


def main() -> int:
    chosen = os.environ.get("BENCH", "").split() or list(ORDER)
    unknown = [name for name in chosen if name not in ORDER]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {', '.join(ORDER)}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"== {name} (BENCH_SCALE={scale():g}, load average {load()})", flush=True)
        start = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        print(f"== {name} done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
