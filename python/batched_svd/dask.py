"""Batched SVD of dask arrays: each chunk of the leading dimensions is one batched call.

``x`` has shape ``(..., m, n)`` and is chunked along its leading dimensions only: the matrix
dimensions ``m`` and ``n`` must each be one chunk (``ValueError`` otherwise; rechunk with
``x.rechunk({-2: -1, -1: -1})``). The graph goes through ``dask.array.apply_gufunc`` with the
signature ``(m,n)->(m,k),(k),(k,n)`` (``(m,n)->(m,m),(k),(n,n)`` for ``full_matrices=True``),
so it runs on any scheduler: threads (each call releases the GIL, so threads of one process
share its device), processes, or a ``distributed`` cluster, where every worker process keeps
its own default solver (created on its first chunk, reused after).

One worker per GPU on a multi-machine cluster: start one worker process per GPU with
``BATCHED_SVD_ADAPTER`` naming its adapter (an index into ``batched_svd.adapters()`` or a
name), for example on every machine with two GPUs::

    BATCHED_SVD_ADAPTER=0 dask worker tcp://scheduler:8786 --nworkers 1 --nthreads 1 &
    BATCHED_SVD_ADAPTER=1 dask worker tcp://scheduler:8786 --nworkers 1 --nthreads 1 &

Requires the ``dask`` extra: ``pip install 'batched-svd[dask]'``.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Optional, Tuple

import numpy as np
from numpy.linalg import LinAlgError

try:
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "batched_svd.dask needs dask: pip install 'batched-svd[dask]' (dask[array] and "
        "distributed)"
    ) from e

from . import _api

__all__ = ["svd", "svdvals"]


def _check(x: Any, name: str) -> Tuple["da.Array", np.dtype]:
    if not isinstance(x, da.Array):
        x = da.asarray(x)
    if x.ndim < 2:
        raise LinAlgError(
            f"{x.ndim}-dimensional array given as {name}. Array must be at least two-dimensional"
        )
    dtype = _api._linalg_dtype(np.empty(0, dtype=x.dtype), name)
    split = [
        f"{'m' if axis == x.ndim - 2 else 'n'} (axis {axis}) is split into "
        f"{len(x.chunks[axis])} chunks {x.chunks[axis]}"
        for axis in (x.ndim - 2, x.ndim - 1)
        if len(x.chunks[axis]) > 1
    ]
    if split:
        raise ValueError(
            f"{name} of shape {x.shape} must be chunked along its leading dimensions only, "
            f"each matrix in one chunk, but {' and '.join(split)}; rechunk with "
            f"{name}.rechunk({{{x.ndim - 2}: -1, {x.ndim - 1}: -1}})"
        )
    if any(np.isnan(c) for axis in (-2, -1) for c in x.chunks[axis]):
        raise ValueError(f"{name} has unknown matrix dimensions; call compute_chunk_sizes() first")
    return x, dtype


def _real(dtype: np.dtype) -> np.dtype:
    """The dtype of the singular values: float32 for float32 and complex64, else float64."""
    return np.finfo(dtype).dtype


def _svd_block(
    block: np.ndarray,
    full_matrices: bool,
    backend: str,
    tol: Optional[float],
    max_sweeps: Optional[int],
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(
        _api.default_solver(backend).svd(
            block, full_matrices=full_matrices, tol=tol, max_sweeps=max_sweeps
        )
    )


def _svdvals_block(
    block: np.ndarray, backend: str, tol: Optional[float], max_sweeps: Optional[int]
) -> np.ndarray:
    return _api.default_solver(backend).svd(
        block, compute_uv=False, tol=tol, max_sweeps=max_sweeps
    )


def svd(
    x: Any,
    full_matrices: bool = False,
    *,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
) -> Tuple["da.Array", "da.Array", "da.Array"]:
    """``(U, S, Vh)`` of every matrix of the dask array ``x`` ``(..., m, n)``, lazily: one
    ``batched_svd.svd`` call per chunk of the leading dimensions, on each worker's default
    solver for ``backend``. Shapes and dtypes as ``batched_svd.svd`` (complex input: ``S`` real
    of the matching precision; ``full_matrices``
    defaults to ``False`` here, as dask's own ``svd``). Chunks along ``m`` or ``n`` are a
    ``ValueError``."""
    x, dtype = _check(x, "x")
    m, n = x.shape[-2:]
    k = min(m, n)
    signature = "(m,n)->(m,m),(k),(n,n)" if full_matrices else "(m,n)->(m,k),(k),(k,n)"
    lead = (0,) * (x.ndim - 2)
    meta = (
        np.empty(lead + (0, 0), dtype=dtype),
        np.empty(lead + (0,), dtype=_real(dtype)),
        np.empty(lead + (0, 0), dtype=dtype),
    )
    func = partial(
        _svd_block,
        full_matrices=bool(full_matrices),
        backend=backend,
        tol=_api._check_tol(tol),
        max_sweeps=_api._check_sweeps(max_sweeps),
    )
    U, S, Vh = da.apply_gufunc(
        func,
        signature,
        x,
        output_sizes={"k": k},
        allow_rechunk=False,
        meta=meta,
    )
    return U, S, Vh


def svdvals(
    x: Any,
    *,
    backend: str = "auto",
    tol: Optional[float] = None,
    max_sweeps: Optional[int] = None,
) -> "da.Array":
    """The singular values ``(..., k)`` of every matrix of the dask array ``x``: one
    ``batched_svd.svdvals`` call per chunk (see ``svd``)."""
    x, dtype = _check(x, "x")
    k = min(x.shape[-2:])
    func = partial(
        _svdvals_block,
        backend=backend,
        tol=_api._check_tol(tol),
        max_sweeps=_api._check_sweeps(max_sweeps),
    )
    return da.apply_gufunc(
        func,
        "(m,n)->(k)",
        x,
        output_sizes={"k": k},
        allow_rechunk=False,
        meta=np.empty((0,) * (x.ndim - 1), dtype=_real(dtype)),
    )
