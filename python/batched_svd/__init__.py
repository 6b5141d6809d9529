"""batched_svd: batched singular value decompositions on the GPU (wgpu) or the CPU, with
``numpy.linalg``'s interface.

>>> import numpy as np, batched_svd as bs
>>> a = np.random.default_rng(0).standard_normal((1000, 3, 3), dtype=np.float32)
>>> U, S, Vh = bs.svd(a, full_matrices=False)          # float32 in, float32 out
>>> bool(np.allclose(U @ (S[..., None] * Vh), a, atol=1e-5))
True

Functions (shapes as numpy's; any leading dimensions; float32, float64, complex64 or
complex128, integer and bool converted to float64): ``svd``, ``svdvals``, ``pinv``, ``lstsq``, ``matrix_rank``, ``cond``,
``polar``. Each takes ``backend="auto" | "gpu" | "cpu"`` and ``return_info``; the SVD-based
ones also ``tol`` and ``max_sweeps``. ``Solver`` holds an engine of its own and the ``Info``
of its last call; ``adapters()`` lists the GPU adapters. ``batched_svd.dask`` runs the SVD on
dask arrays (``pip install 'batched-svd[dask]'``).

Differences from numpy: a matrix holding NaN or inf, or not converged, gets NaN outputs and a
``RuntimeWarning`` (numpy raises ``LinAlgError`` for the whole call).
"""

from . import _native
from ._api import (
    ADAPTER_ENV,
    Info,
    LstsqResult,
    PolarResult,
    Solver,
    SVDResult,
    adapters,
    cond,
    default_solver,
    lstsq,
    matrix_rank,
    pinv,
    polar,
    svd,
    svdvals,
)

__version__ = _native.__version__

#: Default sweep cap per matrix (``max_sweeps``), as LAPACK's ``sgesvj``.
DEFAULT_MAX_SWEEPS = _native.DEFAULT_MAX_SWEEPS

__all__ = [
    "ADAPTER_ENV",
    "DEFAULT_MAX_SWEEPS",
    "Info",
    "LstsqResult",
    "PolarResult",
    "SVDResult",
    "Solver",
    "__version__",
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
