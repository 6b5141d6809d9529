#!/usr/bin/env python3
"""The CUDA peers of the real-GPU check: torch.linalg.svd (cuSOLVER) and cupy.linalg.svd on the
bench's shapes and batch sizes, on the GPU, synchronised; and the combined table.

    python3 gpu_peers.py --cases 3x3:16777216,8x8:1048576 --json peers.json
    python3 gpu_peers.py --combine bench.json peers.json      # prints the table

Each case: random float32 (count, m, n) on the device, one warm-up call, then the median of
three timed calls (the clock read after torch.cuda.synchronize / the CuPy stream's
synchronize). A call over 10 s ends that peer's cases. The singular values of the first 256
matrices of each case from both peers are compared (max relative difference to sigma_1).
Without torch or CUDA the JSON says so and has no rows (the lavapipe run of the check).
"""

import argparse
import json
import statistics
import sys
import time

MAX_CALL = 10.0


def parse_cases(text):
    cases = []
    for item in text.split(","):
        shape, count = item.split(":")
        m, n = (int(d) for d in shape.lower().split("x"))
        cases.append((m, n, int(count)))
    return cases


def timed(fn, sync):
    fn()
    sync()
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        sync()
        runs.append(time.perf_counter() - t0)
        if runs[-1] > MAX_CALL:
            break
    return statistics.median(runs)


def measure(cases):
    doc = {"rows": [], "device": None, "note": None}
    try:
        import torch
    except ImportError:
        doc["note"] = "torch is not installed: no CUDA peers"
        return doc
    if not torch.cuda.is_available():
        doc["note"] = "torch sees no CUDA device: no CUDA peers"
        return doc
    doc["device"] = torch.cuda.get_device_name(0)
    doc["torch"] = torch.__version__
    try:
        import cupy
        doc["cupy"] = cupy.__version__
    except ImportError:
        cupy = None
    gen = torch.Generator(device="cuda").manual_seed(1)
    alive = {"torch": True, "cupy": cupy is not None}
    for m, n, count in cases:
        a = torch.randn((count, m, n), device="cuda", dtype=torch.float32, generator=gen)
        row = {"shape": f"{m}x{n}", "m": m, "n": n, "count": count}
        sample = {}
        if alive["torch"]:
            try:
                s = timed(lambda: torch.linalg.svd(a, full_matrices=False), torch.cuda.synchronize)
                row["torch_seconds"] = s
                row["torch_matrices_per_second"] = count / s
                alive["torch"] = s <= MAX_CALL
                sample["torch"] = torch.linalg.svdvals(a[:256]).cpu().double().numpy()
            except Exception as e:  # out of memory, unsupported size
                row["torch_error"] = str(e).splitlines()[0]
        if alive["cupy"]:
            try:
                ca = cupy.asarray(a)
                sync = cupy.cuda.get_current_stream().synchronize
                s = timed(lambda: cupy.linalg.svd(ca, full_matrices=False), sync)
                row["cupy_seconds"] = s
                row["cupy_matrices_per_second"] = count / s
                alive["cupy"] = s <= MAX_CALL
                sample["cupy"] = cupy.asnumpy(cupy.linalg.svd(ca[:256], compute_uv=False)).astype("float64")
                del ca
            except Exception as e:
                row["cupy_error"] = str(e).splitlines()[0]
        if len(sample) == 2:
            t, c = sample["torch"], sample["cupy"]
            row["sigma_max_rel_diff"] = float((abs(t - c).max(axis=1) / t[:, 0]).max())
        doc["rows"].append(row)
        print(json.dumps(row), flush=True)
        del a
        torch.cuda.empty_cache()
    return doc


def si(x):
    if x is None:
        return "-"
    for t, s in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= t:
            return f"{x / t:.3g}{s}"
    return f"{x:.3g}"


def combine(bench_path, peers_path):
    bench = json.load(open(bench_path))
    try:
        peers = json.load(open(peers_path))
    except (OSError, ValueError):
        peers = {"rows": [], "note": "no peers file"}
    adapter = bench.get("adapter") or {}
    print(f"adapter: {adapter.get('name')} ({adapter.get('backend')}, {adapter.get('device_type')}); "
          f"peers: {peers.get('device') or peers.get('note')}")
    by = {}
    for r in bench["rows"]:
        if r["vectors"] != "thin" or r.get("dtype", "float32") != "float32":
            continue
        by.setdefault((r["m"], r["n"]), {})[r["backend"]] = r
    prow = {(r["m"], r["n"]): r for r in peers.get("rows", [])}
    head = ["shape", "count", "gpu", "gpu resident", "cpu engine", "torch", "cupy", "gpu/torch", "trips", "sigma diff"]
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for (m, n), rows in by.items():
        g = rows.get("gpu", {})
        p = prow.get((m, n), {})
        rate = lambda r: r.get("matrices_per_second") if r else None
        ratio = "-"
        if g and p.get("torch_matrices_per_second"):
            ratio = f"{rate(g) / p['torch_matrices_per_second']:.2f}x"
        cells = [f"{m}x{n}", str(g.get("count", "-")), si(rate(g)), si(rate(rows.get("gpu-resident"))),
                 si(rate(rows.get("cpu"))), si(p.get("torch_matrices_per_second")),
                 si(p.get("cupy_matrices_per_second")), ratio, str(g.get("host_round_trips", "-")),
                 f"{p['sigma_max_rel_diff']:.1e}" if "sigma_max_rel_diff" in p else "-"]
        print(" | ".join(cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases")
    ap.add_argument("--json")
    ap.add_argument("--combine", nargs=2, metavar=("BENCH_JSON", "PEERS_JSON"))
    args = ap.parse_args()
    if args.combine:
        combine(*args.combine)
        return 0
    doc = measure(parse_cases(args.cases))
    if doc.get("note"):
        print(doc["note"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
