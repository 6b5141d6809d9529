//! Per-matrix status: non-finite input isolation, non-convergence, options, errors.

mod common;

use batched_svd::{Error, Gpu, MatrixBatch, Real, Status, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major_as, gaussian_row_major};

/// A NaN or an infinity in one matrix gives that matrix NaN outputs and `NonFinite`, and leaves
/// every other matrix bit-for-bit as it would be alone, in `T`.
fn check_non_finite_isolated<T: Real>(gpu: Option<&Gpu>) {
    let (count, m, n) = (6, 5, 4);
    let clean = batch_row_major_as::<T>(Class::Gaussian, count, m, n, 7);
    let mut dirty = clean.clone();
    dirty[m * n + 3] = T::nan(); // matrix 1
    dirty[3 * m * n] = T::from_f64(f64::INFINITY); // matrix 3
    dirty[5 * m * n + m * n - 1] = T::from_f64(f64::NEG_INFINITY); // matrix 5
    let bad = [1, 3, 5];
    let is_nan = |x: &T| x.to_f64().is_nan();
    for vectors in [Vectors::None, Vectors::Thin, Vectors::Full] {
        let opts = SvdOptions::default().with_vectors(vectors);
        let clean_batch = MatrixBatch::row_major(&clean, count, m, n).unwrap();
        let dirty_batch = MatrixBatch::row_major(&dirty, count, m, n).unwrap();
        let mut runs = vec![(
            "cpu",
            batched_svd::cpu::svd(&clean_batch, &opts).unwrap(),
            batched_svd::cpu::svd(&dirty_batch, &opts).unwrap(),
        )];
        if let Some(gpu) = gpu {
            runs.push((
                "gpu",
                gpu.svd(&clean_batch, &opts).unwrap(),
                gpu.svd(&dirty_batch, &opts).unwrap(),
            ));
        }
        for (label, clean_out, dirty_out) in runs {
            let label = format!("{label} {}", T::NAME);
            assert_eq!(dirty_out.count_status(Status::NonFinite), 3, "{label}");
            for i in 0..count {
                if bad.contains(&i) {
                    assert_eq!(dirty_out.status(i), Status::NonFinite, "{label} {i}");
                    assert!(dirty_out.singular_values(i).iter().all(is_nan));
                    if let Some(u) = dirty_out.u(i) {
                        assert!(u.iter().all(is_nan), "{label}: U of {i} not all NaN");
                        assert!(dirty_out.vt(i).unwrap().iter().all(is_nan));
                    }
                    assert!(dirty_out.info(i).off_diagonal.is_nan());
                } else {
                    assert_eq!(dirty_out.status(i), Status::Converged, "{label} {i}");
                    assert_eq!(dirty_out.singular_values(i), clean_out.singular_values(i));
                    assert_eq!(dirty_out.u(i), clean_out.u(i), "{label}: U of {i} changed");
                    assert_eq!(
                        dirty_out.vt(i),
                        clean_out.vt(i),
                        "{label}: Vᵀ of {i} changed"
                    );
                }
            }
        }
    }
}

#[test]
fn non_finite_matrices_are_isolated() {
    check_non_finite_isolated::<f32>(common::gpu());
}

#[test]
fn non_finite_matrices_are_isolated_in_f64() {
    check_non_finite_isolated::<f64>(common::gpu_f64());
}

/// Subnormal f64 entries, as the README states: the CPU engine computes with them (it scales
/// the matrix first); the GPU kernels read them as zero (Vulkan lets devices flush them), so a
/// matrix whose every entry is subnormal gets σ = 0 with orthonormal vectors, an absolute error
/// below 2⁻¹⁰²²·√(mn), and a matrix with normal entries loses nothing above ε·σ₁.
#[test]
fn subnormal_f64_entries_as_documented() {
    let all_subnormal: [f64; 4] = [3e-310, 1e-310, -2e-310, 5e-311];
    let mixed: [f64; 4] = [1.0, 1e-310, 0.0, 2.0];
    for (data, gpu_flushes) in [(all_subnormal, true), (mixed, false)] {
        let batch = MatrixBatch::row_major(&data, 1, 2, 2).unwrap();
        let a = batch.to_dmatrix_f64(0);
        let reference = common::reference_sigma(&a);
        let cpu = batched_svd::cpu::svd(&batch, &SvdOptions::default()).unwrap();
        assert_eq!(cpu.status(0), Status::Converged);
        for (got, want) in cpu.singular_values(0).iter().zip(&reference) {
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "{got} vs {want}"
            );
        }
        let Some(gpu) = common::gpu_f64() else {
            continue;
        };
        let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
        assert_eq!(out.status(0), Status::Converged);
        let u = out.u(0).unwrap().clone_owned();
        let v = out.vt(0).unwrap().transpose();
        assert!(common::dd::gram_minus_identity_max(&u) <= 8.0 * f64::EPSILON);
        assert!(common::dd::gram_minus_identity_max(&v) <= 8.0 * f64::EPSILON);
        if gpu_flushes {
            assert_eq!(out.singular_values(0), [0.0, 0.0]);
        } else {
            common::assert_accurate("gpu mixed subnormal", &batch, &out);
        }
    }
}

/// A sweep cap too small to converge reports `NotConverged`, the sweeps used and an
/// off-diagonal measure above the tolerance, and still returns finite results, in `T`.
fn check_sweep_cap<T: Real>(gpu: &Gpu) {
    let (count, m, n) = (20, 16, 16);
    let data = batch_row_major_as::<T>(Class::Gaussian, count, m, n, 3);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let opts = SvdOptions::default().with_max_sweeps(2);
    let out = gpu.svd(&batch, &opts).unwrap();
    let tol = opts.effective_tolerance_for::<T>(m, n);
    assert_eq!(out.count_status(Status::NotConverged), count);
    for info in out.infos() {
        assert_eq!(info.sweeps, 2);
        assert!(info.off_diagonal > tol, "{info:?}");
    }
    assert!(out.all_singular_values().iter().all(|x| x.is_finite()));
    // With the default cap the same matrices converge, with the measure below the tolerance.
    let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    assert!(out.all_converged());
    for info in out.infos() {
        assert!(info.sweeps > 2 && info.sweeps <= 15, "{info:?}");
        assert!(info.off_diagonal <= tol, "{info:?}");
    }
}

#[test]
fn sweep_cap_reports_not_converged() {
    let Some(gpu) = common::gpu() else { return };
    check_sweep_cap::<f32>(gpu);
}

#[test]
fn sweep_cap_reports_not_converged_in_f64() {
    let Some(gpu) = common::gpu_f64() else { return };
    check_sweep_cap::<f64>(gpu);
}

/// A looser tolerance needs no more sweeps and still bounds the off-diagonal measure.
#[test]
fn tolerance_option_is_honoured() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (10, 12, 12);
    let data = gaussian_row_major(count, m, n, 5);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let tight = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    let loose = gpu
        .svd(&batch, &SvdOptions::default().with_tolerance(1e-2))
        .unwrap();
    for (t, l) in tight.infos().iter().zip(loose.infos()) {
        assert!(l.sweeps <= t.sweeps);
        assert!(l.off_diagonal <= 1e-2);
    }
}

/// Values-only output computes the same singular values (V accumulation does not touch W).
#[test]
fn values_only_matches_thin() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (30, 10, 7);
    let data = gaussian_row_major(count, m, n, 11);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let thin = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    let values = gpu.svd(&batch, &SvdOptions::values_only()).unwrap();
    assert_eq!(thin.all_singular_values(), values.all_singular_values());
    assert!(values.u(0).is_none() && values.vt(0).is_none());
    assert!(values.all_u().is_empty() && values.all_vt().is_empty());
}

/// With sorting off the values are a permutation of the sorted ones and U, Vᵀ follow them.
#[test]
fn unsorted_output_is_consistent() {
    let Some(gpu) = common::gpu() else { return };
    let (count, m, n) = (10, 9, 6);
    let data = gaussian_row_major(count, m, n, 13);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let sorted = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    let unsorted = gpu
        .svd(&batch, &SvdOptions::default().with_sort(false))
        .unwrap();
    let mut any_unsorted = false;
    for i in 0..count {
        let mut s = unsorted.singular_values(i).to_vec();
        any_unsorted |= s.windows(2).any(|w| w[0] < w[1]);
        s.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(s, sorted.singular_values(i));
        let a = batch.to_dmatrix_f64(i);
        let err = (a.clone() - unsorted.reconstruct(i).unwrap()).norm() / a.norm();
        assert!(err < 16.0 * 9.0 * common::EPS, "{err}");
    }
    assert!(
        any_unsorted,
        "Jacobi left every matrix sorted: the test proves nothing"
    );
}

#[test]
fn invalid_options_are_errors() {
    let data = [1.0f32; 4];
    let batch = MatrixBatch::row_major(&data, 1, 2, 2).unwrap();
    for opts in [
        SvdOptions::default().with_tolerance(-1.0),
        SvdOptions::default().with_tolerance(f32::NAN),
        SvdOptions::default().with_max_sweeps(0),
    ] {
        assert!(matches!(
            batched_svd::cpu::svd(&batch, &opts),
            Err(Error::InvalidOption(_))
        ));
        if let Some(gpu) = common::gpu() {
            assert!(matches!(
                gpu.svd(&batch, &opts),
                Err(Error::InvalidOption(_))
            ));
        }
    }
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let data = [1.0f32; 6];
    assert!(matches!(
        MatrixBatch::row_major(&data, 2, 2, 2),
        Err(Error::LengthMismatch {
            expected: 8,
            actual: 6
        })
    ));
    // A zero dimension is valid (tests/numpy_shapes.rs), but must still match the length.
    assert!(matches!(
        MatrixBatch::col_major(&data, 1, 0, 6),
        Err(Error::LengthMismatch {
            expected: 0,
            actual: 6
        })
    ));
    assert!(matches!(
        MatrixBatch::<f32>::from_dmatrices(&[]),
        Err(Error::ZeroDimension { .. })
    ));
}
