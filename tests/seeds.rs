//! The worked examples of the seed documents, with their errata corrected (see DESIGN notes).

mod common;

use batched_svd::{MatrixBatch, SvdOptions, SvdOutput};

fn both_paths(data: &[f32], m: usize, n: usize) -> Vec<SvdOutput> {
    let batch = MatrixBatch::row_major(data, 1, m, n).unwrap();
    let opts = SvdOptions::default();
    let mut outs = vec![batched_svd::cpu::svd(&batch, &opts).unwrap()];
    if let Some(gpu) = common::gpu() {
        outs.push(gpu.svd(&batch, &opts).unwrap());
    }
    for out in &outs {
        common::assert_accurate("seed", &batch, out);
    }
    outs
}

/// Seed 002: [[3,1],[1,3]] has σ = 4, 2 with u, v = (1,1)/√2 and (1,−1)/√2 (the seed's
/// u₁ = Av₁/4 used an unnormalised v₁).
#[test]
fn symmetric_2x2_has_sigma_4_and_2() {
    for out in both_paths(&[3.0, 1.0, 1.0, 3.0], 2, 2) {
        let s = out.singular_values(0);
        assert!(
            (s[0] - 4.0).abs() < 1e-5 && (s[1] - 2.0).abs() < 1e-5,
            "{s:?}"
        );
        let u = out.u(0).unwrap();
        let r = std::f32::consts::FRAC_1_SQRT_2;
        // First singular vector is ±(1,1)/√2.
        assert!((u[(0, 0)].abs() - r).abs() < 1e-5 && (u[(0, 0)] - u[(1, 0)]).abs() < 1e-5);
        assert!((u[(0, 1)] + u[(1, 1)]).abs() < 1e-5);
    }
}

/// Seed 001 claims eigenvalues 30 and 0 and rank 1 for [[3,4],[2,1]]; in fact det A = −5,
/// σ² = 15 ± √200, σ ≈ 5.398, 0.926, rank 2.
#[test]
fn nonsymmetric_2x2_has_sigma_squared_15_plus_minus_sqrt_200() {
    let expected = [
        (15.0f64 + 200f64.sqrt()).sqrt(),
        (15.0f64 - 200f64.sqrt()).sqrt(),
    ];
    for out in both_paths(&[3.0, 4.0, 2.0, 1.0], 2, 2) {
        let s = out.singular_values(0);
        for (got, want) in s.iter().zip(expected) {
            assert!(
                (f64::from(*got) - want).abs() < 1e-5 * expected[0],
                "{s:?} vs {expected:?}"
            );
        }
        // |det A| = σ₁σ₂ = 5.
        assert!((f64::from(s[0]) * f64::from(s[1]) - 5.0).abs() < 1e-4);
    }
}

/// Seed 004: an n×m input has U of size n×n and V of size m×m (the seed swaps them).
#[test]
fn full_vectors_have_the_right_sizes() {
    let data: Vec<f32> = (0..6).map(|x| x as f32 + 1.0).collect();
    let batch = MatrixBatch::row_major(&data, 1, 2, 3).unwrap();
    let opts = SvdOptions::default().with_vectors(batched_svd::Vectors::Full);
    let out = batched_svd::cpu::svd(&batch, &opts).unwrap();
    assert_eq!(out.u(0).unwrap().shape(), (2, 2));
    assert_eq!(out.vt(0).unwrap().shape(), (3, 3));
    if let Some(gpu) = common::gpu() {
        let out = gpu.svd(&batch, &opts).unwrap();
        assert_eq!(out.u(0).unwrap().shape(), (2, 2));
        assert_eq!(out.vt(0).unwrap().shape(), (3, 3));
        common::assert_accurate("2×3 full", &batch, &out);
    }
}
