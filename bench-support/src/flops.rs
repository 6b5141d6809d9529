//! Counted work: the nominal flop count of one-sided Jacobi, the scale on which GPU and CPU
//! rows of a benchmark are compared.

use batched_svd::Vectors;

/// The nominal flop count of one-sided Jacobi for `m×n` matrices, per matrix, after `sweeps`
/// sweeps (fractional for a mean over a batch).
///
/// With `W` the working matrix (`A`, or `Aᵀ` when `A` is wide), `M = max(m, n)` its rows and
/// `N = min(m, n)` its columns, a sweep visits the `N(N−1)/2` column pairs; each pair costs
/// `6M` flops for the three dot products (`‖w_p‖²`, `‖w_q‖²`, `w_pᵀw_q`), `6M` for rotating
/// the two columns of `W`, and `6N` for rotating the two columns of `V` (omitted for values
/// only):
///
/// `flops = sweeps · N(N−1)/2 · (12M + 6N)`  (`12M` alone for values only).
///
/// This counts the work of the method, not of any particular implementation: it is the scale
/// on which GPU and CPU rows of a benchmark are compared ("Jacobi-equivalent" GFLOP/s for the
/// nalgebra rows, which run a different algorithm).
#[must_use]
pub fn jacobi_flops(m: usize, n: usize, vectors: Vectors, sweeps: f64) -> f64 {
    let big = m.max(n) as f64;
    let small = m.min(n) as f64;
    let pairs = small * (small - 1.0) / 2.0;
    let per_pair = 12.0 * big + if vectors.wanted() { 6.0 * small } else { 0.0 };
    sweeps * pairs * per_pair
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_cost() {
        // 3×3 thin: 3 pairs · (36 + 18) per sweep.
        assert_eq!(jacobi_flops(3, 3, Vectors::Thin, 1.0), 162.0);
        assert_eq!(jacobi_flops(3, 3, Vectors::None, 2.0), 216.0);
        // Wide and tall cost the same.
        assert_eq!(
            jacobi_flops(8, 64, Vectors::Thin, 1.0),
            jacobi_flops(64, 8, Vectors::Thin, 1.0)
        );
        assert_eq!(jacobi_flops(1, 1, Vectors::Thin, 5.0), 0.0);
    }
}
