#!/usr/bin/env bash
# The Python package's CI: a fresh virtual environment, `pip install ./python[dask,test]`
# (maturin from PyPI builds the native module against the repository's library; numpy, dask,
# distributed, pytest and hypothesis come from PyPI as pyproject.toml names them), pytest
# (the argument fuzzer's fixed cases included), then the README's example.
#
# Usage: python/ci.sh [PYTHON]  (default python3; a Python >= 3.9 with the venv module).
# Set BATCHED_SVD_REQUIRE_GPU=1 to make the GPU tests fail, not skip, without an adapter.
# Runs from any directory; the virtual environment is a temporary directory, removed after.
set -euo pipefail

cd "$(dirname "$0")"
PYTHON=${1:-python3}
VENV=$(mktemp -d)
trap 'rm -rf "$VENV"' EXIT

# Debian's python3 has no ensurepip (so no venv with pip) without python3-venv: install it
# when running as root with apt (CI's fresh Debian 12), else say what is missing.
if ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    else
        echo "python/ci.sh: $PYTHON cannot create virtual environments (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q ".[dask,test]"
# (From another directory: here `import batched_svd` would find the sources, not the install.)
(cd "$VENV" && "$VENV/bin/python" -c "import batched_svd, sys; print('batched_svd', batched_svd.__version__, 'on Python', sys.version.split()[0])")
# The tests import the installed package, not the sources next to them.
(cd tests && "$VENV/bin/python" -m pytest -q -p no:cacheprovider -p no:logging .)
# The README's Python example, as a new user would run it.
(cd "$VENV" && "$VENV/bin/python" - <<'PY'
import numpy as np
import batched_svd as bs

a = np.random.default_rng(0).standard_normal((100_000, 3, 3), dtype=np.float32)
U, S, Vh = bs.svd(a, full_matrices=False)            # as numpy.linalg.svd, float32 out
print(U.shape, S.shape, Vh.shape, S.dtype)           # (100000, 3, 3) (100000, 3) (100000, 3, 3) float32
print(np.abs(U @ (S[..., None] * Vh) - a).max())     # about 1e-6
(U, S, Vh), info = bs.svd(a, full_matrices=False, return_info=True)
print(info.engine, "-", info.reason)                 # which engine ran, and why
assert np.abs(U @ (S[..., None] * Vh) - a).max() < 1e-4
PY
)
