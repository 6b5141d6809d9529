//! Regression tests of what the `batch_constructors` fuzz target (`fuzz/`) found in the
//! library, each named after the failure (the tool's findings are in
//! `cli/tests/fuzz_regressions.rs`; `fuzz/README.md` has the libFuzzer commands).

use batched_svd::ops::{self, Cutoff, Pca, RightHandSides};
use batched_svd::{
    Cpu, Layout, MatrixBatch, PolarOptions, Solver, Status, SvdOptions, Vectors, cpu,
};

/// Found by `batch_constructors`: `ops::pinv` of the SVD of a batch of no matrices of
/// 3.4·10¹⁸ × 3.8·10¹⁸ (valid: no elements) allocated its per-row scratch of `m` f64 anyway
/// and panicked with `capacity overflow`. The same pattern, from reading the code, in `lstsq`
/// (scratch of k·r and n·r, residuals of count·r unchecked) and `Pca::transform` /
/// `inverse_transform` (scratch of n_features); the polar decomposition's n² scratch; and
/// the engine's per-matrix reports.
#[test]
fn ops_on_empty_batches_with_huge_dimensions_are_not_a_capacity_overflow() {
    let big = [
        (0, 3_433_434_268_318_706_170, 3_793_003_016_055_944_085),
        (0, usize::MAX, usize::MAX),
        (0, usize::MAX, 7),
        (3, 0, usize::MAX),
        (1 << 40, 0, 0),
    ];
    for (count, m, n) in big {
        let batch = MatrixBatch::<f64>::row_major(&[], count, m, n).unwrap();
        for vectors in [Vectors::Thin, Vectors::Full] {
            let opts = SvdOptions::default().with_vectors(vectors);
            // Full vectors of a 0×usize::MAX matrix would need usize::MAX² elements.
            let Ok(out) = cpu::svd_with_threads(&batch, &opts, 1) else {
                continue;
            };
            // (`TooLarge` where an intermediate product of the dimensions overflows, as for
            // 3 matrices of 0×usize::MAX; an error, not a panic.)
            if let Ok(p) = ops::pinv(&out, None) {
                assert!(p.as_slice().is_empty() && p.ranks().iter().all(|&r| r == 0));
            }
            for r in [1, 5, usize::MAX] {
                let Ok(b) = RightHandSides::matrices(&[], count, m, r) else {
                    continue;
                };
                // An error only for outputs beyond the address space, never a panic.
                if let Ok(x) = ops::lstsq(&batch, &out, &b, None) {
                    assert!(x.all_solutions().is_empty());
                }
            }
            let _ = ops::truncate(&out, Cutoff::Rank(3)).unwrap();
            let _ = ops::low_rank(&out, Cutoff::Relative(0.5)).unwrap();
        }
    }
    // The polar decomposition of no matrices of n×n for huge n: its n² scratch overflowed
    // (found by `batch_constructors` with overflow checks on; 2³² + 1 wraps to a 64 GiB
    // allocation without them).
    for n in [(1usize << 32) + 1, 14_829_735_431_805_717_965, usize::MAX] {
        let batch = MatrixBatch::<f32>::row_major(&[], 0, n, n).unwrap();
        let out = Cpu::with_threads(1)
            .polar(&batch, &PolarOptions::default())
            .unwrap();
        assert!(out.all_r().is_empty() && out.all_s().is_empty());
    }
    // 2⁴⁰ matrices of 0×0 (no data) need 2⁴⁰ reports: that allocation aborted the process
    // (found while writing this test); now `OutOfMemory` where the allocator refuses.
    let batch = MatrixBatch::<f32>::row_major(&[], 1 << 40, 0, 0).unwrap();
    match cpu::svd_with_threads(&batch, &SvdOptions::default(), 1) {
        Err(batched_svd::Error::OutOfMemory(_)) => {}
        Ok(out) => assert_eq!(out.count(), 1 << 40),
        Err(e) => panic!("{e}"),
    }
    // PCA fitted on no data sets of 2 samples × 2⁶² features, then applied.
    let f = 1usize << 62;
    let data = MatrixBatch::<f32>::row_major(&[], 0, 2, f).unwrap();
    let pca = Pca::fit(&data, None, &Solver::cpu()).unwrap();
    let scores = pca.transform(&data).unwrap();
    assert_eq!(scores.count(), 0);
    let back = pca.inverse_transform(&scores).unwrap();
    assert_eq!((back.count(), back.cols()), (0, f));
}

/// Found by `batch_constructors`: a 3×3 f64 matrix with a zero row (stored column-major)
/// gave NaN singular values with `Status::NotConverged` from the CPU engine, as did
/// [[0, 0], [-2, 5]] and 4×4 matrices with a zero row: the one-sided Jacobi sweeps repeated an
/// identity rotation to their cap (see `cpu::jacobi`). Through the public API, both element
/// types and layouts, values and vectors.
#[test]
fn cpu_svd_of_a_matrix_with_a_zero_row_converges_not_nan() {
    let scale = 2f64.powi(-99);
    let mut found: Vec<f64> = (0..9)
        .map(|i| (f64::from(i) * 0.37 - 1.0) * scale * (1.0 + f64::from(i)))
        .collect();
    for i in 0..3 {
        found[i * 3] = 0.0;
    }
    let cases: Vec<(Vec<f64>, usize, Layout)> = vec![
        (found, 3, Layout::ColMajor),
        (vec![0.0, 0.0, -2.0, 5.0], 2, Layout::RowMajor),
        (
            vec![
                0., 0., 0., 0., 1., 2., 3., 4., 5., -6., 7., 8., 9., 1., -2., 3.,
            ],
            4,
            Layout::RowMajor,
        ),
    ];
    for (data, n, layout) in cases {
        for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
            let opts = SvdOptions::default().with_vectors(vectors);
            let b = MatrixBatch::with_layout(&data, 1, n, n, layout).unwrap();
            let out = cpu::svd_with_threads(&b, &opts, 1).unwrap();
            assert_eq!(out.status(0), Status::Converged, "{n}×{n} {vectors:?}");
            let frob2: f64 = data.iter().map(|x| x * x).sum();
            let s2: f64 = out.singular_values(0).iter().map(|s| s * s).sum();
            assert!(
                (s2 - frob2).abs() <= 1e-13 * frob2,
                "{:?}",
                out.singular_values(0)
            );
            let data32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
            let b = MatrixBatch::with_layout(&data32, 1, n, n, layout).unwrap();
            let out = cpu::svd_with_threads(&b, &opts, 1).unwrap();
            assert_eq!(out.status(0), Status::Converged, "f32 {n}×{n} {vectors:?}");
            assert!(out.singular_values(0).iter().all(|s| s.is_finite()));
        }
    }
}

/// The small batch `batch_constructors` builds from its input (`fuzz_targets/
/// batch_constructors.rs`, `small_batch`): the fuzz values cycled, scaled by 2^scale, grown
/// with the index past the given values, a column copied (or negated) over another; f64,
/// row-major indexing of each matrix.
fn fuzz_small_batch(
    lead: [usize; 2],
    (m, n): (usize, usize),
    scale: i32,
    duplicate: Option<(usize, usize, bool)>,
    values: &[f64],
) -> (Vec<f64>, Vec<usize>) {
    let count = lead[0] * lead[1];
    let scale = 2f64.powi(scale);
    let mut data: Vec<f64> = (0..count * m * n)
        .map(|i| {
            let x = values.get(i % values.len().max(1)).copied();
            let x = x.unwrap_or(i as f64 * 0.37 - 1.0) * scale;
            if i >= values.len() {
                x * (1.0 + i as f64)
            } else {
                x
            }
        })
        .collect();
    if let Some((p, q, negate)) = duplicate {
        for b in 0..count {
            for i in 0..m {
                let x = data[b * m * n + i * n + p % n];
                data[b * m * n + i * n + q % n] = if negate { -x } else { x };
            }
        }
    }
    (data, vec![lead[0], lead[1], m, n])
}

/// Found by `batch_constructors`: two batches of f64 matrices whose entries span 10⁻²⁹¹ to
/// 10¹³⁰ (column-major). On the 10×10 ones nalgebra's SVD produced a NaN and then panicked
/// sorting it (`Singular value was NaN`, a panic out of `cpu::svd`); on the 4×4 ones the
/// Jacobi sweeps, whose squared column norms were subnormal, never converged (NaN,
/// `NotConverged`). Now nalgebra's NaN sends the matrix to Jacobi, which scales such column
/// pairs by their own powers of two.
#[test]
fn cpu_svd_of_entries_across_400_decades_converges_not_nan_or_panic() {
    let values_4 = [
        -2.2715248494335547e-214,
        -2.2715248494335547e-214,
        -2.2715248480440177e-214,
        -5.0497551109683385e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -5.049756833499752e-195,
        -4.035602195053088e-48,
        1.914761732297209e-33,
    ];
    let values_10 = [
        -5.350444842340634e-108,
        -5.46354690059085e-108,
        -5.46354690059085e-108,
        -5.46354690059085e-108,
        -5.46354690059085e-108,
        -5.46354690059085e-108,
        -5.46354690059085e-108,
        -5.46302835312286e-108,
        -5.46354690059085e-108,
        -5.46354690059085e-108,
        -5.463338992395537e-108,
        9.008466393520948e-159,
        8.854494587438971e-159,
        8.854494587438971e-159,
        8.854494587438971e-159,
        2.79817999805297e131,
        -2.4829502172268565e-253,
    ];
    let cases = [
        fuzz_small_batch([3, 3], (4, 4), -257, Some((3, 3, true)), &values_4),
        fuzz_small_batch([3, 3], (10, 10), 177, Some((1, 1, false)), &values_10),
    ];
    for (data, shape) in &cases {
        let batch = MatrixBatch::from_shape(data, shape, Layout::ColMajor).unwrap();
        for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
            let opts = SvdOptions::default().with_vectors(vectors);
            let out = cpu::svd_with_threads(&batch, &opts, 1).unwrap();
            for i in 0..batch.count() {
                assert_eq!(
                    out.status(i),
                    Status::Converged,
                    "{shape:?} {vectors:?} {i}"
                );
                assert!(out.singular_values(i).iter().all(|s| s.is_finite()));
            }
        }
    }
}
