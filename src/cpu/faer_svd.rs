//! faer's SVD in the host type (`f64`, or `Complex<f64>`, which is faer's `c64`) for the
//! larger matrices: Householder bidiagonalisation (with a QR first for tall matrices) and a
//! divide-and-conquer bidiagonal SVD, near LAPACK's `dgesdd`/`zgesdd` in speed.
//! Scratch memory is asked for up front and kept per thread, so a batch of one shape
//! allocates once.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
use faer::{Mat, Par};

use super::jacobi::Svd64;
use crate::host::Host;

/// faer's matrices and scratch for one shape, vector mode and parallelism, in the host type.
pub(crate) struct FaerWorkspace<H: Host> {
    key: (usize, usize, bool, usize),
    a: Mat<H>,
    s: Diag<H>,
    u: Mat<H>,
    v: Mat<H>,
    mem: MemBuffer,
}

impl<H: Host + faer::traits::ComplexField> FaerWorkspace<H> {
    /// A workspace for `m×n` matrices, with or without vectors, on `threads` threads (1: the
    /// calling thread only; more: faer's rayon parallelism inside each matrix).
    fn new(m: usize, n: usize, vectors: bool, threads: usize) -> Self {
        let k = m.min(n);
        let mode = if vectors {
            ComputeSvdVectors::Thin
        } else {
            ComputeSvdVectors::No
        };
        let req = svd_scratch::<H>(m, n, mode, mode, par(threads), Default::default());
        let (um, vm, kk) = if vectors { (m, n, k) } else { (0, 0, 0) };
        Self {
            key: (m, n, vectors, threads),
            a: Mat::zeros(m, n),
            s: Diag::zeros(k),
            u: Mat::zeros(um, kk),
            v: Mat::zeros(vm, kk),
            mem: MemBuffer::new(req),
        }
    }
}

fn par(threads: usize) -> Par {
    if threads <= 1 {
        Par::Seq
    } else {
        Par::rayon(threads)
    }
}

/// Decomposes the `m×n` matrix `a` (column-major, contiguous, finite) into `out` (σ
/// descending, U `m×k` and V `n×k` column-major); `None` if faer reports no convergence. `ws`
/// is created or replaced when its shape does not match.
pub(crate) fn svd_faer<H: Host + faer::traits::ComplexField>(
    m: usize,
    n: usize,
    a: &[H],
    want_vectors: bool,
    threads: usize,
    ws: &mut Option<FaerWorkspace<H>>,
    out: &mut Svd64<H>,
) -> Option<()> {
    if ws
        .as_ref()
        .is_none_or(|w| w.key != (m, n, want_vectors, threads))
    {
        *ws = Some(FaerWorkspace::new(m, n, want_vectors, threads));
    }
    let ws = ws.as_mut()?;
    let k = m.min(n);
    for j in 0..n {
        ws.a.col_as_slice_mut(j)
            .copy_from_slice(&a[j * m..(j + 1) * m]);
    }
    let (u, v) = if want_vectors {
        (Some(ws.u.as_mut()), Some(ws.v.as_mut()))
    } else {
        (None, None)
    };
    svd(
        ws.a.as_ref(),
        ws.s.as_mut(),
        u,
        v,
        par(threads),
        MemStack::new(&mut ws.mem),
        Default::default(),
    )
    .ok()?;
    out.sigma.clear();
    // faer stores σ in the element type (zero imaginary parts for complex).
    out.sigma.extend(
        ws.s.column_vector()
            .iter()
            .map(|&x| nalgebra::ComplexField::real(x)),
    );
    out.vectors = want_vectors;
    out.sweeps = 0;
    out.u.clear();
    out.v.clear();
    if want_vectors {
        for j in 0..k {
            out.u.extend_from_slice(ws.u.col_as_slice(j));
        }
        for j in 0..k {
            out.v.extend_from_slice(ws.v.col_as_slice(j));
        }
    }
    Some(())
}
