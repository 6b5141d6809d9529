//! nalgebra's SVD in f64 (Golub–Kahan bidiagonalisation and implicit-shift QR) on
//! dynamically sized matrices: the fastest solver measured for mid-sized matrices, from 5×5 to
//! about 1024 elements (4096 for values only), where faer's set-up does not yet pay off.
//!
//! Written once for the host types (`f64`, `Complex<f64>`): nalgebra's SVD is generic over
//! its `ComplexField`, and returns Vᴴ for complex matrices.
//!
//! nalgebra 0.35 can return wrong singular values with vectors for some rank-deficient inputs
//! (dimforge/nalgebra#1172); the engine verifies every result and falls back to Jacobi.

use nalgebra::{DMatrix, SMatrix, SVD};

use super::jacobi::Svd64;
use crate::host::Host;

/// nalgebra's implicit-QR iteration cap per matrix, per unit of `m + n`.
const ITERATIONS_PER_DIM: usize = 1000;

/// The SVD of `matrix` (a `DMatrix` or an `SMatrix`, the sizes its own) into `out`.
macro_rules! decompose {
    ($matrix:expr, $want_vectors:expr, $out:expr) => {{
        let matrix = $matrix;
        let (m, n) = matrix.shape();
        let (want_vectors, out) = ($want_vectors, $out);
        // Unordered, then sorted here: nalgebra's sort panics ("Singular value was NaN") when its
        // iteration produced a NaN, which it does for some finite inputs of a wide dynamic range
        // (found by fuzzing: a 4×4 f64 matrix with entries from 1e-291 to 1e-111). A NaN is a
        // failure the engine recovers from with Jacobi, like an unverified result.
        let mut svd = SVD::try_new_unordered(
            matrix,
            want_vectors,
            want_vectors,
            // nalgebra's own default (`SVD::new`): 5ε.
            5.0 * f64::EPSILON,
            ITERATIONS_PER_DIM * (m + n),
        )?;
        if svd.singular_values.iter().any(|s| s.is_nan()) {
            return None;
        }
        svd.sort_by_singular_values();
        out.sigma.clear();
        out.sigma.extend(svd.singular_values.iter().copied());
        out.vectors = want_vectors;
        out.sweeps = 0;
        out.u.clear();
        out.v.clear();
        if let (Some(u), Some(v_t)) = (&svd.u, &svd.v_t) {
            out.u.extend_from_slice(u.as_slice());
            // V = (Vᴴ)ᴴ, column-major: column j of V is row j of Vᴴ, conjugated.
            let k = m.min(n);
            for j in 0..k {
                out.v.extend(v_t.row(j).iter().map(|x| x.conjugate()));
            }
        }
        Some(())
    }};
}

/// Decomposes the `m×n` matrix `a` (column-major, contiguous, finite) into `out`; `None` if
/// nalgebra reaches its iteration cap. Square 5×5 to 8×8 take statically sized matrices
/// (stack storage and loops of known length: what the nalgebra peer of the bench runs).
pub(crate) fn svd_nalgebra<H: Host>(
    m: usize,
    n: usize,
    a: &[H],
    want_vectors: bool,
    out: &mut Svd64<H>,
) -> Option<()> {
    match (m, n) {
        (5, 5) => decompose!(SMatrix::<H, 5, 5>::from_column_slice(a), want_vectors, out),
        (6, 6) => decompose!(SMatrix::<H, 6, 6>::from_column_slice(a), want_vectors, out),
        (7, 7) => decompose!(SMatrix::<H, 7, 7>::from_column_slice(a), want_vectors, out),
        (8, 8) => decompose!(SMatrix::<H, 8, 8>::from_column_slice(a), want_vectors, out),
        _ => decompose!(DMatrix::from_column_slice(m, n, a), want_vectors, out),
    }
}
