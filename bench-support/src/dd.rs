//! Residuals in double-double arithmetic, for checking f64 results.
//!
//! An f64 SVD is as precise as nalgebra's f64 products that would check it, so `UᵀU − I` and
//! `A − UΣVᵀ` are summed here in double-double (Dekker; Ogita, Rump and Oishi, "Accurate sum
//! and dot product", SIAM J. Sci. Comput. 26, 2005): every product is split exactly with an
//! FMA, every sum carries its rounding error, and the result is good to about 2⁻¹⁰⁶ relative
//! to the summed magnitudes, far below the 2⁻⁵²-sized errors being measured. Norms scale by
//! the largest entry, so matrices near 10⁻³⁰⁰ or 10³⁰⁰ neither underflow nor overflow.

use nalgebra::DMatrix;

/// `a + b = s + e` exactly (Knuth's TwoSum).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a·b = p + e` exactly (with an FMA), barring underflow.
#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// A compensated accumulator: the running sum and its accumulated rounding errors.
#[derive(Clone, Copy, Default)]
struct Sum {
    hi: f64,
    lo: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let (s, e) = two_sum(self.hi, x);
        self.hi = s;
        self.lo += e;
    }

    /// Adds `a·b` (both parts of the exact product).
    fn add_prod(&mut self, a: f64, b: f64) {
        let (p, e) = two_prod(a, b);
        self.add(p);
        self.lo += e;
    }

    /// Adds `a·b·c`: `a·b` split exactly, each part times `c` split again (the dropped
    /// `e·c` error is 2⁻¹⁰⁴ of the term).
    fn add_prod3(&mut self, a: f64, b: f64, c: f64) {
        let (p, e) = two_prod(a, b);
        self.add_prod(p, c);
        self.lo += e * c;
    }

    fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// max |GᵀG − I| over the entries, each dot product summed in double-double.
#[must_use]
pub fn gram_minus_identity_max(g: &DMatrix<f64>) -> f64 {
    let n = g.ncols();
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in i..n {
            let mut s = Sum::default();
            if i == j {
                s.add(-1.0);
            }
            for r in 0..g.nrows() {
                s.add_prod(g[(r, i)], g[(r, j)]);
            }
            worst = worst.max(s.value().abs());
        }
    }
    worst
}

/// ‖A − U·diag(σ)·Vᵀ‖_F with `U` `m×k` and `V` `n×k` (the first `k = σ.len()` columns are
/// used), each entry of the residual summed in double-double.
///
/// # Panics
/// If the shapes disagree.
#[must_use]
pub fn reconstruction_residual(
    a: &DMatrix<f64>,
    u: &DMatrix<f64>,
    sigma: &[f64],
    v: &DMatrix<f64>,
) -> f64 {
    let (m, n) = a.shape();
    let k = sigma.len();
    assert!(u.nrows() == m && v.nrows() == n && u.ncols() >= k && v.ncols() >= k);
    let residual = DMatrix::from_fn(m, n, |i, j| {
        let mut s = Sum::default();
        s.add(a[(i, j)]);
        for (l, &sl) in sigma.iter().enumerate() {
            s.add_prod3(-u[(i, l)], sl, v[(j, l)]);
        }
        s.value()
    });
    frobenius(&residual)
}

/// ‖A‖_F without underflow or overflow: scaled by the largest entry.
#[must_use]
pub fn frobenius(a: &DMatrix<f64>) -> f64 {
    let scale = a.amax();
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let mut s = Sum::default();
    for &x in a.iter() {
        s.add_prod(x / scale, x / scale);
    }
    scale * s.value().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_of_orthonormal_columns_sees_below_f64_rounding() {
        // Columns (1, 2⁻³⁰) and (−2⁻³⁰, 1), normalised: the plain f64 Gram matrix rounds
        // 1 + 2⁻⁶⁰ to 1; the compensated one keeps the exact zero off the diagonal.
        let t = 2f64.powi(-30);
        let g = DMatrix::from_row_slice(2, 2, &[1.0, -t, t, 1.0]);
        // GᵀG = (1 + t²)·I: the residual is t² = 2⁻⁶⁰ on the diagonal.
        assert_eq!(gram_minus_identity_max(&g), t * t);
        let plain = (g.transpose() * &g - DMatrix::<f64>::identity(2, 2)).amax();
        assert_eq!(plain, 0.0);
    }

    #[test]
    fn residual_of_an_exact_factorisation_is_zero_and_of_a_perturbed_one_is_the_perturbation() {
        let u = DMatrix::<f64>::identity(3, 2);
        let v = DMatrix::<f64>::identity(2, 2);
        let a = DMatrix::from_row_slice(3, 2, &[3.0, 0.0, 0.0, 1e-300, 0.0, 0.0]);
        assert_eq!(reconstruction_residual(&a, &u, &[3.0, 1e-300], &v), 0.0);
        // 3 + 4ε is 3 plus two of its ulps (2ε each).
        let r = reconstruction_residual(&a, &u, &[3.0 + 4.0 * f64::EPSILON, 1e-300], &v);
        assert_eq!(r, 4.0 * f64::EPSILON);
    }

    #[test]
    fn frobenius_neither_underflows_nor_overflows() {
        let tiny = DMatrix::from_element(2, 2, 1e-300);
        assert!((frobenius(&tiny) / 2e-300 - 1.0).abs() < 1e-15);
        let huge = DMatrix::from_element(2, 2, 1e300);
        assert!((frobenius(&huge) / 2e300 - 1.0).abs() < 1e-15);
        assert_eq!(frobenius(&DMatrix::zeros(2, 3)), 0.0);
    }
}
