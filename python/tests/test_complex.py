"""complex64 and complex128 input: numpy.linalg's shapes and dtypes (S real of the matching
precision, U and Vh complex), the accuracy bounds with the real type's eps against numpy's
complex SVD in complex128, unitary factors, both memory orders, NaN isolation, and the polar
decomposition a = W @ P."""

import warnings

import numpy as np
import pytest

import batched_svd as bs

DTYPES = [np.complex64, np.complex128]
IDS = ["c64", "c128"]


def crandn(rng, shape, dtype):
    h = np.sqrt(0.5)
    return (h * rng.standard_normal(shape) + 1j * h * rng.standard_normal(shape)).astype(dtype)


def real_of(dtype):
    return np.float32 if dtype == np.complex64 else np.float64


def check_svd(a, U, S, Vh, full):
    eps = np.finfo(real_of(a.dtype)).eps
    m, n = a.shape[-2:]
    k = min(m, n)
    big = max(m, n)
    a128 = a.astype(np.complex128)
    ref = np.linalg.svd(a128, compute_uv=False)
    assert S.dtype == real_of(a.dtype) and U.dtype == a.dtype and Vh.dtype == a.dtype
    lead = a.shape[:-2]
    assert S.shape == lead + (k,)
    assert U.shape == lead + ((m, m) if full else (m, k))
    assert Vh.shape == lead + ((n, n) if full else (k, n))
    assert (np.abs(S - ref) <= 16 * big * eps * ref[..., :1] + 1e-300).all()
    u = U.astype(np.complex128)
    vh = Vh.astype(np.complex128)
    eye_u = np.eye(u.shape[-1])
    eye_v = np.eye(vh.shape[-2])
    assert np.abs(np.conj(np.swapaxes(u, -1, -2)) @ u - eye_u).max() <= 16 * m * eps
    assert np.abs(vh @ np.conj(np.swapaxes(vh, -1, -2)) - eye_v).max() <= 16 * n * eps
    rec = (u[..., :, :k] * S[..., None, :].astype(np.float64)) @ vh[..., :k, :]
    err = np.linalg.norm(a128 - rec, axis=(-2, -1))
    assert (err <= 16 * big * eps * np.linalg.norm(a128, axis=(-2, -1)) + 1e-300).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape", [(5, 3, 3), (2, 3, 7, 4), (4, 2, 9), (1, 1), (16, 16)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_matches_numpy(rng, dtype, shape, full):
    a = crandn(rng, shape, dtype)
    U, S, Vh = bs.svd(a, full_matrices=full)
    check_svd(a, U, S, Vh, full)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape", [(5, 3, 3), (2, 3, 7, 4), (4, 2, 9), (16, 16), (3, 40, 6)])
def test_gpu_engine_matches_numpy(rng, dtype, shape):
    # Each kernel family that has complex kernels: per-invocation (small), workgroup (16×16
    # on a CPU device), multi-dispatch with QR (40×6).
    if not bs.adapters():
        pytest.skip("no GPU adapter")
    solver = bs.Solver("gpu")
    a = crandn(rng, shape, dtype)
    U, S, Vh = solver.svd(a, full_matrices=False)
    assert solver.last_info.engine == "gpu"
    check_svd(a, U, S, Vh, False)
    k = min(3, *shape[-2:])
    sq = a[..., :k, :k]
    W, P = solver.polar(sq)
    err = np.abs(W.astype(np.complex128) @ P - sq).max()
    assert err <= 64 * np.finfo(real_of(dtype)).eps * np.abs(sq).max() * k


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_fortran_order_and_strided_input(rng, dtype):
    a = crandn(rng, (6, 5, 4), dtype)
    f = np.asfortranarray(a)
    U, S, Vh = bs.svd(f, full_matrices=False)
    check_svd(a, U, S, Vh, False)
    s = crandn(rng, (6, 10, 4), dtype)[:, ::2, :]
    check_svd(s, *bs.svd(s, full_matrices=False), False)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_values_rank_and_cond(rng, dtype):
    a = crandn(rng, (8, 6, 6), dtype)
    a[3] = crandn(rng, (6, 2), dtype) @ crandn(rng, (2, 6), dtype)  # rank 2
    s = bs.svdvals(a)
    assert s.dtype == real_of(dtype) and s.shape == (8, 6)
    ref = np.linalg.svd(a.astype(np.complex128), compute_uv=False)
    eps = np.finfo(real_of(dtype)).eps
    assert (np.abs(s - ref) <= 16 * 6 * eps * ref[..., :1]).all()
    rank = bs.matrix_rank(a)
    assert rank[3] == 2 and (np.delete(rank, 3) == 6).all()
    c = bs.cond(np.delete(a, 3, axis=0))
    c_ref = np.linalg.cond(np.delete(a, 3, axis=0).astype(np.complex128))
    assert np.allclose(c, c_ref, rtol=1e-3 if dtype == np.complex64 else 1e-9)


def test_real_data_as_complex_gives_the_real_values(rng):
    a = rng.standard_normal((4, 5, 3))
    s_real = bs.svdvals(a)
    s_complex = bs.svdvals(a.astype(np.complex128))
    assert np.allclose(s_real, s_complex, rtol=0, atol=16 * 5 * 2.0**-52 * s_real[..., :1])


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_nan_in_either_part_isolates_its_matrix(rng, dtype):
    a = crandn(rng, (4, 3, 3), dtype)
    a[1, 0, 2] = complex(np.nan, 0)
    a[3, 2, 1] = complex(0, np.inf)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        (U, S, Vh), info = bs.svd(a, return_info=True)
    assert any(issubclass(x.category, RuntimeWarning) for x in w)
    assert list(info.status) == [0, 2, 0, 2]
    assert np.isnan(S[[1, 3]]).all() and np.isnan(U[[1, 3]].real).all()
    assert np.isnan(U[[1, 3]].imag).all()
    check_svd(a[[0, 2]], U[[0, 2]], S[[0, 2]], Vh[[0, 2]], True)


def test_empty_complex_batches():
    U, S, Vh = bs.svd(np.zeros((2, 3, 0), np.complex64))
    assert U.shape == (2, 3, 3) and S.shape == (2, 0) and Vh.shape == (2, 0, 0)
    assert U.dtype == np.complex64 and S.dtype == np.float32
    assert np.array_equal(U[1], np.eye(3))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_polar_is_unitary_times_hermitian_psd(rng, dtype, n):
    a = crandn(rng, (5, n, n), dtype)
    W, P = bs.polar(a)
    assert W.dtype == dtype and P.dtype == dtype and W.shape == a.shape == P.shape
    eps = np.finfo(real_of(dtype)).eps
    w, p = W.astype(np.complex128), P.astype(np.complex128)
    ph = np.conj(np.swapaxes(p, -1, -2))
    assert np.abs(np.conj(np.swapaxes(w, -1, -2)) @ w - np.eye(n)).max() <= 16 * n * eps
    norm = np.linalg.norm(a.astype(np.complex128), axis=(-2, -1))[:, None, None]
    assert (np.abs(p - ph) <= 16 * n * eps * norm).all()
    eig = np.linalg.eigvalsh((p + ph) / 2)
    assert (eig >= -16 * n * eps * norm[:, :, 0]).all()
    err = np.linalg.norm(a.astype(np.complex128) - w @ p, axis=(-2, -1))
    assert (err <= 16 * n * eps * norm[:, 0, 0]).all()


def with_sigma(rng, lead, m, n, sigma, dtype):
    """``U @ diag(sigma) @ Vh`` with random unitary factors (complex128, then ``dtype``)."""
    k = len(sigma)
    u, _ = np.linalg.qr(crandn(rng, lead + (m, k), np.complex128))
    v, _ = np.linalg.qr(crandn(rng, lead + (n, k), np.complex128))
    a = (u * np.asarray(sigma)) @ np.conj(np.swapaxes(v, -1, -2))
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape", [(6, 3, 3), (2, 3, 7, 4), (4, 4, 9)])
def test_pinv_matches_numpy(rng, dtype, shape):
    lead, (m, n) = shape[:-2], shape[-2:]
    k = min(m, n)
    cond = 1e2
    a = with_sigma(rng, lead, m, n, np.geomspace(1, 1 / cond, k), dtype)
    p = bs.pinv(a, rtol=None)
    assert p.dtype == dtype and p.shape == lead + (n, m)
    ref = np.linalg.pinv(a.astype(np.complex128))
    eps = np.finfo(real_of(dtype)).eps
    err = np.linalg.norm(p.astype(np.complex128) - ref, axis=(-2, -1))
    assert (err <= cond * 16 * max(m, n) * eps * np.linalg.norm(ref, axis=(-2, -1))).all()
    # The Penrose conditions in complex128: A·A⁺·A = A and (A·A⁺)ᴴ = A·A⁺.
    a128, p128 = a.astype(np.complex128), p.astype(np.complex128)
    ap = a128 @ p128
    assert np.abs(ap @ a128 - a128).max() <= cond * 16 * max(m, n) * eps
    assert np.abs(ap - np.conj(np.swapaxes(ap, -1, -2))).max() <= cond * 16 * max(m, n) * eps


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_rank_deficient_pinv_drops_the_null_space(rng, dtype):
    a = with_sigma(rng, (3,), 6, 5, [3.0, 2.0, 1.0, 0.0, 0.0], dtype)
    p = bs.pinv(a, rtol=1e-4)
    ref = np.linalg.pinv(a.astype(np.complex128), rtol=1e-4)
    eps = np.finfo(real_of(dtype)).eps
    assert np.abs(p - ref).max() <= 3 * 16 * 6 * eps * np.abs(ref).max()


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_lstsq_matches_numpy(rng, dtype):
    m, n = 7, 4
    a = with_sigma(rng, (), m, n, [4.0, 2.0, 1.0, 0.5], dtype)
    b = crandn(rng, (m, 3), dtype)
    x, res, rank, s = bs.lstsq(a, b)
    assert x.dtype == dtype and x.shape == (n, 3)
    assert res.dtype == real_of(dtype) and res.shape == (3,) and s.dtype == real_of(dtype)
    assert rank == n
    xr, resr, rankr, sr = np.linalg.lstsq(a.astype(np.complex128), b.astype(np.complex128))
    eps = np.finfo(real_of(dtype)).eps
    bound = 16 * m * eps * (8 + 64 * np.linalg.norm(b) / np.linalg.norm(xr))
    assert np.linalg.norm(x - xr) <= bound * np.linalg.norm(xr)
    assert np.allclose(res, resr, rtol=0, atol=64 * m * eps * np.linalg.norm(b) ** 2)
    # A batch with vector right-hand sides, and a complex b with a real a: complex128.
    ab = with_sigma(rng, (5,), m, n, [1.0, 1.0, 0.5, 0.25], dtype)
    bb = crandn(rng, (5, m), dtype)
    xb, resb, rankb, sb = bs.lstsq(ab, bb)
    assert xb.shape == (5, n) and resb.shape == (5,) and rankb.dtype == np.int64
    for i in range(5):
        xi = np.linalg.lstsq(ab[i].astype(np.complex128), bb[i].astype(np.complex128))[0]
        assert np.linalg.norm(xb[i] - xi) <= 16 * m * eps * 64 * np.linalg.norm(xi)
    xm = bs.lstsq(np.ones((3, 2)), np.ones(3, dtype=np.complex64))[0]
    assert xm.dtype == np.complex128


def test_dask_svd_of_complex_chunks(rng):
    da = pytest.importorskip("dask.array")
    import dask

    x = crandn(rng, (40, 5, 3), np.complex64)
    dx = da.from_array(x, chunks=(10, 5, 3))
    import batched_svd.dask as bsd

    U, S, Vh = bsd.svd(dx)
    assert U.dtype == np.complex64 and S.dtype == np.float32 and Vh.dtype == np.complex64
    with dask.config.set(scheduler="threads"):
        Uc, Sc, Vhc = dask.compute(U, S, Vh)
    assert Sc.dtype == np.float32
    check_svd(x, Uc, Sc, Vhc, False)


def test_prepare_takes_the_dtype():
    solver = bs.Solver("cpu")
    for dtype in [np.float32, np.float64, np.complex64, np.complex128]:
        assert solver.prepare(8, 8, dtype=dtype) == ("cpu", "requested")
    with pytest.raises(ValueError, match="int32"):
        solver.prepare(8, 8, dtype=np.int32)
    if not bs.adapters():
        return
    auto = bs.Solver("auto")
    # The software-adapter rule counts a complex element twice: 12×12 fits as float32, not as
    # complex64; a hardware GPU takes both.
    engine, _ = auto.prepare(12, 12, dtype=np.float32)
    assert engine == "gpu"
    engine, why = auto.prepare(12, 12, dtype=np.complex64)
    software = "software" in why
    assert engine == ("cpu" if software else "gpu"), why
