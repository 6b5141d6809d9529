"""Solver objects, adapters, the default solver, thread safety, GIL release, memory."""

import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc

import numpy as np
import pytest

import batched_svd as bs

from conftest import HAVE_GPU, REQUIRE_GPU, check_svd

needs_gpu = pytest.mark.skipif(not HAVE_GPU and not REQUIRE_GPU, reason="no GPU adapter")


def test_adapters_listing():
    found = bs.adapters()
    assert isinstance(found, list)
    for i, a in enumerate(found):
        assert a["index"] == i
        assert set(a) == {"index", "name", "backend", "device_type", "driver", "compute"}
    if REQUIRE_GPU:
        assert found


def test_default_solver_is_created_once_and_reused():
    assert bs.default_solver() is bs.default_solver("auto")
    assert bs.default_solver("cpu") is bs.default_solver("cpu")
    assert bs.default_solver("cpu") is not bs.default_solver()
    bs.svd(np.eye(2), backend="cpu")
    assert bs.default_solver("cpu").last_info.engine == "cpu"


def test_solver_keeps_its_last_info(rng):
    s = bs.Solver("cpu")
    assert s.last_info is None and s.backend == "cpu" and s.adapter is None
    a = rng.standard_normal((3, 5, 4))
    r, info = s.svd(a, return_info=True)
    assert s.last_info is info
    assert info.status.shape == (3,) and info.status.dtype == np.int8
    assert info.sweeps.dtype == np.uint32 and info.off_diagonal.dtype == np.float32
    assert info.engine == "cpu" and info.reason == "requested" and info.all_converged
    assert info.converged.all()
    check_svd(a, *r, full=True)
    _, single = s.svd(a[0], return_info=True)
    assert single.status.shape == ()
    for method, args in [("pinv", ()), ("matrix_rank", ()), ("cond", ()), ("svdvals", ())]:
        getattr(s, method)(a, *args)
        assert s.last_info is not info
        info = s.last_info
    s.lstsq(a, rng.standard_normal((3, 5)))
    assert s.last_info is not info


@needs_gpu
def test_gpu_solver_on_an_explicit_adapter(rng):
    found = [a for a in bs.adapters() if a["compute"]]
    a = rng.standard_normal((300, 3, 3)).astype(np.float32)
    for choice in (found[0]["index"], found[0]["name"][:5].upper()):
        s = bs.Solver("gpu", adapter=choice)
        r, info = s.svd(a, full_matrices=False, return_info=True)
        assert info.engine == "gpu" and info.adapter == found[0]["name"]
        assert s.adapter["name"] == found[0]["name"]
        check_svd(a, *r, full=False)
        assert info.work["dispatches"] >= 1 and info.work["calls"] == 1


@needs_gpu
def test_gpu_engine_reports_work(rng):
    s = bs.Solver("gpu")
    (_, info) = s.svd(rng.standard_normal((64, 8, 8)).astype(np.float32), return_info=True)
    assert info.engine == "gpu" and info.reason == "requested"
    assert info.work["bytes_uploaded"] >= 64 * 64 * 4
    assert set(info.timings) == {"upload", "compute", "download"}


def _owner(x):
    """The object at the end of x's chain of bases (x itself when it owns its data)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x.base if x.base is not None else x


def test_svd_outputs_are_the_librarys_memory_not_copies(rng):
    """One library call for the whole batch, its output vectors handed to numpy: U, S and Vh
    do not own numpy-allocated data, they view the memory the engine wrote."""
    s = bs.Solver("cpu")
    count = 1 << 18
    a = rng.standard_normal((count, 3, 3)).astype(np.float32)  # 9 MiB in, 12 MiB out
    (U, S, Vh), info = s.svd(a, full_matrices=False, return_info=True)
    assert info.work["calls"] == 1
    for x in (U, S, Vh):
        assert not x.flags.owndata and not isinstance(_owner(x), np.ndarray)
        assert x.flags.c_contiguous and x.flags.writeable
    idx = np.r_[0:100, (1 << 17) - 50:(1 << 17) + 50, count - 100:count]
    check_svd(a[idx], U[idx], S[idx], Vh[idx], full=False)
    R, P = s.polar(a[:1000])
    assert not isinstance(_owner(R), np.ndarray) and not isinstance(_owner(P), np.ndarray)
    # Writing into an output changes that output only.
    U[0] = 0
    assert np.all(U[0] == 0) and np.any(U[1] != 0)


def test_large_pinv_batches_are_split_into_calls(rng):
    """pinv's intermediate SVD runs in slices of about 16 MiB (bounded extra memory)."""
    s = bs.Solver("cpu")
    count = 1 << 18
    a = rng.standard_normal((count, 3, 3)).astype(np.float32)
    p, info = s.pinv(a, return_info=True)
    assert info.work["calls"] >= 2
    idx = np.r_[0:100, (1 << 17) - 50:(1 << 17) + 50, count - 100:count]
    np.testing.assert_allclose(p[idx], np.linalg.pinv(a[idx].astype(np.float64)), atol=2e-3, rtol=1e-3)


@pytest.mark.parametrize("backend", ["cpu", pytest.param("gpu", marks=needs_gpu), "auto"])
def test_concurrent_calls_from_threads(backend, rng):
    solver = bs.Solver(backend)
    batches = [rng.standard_normal((500, 4, 3)).astype(np.float32) for _ in range(8)]
    expected = [np.linalg.svd(b.astype(float), compute_uv=False) for b in batches]
    errors = []

    def work(i):
        try:
            for _ in range(3):
                s = solver.svd(batches[i], compute_uv=False)
                np.testing.assert_allclose(s, expected[i], rtol=0, atol=16 * 4 * 2.0**-23 * 10)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("backend", ["cpu", pytest.param("gpu", marks=needs_gpu)])
def test_gil_is_released_during_a_call(backend, rng):
    """Another Python thread keeps running while a long call computes."""
    solver = bs.Solver(backend)
    shape = (1 << 16, 16, 16) if backend == "cpu" else (1 << 15, 16, 16)
    a = rng.standard_normal(shape).astype(np.float32)
    solver.svd(a[:64])  # warm: device and pipelines
    progress = []
    done = threading.Event()

    def spin():
        n = 0
        while not done.is_set():
            n += 1
            if n % 1000 == 0:
                progress.append(time.perf_counter())

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    solver.svd(a, full_matrices=False)
    end = time.perf_counter()
    done.set()
    t.join()
    during = [p for p in progress if start <= p <= end]
    assert end - start > 0.2, "the call was too short to tell"
    # Held GIL: the spinning thread would not run at all during the call.
    assert len(during) >= 20, (len(during), end - start)
    assert during[-1] - during[0] > 0.5 * (end - start)


def test_tracemalloc_no_copy_of_contiguous_input(rng):
    """Python-heap (numpy) allocations during a call: the outputs only for C-ordered,
    Fortran-ordered 2-D and axis-swapped input; one copy of the input for strided input."""
    s = bs.Solver("cpu")
    count, m, n = 1 << 15, 3, 3
    a = rng.standard_normal((count, m, n)).astype(np.float32)
    out = count * (m * m + m + n * n) * 4 + count * (1 + 4 + 4)  # U, S, Vh, info arrays
    s.svd(a[:10])

    def peak(x):
        tracemalloc.start()
        tracemalloc.reset_peak()
        r = s.svd(x, full_matrices=True)
        _, p = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del r
        return p

    assert peak(a) <= out * 1.05 + 65536
    assert peak(np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)) <= out * 1.05 + 65536
    big = rng.standard_normal((2000, 1500)).astype(np.float32)
    f = np.asfortranarray(big)
    tracemalloc.start()
    s.svd(f, compute_uv=False)
    _, p = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert p < big.nbytes / 4  # read in place, not copied
    strided = np.stack([a, a], axis=1)[:, 0]
    p = peak(strided)
    assert a.nbytes <= p <= out * 1.05 + a.nbytes * 1.05 + 65536


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys, numpy as np, batched_svd as bs

    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    backend = sys.argv[1]
    solver = bs.Solver(backend)
    count = 1 << 20
    solver.svd(np.ones((2048, 3, 3), np.float32), full_matrices=False)  # device, pipelines
    base_before_input = rss("VmRSS")
    a = np.random.default_rng(0).standard_normal((count, 3, 3), dtype=np.float32)
    base = rss("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    U, S, Vh = solver.svd(a, full_matrices=False)
    peak = rss("VmHWM")
    print(json.dumps({
        "input": a.nbytes, "output": U.nbytes + S.nbytes + Vh.nbytes,
        "base": base, "base_before_input": base_before_input, "peak": peak,
        "engine": solver.last_info.engine,
    }))
    """
)


@pytest.mark.parametrize("backend", ["cpu", pytest.param("gpu", marks=needs_gpu)])
def test_peak_memory_of_a_large_call(backend):
    """2**20 3x3 float32 matrices: the call's peak resident memory beyond the baseline is at
    most 1.5x the bytes of input plus output, with the baseline taken before the input was
    created (so the input's own pages count against the budget too; the device and its
    pipelines exist already, from a small warm-up call)."""
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux's /proc/self/clear_refs")
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, backend], capture_output=True, text=True, check=True
    )
    import json

    r = json.loads(out.stdout.strip().splitlines()[-1])
    used = r["peak"] - r["base_before_input"]
    budget = 1.5 * (r["input"] + r["output"])
    print(r, used / (r["input"] + r["output"]))
    assert used <= budget, (used, budget, r)
