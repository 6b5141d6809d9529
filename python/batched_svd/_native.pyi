"""Type stubs of ``batched_svd._native``, the extension module (Rust, pyo3) behind the
package. Use the package's functions and ``batched_svd.Solver``; this module takes arrays the
package has already checked: C-contiguous, aligned, native-endian float32, float64, complex64
or complex128 of shape
``(..., p, q)``, holding ``p×q`` row-major matrices, or with ``transposed=True`` the transposes
of ``q×p`` matrices (which is how Fortran-ordered or axis-swapped input arrives uncopied).

Every computing method releases the GIL for the whole computation and returns numpy arrays
of the input's dtype (singular values and residuals: its real dtype) plus an info dictionary
(the fields of ``batched_svd.Info``).
"""

from typing import Any, Dict, List, Literal, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
DEFAULT_MAX_SWEEPS: int

_Float = Union[np.float32, np.float64]
_Array = npt.NDArray[Any]
_InfoDict = Dict[str, Any]

def adapters() -> List[Dict[str, Any]]:
    """The adapters wgpu finds: ``index``, ``name``, ``backend``, ``device_type``, ``driver``,
    ``compute``."""
    ...

class Engine:
    """One library ``Solver`` (device, pipelines and buffer pools kept across calls)."""

    def __init__(
        self,
        backend: Literal["auto", "gpu", "cpu"] = "auto",
        adapter: Union[int, str, None] = None,
        max_chunk_bytes: int = 4194304,
    ) -> None: ...
    @property
    def backend(self) -> str: ...
    def adapter_info(self) -> Optional[Dict[str, str]]: ...
    def prepare(
        self, m: int, n: int, compute_uv: bool = True, dtype: str = "float32"
    ) -> Tuple[str, str]: ...
    def svd(
        self,
        a: _Array,
        transposed: bool,
        vectors: Literal["none", "thin", "full"],
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
    ) -> Tuple[_Array, Optional[_Array], Optional[_Array], _InfoDict]:
        """``(s (..., k), u (..., m, k|m) or None, vh (..., k|n, n) or None, info)``."""
        ...
    def polar(
        self, a: _Array, transposed: bool, rotation_only: bool
    ) -> Tuple[_Array, Optional[_Array], _InfoDict]:
        """``(r (..., n, n), s (..., n, n) or None, info)``."""
        ...
    def pinv(
        self,
        a: _Array,
        transposed: bool,
        rcond: float,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
    ) -> Tuple[_Array, _InfoDict]:
        """``(pinv (..., n, m), info)``."""
        ...
    def lstsq(
        self,
        a: _Array,
        transposed: bool,
        b: _Array,
        b_vectors: bool,
        rcond: float,
        tol: Optional[float] = None,
        max_sweeps: Optional[int] = None,
    ) -> Tuple[_Array, _Array, _Array, _Array, _InfoDict]:
        """``(x (..., n) or (..., n, r), residuals (..., r), rank (...) int64, s (..., k),
        info)``."""
        ...
