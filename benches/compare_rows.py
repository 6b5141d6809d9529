#!/usr/bin/env python3
"""Compares the rows of two sets of `batched-svd bench --json` runs, made alternately with two
builds (A, B, A, B, ...), by the median over the runs of each row's matrices/s.

    python3 benches/compare_rows.py --a before-1.json before-2.json --b after-1.json after-2.json \
        [--backends gpu,gpu-resident] [--labels before,after]

On a shared machine absolute rates drift by 10-30 % within minutes; alternating the builds and
taking medians keeps that drift out of the ratio.
"""

import argparse
import json
import statistics


def rows(paths, backends):
    out = {}
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for r in doc["rows"]:
            if backends and r["backend"] not in backends:
                continue
            key = (r["shape"], r["vectors"], r.get("dtype", "float32"), r["backend"])
            out.setdefault(key, []).append(r["matrices_per_second"])
    return out


def si(x):
    for t, s in ((1e6, "M"), (1e3, "k")):
        if x >= t:
            return f"{x / t:.3g}{s}"
    return f"{x:.3g}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", nargs="+", required=True)
    p.add_argument("--b", nargs="+", required=True)
    p.add_argument("--backends", default="gpu,gpu-resident")
    p.add_argument("--labels", default="before,after")
    args = p.parse_args()
    backends = set(args.backends.split(",")) if args.backends else set()
    la, lb = args.labels.split(",")
    a, b = rows(args.a, backends), rows(args.b, backends)
    print(f"{'shape':9} {'mode':6} {'dtype':8} {'row':13} {la + ' (runs)':34} {lb + ' (runs)':34} {lb}/{la}")
    for key in a:
        if key not in b:
            continue
        ra = statistics.median(a[key])
        rb = statistics.median(b[key])
        fa = ", ".join(si(x) for x in a[key])
        fb = ", ".join(si(x) for x in b[key])
        print(f"{key[0]:9} {key[1]:6} {key[2]:8} {key[3]:13} {fa:34} {fb:34} {rb / ra:.3f}")


if __name__ == "__main__":
    main()
