//! The neutral result both engines produce, and the finalize steps shared by them.
//!
//! An engine computes a [`Product`] into [`Factors`]: σ and two matrix outputs per matrix, with
//! the [`Report`]. For the SVD the two outputs are U and Vᵀ; for the polar decomposition R and
//! S. [`SvdOutput::from_factors`](crate::SvdOutput) and
//! [`PolarOutput::from_factors`](crate::PolarOutput) take the arrays over without copying, and
//! give them back for the next call (`*_into` reuses the allocations).

use nalgebra::ComplexField;

use crate::element::{Element, Real};
use crate::error::{Error, Result};
use crate::ops::checked_len;
use crate::options::Vectors;
use crate::report::{Engine, Report};

/// What a solve computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Product {
    /// σ, U, Vᵀ.
    Svd,
    /// R (and S when `with_s`) of the polar decomposition A = R·S, square matrices only.
    Polar { with_s: bool },
}

impl Product {
    /// The vectors the engines compute for this product: the SVD's as asked; the polar
    /// decomposition needs full (square) U and V.
    pub(crate) fn vectors(self, asked: Vectors) -> Vectors {
        match self {
            Product::Svd => asked,
            Product::Polar { .. } => Vectors::Full,
        }
    }
}

/// σ and the two matrix outputs of every matrix of a batch, each matrix row-major:
///
/// | product | `first` | `second` |
/// | --- | --- | --- |
/// | SVD | U, `count×m×u_cols` | Vᵀ, `count×vt_rows×n` |
/// | polar | R, `count×n×n` | S, `count×n×n` (empty for R only) |
///
/// `sigma` is `count×k`. The report's infos are one per matrix.
#[derive(Clone, Debug)]
pub(crate) struct Factors<T: Element> {
    pub report: Report,
    pub product: Product,
    /// The vectors computed (for the polar decomposition: [`Vectors::Full`]).
    pub vectors: Vectors,
    pub sigma: Vec<T::Real>,
    pub first: Vec<T>,
    pub second: Vec<T>,
}

impl<T: Element> Factors<T> {
    /// Factors of no matrices.
    pub(crate) fn empty(engine: Engine) -> Self {
        Self {
            report: Report::empty(engine),
            product: Product::Svd,
            vectors: Vectors::None,
            sigma: Vec::new(),
            first: Vec::new(),
            second: Vec::new(),
        }
    }

    /// Reshapes for a batch of `batch_shape` (`count` = its product) `m×n` matrices and
    /// `product`, keeping the allocations where they are large enough: factors reused across
    /// calls of one shape allocate (and page-fault) nothing. The values are left for the
    /// engine to overwrite; the report is reset.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when an output's length overflows `usize`, [`Error::OutOfMemory`]
    /// when the host cannot allocate it (full vectors of wide or tall matrices can need far
    /// more memory than the input: a 1×20 000 matrix has a 20 000×20 000 Vᵀ).
    pub(crate) fn reshape(
        &mut self,
        batch_shape: &[usize],
        (m, n): (usize, usize),
        vectors: Vectors,
        product: Product,
        engine: Engine,
    ) -> Result<()> {
        let vectors = product.vectors(vectors);
        let count: usize = batch_shape.iter().product();
        let second = match product {
            Product::Polar { with_s: false } => 0,
            _ => checked_len(&[count, vectors.vt_rows(m, n), n])?,
        };
        let sigma = checked_len(&[count, m.min(n)])?;
        let first = checked_len(&[count, m, vectors.u_cols(m, n)])?;
        fit(&mut self.sigma, sigma)?;
        fit(&mut self.first, first)?;
        fit(&mut self.second, second)?;
        // One report per matrix, even of matrices with no elements: a batch of 2⁴⁰ 0×0
        // matrices (no data) aborted the process on this allocation (found by fuzzing).
        let infos = &mut self.report.info;
        infos
            .try_reserve_exact(count.saturating_sub(infos.len()))
            .map_err(|_| {
                Error::OutOfMemory(format!(
                    "the reports of {count} matrices need more host memory than the allocator \
                     gives"
                ))
            })?;
        self.report.reshape(batch_shape, m, n, engine);
        self.product = product;
        self.vectors = vectors;
        Ok(())
    }

    /// `(m, n)` of each input matrix.
    #[inline]
    pub(crate) fn shape(&self) -> (usize, usize) {
        self.report.shape()
    }

    /// `min(m, n)`.
    #[inline]
    pub(crate) fn k(&self) -> usize {
        self.report.k()
    }

    /// Columns of each U.
    #[inline]
    pub(crate) fn u_cols(&self) -> usize {
        let (m, n) = self.shape();
        self.vectors.u_cols(m, n)
    }

    /// Rows of each Vᵀ.
    #[inline]
    pub(crate) fn vt_rows(&self) -> usize {
        let (m, n) = self.shape();
        self.vectors.vt_rows(m, n)
    }

    /// Matrix `b`'s σ, first and second outputs.
    pub(crate) fn matrix_mut(&mut self, b: usize) -> (&mut [T::Real], &mut [T], &mut [T]) {
        let k = self.k();
        let (m, n) = self.shape();
        let first = m * self.u_cols();
        let second = if self.second.is_empty() {
            0
        } else {
            self.vt_rows() * n
        };
        (
            &mut self.sigma[b * k..(b + 1) * k],
            &mut self.first[b * first..(b + 1) * first],
            &mut self.second[b * second..(b + 1) * second],
        )
    }
}

impl<T: Element> Factors<T> {
    /// The factors of a batch with no element ([`MatrixBatch::is_empty`]): reshaped for it,
    /// with no σ, full U and V the identities (`m×m`, `n×n`), every matrix converged in no
    /// sweep. numpy gives the same for zero-sized dimensions.
    ///
    /// [`MatrixBatch::is_empty`]: crate::MatrixBatch::is_empty
    pub(crate) fn fill_empty(
        &mut self,
        batch: &crate::MatrixBatch<'_, T>,
        vectors: Vectors,
        product: Product,
        engine: Engine,
    ) -> Result<()> {
        let (m, n) = (batch.rows(), batch.cols());
        self.reshape(batch.batch_shape(), (m, n), vectors, product, engine)?;
        self.report.info.fill(crate::report::MatrixInfo::CONVERGED);
        let identity = |v: &mut [T], size: usize| {
            for (e, x) in v.iter_mut().enumerate() {
                let (i, j) = (e % (size * size) / size, e % size);
                *x = T::from_host(T::Host::from_real(if i == j { 1.0 } else { 0.0 }));
            }
        };
        // Only full vectors have elements here (thin ones are m×0 and 0×n).
        identity(&mut self.first, m);
        identity(&mut self.second, n);
        Ok(())
    }

    /// Turns the SVD factors of square matrices (U in `first`, Vᴴ in `second`) into the polar
    /// factors R = U·Vᴴ and S = V·Σ·Vᴴ (formed in the host type), in place; `with_s = false`
    /// drops S. Real factors come in the rotation sign convention (R a rotation), complex ones
    /// in the non-negative one (R unitary, S Hermitian positive semi-definite).
    pub(crate) fn svd_to_polar(&mut self, with_s: bool) {
        let (count, n) = (self.report.count(), self.report.shape().1);
        // Scratch only when there is a matrix: for none, n may be anything and n·n overflow
        // (a polar decomposition of no matrices of 1.5·10¹⁹ × 1.5·10¹⁹, found by fuzzing).
        let size = if count == 0 { 0 } else { n * n };
        let mut r = vec![nalgebra::zero::<T::Host>(); size];
        let mut s = vec![nalgebra::zero::<T::Host>(); size];
        for b in 0..count {
            let (sigma, u, vt) = self.matrix_mut(b);
            for i in 0..n {
                for j in 0..n {
                    // R(i, j) = Σ_k U(i, k)·Vᴴ(k, j); S(i, j) = Σ_k V(i, k)·σ_k·Vᴴ(k, j),
                    // V(i, k) = conj(Vᴴ(k, i)).
                    let (mut rij, mut sij) =
                        (nalgebra::zero::<T::Host>(), nalgebra::zero::<T::Host>());
                    for k in 0..n {
                        let vt_kj = vt[k * n + j].to_host();
                        rij += u[i * n + k].to_host() * vt_kj;
                        sij += vt[k * n + i].to_host().conjugate().scale(sigma[k].to_f64()) * vt_kj;
                    }
                    r[i * n + j] = rij;
                    s[i * n + j] = sij;
                }
            }
            for (dst, &x) in u.iter_mut().zip(&r) {
                *dst = T::from_host(x);
            }
            for (dst, &x) in vt.iter_mut().zip(&s) {
                *dst = T::from_host(x);
            }
        }
        self.product = Product::Polar { with_s };
        if !with_s {
            self.second.clear(); // keeps the allocation for a later call that wants S
        }
    }
}

/// Resizes `v` to `len` values, in place when its allocation is large enough; otherwise a new
/// zeroed allocation ([`zeroed_vec`]: pages the OS zeroes lazily, where `resize` would write
/// every value before the solve overwrites it).
///
/// # Errors
/// [`Error::OutOfMemory`] when the allocation fails.
pub(crate) fn fit<T: bytemuck::Zeroable + Copy + Default>(
    v: &mut Vec<T>,
    len: usize,
) -> Result<()> {
    if v.capacity() >= len {
        v.resize(len, T::default());
    } else {
        *v = zeroed_vec(len)?;
    }
    Ok(())
}

/// `len` zeros, as `vec![0; len]` (one zeroed allocation, pages faulted in lazily), but an
/// allocation failure is [`Error::OutOfMemory`] instead of aborting the process.
///
/// # Errors
/// [`Error::OutOfMemory`] when the allocator refuses; [`Error::TooLarge`] when `len` values
/// exceed `isize::MAX` bytes.
pub(crate) fn zeroed_vec<T: bytemuck::Zeroable>(len: usize) -> Result<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| {
        Error::TooLarge(format!(
            "{len} values of {} bytes exceed the address space",
            std::mem::size_of::<T>()
        ))
    })?;
    if layout.size() == 0 {
        return Ok((0..len).map(|_| T::zeroed()).collect());
    }
    // SAFETY: `layout` has a non-zero size (checked above), as `alloc_zeroed` requires.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        return Err(Error::OutOfMemory(format!(
            "the results need {} bytes of host memory, which the allocator refused",
            layout.size()
        )));
    }
    // SAFETY: `ptr` was just allocated by the global allocator with the layout of `[T; len]`
    // (so capacity `len` is right), and all-zero bytes are a valid `T` (`Zeroable`), so all
    // `len` values are initialised.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}
