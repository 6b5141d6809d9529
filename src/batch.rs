//! A read-only view of a batch of same-shaped real matrices.
//!
//! A batch is `count` matrices of shape `m×n` stored one after another in a flat slice of
//! `count·m·n` elements. Inside each matrix the elements are in one of two [`Layout`]s:
//!
//! * [`Layout::RowMajor`] (numpy's C order): element `(i, j)` of matrix `b` is at
//!   `b·m·n + i·n + j`;
//! * [`Layout::ColMajor`] (nalgebra, LAPACK, numpy's Fortran order for a single matrix):
//!   element `(i, j)` of matrix `b` is at `b·m·n + i + j·m`.
//!
//! The batch has a shape of its own, numpy's leading dimensions: [`MatrixBatch::from_shape`]
//! takes an array of shape `(d₁, …, d_L, m, n)` with any number `L ≥ 0` of leading dimensions,
//! of `count = d₁·…·d_L` matrices (1 when `L = 0`), and the outputs keep that shape
//! ([`Report::batch_shape`](crate::Report::batch_shape)). Any dimension may be zero, as in
//! numpy: a batch of no matrices, or of `m×0` / `0×n` matrices, gives empty singular values
//! and, for full vectors, identity U and V.
//!
//! A row-major `m×n` matrix has exactly the bytes of a column-major `n×m` matrix holding its
//! transpose, so [`MatrixBatch::transpose`] only swaps the shape and the layout: it costs no
//! copy. The GPU kernels read elements through strides, so neither layout is ever copied into
//! the other.

use std::borrow::Cow;

use nalgebra::{DMatrix, SMatrix};

use crate::element::{Element, Real};
use crate::error::{Error, Result};

/// How the elements of each matrix are ordered in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Rows are contiguous: `(i, j)` at `i·n + j` (numpy C order).
    RowMajor,
    /// Columns are contiguous: `(i, j)` at `i + j·m` (nalgebra, LAPACK, Fortran order).
    ColMajor,
}

impl Layout {
    /// The other layout.
    #[inline]
    #[must_use]
    pub fn flipped(self) -> Self {
        match self {
            Layout::RowMajor => Layout::ColMajor,
            Layout::ColMajor => Layout::RowMajor,
        }
    }

    /// Offset of element `(i, j)` inside one `m×n` matrix stored in this layout.
    #[inline]
    #[must_use]
    pub fn offset(self, m: usize, n: usize, i: usize, j: usize) -> usize {
        match self {
            Layout::RowMajor => i * n + j,
            Layout::ColMajor => i + j * m,
        }
    }
}

/// A batch of `count` matrices, each `m×n`, of element type `T` ([`f32`] by default, or
/// [`f64`]), in one flat slice.
///
/// Construct it with [`MatrixBatch::row_major`], [`MatrixBatch::col_major`],
/// [`MatrixBatch::from_matrices`] (nalgebra `SMatrix`, no copy) or
/// [`MatrixBatch::from_dmatrices`] (nalgebra `DMatrix`, one copy because each `DMatrix` owns a
/// separate allocation), or [`MatrixBatch::from_shape`] (numpy's `(…, m, n)` shapes). All
/// constructors validate the shape; none panics. Dimensions may be zero.
#[derive(Clone, Debug)]
pub struct MatrixBatch<'a, T: Element = f32> {
    data: Cow<'a, [T]>,
    count: usize,
    m: usize,
    n: usize,
    layout: Layout,
    /// numpy's leading dimensions, when given ([`MatrixBatch::from_shape`]); `None`: `[count]`.
    leading: Option<Vec<usize>>,
}

impl<'a, T: Element> MatrixBatch<'a, T> {
    /// A batch whose matrices are stored row-major (numpy C order), `count·m·n` elements. Its
    /// batch shape is `[count]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `data.len() != count·m·n`, [`Error::TooLarge`] if
    /// `count·m·n` overflows.
    pub fn row_major(data: &'a [T], count: usize, m: usize, n: usize) -> Result<Self> {
        Self::new(Cow::Borrowed(data), count, m, n, Layout::RowMajor)
    }

    /// A batch whose matrices are stored column-major (nalgebra/LAPACK), `count·m·n` elements.
    ///
    /// # Errors
    /// As [`MatrixBatch::row_major`].
    pub fn col_major(data: &'a [T], count: usize, m: usize, n: usize) -> Result<Self> {
        Self::new(Cow::Borrowed(data), count, m, n, Layout::ColMajor)
    }

    /// A batch over `data` in the given layout.
    ///
    /// # Errors
    /// As [`MatrixBatch::row_major`].
    pub fn with_layout(
        data: &'a [T],
        count: usize,
        m: usize,
        n: usize,
        layout: Layout,
    ) -> Result<Self> {
        Self::new(Cow::Borrowed(data), count, m, n, layout)
    }

    /// A batch that owns its data.
    ///
    /// # Errors
    /// As [`MatrixBatch::row_major`].
    pub fn from_vec(
        data: Vec<T>,
        count: usize,
        m: usize,
        n: usize,
        layout: Layout,
    ) -> Result<MatrixBatch<'static, T>> {
        MatrixBatch::new(Cow::Owned(data), count, m, n, layout)
    }

    /// A batch of numpy's shape `(d₁, …, d_L, m, n)`: `shape` ends with the matrix shape
    /// `m, n`, preceded by any number `L ≥ 0` of batch dimensions, which are in C order (the
    /// last varies fastest); `layout` orders the elements inside each matrix. `count` is the
    /// product of the batch dimensions (1 for `L = 0`). Any dimension may be zero.
    ///
    /// ```
    /// # use batched_svd::{Layout, MatrixBatch};
    /// let data = vec![0.0f64; 5 * 6 * 4 * 4];
    /// let batch = MatrixBatch::from_shape(&data, &[5, 6, 4, 4], Layout::RowMajor)?;
    /// assert_eq!((batch.count(), batch.rows(), batch.cols()), (30, 4, 4));
    /// assert_eq!(batch.batch_shape(), [5, 6]);
    /// # Ok::<(), batched_svd::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if `shape` has fewer than two dimensions,
    /// [`Error::LengthMismatch`] if `data` does not hold the product of `shape` elements,
    /// [`Error::TooLarge`] on overflow.
    pub fn from_shape(data: &'a [T], shape: &[usize], layout: Layout) -> Result<Self> {
        let [leading @ .., m, n] = shape else {
            return Err(Error::InvalidShape(format!(
                "shape {shape:?} has {} dimension(s); a batch of matrices needs at least 2 \
                 (…, m, n)",
                shape.len()
            )));
        };
        let count = leading
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::TooLarge(format!("shape {shape:?} overflows usize")))?;
        let mut batch = Self::new(Cow::Borrowed(data), count, *m, *n, layout)?;
        batch.leading = Some(leading.to_vec());
        Ok(batch)
    }

    /// A batch viewing a slice of statically sized nalgebra matrices, without copying
    /// (`SMatrix` is column-major and contiguous).
    ///
    /// # Errors
    /// None in practice (the length always matches); the `Result` is kept for symmetry.
    pub fn from_matrices<const R: usize, const C: usize>(
        matrices: &'a [SMatrix<T, R, C>],
    ) -> Result<Self> {
        // `SMatrix` is `Pod` (nalgebra's `convert-bytemuck`): contiguous column-major floats;
        // a matrix of no elements has no bytes to view.
        let flat: &'a [T] = if R == 0 || C == 0 {
            &[]
        } else {
            bytemuck::cast_slice(matrices)
        };
        Self::new(Cow::Borrowed(flat), matrices.len(), R, C, Layout::ColMajor)
    }

    /// A batch copied out of dynamically sized nalgebra matrices, which must all have the
    /// same shape. Stored column-major.
    ///
    /// # Errors
    /// [`Error::ZeroDimension`] for an empty slice (there is no matrix to take the shape
    /// from), [`Error::ShapeMismatch`] if the shapes differ.
    pub fn from_dmatrices(matrices: &[DMatrix<T>]) -> Result<MatrixBatch<'static, T>> {
        let Some(first) = matrices.first() else {
            return Err(Error::ZeroDimension {
                count: 0,
                m: 0,
                n: 0,
            });
        };
        let (m, n) = first.shape();
        let mut data = Vec::with_capacity(matrices.len() * m * n);
        for (index, a) in matrices.iter().enumerate() {
            if a.shape() != (m, n) {
                return Err(Error::ShapeMismatch {
                    index,
                    m,
                    n,
                    found_m: a.nrows(),
                    found_n: a.ncols(),
                });
            }
            data.extend_from_slice(a.as_slice());
        }
        MatrixBatch::new(Cow::Owned(data), matrices.len(), m, n, Layout::ColMajor)
    }

    fn new(data: Cow<'a, [T]>, count: usize, m: usize, n: usize, layout: Layout) -> Result<Self> {
        let expected = count
            .checked_mul(m)
            .and_then(|x| x.checked_mul(n))
            .ok_or_else(|| Error::TooLarge(format!("{count}·{m}·{n} overflows usize")))?;
        if data.len() != expected {
            return Err(Error::LengthMismatch {
                expected,
                actual: data.len(),
            });
        }
        Ok(Self {
            data,
            count,
            m,
            n,
            layout,
            leading: None,
        })
    }

    /// The same data seen as the batch of transposes `Aᵀ` (`n×m`, other layout). No copy.
    #[must_use]
    pub fn transpose(&self) -> MatrixBatch<'_, T> {
        MatrixBatch {
            data: Cow::Borrowed(&self.data),
            count: self.count,
            m: self.n,
            n: self.m,
            layout: self.layout.flipped(),
            leading: self.leading.clone(),
        }
    }

    /// Number of matrices.
    #[inline]
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }

    /// numpy's leading dimensions: those given to [`MatrixBatch::from_shape`] (empty for a
    /// single `(m, n)` matrix), else `[count]`. Their product is [`Self::count`].
    #[inline]
    #[must_use]
    pub fn batch_shape(&self) -> &[usize] {
        match &self.leading {
            Some(leading) => leading,
            None => std::slice::from_ref(&self.count),
        }
    }

    /// Whether the batch has no matrix, or its matrices no element: the SVD is then
    /// trivial (no singular values; full U and V are identities).
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0 || self.m == 0 || self.n == 0
    }

    /// Rows per matrix.
    #[inline]
    #[must_use]
    pub fn rows(&self) -> usize {
        self.m
    }

    /// Columns per matrix.
    #[inline]
    #[must_use]
    pub fn cols(&self) -> usize {
        self.n
    }

    /// `min(m, n)`: the number of singular values per matrix.
    #[inline]
    #[must_use]
    pub fn k(&self) -> usize {
        self.m.min(self.n)
    }

    /// Element layout inside each matrix.
    #[inline]
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The whole flat slice, `count·m·n` elements.
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The `m·n` elements of matrix `b`, in [`Self::layout`].
    ///
    /// # Panics
    /// If `b >= count`.
    #[inline]
    #[must_use]
    pub fn matrix_slice(&self, b: usize) -> &[T] {
        let len = self.m * self.n;
        &self.data[b * len..(b + 1) * len]
    }

    /// Element `(i, j)` of matrix `b`.
    ///
    /// # Panics
    /// If an index is out of range.
    #[inline]
    #[must_use]
    pub fn get(&self, b: usize, i: usize, j: usize) -> T {
        assert!(i < self.m && j < self.n, "index ({i}, {j}) out of range");
        self.matrix_slice(b)[self.layout.offset(self.m, self.n, i, j)]
    }
}

impl<T: Real> MatrixBatch<'_, T> {
    /// Matrix `b` as an nalgebra matrix in f64 (a copy), for references and tests.
    ///
    /// # Panics
    /// If `b >= count`.
    #[must_use]
    pub fn to_dmatrix_f64(&self, b: usize) -> DMatrix<f64> {
        let s = self.matrix_slice(b);
        DMatrix::from_fn(self.m, self.n, |i, j| {
            s[self.layout.offset(self.m, self.n, i, j)].to_f64()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_shapes() {
        let data = [0.0f32; 6];
        assert!(matches!(
            MatrixBatch::row_major(&data, 1, 2, 2),
            Err(Error::LengthMismatch {
                expected: 4,
                actual: 6
            })
        ));
        assert!(matches!(
            MatrixBatch::row_major(&data, 0, 2, 3),
            Err(Error::LengthMismatch { expected: 0, .. })
        ));
        assert!(
            MatrixBatch::col_major(&data[..0], 1, 6, 0)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            MatrixBatch::<f32>::from_dmatrices(&[]),
            Err(Error::ZeroDimension { .. })
        ));
        assert!(matches!(
            MatrixBatch::row_major(&data, usize::MAX, 2, 3),
            Err(Error::TooLarge(_))
        ));
    }

    #[test]
    fn layouts_address_the_same_matrix() {
        // [[1, 2, 3], [4, 5, 6]] in both layouts.
        let rm = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let cm = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0];
        let a = MatrixBatch::row_major(&rm, 1, 2, 3).unwrap();
        let b = MatrixBatch::col_major(&cm, 1, 2, 3).unwrap();
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(a.get(0, i, j), b.get(0, i, j));
            }
        }
        let t = a.transpose();
        assert_eq!((t.rows(), t.cols(), t.layout()), (3, 2, Layout::ColMajor));
        assert_eq!(t.get(0, 2, 1), 6.0);
        assert!(std::ptr::eq(t.as_slice(), a.as_slice()));
    }

    #[test]
    fn nalgebra_views() {
        let ms = [
            nalgebra::Matrix2x3::new(1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0),
            nalgebra::Matrix2x3::new(7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0),
        ];
        let b = MatrixBatch::from_matrices(&ms).unwrap();
        assert_eq!((b.count(), b.rows(), b.cols()), (2, 2, 3));
        assert_eq!(b.get(1, 1, 2), 12.0);
        assert_eq!(b.get(0, 0, 1), 2.0);
        let d: Vec<DMatrix<f32>> = ms
            .iter()
            .map(|m| DMatrix::from_column_slice(2, 3, m.as_slice()))
            .collect();
        let c = MatrixBatch::from_dmatrices(&d).unwrap();
        assert_eq!(c.as_slice(), b.as_slice());
        let bad = vec![DMatrix::<f32>::zeros(2, 3), DMatrix::<f32>::zeros(3, 2)];
        assert!(matches!(
            MatrixBatch::from_dmatrices(&bad),
            Err(Error::ShapeMismatch { index: 1, .. })
        ));
    }
}
