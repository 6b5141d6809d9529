"""svd and svdvals against numpy: values, orthogonality, reconstruction, shapes, dtypes,
layouts, empty batches."""

import numpy as np
import pytest

import batched_svd as bs

from conftest import check_svd

SHAPES = [(2, 2), (3, 3), (4, 3), (3, 4), (8, 8), (16, 16), (17, 9), (5, 40), (32, 32), (64, 8)]


@pytest.mark.parametrize("m,n", SHAPES, ids=[f"{m}x{n}" for m, n in SHAPES])
@pytest.mark.parametrize("full", [False, True], ids=["thin", "full"])
def test_svd_matches_numpy(backend, dtype, rng, m, n, full):
    a = rng.standard_normal((6, m, n)).astype(dtype)
    U, S, Vh = bs.svd(a, full_matrices=full, backend=backend)
    for x in (U, S, Vh):
        assert x.dtype == dtype and x.flags.c_contiguous
    assert S.shape == (6, min(m, n))
    assert np.all(S[..., :-1] >= S[..., 1:])
    check_svd(a, U, S, Vh, full)


def test_svd_is_a_named_tuple_as_numpy(rng):
    a = rng.standard_normal((4, 3))
    r = bs.svd(a)
    ref = np.linalg.svd(a)
    assert r._fields == ref._fields == ("U", "S", "Vh")
    assert [x.shape for x in r] == [x.shape for x in ref]
    U, S, Vh = r
    assert U is r.U and S is r.S and Vh is r.Vh


@pytest.mark.parametrize(
    "shape", [(3, 3), (5, 4, 3), (2, 3, 4, 2), (2, 1, 3, 7, 5)], ids=lambda s: "x".join(map(str, s))
)
@pytest.mark.parametrize("full", [False, True], ids=["thin", "full"])
def test_leading_dimensions_shaped_as_numpy(backend, rng, shape, full):
    a = rng.standard_normal(shape)
    ours = bs.svd(a, full_matrices=full, backend=backend)
    ref = np.linalg.svd(a, full_matrices=full)
    for x, y in zip(ours, ref):
        assert x.shape == y.shape and x.dtype == y.dtype
    np.testing.assert_allclose(ours.S, ref.S, rtol=0, atol=1e-12 * max(1.0, ref.S.max()))
    s = bs.svd(a, compute_uv=False, backend=backend)
    assert s.shape == ref.S.shape
    np.testing.assert_array_equal(bs.svdvals(a, backend=backend), s)


@pytest.mark.parametrize(
    "shape",
    [(0, 3, 3), (2, 0, 3), (2, 3, 0), (0, 0), (3, 0), (0, 4), (2, 0, 0), (4, 0, 2, 2)],
    ids=lambda s: "x".join(map(str, s)),
)
@pytest.mark.parametrize("full", [False, True], ids=["thin", "full"])
def test_empty_batches_as_numpy(backend, dtype, shape, full):
    a = np.zeros(shape, dtype=dtype)
    ours = bs.svd(a, full_matrices=full, backend=backend)
    ref = np.linalg.svd(a, full_matrices=full)
    for x, y in zip(ours, ref):
        assert x.shape == y.shape and x.dtype == dtype
        np.testing.assert_array_equal(x, y.astype(dtype))
    assert bs.svd(a, compute_uv=False, backend=backend).shape == ref.S.shape


def test_layouts_give_the_same_results(backend, dtype, rng):
    base = rng.standard_normal((5, 6, 4)).astype(dtype)
    ref = bs.svd(base, full_matrices=False, backend=backend)
    variants = {
        "fortran": np.asfortranarray(base),
        "swapped": np.swapaxes(np.ascontiguousarray(np.swapaxes(base, -1, -2)), -1, -2),
        "strided": np.repeat(base, 2, axis=-1)[..., ::2],
        "strided batch": np.stack([base, base], axis=1)[:, 0],
        "big-endian": base.astype(base.dtype.newbyteorder(">")),
    }
    for name, a in variants.items():
        np.testing.assert_array_equal(a, base)
        got = bs.svd(a, full_matrices=False, backend=backend)
        e = 2.0**-20 if dtype == np.float32 else 2.0**-48
        np.testing.assert_allclose(got.S, ref.S, rtol=0, atol=16 * 6 * e * ref.S.max(), err_msg=name)
        check_svd(base, *got, full=False)


def test_single_fortran_matrix(backend, rng):
    a = np.asfortranarray(rng.standard_normal((7, 5)).astype(np.float32))
    U, S, Vh = bs.svd(a, backend=backend)
    check_svd(np.ascontiguousarray(a), U, S, Vh, full=True)


def test_array_likes_and_dtype_conversions(backend):
    lists = [[3, 0], [4, 5]]
    s = bs.svd(lists, compute_uv=False, backend=backend)
    assert s.dtype == np.float64
    np.testing.assert_allclose(s, np.linalg.svd(np.array(lists, float), compute_uv=False))
    for dt in (np.int8, np.int32, np.int64, np.uint16, np.bool_):
        a = np.array([[1, 0, 1], [0, 1, 1]], dtype=dt)
        r = bs.svd(a, backend=backend)
        ref = np.linalg.svd(a)
        assert all(x.dtype == np.float64 for x in r)
        np.testing.assert_allclose(r.S, ref.S, atol=1e-12)
    with pytest.raises(TypeError):
        bs.svd([[1, 2], [3]])


def test_auto_reports_its_engine(rng):
    (_, info) = bs.svd(rng.standard_normal((2000, 3, 3)).astype(np.float32), return_info=True)
    assert info.engine in ("gpu", "cpu") and info.reason
    _, small = bs.svd(np.eye(3), return_info=True)
    assert small.engine == "cpu" and "small batch" in small.reason


def test_svd_hermitian_is_accepted(rng):
    a = rng.standard_normal((3, 3))
    a = a + a.T
    S = bs.svd(a, hermitian=True, compute_uv=False)
    np.testing.assert_allclose(S, np.linalg.svd(a, compute_uv=False), atol=1e-12)


def test_tol_and_max_sweeps(rng):
    a = rng.standard_normal((50, 16, 16)).astype(np.float32)
    S, info = bs.svd(a, compute_uv=False, backend="gpu" if _gpu() else "cpu", tol=1e-3,
                     max_sweeps=40, return_info=True)
    assert info.all_converged
    np.testing.assert_allclose(S, np.linalg.svd(a.astype(float), compute_uv=False), rtol=0,
                               atol=5e-2 * S.max())


def _gpu() -> bool:
    from conftest import HAVE_GPU

    return HAVE_GPU
