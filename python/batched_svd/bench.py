"""``python -m batched_svd.bench``: batched_svd against ``numpy.linalg.svd`` on the same arrays.

Every row times both on one random Gaussian array (end to end from Python: input checks,
the computation, the numpy outputs), the median of ``--runs`` timed runs after one warm-up
call, and prints ``speedup = numpy seconds / batched_svd seconds``. The first three rows carry
the targets of issue 14; the others are the shapes of the Rust bench table
(``docs/bench-lavapipe.txt``), where batched_svd should never be slower than numpy. The last
line is the overhead of one call on a single 3×3 matrix once the device is warm.

Options: ``--quick`` (fewer runs, smaller batches), ``--large`` (adds single 1024×1024 and
2048×2048 matrices), ``--backend auto|gpu|cpu``, ``--runs N``, ``--only SHAPE[,SHAPE]``,
``--dtype float32|float64|complex64|complex128`` (default float32; the targets are float32's,
so other dtypes print none).

"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Callable, List, NamedTuple, Optional

import numpy as np

import batched_svd


class Case(NamedTuple):
    m: int
    n: int
    count: int
    compute_uv: bool
    target: Optional[float]


#: The issue's targets first, then the rest of the Rust bench table (f32, full_matrices=False).
CASES: List[Case] = [
    Case(3, 3, 1 << 20, True, 10.0),
    Case(8, 8, 1 << 16, True, 5.0),
    Case(16, 16, 1 << 14, True, 2.0),
    Case(2, 2, 1 << 20, True, 1.0),
    Case(3, 3, 1 << 20, False, 1.0),
    Case(4, 4, 1 << 19, True, 1.0),
    Case(8, 8, 1 << 17, True, 1.0),
    Case(8, 8, 1 << 17, False, 1.0),
    Case(16, 16, 1 << 15, True, 1.0),
    Case(32, 32, 1 << 10, True, 1.0),
    Case(32, 32, 1 << 11, False, 1.0),
    Case(64, 64, 1 << 8, True, 1.0),
    Case(64, 8, 1 << 14, True, 1.0),
    Case(8, 64, 1 << 14, True, 1.0),
    Case(256, 16, 1 << 11, True, 1.0),
    Case(256, 16, 1 << 11, False, 1.0),
    Case(256, 256, 1, True, 1.0),
    Case(512, 512, 1, True, 1.0),
]

LARGE: List[Case] = [Case(1024, 1024, 1, True, 1.0), Case(2048, 2048, 1, True, 1.0)]


def _median_seconds(f: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _runs_for(seconds: float, runs: int) -> int:
    """Fewer runs for slow rows (at most about 10 s per row and side)."""
    if seconds <= 0:
        return runs
    return max(1, min(runs, int(10.0 / seconds)))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m batched_svd.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="1/8 of the batch sizes, 3 runs")
    p.add_argument("--large", action="store_true", help="add 1024x1024 and 2048x2048")
    p.add_argument("--backend", default="auto", choices=["auto", "gpu", "cpu"])
    p.add_argument("--runs", type=int, default=5, help="timed runs per row and side")
    p.add_argument("--only", default=None, help="comma-separated shapes, e.g. 3x3,8x8")
    p.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "float64", "complex64", "complex128"],
        help="element type of the arrays (targets apply to float32 only)",
    )
    args = p.parse_args(argv)
    dtype = np.dtype(args.dtype)
    runs = 3 if args.quick else args.runs
    cases = CASES + (LARGE if args.large else [])
    if args.only:
        wanted = {s.strip() for s in args.only.split(",")}
        cases = [c for c in cases if f"{c.m}x{c.n}" in wanted]

    solver = batched_svd.Solver(args.backend)
    adapter = solver.adapter
    print(f"batched_svd {batched_svd.__version__}, numpy {np.__version__}, backend {args.backend}")
    print(f"adapter: {adapter['name'] + ' (' + adapter['backend'] + ')' if adapter else 'none'}")
    print(f"median of up to {runs} runs after a warm-up call, {dtype}, full_matrices=False\n")
    header = (
        f"{'shape':>9} {'count':>8} {'vectors':>7} {'engine':>6} {'numpy s':>9} "
        f"{'bsvd s':>9} {'speedup':>8} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(42)

    def gaussian(shape: tuple) -> np.ndarray:
        x = rng.standard_normal(shape, dtype=np.float32)
        if dtype.kind == "c":
            x = x + 1j * rng.standard_normal(shape, dtype=np.float32)
        return x.astype(dtype)

    missed = 0
    for c in cases:
        count = c.count if not args.quick else max(1, c.count // 8)
        a = gaussian((count, c.m, c.n))
        if count == 1:
            a = a[0]

        def ours() -> object:
            return solver.svd(a, full_matrices=False, compute_uv=c.compute_uv)

        def theirs() -> object:
            return np.linalg.svd(a, full_matrices=False, compute_uv=c.compute_uv)

        warm = time.perf_counter()
        ours()
        warm = time.perf_counter() - warm
        engine = solver.last_info.engine if solver.last_info else "?"
        t_ours = _median_seconds(ours, _runs_for(warm, runs))
        first = time.perf_counter()
        theirs()
        first = time.perf_counter() - first
        t_np = _median_seconds(theirs, _runs_for(first, runs))
        speedup = t_np / t_ours
        target = c.target if dtype == np.float32 else None
        ok = target is None or speedup >= target
        missed += not ok
        mark = "" if ok else "  (missed)"
        print(
            f"{c.m:>4}x{c.n:<4} {count:>8} {'thin' if c.compute_uv else 'none':>7} "
            f"{engine:>6} {t_np:>9.4f} {t_ours:>9.4f} {speedup:>7.2f}x "
            f"{'>= %gx' % target if target else '':>7}{mark}"
        )
        sys.stdout.flush()

    # The overhead of one call on one 3×3 matrix, once the device and pipeline are warm.
    one = gaussian((3, 3))
    for _ in range(50):
        solver.svd(one, full_matrices=False)
    calls = 2000
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(calls // 5):
            solver.svd(one, full_matrices=False)
        samples.append((time.perf_counter() - t) / (calls // 5))
    t_one = statistics.median(samples)
    t = time.perf_counter()
    for _ in range(calls // 5):
        np.linalg.svd(one, full_matrices=False)
    t_np_one = (time.perf_counter() - t) / (calls // 5)
    engine = solver.last_info.engine if solver.last_info else "?"
    print(
        f"\none 3x3 matrix, warm: {t_one * 1e6:.1f} us per call on {engine} "
        f"(target < 50 us; numpy {t_np_one * 1e6:.1f} us)"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
