"""The numpy.linalg-style API: ``Solver`` and the module-level functions.

Everything here is plain Python around ``batched_svd._native.Engine``: it turns array-likes
into the arrays the engine reads in place, applies numpy's dtype, shape and default rules,
raises numpy's exceptions, and warns about matrices whose outputs are NaN.
"""

from __future__ import annotations

import math
import operator
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Dict, NamedTuple, Optional, Tuple, Union

import numpy as np
from numpy.linalg import LinAlgError

from . import _native

__all__ = [
    "Info",
    "LstsqResult",
    "PolarResult",
    "SVDResult",
    "Solver",
    "adapters",
    "cond",
    "default_solver",
    "lstsq",
    "matrix_rank",
    "pinv",
    "polar",
    "svd",
    "svdvals",
]

#: The environment variable naming the adapter of the module-level default solvers: an
#: index into ``adapters()`` or a case-insensitive substring of an adapter's name (one GPU per
#: dask worker, say). ``WGPU_ADAPTER_NAME`` and ``WGPU_BACKEND`` are honoured as well.
ADAPTER_ENV = "BATCHED_SVD_ADAPTER"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _NoValueType:
    """numpy's ``_NoValue``: an argument that was not given (``pinv``'s ``rtol``)."""

    _instance = None

    def __new__(cls) -> "_NoValueType":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


_NoValue: Any = _NoValueType()


class SVDResult(NamedTuple):
    """``U, S, Vh`` of ``svd``, as numpy's ``SVDResult``: ``a ≈ (U * S[..., None, :]) @ Vh``.

    For ``a`` of shape ``(..., m, n)`` and ``k = min(m, n)``: ``U`` is ``(..., m, m)``
    (``full_matrices=True``) or ``(..., m, k)``, ``S`` is ``(..., k)`` descending and
    non-negative, ``Vh`` is ``(..., n, n)`` or ``(..., k, n)``; all of ``a``'s dtype.
    """

    U: np.ndarray
    S: np.ndarray
    Vh: np.ndarray


class PolarResult(NamedTuple):
    """``R, S`` of ``polar``: ``a = R @ S`` with ``R`` a rotation (orthogonal, ``det R = +1``)
    and ``S = R.T @ a`` symmetric (indefinite when ``det a < 0``); both ``(..., n, n)``."""

    R: np.ndarray
    S: np.ndarray


class LstsqResult(NamedTuple):
    """``x, residuals, rank, s`` of ``lstsq``, numpy's four values (a tuple)."""

    x: np.ndarray
    residuals: np.ndarray
    rank: Union[int, np.ndarray]
    s: np.ndarray


@dataclass(frozen=True)
class Info:
    """What a call reports besides its arrays.

    Attributes
    ----------
    status : numpy.ndarray of int8, the batch shape (``a.shape[:-2]``)
        Per matrix: 0 converged, 1 not converged within ``max_sweeps``, 2 non-finite input
        (NaN or inf in ``a``, or in ``b`` for ``lstsq``). Matrices with a non-zero status have
        NaN outputs.
    sweeps : numpy.ndarray of uint32, the batch shape
        Jacobi sweeps per matrix (0 for zero and non-finite matrices, and where the CPU engine
        used a bidiagonalising SVD).
    off_diagonal : numpy.ndarray of float32, the batch shape
        The largest ``|a_p·a_q| / (‖a_p‖‖a_q‖)`` of the last sweep (at most ``tol`` when
        converged; 0 on the CPU engine, NaN for non-finite input).
    engine : str or None
        ``"gpu"`` or ``"cpu"``: the engine that ran.
    reason : str or None
        Why that engine (``"requested"``, ``"software adapter: the GPU engine is faster for
        this shape"``, ``"no adapter: …"``, ...).
    fallback : bool
        Whether ``backend="auto"`` fell back to the CPU (no adapter, a device limit, a missing
        feature).
    adapter : str or None
        The adapter's name when the GPU ran.
    timings : dict
        Seconds of ``upload``, ``compute`` and ``download``, summed over the library calls.
    work : dict
        GPU work counts (``dispatches``, ``submissions``, ``host_round_trips``,
        ``bytes_uploaded``, ``bytes_downloaded``, ``chunks``) and ``calls``, the library calls
        the batch was split into.
    non_finite, not_converged : int
        How many matrices have status 2 and 1.
    """

    status: np.ndarray
    sweeps: np.ndarray
    off_diagonal: np.ndarray
    engine: Optional[str]
    reason: Optional[str]
    fallback: bool
    adapter: Optional[str]
    timings: Dict[str, float]
    work: Dict[str, int]
    non_finite: int
    not_converged: int

    @property
    def converged(self) -> np.ndarray:
        """Boolean array of the batch shape: which matrices converged."""
        return self.status == 0

    @property
    def all_converged(self) -> bool:
        """Whether every matrix converged (and none had non-finite input)."""
        return self.non_finite == 0 and self.not_converged == 0


def _no_call_info() -> Info:
    """The Info of a call that decomposed nothing (numpy's rule for ``ndim < 2`` input)."""
    work = ["dispatches", "submissions", "host_round_trips", "bytes_uploaded", "bytes_downloaded"]
    return Info(
        status=np.zeros((), np.int8),
        sweeps=np.zeros((), np.uint32),
        off_diagonal=np.zeros((), np.float32),
        engine=None,
        reason=None,
        fallback=False,
        adapter=None,
        timings={"upload": 0.0, "compute": 0.0, "download": 0.0},
        work=dict.fromkeys(work + ["chunks", "calls"], 0),
        non_finite=0,
        not_converged=0,
    )


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package (for warnings)."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(
        os.path.abspath(frame.f_code.co_filename)
    ) == _PACKAGE_DIR:
        frame = frame.f_back
        level += 1
    return level


def _warn_bad(info: Info, what: str) -> None:
    if info.non_finite == 0 and info.not_converged == 0:
        return
    parts = []
    if info.non_finite:
        parts.append(f"{info.non_finite} had non-finite input (NaN or inf)")
    if info.not_converged:
        parts.append(f"{info.not_converged} did not converge within max_sweeps")
    count = int(info.status.size)
    warnings.warn(
        f"batched_svd.{what}: of {count} matrices, {' and '.join(parts)}; their outputs are "
        "NaN, the other matrices are unaffected (return_info=True or Solver.last_info gives "
        "the status of each)",
        RuntimeWarning,
        stacklevel=_caller_stacklevel(),
    )


def _linalg_dtype(arr: np.ndarray, name: str) -> np.dtype:
    """The dtype a computation on ``arr`` runs in: float32, float64, complex64 and complex128
    as they are, integer and bool as float64 (numpy's rule); anything else is a
    ``TypeError``."""
    dt = arr.dtype
    if dt.kind == "f" and dt.itemsize in (4, 8):
        return np.dtype(np.float32 if dt.itemsize == 4 else np.float64)
    if dt.kind in "iub":
        return np.dtype(np.float64)
    if dt.kind == "c" and dt.itemsize in (8, 16):
        return np.dtype(np.complex64 if dt.itemsize == 8 else np.complex128)
    raise TypeError(
        f"{name} has dtype {dt}, which batched_svd does not support: it computes float32, "
        "float64, complex64 and complex128 matrices (integer and bool arrays are converted "
        "to float64; convert float16, longdouble or clongdouble arrays with .astype(...))"
    )


def _asarray(a: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(a)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"{name} cannot be converted to an array: {e}") from e


def _require_matrices(arr: np.ndarray, name: str) -> None:
    if arr.ndim < 2:
        raise LinAlgError(
            f"{arr.ndim}-dimensional array given as {name}. Array must be at least "
            "two-dimensional"
        )


def _engine_input(arr: np.ndarray, dtype: np.dtype) -> Tuple[np.ndarray, bool]:
    """``arr`` as the engine reads it: ``(x, transposed)`` with ``x`` C-contiguous, aligned
    and native-endian of ``dtype``, and ``transposed`` when ``x`` holds the transposes of
    ``arr``'s matrices (``arr`` Fortran-ordered or with its last two axes swapped: read in
    place as column-major matrices). Copies once when neither layout fits."""
    if arr.dtype != dtype:
        # Integer, bool, other byte orders, or float32 promoted for lstsq: numpy's one copy.
        arr = arr.astype(dtype, order="K")
    if arr.flags.aligned:
        if arr.flags.c_contiguous:
            return arr, False
        t = np.swapaxes(arr, -1, -2)
        if t.flags.c_contiguous:
            return t, True
    return np.ascontiguousarray(arr), False


def _matrices(a: Any, name: str = "a") -> Tuple[np.ndarray, bool, np.ndarray]:
    arr = _asarray(a, name)
    _require_matrices(arr, name)
    x, t = _engine_input(arr, _linalg_dtype(arr, name))
    return x, t, arr


def _check_tol(tol: Optional[float]) -> Optional[float]:
    if tol is None:
        return None
    if isinstance(tol, (bool, np.bool_)):
        raise ValueError("tol must be a number in (0, 1), not a bool")
    try:
        value = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}") from None
    tiny = float(np.finfo(np.float32).tiny)
    if not (math.isfinite(value) and tiny <= value < 1.0):
        raise ValueError(
            f"tol must be in (0, 1) (and at least float32's smallest normal, {tiny:.3g}), "
            f"got {tol!r}"
        )
    return value


def _check_sweeps(max_sweeps: Optional[int]) -> Optional[int]:
    if max_sweeps is None:
        return None
    if isinstance(max_sweeps, (bool, np.bool_)):
        raise ValueError("max_sweeps must be a positive integer, not a bool")
    try:
        value = operator.index(max_sweeps)
    except TypeError:
        raise ValueError(f"max_sweeps must be a positive integer, got {max_sweeps!r}") from None
    if not 1 <= value <= 2**32 - 1:
        raise ValueError(f"max_sweeps must be between 1 and 2**32 - 1, got {value}")
    return value


def _check_rcond(rcond: Any, name: str) -> float:
    if np.ndim(rcond) != 0:
        raise ValueError(
            f"{name} must be a scalar here (per-matrix {name} arrays are not supported), got "
            f"shape {np.shape(rcond)}"
        )
    try:
        value = float(rcond)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {rcond!r}") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be finite and non-negative, got {rcond!r}")
    return value


def _scalar_if_0d(r: np.ndarray) -> Any:
    return r[()] if r.ndim == 0 else r


class Solver:
    """A batched SVD engine, kept: the device, its compiled pipelines and buffer pools persist
    across calls, so create one and reuse it (the module-level functions use a default one per
    backend, created on first use).

    Parameters
    ----------
    backend : {"auto", "gpu", "cpu"}
        ``"auto"`` (default): per call, the GPU on a hardware adapter; on a software adapter
        (Mesa lavapipe and the like) the engine that is faster for the shape; the CPU without
        an adapter. ``"gpu"``: the GPU engine only (no adapter raises ``RuntimeError``).
        ``"cpu"``: the CPU engine only.
    adapter : int or str, optional
        The GPU adapter: an index into ``adapters()`` or a case-insensitive substring of its
        name. By default the library picks the best one, honouring ``WGPU_ADAPTER_NAME`` and
        ``WGPU_BACKEND``. Giving one (or ``backend="gpu"``) creates the device now.
    max_chunk_bytes : int
        Soft cap per GPU buffer (default 4 MiB, as the command-line tool's): larger batches
        are uploaded and decomposed in chunks of about this size, so the device holds about
        ten such buffers beyond the arrays (on a software adapter that is host memory).

    Batches of little work (``count·m·n·min(m, n) <= 4096``, e.g. up to 128 3×3 matrices)
    run on one CPU thread for ``"auto"`` and ``"cpu"``: a GPU submission (about 100 µs) or
    splitting over threads would cost more than the whole decomposition.

    A solver is thread-safe: calls from several threads run concurrently, each with the GIL
    released. ``last_info`` is the ``Info`` of the call that finished last.
    """

    def __init__(
        self,
        backend: str = "auto",
        adapter: Union[int, str, None] = None,
        *,
        max_chunk_bytes: int = 4 << 20,
    ) -> None:
        if not isinstance(backend, str):
            raise ValueError(f"backend must be 'auto', 'gpu' or 'cpu', not {backend!r}")
        if isinstance(max_chunk_bytes, bool) or operator.index(max_chunk_bytes) < 1:
            raise ValueError(f"max_chunk_bytes must be a positive integer, got {max_chunk_bytes!r}")
        self._engine = _native.Engine(backend, adapter, operator.index(max_chunk_bytes))
        self._last_info: Optional[Info] = None

    def __repr__(self) -> str:
        return f"batched_svd.Solver(backend={self.backend!r})"

    @property
    def backend(self) -> str:
        """``"auto"``, ``"gpu"`` or ``"cpu"``."""
        return self._engine.backend

    @property
    def adapter(self) -> Optional[Dict[str, str]]:
        """The GPU adapter this solver runs (or would run) on: ``name``, ``backend``,
        ``device_type``, ``driver``; ``None`` for the CPU backend or without an adapter."""
        return self._engine.adapter_info()

    @property
    def last_info(self) -> Optional[Info]:
        """The ``Info`` of the last call that finished (``None`` before any)."""
        return self._last_info

    def prepare(
        self, m: int, n: int, compute_uv: bool = True, dtype: Any = np.float32
    ) -> Tuple[str, str]:
        """The engine (``"gpu"`` or ``"cpu"``) and reason for ``m×n`` matrices of ``dtype``
        (float32, float64, complex64 or complex128); creates the device now when that is the
        GPU (to time or warm it up apart from the first call)."""
        return self._engine.prepare(
            operator.index(m), operator.index(n), bool(compute_uv), np.dtype(dtype).name
        )

    def _finish(self, d: Dict[str, Any], what: str) -> Info:
        info = Info(**d)
        self._last_info = info
        _warn_bad(info, what)
        return info

    def svd(
        self,
        a: Any,
        full_matrices: bool = True,
        compute_uv: bool = True,
        hermitian: bool = False,
        *,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """Singular value decomposition of every matrix of ``a``, as ``numpy.linalg.svd``.

        Parameters
        ----------
        a : array_like, shape ``(..., m, n)``
            float32, float64, complex64 or complex128 (integer and bool: float64), any
            leading dimensions, C or
            Fortran order or strided (read in place when C-ordered, Fortran-ordered or with
            the last two axes swapped; copied once otherwise).
        full_matrices : bool
            ``U`` ``(..., m, m)`` and ``Vh`` ``(..., n, n)`` if true, else ``(..., m, k)``
            and ``(..., k, n)``, ``k = min(m, n)``.
        compute_uv : bool
            Return ``SVDResult(U, S, Vh)`` if true, else ``S`` alone.
        hermitian : bool
            Accepted for numpy compatibility and ignored (the general SVD is computed).
        tol : float, optional
            Jacobi rotation threshold in (0, 1): a column pair is rotated while
            ``|a_p·a_q| > tol·‖a_p‖‖a_q‖``. Default ``4·sqrt(max(m, n))·eps`` of the dtype.
        max_sweeps : int, optional
            Sweep cap per matrix (default 30); a matrix still rotating after it gets NaN
            outputs and status 1.
        return_info : bool
            Also return the call's ``Info``: ``(result, info)``.

        Returns
        -------
        SVDResult or numpy.ndarray
            ``S`` is ``(..., k)``, descending; all outputs have ``a``'s dtype (float64 for
            integer input), except ``S`` of complex input, which is real of the matching
            precision (float32 for complex64), as numpy's. For complex input ``U`` and ``Vh``
            are unitary and ``a = U @ diag(S) @ Vh``.

        Accuracy
        --------
        With ``eps`` the dtype's unit roundoff (2**-23 for float32, 2**-52 for float64), the
        library's tested bounds: ``|S - S_exact| <= 16·max(m, n)·eps·S[0]``,
        ``max|U^H U - I| <= 16·m·eps``, ``max|V^H V - I| <= 16·n·eps``,
        ``‖a - U S Vh‖_F <= 16·max(m, n)·eps·‖a‖_F``.

        Matrices holding NaN or inf, or not converged, get NaN outputs and a
        ``RuntimeWarning`` says how many; the other matrices are unaffected (numpy raises
        ``LinAlgError`` for the whole call instead).
        """
        x, t, _ = _matrices(a)
        vectors = "none" if not compute_uv else ("full" if full_matrices else "thin")
        s, u, vh, d = self._engine.svd(x, t, vectors, _check_tol(tol), _check_sweeps(max_sweeps))
        info = self._finish(d, "svd")
        result = SVDResult(u, s, vh) if compute_uv else s
        return (result, info) if return_info else result

    def svdvals(
        self,
        x: Any,
        *,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """The singular values ``(..., k)`` of every matrix of ``x``, as
        ``numpy.linalg.svdvals`` (``svd(x, compute_uv=False)``)."""
        return self.svd(
            x, compute_uv=False, tol=tol, max_sweeps=max_sweeps, return_info=return_info
        )

    def pinv(
        self,
        a: Any,
        rcond: Optional[float] = None,
        hermitian: bool = False,
        *,
        rtol: Any = _NoValue,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """The Moore–Penrose pseudoinverse ``(..., n, m)`` of every matrix of ``a``, as
        ``numpy.linalg.pinv``: singular values ``<= rcond·S[0]`` count as zero. Complex input
        gives ``V·Σ⁺·Uᴴ`` in its own dtype.

        ``rcond`` and ``rtol`` follow numpy 2: neither given, ``rcond = 1e-15``;
        ``rtol=None``, ``max(m, n)·eps`` of the dtype; ``rtol=x``, ``x``. Both given is a
        ``ValueError``. Only scalar cutoffs are supported. ``hermitian`` is ignored.

        Accuracy: relative to ``‖A⁺‖₂ = 1/σ_r`` (σ_r the smallest kept singular value), about
        ``(σ₁/σ_r)·16·max(m, n)·eps``, provided no singular value is within
        ``16·max(m, n)·eps·σ₁`` of the cutoff.
        """
        x, t, arr = _matrices(a)
        m, n = arr.shape[-2:]
        if rcond is None:
            if rtol is _NoValue:
                cut = 1e-15
            elif rtol is None:
                cut = max(m, n) * float(np.finfo(x.dtype).eps)
            else:
                cut = _check_rcond(rtol, "rtol")
        elif rtol is not _NoValue:
            raise ValueError("`rtol` and `rcond` can't be both set.")
        else:
            cut = _check_rcond(rcond, "rcond")
        p, d = self._engine.pinv(x, t, cut, _check_tol(tol), _check_sweeps(max_sweeps))
        info = self._finish(d, "pinv")
        return (p, info) if return_info else p

    def lstsq(
        self,
        a: Any,
        b: Any,
        rcond: Optional[float] = None,
        *,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """Minimum-norm least squares ``min ‖a·x − b‖₂``, as ``numpy.linalg.lstsq``.

        For ``a`` of shape ``(m, n)`` and ``b`` of shape ``(m,)`` or ``(m, K)``, numpy's
        result ``(x, residuals, rank, s)``: ``x`` ``(n,)`` or ``(n, K)``; ``residuals`` the
        squared residual norms, ``(1,)`` or ``(K,)`` when ``rank == n < m``, else empty;
        ``rank`` an int; ``s`` the singular values ``(k,)``.

        Batches: ``a`` ``(..., m, n)`` with ``b`` ``(..., m)`` (one vector per matrix) or
        ``(..., m, K)``; then ``x`` is ``(..., n)`` or ``(..., n, K)``, ``residuals``
        ``(...)`` or ``(..., K)`` for every matrix (whatever its rank), ``rank`` an int64
        array ``(...)``, ``s`` ``(..., k)``.

        ``rcond``: singular values ``<= rcond·s[0]`` count as zero; default
        ``max(m, n)·eps`` of the computation's dtype (float32 computes in float32 here, so
        its eps, where numpy — computing float32 input in float64 — uses float64's; for
        float64 this is numpy's default). A float32 ``a`` with a float64 ``b`` (or the
        reverse) computes in float64, a real with a complex array in complex (complex128
        when either is double precision), as numpy; ``residuals`` and ``s`` are real.
        """
        a_arr = _asarray(a, "a")
        b_arr = _asarray(b, "b")
        _require_matrices(a_arr, "a")
        da = _linalg_dtype(a_arr, "a")
        db = _linalg_dtype(b_arr, "b")
        dtype = np.promote_types(da, db)
        lead, (m, n) = a_arr.shape[:-2], a_arr.shape[-2:]
        if b_arr.shape == lead + (m,):
            b_vectors = True
        elif b_arr.ndim == a_arr.ndim and b_arr.shape[:-1] == lead + (m,):
            b_vectors = False
        else:
            raise LinAlgError(
                f"Incompatible dimensions: b has shape {b_arr.shape}; for a of shape "
                f"{a_arr.shape} it must have shape {lead + (m,)} (one vector per matrix) or "
                f"{lead + (m,)} + (K,)"
            )
        if rcond is None:
            cut = max(m, n) * float(np.finfo(dtype).eps)
        elif np.ndim(rcond) == 0 and isinstance(rcond, (int, float, np.number)) and rcond < 0:
            cut = float(np.finfo(dtype).eps)  # LAPACK's rule for rcond < 0: machine precision
        else:
            cut = _check_rcond(rcond, "rcond")
        xa, t = _engine_input(a_arr, dtype)
        xb = np.ascontiguousarray(b_arr, dtype=dtype)
        if not xb.flags.aligned:
            xb = xb.copy()
        x, res, rank, s, d = self._engine.lstsq(
            xa, t, xb, b_vectors, cut, _check_tol(tol), _check_sweeps(max_sweeps)
        )
        info = self._finish(d, "lstsq")
        if not lead:
            # numpy's 2-D conventions.
            rank = int(rank)
            if rank != n or m <= n:
                res = np.empty((0,), dtype=s.dtype)  # real, as numpy's for complex
        elif b_vectors:
            res = res.reshape(lead)
        result = LstsqResult(x, res, rank, s)
        return (result, info) if return_info else result

    def matrix_rank(
        self,
        A: Any,
        tol: Any = None,
        hermitian: bool = False,
        *,
        rtol: Any = None,
        max_sweeps: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """The numerical rank of every matrix of ``A``, as ``numpy.linalg.matrix_rank``: the
        number of singular values ``> tol`` (absolute), or ``> rtol·S[0]``; by default
        ``rtol = max(m, n)·eps`` of the dtype. ``tol`` and ``rtol`` may be arrays broadcast
        against the batch shape. For ``A.ndim < 2``, numpy's rule (1 unless all zero).

        Here ``tol`` is numpy's threshold, not the Jacobi tolerance (which keeps its default);
        ``hermitian`` is ignored. Non-finite matrices have rank 0 (and a warning).
        """
        arr = _asarray(A, "A")
        if arr.ndim < 2:
            rank = int(not np.all(arr == 0))
            return (rank, _no_call_info()) if return_info else rank
        x, t, _ = _matrices(arr, "A")
        s, _, _, d = self._engine.svd(x, t, "none", None, _check_sweeps(max_sweeps))
        info = self._finish(d, "matrix_rank")
        if tol is None:
            if rtol is None:
                rtol = max(arr.shape[-2:]) * np.finfo(s.dtype).eps
            else:
                rtol = np.asarray(rtol)[..., np.newaxis]
            thr = np.amax(s, axis=-1, keepdims=True, initial=0) * rtol
        else:
            thr = np.asarray(tol)[..., np.newaxis]
        rank = np.count_nonzero(s > thr, axis=-1)
        return (rank, info) if return_info else rank

    def cond(
        self,
        x: Any,
        p: Any = None,
        *,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
        return_info: bool = False,
    ) -> Any:
        """The condition number of every matrix of ``x``, as ``numpy.linalg.cond``.

        ``p`` = ``None``/``2`` (``S[0]/S[-1]``), ``-2`` (``S[-1]/S[0]``), and for square
        matrices ``"fro"`` and ``"nuc"`` come from this library's singular values; ``1``,
        ``-1``, ``inf``, ``-inf`` need the inverse and are computed by numpy. A singular
        matrix gives ``inf``; a matrix holding NaN gives NaN. Accuracy: about
        ``cond·16·max(m, n)·eps`` relative.
        """
        arr = _asarray(x, "x")
        _require_matrices(arr, "x")
        if arr.size == 0 and math.prod(arr.shape[-2:]) == 0:
            raise LinAlgError("cond is not defined on empty arrays")
        if not (p is None or p in (2, -2, "fro", "nuc")):
            if return_info:
                raise ValueError(f"return_info is not available for p={p!r} (numpy computes it)")
            return np.linalg.cond(arr.astype(_linalg_dtype(arr, "x"), copy=False), p)
        if p in ("fro", "nuc") and arr.shape[-1] != arr.shape[-2]:
            raise LinAlgError("Last 2 dimensions of the array must be square")
        xx, t, _ = _matrices(arr, "x")
        s, _, _, d = self._engine.svd(xx, t, "none", _check_tol(tol), _check_sweeps(max_sweeps))
        info = self._finish(d, "cond")
        with np.errstate(all="ignore"):
            if p is None or p == 2:
                r = s[..., 0] / s[..., -1]
            elif p == -2:
                r = s[..., -1] / s[..., 0]
            elif p == "fro":
                r = np.sqrt(np.sum(s * s, axis=-1)) * np.sqrt(np.sum(1 / (s * s), axis=-1))
            else:
                r = np.sum(s, axis=-1) * np.sum(1 / s, axis=-1)
        r = np.asarray(r)
        nan_mask = np.isnan(r)
        if nan_mask.any():
            nan_mask &= ~np.isnan(arr).any(axis=(-2, -1))
            if r.ndim > 0:
                r[nan_mask] = np.inf
            elif nan_mask:
                r[()] = np.inf
        r = _scalar_if_0d(r)
        return (r, info) if return_info else r

    def polar(
        self,
        a: Any,
        rotation_only: bool = False,
        *,
        return_info: bool = False,
    ) -> Any:
        """The polar decomposition ``a = R @ S`` of every square matrix of ``a``
        ``(..., n, n)``: ``R`` the rotation closest to ``a`` (orthogonal, ``det R = +1``),
        ``S = R.T @ a`` symmetric — indefinite when ``det a < 0`` (a reflection, an inverted
        element), the factorisation physics codes want (unlike ``scipy.linalg.polar``, whose
        unitary factor may have ``det = -1`` and whose ``S`` is positive semidefinite).

        Returns ``PolarResult(R, S)``, or ``R`` alone when ``rotation_only``. Accuracy: ``R``
        orthogonal and ``a ≈ R @ S`` to ``16·n·eps`` relative to ``‖a‖``.

        For complex input (complex64, complex128) the decomposition is ``a = W @ P`` with
        ``W = U @ Vh`` unitary and ``P = Vh^H @ diag(S) @ Vh`` Hermitian positive
        semidefinite (scipy's ``polar``), returned as ``PolarResult(W, P)``;
        ``rotation_only`` is a ``ValueError`` for complex input (there is no rotation).
        """
        x, t, arr = _matrices(a)
        if arr.shape[-1] != arr.shape[-2]:
            raise LinAlgError(
                f"Last 2 dimensions of the array must be square: the polar decomposition "
                f"needs square matrices, got {arr.shape[-2]}x{arr.shape[-1]}"
            )
        r, s, d = self._engine.polar(x, t, bool(rotation_only))
        info = self._finish(d, "polar")
        result = r if rotation_only else PolarResult(r, s)
        return (result, info) if return_info else result


_defaults: Dict[str, Solver] = {}
_defaults_lock = threading.Lock()


def _env_adapter() -> Union[int, str, None]:
    value = os.environ.get(ADAPTER_ENV)
    if value is None or value == "":
        return None
    return int(value) if value.isdigit() else value


def default_solver(backend: str = "auto") -> Solver:
    """The module-level solver for ``backend``, created on first use and kept (its device and
    compiled pipelines persist for the life of the process). The adapter is the one named by
    ``$BATCHED_SVD_ADAPTER`` (an index into ``adapters()`` or a name) if set, else the
    library's choice (``WGPU_ADAPTER_NAME``, ``WGPU_BACKEND``)."""
    solver = _defaults.get(backend)
    if solver is not None:
        return solver
    with _defaults_lock:
        solver = _defaults.get(backend)
        if solver is None:
            adapter = None if backend == "cpu" else _env_adapter()
            solver = Solver(backend, adapter)
            _defaults[backend] = solver
        return solver


def adapters() -> list:
    """The adapters wgpu finds, as dictionaries (``index``, ``name``, ``backend``,
    ``device_type``, ``driver``, ``compute``), in the order ``Solver(adapter=index)`` uses.
    ``WGPU_BACKEND`` limits the backends searched."""
    return _native.adapters()


def svd(
    a: Any,
    full_matrices: bool = True,
    compute_uv: bool = True,
    hermitian: bool = False,
    *,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
    return_info: bool = False,
) -> Any:
    """``numpy.linalg.svd`` on the default solver of ``backend`` (see ``Solver.svd``)."""
    return default_solver(backend).svd(
        a,
        full_matrices,
        compute_uv,
        hermitian,
        tol=tol,
        max_sweeps=max_sweeps,
        return_info=return_info,
    )


def svdvals(
    x: Any,
    *,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
    return_info: bool = False,
) -> Any:
    """``numpy.linalg.svdvals`` on the default solver of ``backend`` (see ``Solver.svd``)."""
    return default_solver(backend).svdvals(
        x, tol=tol, max_sweeps=max_sweeps, return_info=return_info
    )


def pinv(
    a: Any,
    rcond: Optional[float] = None,
    hermitian: bool = False,
    *,
    rtol: Any = _NoValue,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
    return_info: bool = False,
) -> Any:
    """``numpy.linalg.pinv`` on the default solver of ``backend`` (see ``Solver.pinv``)."""
    return default_solver(backend).pinv(
        a,
        rcond,
        hermitian,
        rtol=rtol,
        tol=tol,
        max_sweeps=max_sweeps,
        return_info=return_info,
    )


def lstsq(
    a: Any,
    b: Any,
    rcond: Optional[float] = None,
    *,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
    return_info: bool = False,
) -> Any:
    """``numpy.linalg.lstsq`` on the default solver of ``backend`` (see ``Solver.lstsq``)."""
    return default_solver(backend).lstsq(
        a, b, rcond, tol=tol, max_sweeps=max_sweeps, return_info=return_info
    )


def matrix_rank(
    A: Any,
    tol: Any = None,
    hermitian: bool = False,
    *,
    rtol: Any = None,
    backend: str = "auto",
    max_sweeps: Optional[int] = None,
    return_info: bool = False,
) -> Any:
    """``numpy.linalg.matrix_rank`` on the default solver of ``backend`` (see
    ``Solver.matrix_rank``)."""
    return default_solver(backend).matrix_rank(
        A, tol, hermitian, rtol=rtol, max_sweeps=max_sweeps, return_info=return_info
    )


def cond(
    x: Any,
    p: Any = None,
    *,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
    return_info: bool = False,
) -> Any:
    """``numpy.linalg.cond`` on the default solver of ``backend`` (see ``Solver.cond``)."""
    return default_solver(backend).cond(
        x, p, tol=tol, max_sweeps=max_sweeps, return_info=return_info
    )


def polar(
    a: Any,
    rotation_only: bool = False,
    *,
    backend: str = "auto",
    return_info: bool = False,
) -> Any:
    """The polar decomposition on the default solver of ``backend`` (see
    ``Solver.polar``)."""
    return default_solver(backend).polar(a, rotation_only, return_info=return_info)
