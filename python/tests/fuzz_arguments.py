"""Fuzzing the Python argument conversion: arbitrary array-likes and keyword values into every
public function, with Hypothesis generating and shrinking the cases.

The conversion from Python objects to the engine's inputs is PyO3 code that needs an
interpreter, so it is fuzzed from Python rather than by a cargo-fuzz target. Each case is one
call of ``svd``, ``svdvals``, ``pinv``, ``lstsq``, ``matrix_rank``, ``cond``, ``polar`` or
``Solver(...)`` on a random object (numpy arrays of every dtype kind, byte order, memory
order, stride and shape from 0-d to 5-d with zero-sized dimensions, nested and ragged lists,
scalars, strings, ``None``) with random keyword values (the right type or not, NaN, ±inf,
negative, huge). The contract checked:

* the call returns, or raises ``TypeError`` or ``ValueError`` (``numpy.linalg.LinAlgError``
  is a ``ValueError``) with a non-empty message: never another exception, never a crash;
* a result has numpy's shapes, and the dtype numpy's linalg gives (float32 for float32 input,
  float64 for float64, integer and bool input); float32 and float64 input is never silently
  converted to the other;
* for finite input, ``svd(..., compute_uv=False)`` agrees with ``numpy.linalg.svd`` in float64
  to the documented bound.

Run by hand for a long time (the figures in the README's Reliability section)::

    python python/tests/fuzz_arguments.py --seconds 900

``tests/test_fuzz_arguments.py`` runs a fixed, derandomized few hundred cases in CI.
"""

import argparse
import math
import sys
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batched_svd as bs

FUNCTIONS = ["svd", "svdvals", "pinv", "lstsq", "matrix_rank", "cond", "polar", "Solver"]

# Keyword values of every kind: right and wrong types, edge numbers.
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, -1, -2, 3, 30, 2**31, 2**32, 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1e-7, 0.5, 1.0, 2.0, -0.5, math.nan, math.inf, -math.inf]),
    st.text(max_size=6),
    st.sampled_from(["fro", "nuc", "auto", "cpu", "gpu", "", "GPU", "thin"]),
    st.just([1, 2]),
    st.just(np.float32(1e-3)),
    st.just(np.int64(5)),
    st.just(np.array([1e-3, 1e-2])),
)

DTYPES = [
    "float32", "float64", "float16", "longdouble", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128", "object",
    "U3", "S2", "datetime64[s]", "timedelta64[s]", ">f4", ">f8", "<f4", ">i4",
    [("a", "f4"), ("b", "f4")],
]


@st.composite
def arrays(draw):
    """A numpy array of any dtype, shape, order and strides, with special values."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    ndim = draw(st.integers(0, 5))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
    size = int(np.prod(shape)) if shape else 1
    values = draw(
        st.lists(
            st.one_of(
                st.floats(-1e3, 1e3),
                st.sampled_from([0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, 1e-40, 1e38]),
            ),
            min_size=size,
            max_size=size,
        )
    )
    base = np.array(values, dtype=np.float64).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = base.astype(dtype)
        except (TypeError, ValueError):
            a = np.zeros(shape, dtype=dtype)
    layout = draw(st.sampled_from(["c", "f", "swap", "strided", "reversed", "readonly"]))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "swap" and a.ndim >= 2:
        a = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    elif layout == "strided" and a.ndim >= 1:
        a = np.stack([a, a], axis=0)[0] if draw(st.booleans()) else np.repeat(a, 2, axis=-1)[..., ::2]
    elif layout == "reversed" and a.ndim >= 1:
        a = a[..., ::-1]
    elif layout == "readonly":
        a = a.copy()
        a.flags.writeable = False
    return a


def _matrix():
    """A numpy.matrix (a subclass numpy deprecates but still accepts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix([[1.0, 2.0], [3.0, 4.0]])


OBJECTS = st.one_of(
    arrays(),
    arrays().map(lambda a: a.tolist()),  # nested lists
    st.just([[1.0, 2.0], [3.0]]),  # ragged
    st.just([[[1, 2], [3, 4]], [[5, 6]]]),
    st.none(),
    st.floats(),
    st.text(max_size=4),
    st.just({"a": 1}),
    st.builds(_matrix),
)

KWARGS = {
    "svd": ["full_matrices", "compute_uv", "hermitian", "tol", "max_sweeps", "return_info"],
    "svdvals": ["tol", "max_sweeps", "return_info"],
    "pinv": ["rcond", "hermitian", "rtol", "tol", "max_sweeps", "return_info"],
    "lstsq": ["rcond", "tol", "max_sweeps", "return_info"],
    "matrix_rank": ["tol", "hermitian", "rtol", "max_sweeps", "return_info"],
    "cond": ["p", "tol", "max_sweeps", "return_info"],
    "polar": ["rotation_only", "return_info"],
    "Solver": ["backend", "adapter"],
}


@st.composite
def cases(draw):
    """One call: the function, its positional inputs, its keyword arguments."""
    name = draw(st.sampled_from(FUNCTIONS))
    names = KWARGS[name]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    kwargs = {k: draw(ODD) for k in chosen}
    if name == "Solver":
        return name, (), kwargs
    args = [draw(OBJECTS)]
    if name == "lstsq":
        args.append(draw(OBJECTS))
    return name, tuple(args), kwargs


def _float_dtype(a, name):
    """numpy.linalg's result dtype for array input to `name`, or None where the package
    takes none."""
    native = np.asarray(a).dtype.newbyteorder("=")
    if native == np.float32:
        return np.dtype(np.float32)
    if native == np.float64 or native.kind in "iub":
        return np.dtype(np.float64)
    if native in (np.complex64, np.complex128):
        return np.dtype(native)
    return None


def _real(dtype):
    """The real dtype of σ for `dtype`."""
    return np.dtype(np.float32 if dtype in (np.float32, np.complex64) else np.float64)


def check_result(name, args, kwargs, result):
    """A returned result has numpy's shapes and dtypes."""
    if name == "Solver":
        assert isinstance(result, bs.Solver)
        return
    if kwargs.get("return_info"):
        result, info = result
        assert isinstance(info, bs.Info)
    a = np.asarray(args[0])
    if name == "matrix_rank" and a.ndim < 2:
        return  # numpy's too: int(not all(a == 0))
    dtype = _float_dtype(a, name)
    assert dtype is not None, f"{name} accepted dtype {a.dtype}"
    assert a.ndim >= 2, f"{name} accepted ndim {a.ndim}"
    lead, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    if name in ("svd", "svdvals"):
        uv = name == "svd" and bool(kwargs.get("compute_uv", True))
        s = result.S if uv else result
        assert s.shape == lead + (k,) and s.dtype == _real(dtype), (s.shape, s.dtype)
        if uv:
            full = bool(kwargs.get("full_matrices", True))
            assert result.U.shape == lead + (m, m if full else k)
            assert result.Vh.shape == lead + (n if full else k, n)
            assert result.U.dtype == dtype and result.Vh.dtype == dtype
        wide = np.complex128 if dtype.kind == "c" else np.float64
        finite = np.isfinite(a.astype(wide)).all()
        if finite and a.size and kwargs.get("max_sweeps") is None and kwargs.get("tol") is None:
            ref = np.linalg.svd(a.astype(wide), compute_uv=False)
            eps = np.finfo(dtype).eps
            bound = 16 * max(m, n) * eps * ref[..., :1] + 1e-300
            assert (np.abs(s.astype(np.float64) - ref) <= bound * 1.0001).all()
    elif name == "pinv":
        assert result.shape == lead + (n, m) and result.dtype == dtype
    elif name == "polar":
        r = result if kwargs.get("rotation_only") else result.R
        assert r.shape == a.shape and r.dtype == dtype


def run_case(case):
    """Calls the function; only a result or TypeError/ValueError with a message may come."""
    name, args, kwargs = case
    fn = bs.Solver if name == "Solver" else getattr(bs, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(*args, **kwargs)
        except (TypeError, ValueError) as e:
            assert str(e).strip(), f"{type(e).__name__} without a message"
            return
    check_result(name, args, kwargs, result)


SETTINGS = dict(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def fuzz(seconds, seed):
    """Runs batches of cases until `seconds` have passed; returns the number of cases."""
    total = 0
    start = time.monotonic()
    batch = 500
    while time.monotonic() - start < seconds:
        @settings(max_examples=batch, **SETTINGS)
        @given(cases())
        def one(case):
            run_case(case)

        one._hypothesis_internal_use_seed = seed + total  # a new stream per batch
        one()
        total += batch
    return total, time.monotonic() - start


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    n, took = fuzz(args.seconds, args.seed)
    print(f"fuzz_arguments: {n} cases in {took:.0f} s, no failure")
    sys.exit(0)
