"""numpy's exception types with messages naming the problem; per-matrix NaN and the
RuntimeWarning for non-finite input and non-convergence."""

import warnings

import numpy as np
import pytest
from numpy.linalg import LinAlgError

import batched_svd as bs

ALL = ["svd", "svdvals", "pinv", "cond", "polar"]


def call(name, a, **kw):
    f = getattr(bs, name)
    return f(a, **kw)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("a", [np.float64(3.0), np.arange(4.0)], ids=["0d", "1d"])
def test_fewer_than_two_dimensions(name, a):
    with pytest.raises(LinAlgError, match="at least two-dimensional"):
        call(name, a)


def test_lstsq_and_matrix_rank_dimensions():
    with pytest.raises(LinAlgError, match="at least two-dimensional"):
        bs.lstsq(np.arange(3.0), np.arange(3.0))
    with pytest.raises(LinAlgError, match="Incompatible dimensions"):
        bs.lstsq(np.ones((4, 3)), np.ones(5))
    with pytest.raises(LinAlgError, match="Incompatible dimensions"):
        bs.lstsq(np.ones((2, 4, 3)), np.ones((3, 4)))
    # numpy's rule for vectors and scalars
    assert bs.matrix_rank(np.arange(3.0)) == np.linalg.matrix_rank(np.arange(3.0)) == 1
    assert bs.matrix_rank(np.zeros(3)) == 0


def test_complex_rotation_only_is_an_error():
    a = np.ones((2, 3, 3), dtype=np.complex64)
    with pytest.raises(ValueError, match="rotation_only"):
        bs.polar(a, rotation_only=True)


def test_clongdouble_is_a_type_error():
    if np.dtype(np.clongdouble).itemsize == 16:
        pytest.skip("clongdouble is complex128 here")
    with pytest.raises(TypeError, match="clongdouble|complex"):
        bs.svd(np.ones((3, 3), np.clongdouble))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "a",
    [
        np.ones((3, 3), np.float16),
        np.ones((3, 3), np.longdouble),
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[1, None], [2, 3]], dtype=object),
        np.ones((3, 3), "datetime64[s]"),
    ],
    ids=["float16", "longdouble", "str", "object", "datetime"],
)
def test_unsupported_dtypes(name, a):
    if a.dtype == np.longdouble and np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("longdouble is float64 here")
    with pytest.raises(TypeError, match="dtype"):
        call(name, a)


def test_bad_options():
    a = np.eye(3)
    with pytest.raises(ValueError, match="backend"):
        bs.svd(a, backend="tpu")
    with pytest.raises(ValueError, match="backend"):
        bs.Solver("GPU")
    for tol in (0.0, 1.0, -1e-3, float("nan"), float("inf"), 1e-50, "x", True):
        with pytest.raises(ValueError, match="tol"):
            bs.svd(a, tol=tol)
    for sweeps in (0, -1, 2**32, 1.5, "3", True):
        with pytest.raises(ValueError, match="max_sweeps"):
            bs.svd(a, max_sweeps=sweeps)
    with pytest.raises(ValueError, match="rcond"):
        bs.pinv(a, rcond=-1.0)
    with pytest.raises(ValueError, match="rcond"):
        bs.pinv(a, rcond=np.ones(3))
    with pytest.raises(ValueError, match="both"):
        bs.pinv(a, rcond=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="rtol"):
        bs.pinv(a, rtol=float("nan"))
    with pytest.raises(LinAlgError, match="square"):
        bs.polar(np.ones((3, 4)))
    with pytest.raises(LinAlgError, match="empty"):
        bs.cond(np.ones((0, 0)))
    with pytest.raises(ValueError, match="cpu"):
        bs.Solver("cpu", adapter=0)
    with pytest.raises(TypeError, match="adapter"):
        bs.Solver("auto", adapter=1.5)


def test_unknown_adapter_names_the_ones_found():
    # A bad argument where adapters exist; an unavailable device where none does.
    expected = ValueError if bs.adapters() else RuntimeError
    with pytest.raises(expected, match="no adapter name contains 'no-such-gpu'"):
        bs.Solver("gpu", adapter="no-such-gpu")
    with pytest.raises(expected, match="out of range"):
        bs.Solver("gpu", adapter=99)


def test_matrix_rank_of_ndim_below_2_with_return_info_is_a_pair():
    """Found by fuzz_arguments.py: numpy's ndim < 2 rule returned the int alone."""
    rank, info = bs.matrix_rank(np.float32(0.0), return_info=True)
    assert rank == 0 and info.engine is None and info.work["calls"] == 0
    assert bs.matrix_rank([1.0, 0.0]) == 1


def _nan_batch(rng, dtype, m=4, n=3, count=7):
    a = rng.standard_normal((count, m, n)).astype(dtype)
    bad = a.copy()
    bad[2, 1, 1] = np.nan
    bad[5, 0, 2] = np.inf
    return a, bad


def test_non_finite_matrices_are_nan_and_warned(backend, dtype, rng):
    a, bad = _nan_batch(rng, dtype)
    ref = bs.svd(a, full_matrices=False, backend=backend)
    with pytest.warns(RuntimeWarning, match="of 7 matrices, 2 had non-finite input") as w:
        (U, S, Vh), info = bs.svd(bad, full_matrices=False, backend=backend, return_info=True)
    assert w[0].filename == __file__
    assert info.non_finite == 2 and info.not_converged == 0 and not info.all_converged
    np.testing.assert_array_equal(info.status, [0, 0, 2, 0, 0, 2, 0])
    for i in (2, 5):
        assert np.isnan(U[i]).all() and np.isnan(S[i]).all() and np.isnan(Vh[i]).all()
    good = [0, 1, 3, 4, 6]
    for x, y in zip((U, S, Vh), ref):
        np.testing.assert_array_equal(x[good], y[good])


@pytest.mark.parametrize("name", ["pinv", "cond", "polar", "svdvals", "matrix_rank"])
def test_non_finite_in_other_functions(name, rng):
    a = rng.standard_normal((5, 3, 3))
    a[1, 0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="1 had non-finite"):
        out = getattr(bs, name)(a)
    if name == "matrix_rank":
        assert out[1] == 0 and (out[[0, 2, 3, 4]] == 3).all()
        return
    first = out[0] if name == "polar" else out
    assert np.isnan(first[1]).all() and np.isfinite(first[[0, 2, 3, 4]]).all()


def test_lstsq_non_finite_rhs(rng):
    a = rng.standard_normal((4, 5, 3))
    b = rng.standard_normal((4, 5))
    b[3, 2] = np.inf
    with pytest.warns(RuntimeWarning, match="1 had non-finite"):
        x, res, rank, s = bs.lstsq(a, b)
    assert np.isnan(x[3]).all() and np.isnan(res[3]) and np.isfinite(x[:3]).all()
    assert np.isfinite(s).all()  # A itself is finite


def test_non_convergence_is_nan_and_warned(rng):
    backend = "gpu" if _gpu() else "cpu"
    a = rng.standard_normal((20, 16, 16)).astype(np.float32)
    if backend == "cpu":
        pytest.skip("the CPU engine does not cap sweeps (tol and max_sweeps do not apply)")
    with pytest.warns(RuntimeWarning, match="did not converge within max_sweeps"):
        (U, S, Vh), info = bs.svd(a, backend=backend, max_sweeps=1, return_info=True)
    bad = info.status == 1
    assert bad.sum() == info.not_converged > 0
    assert np.isnan(S[bad]).all() and np.isnan(U[bad]).all() and np.isnan(Vh[bad]).all()
    assert np.isfinite(S[~bad]).all()
    assert (info.sweeps[bad] == 1).all()


def test_no_warning_when_all_converge(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bs.svd(rng.standard_normal((10, 4, 4)))


def _gpu() -> bool:
    from conftest import HAVE_GPU

    return HAVE_GPU
