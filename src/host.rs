//! The scalar the host computes in: `f64` for real elements, `Complex<f64>` for complex ones.
//!
//! The CPU engine, the basis completion and the polar factors are written once over [`Host`];
//! for `f64` every operation is the real one (conjugation is the identity, the modulus the
//! absolute value), so the real results are those of real code.

use nalgebra::{Complex, ComplexField};

use crate::cpu::faer_svd::{self, FaerWorkspace};
use crate::cpu::jacobi::{self, Svd64};
use crate::cpu::jacobi_complex;

/// A host scalar: nalgebra's field operations with an `f64` real field, plus what the CPU
/// engine needs beyond them.
pub(crate) trait Host:
    ComplexField<RealField = f64> + Copy + Default + Send + Sync + 'static
{
    /// The largest absolute value of the parts (`|x|` for real, `max(|re|, |im|)`).
    fn largest_part(self) -> f64;

    /// `self·2^e`, exact unless the result leaves the normal range (each part).
    fn ldexp(self, e: i32) -> Self;

    /// `x/|x|`, with `1` for zero: the sign (`±1`, of `±0.0` too) for real `x`.
    fn phase(self) -> Self;

    /// Not a number (in every part).
    fn nan() -> Self;

    /// The CPU engine's one-sided Jacobi SVD of the `m×n` matrix `a` (column-major, finite)
    /// into `out`; `None` if its sweeps do not converge.
    fn jacobi_svd(
        m: usize,
        n: usize,
        a: &[Self],
        want_vectors: bool,
        ws: &mut jacobi::Workspace<Self>,
        out: &mut Svd64<Self>,
    ) -> Option<()>;

    /// faer's SVD of `a` on `threads` threads, as `jacobi_svd`.
    fn faer_svd(
        m: usize,
        n: usize,
        a: &[Self],
        want_vectors: bool,
        threads: usize,
        ws: &mut Option<FaerWorkspace<Self>>,
        out: &mut Svd64<Self>,
    ) -> Option<()>;
}

impl Host for f64 {
    #[inline]
    fn largest_part(self) -> f64 {
        self.abs()
    }

    #[inline]
    fn ldexp(self, e: i32) -> Self {
        jacobi::ldexp(self, e)
    }

    #[inline]
    fn phase(self) -> Self {
        1.0f64.copysign(self)
    }

    #[inline]
    fn nan() -> Self {
        f64::NAN
    }

    fn jacobi_svd(
        m: usize,
        n: usize,
        a: &[f64],
        want_vectors: bool,
        ws: &mut jacobi::Workspace,
        out: &mut Svd64,
    ) -> Option<()> {
        jacobi::svd(m, n, |i, j| a[j * m + i], want_vectors, ws, out)
    }

    fn faer_svd(
        m: usize,
        n: usize,
        a: &[f64],
        want_vectors: bool,
        threads: usize,
        ws: &mut Option<FaerWorkspace<Self>>,
        out: &mut Svd64,
    ) -> Option<()> {
        faer_svd::svd_faer(m, n, a, want_vectors, threads, ws, out)
    }
}

impl Host for Complex<f64> {
    #[inline]
    fn largest_part(self) -> f64 {
        self.re.abs().max(self.im.abs())
    }

    #[inline]
    fn ldexp(self, e: i32) -> Self {
        Complex::new(jacobi::ldexp(self.re, e), jacobi::ldexp(self.im, e))
    }

    #[inline]
    fn phase(self) -> Self {
        let r = self.norm();
        if r == 0.0 {
            Complex::new(1.0, 0.0)
        } else {
            self.unscale(r)
        }
    }

    #[inline]
    fn nan() -> Self {
        Complex::new(f64::NAN, f64::NAN)
    }

    fn jacobi_svd(
        m: usize,
        n: usize,
        a: &[Self],
        want_vectors: bool,
        ws: &mut jacobi::Workspace<Self>,
        out: &mut Svd64<Self>,
    ) -> Option<()> {
        jacobi_complex::svd(m, n, a, want_vectors, ws, out)
    }

    fn faer_svd(
        m: usize,
        n: usize,
        a: &[Self],
        want_vectors: bool,
        threads: usize,
        ws: &mut Option<FaerWorkspace<Self>>,
        out: &mut Svd64<Self>,
    ) -> Option<()> {
        faer_svd::svd_faer(m, n, a, want_vectors, threads, ws, out)
    }
}
