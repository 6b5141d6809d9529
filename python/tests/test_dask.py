"""batched_svd.dask on the threaded scheduler and on a distributed.LocalCluster (loopback),
compared with numpy chunk by chunk."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask  # noqa: E402

import batched_svd as bs  # noqa: E402
import batched_svd.dask as bsd  # noqa: E402

from conftest import check_svd  # noqa: E402


def _data(rng, shape, chunks, dtype=np.float32):
    x = rng.standard_normal(shape).astype(dtype)
    return x, da.from_array(x, chunks=chunks)


def _compare_by_chunk(x, dx, U, S, Vh, full):
    """Every chunk of the result against numpy on the same chunk."""
    for index in np.ndindex(*dx.numblocks[:-2]):
        sl = tuple(
            slice(sum(c[:i]), sum(c[: i + 1])) for c, i in zip(dx.chunks[:-2], index)
        )
        block = x[sl]
        ref = np.linalg.svd(block.astype(np.float64), full_matrices=full, compute_uv=False)
        m, n = x.shape[-2:]
        e = 2.0**-23 if x.dtype == np.float32 else 2.0**-52
        assert np.all(np.abs(S[sl] - ref) <= 16 * max(m, n) * e * ref[..., :1])
        check_svd(block, U[sl], S[sl], Vh[sl], full)


@pytest.mark.parametrize("full", [False, True], ids=["thin", "full"])
def test_threaded_scheduler(rng, full):
    x, dx = _data(rng, (1000, 6, 4), (250, 6, 4))
    U, S, Vh = bsd.svd(dx, full_matrices=full)
    assert isinstance(U, da.Array) and U.dtype == np.float32
    k = 4
    assert U.shape == (1000, 6, 6 if full else k) and S.shape == (1000, k)
    assert Vh.shape == (1000, 4 if full else k, 4)
    assert U.chunks[0] == (250,) * 4
    with dask.config.set(scheduler="threads"):
        Uc, Sc, Vhc = dask.compute(U, S, Vh)
    _compare_by_chunk(x, dx, Uc, Sc, Vhc, full)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_array_equal(bsd.svdvals(dx).compute(), Sc)


def test_leading_dimensions_and_float64(rng):
    x, dx = _data(rng, (4, 30, 5, 5), (2, 10, 5, 5), np.float64)
    U, S, Vh = bsd.svd(dx)
    with dask.config.set(scheduler="threads"):
        Uc, Sc, Vhc = dask.compute(U, S, Vh)
    assert Uc.dtype == np.float64 and Sc.shape == (4, 30, 5)
    _compare_by_chunk(x, dx, Uc, Sc, Vhc, False)


def test_matrix_dimensions_must_be_single_chunks(rng):
    _, dx = _data(rng, (100, 8, 6), (50, 4, 6))
    with pytest.raises(ValueError, match=r"m \(axis 1\) is split into 2 chunks.*rechunk"):
        bsd.svd(dx)
    _, dx = _data(rng, (100, 8, 6), (50, 8, 3))
    with pytest.raises(ValueError, match=r"n \(axis 2\) is split"):
        bsd.svdvals(dx)
    with pytest.raises(np.linalg.LinAlgError):
        bsd.svd(da.ones(5))
    with pytest.raises(TypeError, match="float16"):
        bsd.svd(da.ones((4, 3, 3), dtype=np.float16))


def test_distributed_local_cluster(rng):
    distributed = pytest.importorskip("distributed")
    x, dx = _data(rng, (2000, 3, 3), (500, 3, 3))
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        U, S, Vh = bsd.svd(dx, full_matrices=False)
        Uc, Sc, Vhc = client.compute([U, S, Vh], sync=True)
        _compare_by_chunk(x, dx, Uc, Sc, Vhc, False)
        sv = client.compute(bsd.svdvals(dx), sync=True)
        np.testing.assert_allclose(sv, Sc, rtol=0, atol=1e-6 * Sc.max())
        # each worker process made (and kept) its own default solver
        backends = client.run(lambda: sorted(bs._api._defaults))
        assert len(backends) == 2 and all(v == ["auto"] for v in backends.values())
