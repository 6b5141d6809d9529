"""Shared fixtures: the backends to test, a seeded generator, the accuracy bounds.

GPU tests run when wgpu finds an adapter (Mesa lavapipe counts); without one they are
skipped, unless ``BATCHED_SVD_REQUIRE_GPU=1`` (as in CI), which makes them fail instead.
"""

import os

import numpy as np
import pytest

import batched_svd as bs

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def _have_gpu() -> bool:
    try:
        return any(a["compute"] for a in bs.adapters())
    except Exception:
        return False


HAVE_GPU = _have_gpu()
REQUIRE_GPU = os.environ.get("BATCHED_SVD_REQUIRE_GPU") == "1"


def _gpu_param(name: str):
    marks = []
    if not HAVE_GPU and not REQUIRE_GPU:
        marks.append(pytest.mark.skip(reason="no GPU adapter (set BATCHED_SVD_REQUIRE_GPU=1 to fail)"))
    return pytest.param(name, marks=marks, id=name)


#: Every backend: the CPU engine, the GPU engine, and auto.
BACKENDS = [pytest.param("cpu", id="cpu"), _gpu_param("gpu"), pytest.param("auto", id="auto")]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240614)


def eps(dtype) -> float:
    """The library's unit roundoff: 2**-23 for float32, 2**-52 for float64."""
    return 2.0**-23 if np.dtype(dtype) == np.float32 else 2.0**-52


def check_svd(a, U, S, Vh, full: bool) -> None:
    """The README's Accuracy bounds against numpy in float64, for every matrix of ``a``:
    ``|σ − σ_f64| ≤ 16·max(m, n)·ε·σ₁``, ``max|UᵀU − I| ≤ 16·m·ε``, ``max|VᵀV − I| ≤ 16·n·ε``,
    ``‖A − UΣVᵀ‖_F ≤ 16·max(m, n)·ε·‖A‖_F``."""
    m, n = a.shape[-2:]
    k = min(m, n)
    e = eps(a.dtype)
    a64 = a.astype(np.float64)
    s_ref = np.linalg.svd(a64, compute_uv=False)
    s1 = s_ref[..., :1] if k else np.zeros(a.shape[:-2] + (1,))
    assert np.all(np.abs(S.astype(np.float64) - s_ref) <= 16 * max(m, n) * e * s1 + 1e-300)
    u, vh = U.astype(np.float64), Vh.astype(np.float64)
    uu = np.swapaxes(u, -1, -2) @ u
    vv = vh @ np.swapaxes(vh, -1, -2)
    assert np.all(np.abs(uu - np.eye(uu.shape[-1])) <= 16 * m * e)
    assert np.all(np.abs(vv - np.eye(vv.shape[-1])) <= 16 * n * e)
    rec = (u[..., :, :k] * S.astype(np.float64)[..., None, :]) @ vh[..., :k, :]
    err = np.linalg.norm((rec - a64).reshape(a.shape[:-2] + (-1,)), axis=-1)
    norm = np.linalg.norm(a64.reshape(a.shape[:-2] + (-1,)), axis=-1)
    assert np.all(err <= 16 * max(m, n) * e * norm + 1e-300)
    if full:
        assert U.shape == a.shape[:-2] + (m, m) and Vh.shape == a.shape[:-2] + (n, n)
    else:
        assert U.shape == a.shape[:-2] + (m, k) and Vh.shape == a.shape[:-2] + (k, n)
