#!/usr/bin/env python3
"""numpy.linalg.svd as a peer of the CPU engine: the bench table's batches and single large
matrices, float32, timed in this process (median of several runs).

    python3 benches/numpy_peer.py [--quick] [--json FILE] [--shapes 3x3,8x8] [--count N]
                                  [--large 256,512,1024,2048]

numpy computes a float32 SVD with LAPACK (gesdd through OpenBLAS here) in double precision and
rounds the result to float32, looping over the batch in C on one thread; OpenBLAS may use
several threads inside one large matrix. The rows print as matrices per second, the same unit as
`batched-svd bench`, so the two tables compare line by line (`batched-svd bench --numpy FILE`
reads the JSON this script writes and adds the numpy rows to its own table).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

# The bench table of bench-support (`bench_support::cases::BENCH_CASES`): (m, n, count).
BENCH_CASES = [
    (2, 2, 1 << 20),
    (3, 3, 1 << 20),
    (4, 4, 1 << 19),
    (8, 8, 1 << 17),
    (16, 16, 1 << 15),
    (32, 32, 1 << 12),
    (64, 64, 1 << 10),
    (64, 8, 1 << 14),
    (256, 16, 1 << 11),
    (8, 64, 1 << 14),
]
VALUES_ONLY = {(3, 3), (8, 8), (32, 32), (256, 16)}
LARGE = [256, 512, 1024, 2048]
QUICK_DIVISOR = 4


def timed(fn, runs, budget):
    """Median seconds of `runs` calls of fn (fewer when one call exceeds `budget` seconds)."""
    fn()  # warm-up: LAPACK workspace, page faults of the outputs
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
        if seconds[-1] > budget:
            break
    return statistics.median(seconds), seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--shapes")
    p.add_argument("--count", type=int)
    p.add_argument("--large", default=",".join(map(str, LARGE)))
    args = p.parse_args()

    cases = BENCH_CASES
    if args.shapes:
        wanted = {tuple(int(d) for d in s.lower().split("x")) for s in args.shapes.split(",")}
        cases = [c for c in BENCH_CASES if (c[0], c[1]) in wanted]
        cases += [(m, n, 1 << 12) for (m, n) in sorted(wanted) if (m, n) not in {(c[0], c[1]) for c in BENCH_CASES}]
    runs = 3 if args.quick else 5
    rng = np.random.default_rng(1)
    rows = []

    def row(kind, m, n, count, vectors, med, secs):
        rows.append(
            {
                "kind": kind,
                "shape": f"{m}x{n}",
                "m": m,
                "n": n,
                "count": count,
                "vectors": vectors,
                "median_seconds": med,
                "seconds": secs,
                "matrices_per_second": count / med,
            }
        )
        print(f"{m}x{n:<6} {count:>8} {vectors:<5} numpy {count / med:>12.4g} matrices/s  ({med:.4f} s)", flush=True)

    for m, n, count in cases:
        if args.count:
            count = args.count
        elif args.quick:
            count = max(16, count // QUICK_DIVISOR)
        a = rng.standard_normal((count, m, n), dtype=np.float32)
        med, secs = timed(lambda: np.linalg.svd(a, full_matrices=False), runs, 10.0)
        row("batch", m, n, count, "thin", med, secs)
        if (m, n) in VALUES_ONLY and not args.quick:
            med, secs = timed(lambda: np.linalg.svd(a, compute_uv=False), runs, 10.0)
            row("batch", m, n, count, "none", med, secs)
    for size in [int(s) for s in args.large.split(",") if s]:
        a = rng.standard_normal((size, size), dtype=np.float32)
        med, secs = timed(lambda: np.linalg.svd(a, full_matrices=False), 3, 5.0)
        row("single", size, size, 1, "thin", med, secs)

    if args.json:
        doc = {
            "numpy": np.__version__,
            "python": platform.python_version(),
            "cpu_threads": os.cpu_count(),
            "quick": args.quick,
            "rows": rows,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
