"""pinv, lstsq, matrix_rank, cond and polar against numpy (float64 references)."""

import numpy as np
import pytest

import batched_svd as bs

from conftest import eps

SHAPES = [(3, 3), (5, 3), (3, 5), (8, 8), (16, 4)]


def _rank_deficient(rng, count, m, n, r, dtype=np.float64):
    x = rng.standard_normal((count, m, r)) @ rng.standard_normal((count, r, n))
    return x.astype(dtype)


@pytest.mark.parametrize("m,n", SHAPES, ids=[f"{m}x{n}" for m, n in SHAPES])
def test_pinv_matches_numpy(backend, dtype, rng, m, n):
    a = rng.standard_normal((4, 2, m, n)).astype(dtype)
    p = bs.pinv(a, backend=backend)
    assert p.shape == (4, 2, n, m) and p.dtype == dtype
    ref = np.linalg.pinv(a.astype(np.float64))
    cond = np.linalg.cond(a.astype(np.float64)).max()
    tol = cond * 16 * max(m, n) * eps(dtype) * np.abs(ref).max() * 4
    np.testing.assert_allclose(p, ref, rtol=0, atol=tol)


def test_pinv_cutoffs_as_numpy(backend, rng):
    a = _rank_deficient(rng, 6, 6, 5, 3)
    for kw in ({"rtol": None}, {"rcond": 1e-10}, {"rtol": 1e-8}):
        ours = bs.pinv(a, backend=backend, **kw)
        ref = np.linalg.pinv(a, **kw)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9 * np.abs(ref).max(), err_msg=str(kw))
    # numpy's default rcond (1e-15) and the empty case
    np.testing.assert_allclose(bs.pinv(np.eye(3) * 2), np.eye(3) / 2)
    assert bs.pinv(np.zeros((2, 0, 3))).shape == np.linalg.pinv(np.zeros((2, 0, 3))).shape


def test_lstsq_two_dimensional_as_numpy(backend, dtype, rng):
    for m, n, k in [(6, 3, None), (6, 3, 2), (3, 6, None), (3, 6, 4), (4, 4, 1)]:
        a = rng.standard_normal((m, n)).astype(dtype)
        b = rng.standard_normal((m,) if k is None else (m, k)).astype(dtype)
        x, res, rank, s = bs.lstsq(a, b, backend=backend)
        rx, rres, rrank, rs = np.linalg.lstsq(a.astype(float), b.astype(float), rcond=None)
        assert x.shape == rx.shape and res.shape == rres.shape and s.shape == rs.shape
        assert x.dtype == res.dtype == s.dtype == dtype
        assert isinstance(rank, int) and rank == rrank
        atol = 1e3 * eps(dtype) * max(1.0, np.abs(rx).max())
        np.testing.assert_allclose(x, rx, rtol=0, atol=atol)
        np.testing.assert_allclose(res, rres, rtol=1e-3 if dtype == np.float32 else 1e-9, atol=atol)
        np.testing.assert_allclose(s, rs, rtol=0, atol=atol)


def test_lstsq_rank_deficient_and_empty_residuals(backend, rng):
    a = _rank_deficient(rng, 1, 8, 4, 2)[0]
    b = rng.standard_normal(8)
    x, res, rank, s = bs.lstsq(a, b, backend=backend)
    rx, rres, rrank, _ = np.linalg.lstsq(a, b, rcond=None)
    assert rank == rrank == 2 and res.shape == rres.shape == (0,)
    np.testing.assert_allclose(x, rx, atol=1e-10)


def test_lstsq_batched_shapes(backend, rng):
    a = rng.standard_normal((3, 2, 7, 4))
    bv = rng.standard_normal((3, 2, 7))
    bm = rng.standard_normal((3, 2, 7, 5))
    x, res, rank, s = bs.lstsq(a, bv, backend=backend)
    assert x.shape == (3, 2, 4) and res.shape == (3, 2) and rank.shape == (3, 2) and s.shape == (3, 2, 4)
    for i in np.ndindex(3, 2):
        rx, rres, rrank, rs = np.linalg.lstsq(a[i], bv[i], rcond=None)
        np.testing.assert_allclose(x[i], rx, atol=1e-10)
        np.testing.assert_allclose(res[i], rres[0], rtol=1e-8)
        assert rank[i] == rrank
    x, res, rank, s = bs.lstsq(a, bm, backend=backend)
    assert x.shape == (3, 2, 4, 5) and res.shape == (3, 2, 5)
    for i in np.ndindex(3, 2):
        rx, rres, _, _ = np.linalg.lstsq(a[i], bm[i], rcond=None)
        np.testing.assert_allclose(x[i], rx, atol=1e-10)
        np.testing.assert_allclose(res[i], rres, rtol=1e-8)


def test_lstsq_dtype_promotion(rng):
    a = rng.standard_normal((5, 3)).astype(np.float32)
    b = rng.standard_normal(5)
    assert bs.lstsq(a, b).x.dtype == np.float64
    assert bs.lstsq(a, b.astype(np.float32)).x.dtype == np.float32
    assert bs.lstsq(a, np.arange(5)).x.dtype == np.float64
    assert bs.lstsq(np.arange(15).reshape(5, 3), np.arange(5)).x.dtype == np.float64


def test_matrix_rank_as_numpy(backend, dtype, rng):
    a = np.concatenate([_rank_deficient(rng, 4, 6, 5, r) for r in (1, 2, 3, 5)]).astype(dtype)
    ours = bs.matrix_rank(a, backend=backend)
    ref = np.linalg.matrix_rank(a)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(ours, np.repeat([1, 2, 3, 5], 4))
    np.testing.assert_array_equal(bs.matrix_rank(a, tol=1e-3), np.linalg.matrix_rank(a, tol=1e-3))
    np.testing.assert_array_equal(bs.matrix_rank(a, rtol=0.5), np.linalg.matrix_rank(a, rtol=0.5))
    assert bs.matrix_rank(np.eye(4)) == 4
    assert bs.matrix_rank(np.zeros((3, 3))) == 0


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_as_numpy(backend, p, rng):
    a = rng.standard_normal((3, 4, 4))
    np.testing.assert_allclose(bs.cond(a, p, backend=backend), np.linalg.cond(a, p), rtol=1e-9)
    single = bs.cond(a[0], p, backend=backend)
    assert np.ndim(single) == 0
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    if p in (None, 2, "fro", "nuc"):
        assert bs.cond(np.zeros((3, 3)), p) == np.inf
        assert bs.cond(sing, p) > 1e15
    nan = np.full((2, 2), np.nan)
    with pytest.warns(RuntimeWarning) if p in (None, 2, -2, "fro", "nuc") else _nothing():
        assert np.isnan(bs.cond(nan, p))


def test_cond_float32(rng):
    a = rng.standard_normal((10, 3, 3)).astype(np.float32)
    c = bs.cond(a)
    assert c.dtype == np.float32
    ref = np.linalg.cond(a.astype(float))
    np.testing.assert_allclose(c, ref, rtol=ref.max() * 16 * 3 * 2.0**-23 * 4)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("n", [2, 3, 4, 8])
def test_polar(backend, dtype, rng, n):
    a = rng.standard_normal((50, n, n)).astype(dtype)
    R, S = bs.polar(a, backend=backend)
    assert R.shape == S.shape == a.shape and R.dtype == S.dtype == dtype
    e = 16 * n * eps(dtype)
    r64, s64, a64 = R.astype(float), S.astype(float), a.astype(float)
    np.testing.assert_allclose(np.swapaxes(r64, -1, -2) @ r64, np.broadcast_to(np.eye(n), a.shape), atol=e)
    np.testing.assert_allclose(np.linalg.det(r64), 1.0, atol=e)
    np.testing.assert_allclose(s64, np.swapaxes(s64, -1, -2), atol=e * np.abs(a64).max())
    norms = np.linalg.norm(a64, axis=(-2, -1))[:, None, None]
    assert np.all(np.abs(r64 @ s64 - a64) <= e * norms)
    # reflections: det a < 0 gives an indefinite S (the rotation convention)
    neg = np.linalg.det(a64) < 0
    assert neg.any()
    assert (np.linalg.eigvalsh(s64[neg]).min(axis=-1) < 0).all()
    R_only = bs.polar(a, rotation_only=True, backend=backend)
    assert isinstance(R_only, np.ndarray)
    np.testing.assert_array_equal(R_only, R)


def test_polar_layouts_and_empty(backend, rng):
    a = rng.standard_normal((6, 3, 3))
    R, S = bs.polar(np.asfortranarray(a[0]), backend=backend)
    np.testing.assert_allclose(R @ S, a[0], atol=1e-12)
    R, S = bs.polar(np.zeros((0, 3, 3)), backend=backend)
    assert R.shape == S.shape == (0, 3, 3)
