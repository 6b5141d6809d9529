//! Complex matrices (complex64, complex128) on the CPU engine: the four bounds with the real
//! type's ε against nalgebra's complex SVD in f64 (residuals in double-double through the
//! real embedding), on the classes, shapes, layouts and vector modes; NaN isolation;
//! the polar decomposition A = W·P; the same on the GPU engine in each kernel family (the
//! dedicated 2×2 / 3×3 kernel included).

mod common;

use batched_svd::cpu::Cpu;
use batched_svd::tuning::{KernelFamily, SweepPairs};
use batched_svd::{
    Element, Engine, Error, MatrixBatch, PolarOptions, PolarOutput, Real, SignConvention, Solver,
    Status, SvdOptions, Vectors,
};
use bench_support::complex::{
    self as cx, C64, assert_accurate, batch_row_major, latms_sigma, reference_sigma,
    to_dmatrix_c64, with_singular_values,
};
use common::matrices::Rng;
use nalgebra::{Complex, DMatrix};

/// The classes of the issue for one shape, each a list of matrices.
fn classes(m: usize, n: usize, double: bool, seed: u64) -> Vec<(&'static str, Vec<DMatrix<C64>>)> {
    let mut rng = Rng::new(seed);
    let k = m.min(n);
    let two = |rng: &mut Rng, f: &dyn Fn(&mut Rng) -> DMatrix<C64>| vec![f(rng), f(rng)];
    let (tiny, huge) = if double {
        (1e-300, 1e300)
    } else {
        (1e-30, 1e30)
    };
    let conds: &[f64] = if double {
        &[1e2, 1e6, 1e12]
    } else {
        &[1e2, 1e6]
    };
    let mut out = vec![
        ("gaussian", two(&mut rng, &|r| cx::gaussian(r, m, n))),
        ("rank deficient", {
            let r = k.div_ceil(2);
            two(&mut rng, &|g| cx::gaussian(g, m, r) * cx::gaussian(g, r, n))
        }),
        ("zero", vec![DMatrix::zeros(m, n)]),
        (
            "purely imaginary",
            two(&mut rng, &|r| {
                cx::gaussian(r, m, n).map(|z| C64::new(0.0, z.re + z.im))
            }),
        ),
        (
            "tiny",
            two(&mut rng, &|r| cx::gaussian(r, m, n) * C64::new(tiny, 0.0)),
        ),
        (
            "huge",
            two(&mut rng, &|r| cx::gaussian(r, m, n) * C64::new(huge, 0.0)),
        ),
    ];
    let mut latms = Vec::new();
    for mode in 1..=5 {
        for &cond in conds {
            let s = latms_sigma(&mut rng, mode, k, cond);
            latms.push(with_singular_values(&mut rng, m, n, &s));
        }
    }
    out.push(("latms", latms));
    if m == n {
        out.push((
            "hermitian",
            two(&mut rng, &|r| {
                let b = cx::gaussian(r, n, n);
                &b + b.adjoint()
            }),
        ));
        out.push(("unitary", two(&mut rng, &|r| cx::unitary_columns(r, n, n))));
        out.push(("identity", vec![DMatrix::identity(n, n)]));
    }
    out
}

/// The engine a check runs.
#[derive(Clone, Copy)]
enum On {
    Cpu,
    /// The GPU engine with this kernel family.
    Gpu(KernelFamily),
}

/// Checks every class of `m×n` in every layout and vector mode on `on`; returns the worst
/// error relative to its bound.
fn check_type<R: Real>(m: usize, n: usize, on: On) -> f64
where
    Complex<R>: Element<Real = R>,
{
    let double = R::BYTES == 8;
    let cpu = Cpu::with_threads(2);
    let (gpu, family) = match on {
        On::Cpu => (None, KernelFamily::Auto),
        On::Gpu(family) => (
            Some(common::gpu().expect("a GPU adapter (BATCHED_SVD_REQUIRE_GPU)")),
            family,
        ),
    };
    let mut worst = 0.0f64;
    for (label, matrices) in classes(m, n, double, (m * 31 + n) as u64) {
        let count = matrices.len();
        let row = batch_row_major::<R>(&matrices);
        let col = bench_support::matrices::to_col_major(&row, count, m, n);
        for vectors in [Vectors::Thin, Vectors::Full, Vectors::None] {
            for col_major in [false, true] {
                let batch = if col_major {
                    MatrixBatch::col_major(&col, count, m, n).unwrap()
                } else {
                    MatrixBatch::row_major(&row, count, m, n).unwrap()
                };
                let opts = SvdOptions::default()
                    .with_vectors(vectors)
                    .with_kernel(family);
                let out = match gpu {
                    None => cpu.svd(&batch, &opts),
                    Some(gpu) => gpu.svd(&batch, &opts),
                }
                .unwrap_or_else(|e| panic!("{m}×{n} {label} {vectors:?}: {e}"));
                let engine = if gpu.is_some() {
                    Engine::Gpu
                } else {
                    Engine::Cpu
                };
                assert_eq!(out.engine().kind, engine);
                assert_eq!(
                    (out.u_cols(), out.vt_rows()),
                    (vectors.u_cols(m, n), vectors.vt_rows(m, n))
                );
                let what = format!(
                    "{} {m}×{n} {label} {vectors:?} {}",
                    Complex::<R>::NAME,
                    if col_major { "col" } else { "row" }
                );
                worst = worst.max(assert_accurate(&what, &batch, &out));
            }
        }
    }
    eprintln!(
        "{} {m}×{n}: worst error/bound {worst:.3}",
        Complex::<R>::NAME
    );
    worst
}

/// The shapes: the Jacobi sizes (≤ 4), nalgebra's, tall, wide and vectors.
const SHAPES: [(usize, usize); 11] = [
    (1, 1),
    (2, 2),
    (3, 3),
    (4, 4),
    (1, 5),
    (8, 8),
    (16, 16),
    (12, 5),
    (5, 12),
    (40, 9),
    (9, 40),
];

#[test]
fn complex64_meets_the_bounds_on_every_class() {
    for (m, n) in SHAPES {
        check_type::<f32>(m, n, On::Cpu);
    }
}

#[test]
fn complex128_meets_the_bounds_on_every_class() {
    for (m, n) in SHAPES {
        check_type::<f64>(m, n, On::Cpu);
    }
}

/// Every shape on the GPU engine: by default (the dedicated kernel for 2×2 and 3×3, the
/// per-invocation family up to 512 real values per invocation on a CPU device, the workgroup
/// family past it, the multi-dispatch family for the tall and wide shapes there), then each
/// general family forced (the workgroup family
/// with teams of 2 and 4 lanes from 16 rows; the multi-dispatch one with its lanes rounds on
/// a CPU device).
fn check_gpu<R: Real>()
where
    Complex<R>: Element<Real = R>,
{
    for family in [
        KernelFamily::Auto,
        KernelFamily::Workgroup,
        KernelFamily::MultiDispatch,
    ] {
        for (m, n) in SHAPES {
            check_type::<R>(m, n, On::Gpu(family));
        }
    }
}

#[test]
fn complex64_meets_the_bounds_on_the_gpu() {
    check_gpu::<f32>();
}

#[test]
fn complex128_meets_the_bounds_on_the_gpu() {
    check_gpu::<f64>();
}

#[test]
fn complex_past_the_register_sizes_on_the_gpu() {
    // The multi-dispatch family by default on a CPU device: square, tall and wide.
    for (m, n) in [(64, 48), (200, 12), (12, 200)] {
        check_type::<f32>(m, n, On::Gpu(KernelFamily::Auto));
    }
    check_type::<f64>(64, 48, On::Gpu(KernelFamily::Auto));
}

#[test]
fn very_tall_complex_takes_the_workgroup_rounds() {
    // Past 20 000 rows a column pair's pass down the rows exceeds one invocation's loop budget
    // on a CPU device, so the multi-dispatch rounds reduce over a workgroup (`jacobi_round`,
    // `reduce_pair`) there too.
    let gpu = common::gpu().expect("a GPU adapter (BATCHED_SVD_REQUIRE_GPU)");
    let (m, n) = (20_001, 3);
    let mut rng = Rng::new(17);
    let mut matrices = vec![cx::gaussian(&mut rng, m, n), cx::gaussian(&mut rng, m, n)];
    let s = latms_sigma(&mut rng, 3, n, 1e4);
    matrices.push(with_singular_values(&mut rng, m, n, &s));
    let data = batch_row_major::<f32>(&matrices);
    let batch = MatrixBatch::row_major(&data, matrices.len(), m, n).unwrap();
    let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    assert_eq!(out.engine().kind, Engine::Gpu);
    assert_accurate("complex64 20001×3", &batch, &out);
}

#[test]
fn complex_past_nalgebras_sizes_runs_faer() {
    // Past nalgebra's limit (m·n > 2048) the CPU engine runs faer's complex SVD, verified;
    // square, tall (faer's QR first) and wide.
    check_type::<f64>(64, 48, On::Cpu);
    check_type::<f32>(64, 48, On::Cpu);
    check_type::<f64>(200, 12, On::Cpu);
    check_type::<f32>(12, 200, On::Cpu);
}

#[test]
fn real_data_stored_as_complex_gives_the_real_singular_values() {
    let mut rng = Rng::new(5);
    for (m, n) in [(3, 3), (7, 4), (4, 9), (12, 12)] {
        let a = rng.gaussian(m, n);
        let z: Vec<Complex<f64>> = (0..m)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| Complex::new(a[(i, j)], 0.0))
            .collect();
        let batch = MatrixBatch::row_major(&z, 1, m, n).unwrap();
        let out = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
        let real = common::reference_sigma(&a);
        for (s, r) in out.singular_values(0).iter().zip(&real) {
            assert!(
                (s - r).abs() <= 16.0 * m.max(n) as f64 * f64::EPSILON * real[0],
                "{m}×{n}: {s} vs {r}"
            );
        }
        assert_accurate("real as complex", &batch, &out);
    }
}

#[test]
fn a_nan_in_either_part_isolates_its_matrix() {
    let mut rng = Rng::new(9);
    let (m, n) = (5, 4);
    let matrices: Vec<DMatrix<C64>> = (0..4).map(|_| cx::gaussian(&mut rng, m, n)).collect();
    let mut data = batch_row_major::<f32>(&matrices);
    data[m * n + 3].re = f32::NAN; // matrix 1, real part
    data[3 * m * n + 7].im = f32::INFINITY; // matrix 3, imaginary part
    let batch = MatrixBatch::row_major(&data, 4, m, n).unwrap();
    let out = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
    for i in 0..4 {
        if i % 2 == 1 {
            assert_eq!(out.status(i), Status::NonFinite, "matrix {i}");
            assert!(out.singular_values(i).iter().all(|s| s.is_nan()));
            assert!(
                out.u(i)
                    .unwrap()
                    .iter()
                    .all(|z| z.re.is_nan() && z.im.is_nan())
            );
        } else {
            assert_eq!(out.status(i), Status::Converged, "matrix {i}");
            let acc = cx::accuracy(&out, i, &to_dmatrix_c64(&batch, i));
            assert!(acc.worst() <= 1.0, "matrix {i}: {acc:?}");
        }
    }
}

#[test]
fn the_second_factor_is_v_conjugate_transposed() {
    // A = diag(2, 1)·[[1, 0], [0, i]]: σ = (2, 1), and A = U·Σ·Vᴴ with the phase i carried by
    // U or by Vᴴ. Whatever the split, U·Σ·Vᴴ must give back A (Vᵀ would give −i).
    let data = [
        Complex::new(2.0f64, 0.0),
        Complex::new(0.0, 0.0),
        Complex::new(0.0, 0.0),
        Complex::new(0.0, 1.0),
    ];
    let batch = MatrixBatch::row_major(&data, 1, 2, 2).unwrap();
    let out = Cpu::new().svd(&batch, &SvdOptions::default()).unwrap();
    assert_eq!(out.singular_values(0), &[2.0, 1.0]);
    let (u, vh) = (out.u(0).unwrap(), out.vt(0).unwrap());
    let s = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![
        Complex::new(2.0, 0.0),
        Complex::new(1.0, 0.0),
    ]));
    let a = u * s * vh;
    let expected = DMatrix::from_row_slice(2, 2, &data);
    assert!((a - expected).norm() < 1e-15);
}

/// Checks A = W·P of three random complex `n×n` matrices for `n` in 1, 2, 3, 5, 8: W
/// unitary, P Hermitian positive semi-definite with A's singular values as eigenvalues.
fn check_polar(polar: impl Fn(&MatrixBatch<'_, Complex<f64>>) -> PolarOutput<Complex<f64>>) {
    let mut rng = Rng::new(21);
    for n in [1, 2, 3, 5, 8] {
        let matrices: Vec<DMatrix<C64>> = (0..3).map(|_| cx::gaussian(&mut rng, n, n)).collect();
        let data = batch_row_major::<f64>(&matrices);
        let batch = MatrixBatch::row_major(&data, 3, n, n).unwrap();
        let out = polar(&batch);
        let bound = 16.0 * n as f64 * f64::EPSILON;
        for (i, a) in matrices.iter().enumerate() {
            assert_eq!(out.status(i), Status::Converged);
            let w = out.r(i).into_owned();
            let p = out.s(i).unwrap().into_owned();
            let wu = w.adjoint() * &w - DMatrix::<C64>::identity(n, n);
            assert!(wu.norm() <= bound, "n = {n}: ‖WᴴW − I‖ = {}", wu.norm());
            assert!(
                (&p - p.adjoint()).norm() <= bound * p.norm(),
                "P not Hermitian"
            );
            let eig = p.clone().symmetric_eigenvalues();
            assert!(
                eig.iter().all(|&l| l >= -bound * p.norm()),
                "P not positive semi-definite: {eig:?}"
            );
            let r = &w * &p - a;
            assert!(
                r.norm() <= bound * a.norm(),
                "n = {n}: ‖A − WP‖ = {}",
                r.norm()
            );
            // P's eigenvalues are A's singular values.
            let mut eig: Vec<f64> = eig.iter().copied().collect();
            eig.sort_by(|x, y| y.total_cmp(x));
            for (l, s) in eig.iter().zip(reference_sigma(a)) {
                assert!((l - s).abs() <= bound * s.max(1.0));
            }
        }
    }
}

#[test]
fn complex_polar_gives_unitary_w_and_hermitian_psd_p() {
    check_polar(|b| Cpu::new().polar(b, &PolarOptions::default()).unwrap());
}

#[test]
fn complex_polar_on_the_gpu() {
    // Every size takes the SVD from the GPU (2×2 and 3×3 from the dedicated kernel), then
    // W = U·Vᴴ and P = V·Σ·Vᴴ on the host.
    let gpu = common::gpu().expect("a GPU adapter (BATCHED_SVD_REQUIRE_GPU)");
    check_polar(|b| {
        let out = gpu.polar(b, &PolarOptions::default()).unwrap();
        assert_eq!(out.engine().kind, Engine::Gpu);
        out
    });
}

#[test]
fn real_only_options_are_errors_for_complex_input() {
    let data = [Complex::new(1.0f32, 0.5); 4];
    let batch = MatrixBatch::row_major(&data, 1, 2, 2).unwrap();
    let cpu = Cpu::new();
    let rotation = SvdOptions::default().with_signs(SignConvention::Rotation);
    assert!(matches!(
        cpu.svd(&batch, &rotation),
        Err(Error::InvalidOption(msg)) if msg.contains("complex64")
    ));
    assert!(matches!(
        cpu.polar(&batch, &PolarOptions::rotation_only()),
        Err(Error::InvalidOption(msg)) if msg.contains("rotation_only")
    ));
}

#[test]
fn empty_complex_batches_are_shaped_as_numpys() {
    let data: [Complex<f64>; 0] = [];
    let batch = MatrixBatch::from_shape(&data, &[2, 3, 0], batched_svd::Layout::RowMajor).unwrap();
    let opts = SvdOptions::default().with_vectors(Vectors::Full);
    let out = Cpu::new().svd(&batch, &opts).unwrap();
    assert_eq!(out.count(), 2);
    assert!(out.all_singular_values().is_empty());
    // Full U is the 3×3 identity, as numpy's.
    let u = out.u(1).unwrap();
    assert_eq!(u, DMatrix::<Complex<f64>>::identity(3, 3));
}

#[test]
fn auto_runs_complex_where_the_rule_says() {
    let mut rng = Rng::new(3);
    for (m, n) in [(6, 6), (40, 9)] {
        let a = cx::gaussian(&mut rng, m, n);
        let data = batch_row_major::<f32>(&[a]);
        let batch = MatrixBatch::row_major(&data, 1, m, n).unwrap();
        let auto = Solver::auto();
        let out = auto.svd(&batch, &SvdOptions::default()).unwrap();
        let expected = match auto.adapter_info() {
            Err(_) => Engine::Cpu,
            Ok(info) if info.device_type != batched_svd::wgpu::DeviceType::Cpu => {
                // A hardware GPU: the GPU engine, or the CPU where it has no kernel.
                out.engine().kind
            }
            Ok(_) => {
                if batched_svd::engine::software_adapter_prefers_gpu::<Complex<f32>>(
                    m,
                    n,
                    Vectors::Thin,
                ) {
                    Engine::Gpu
                } else {
                    Engine::Cpu
                }
            }
        };
        assert_eq!(out.engine().kind, expected, "{m}×{n}: {}", out.engine());
        assert_accurate("auto", &batch, &out);
    }
}

/// The dedicated kernel on complex 2×2 and 3×3, forced: every class, layout and vector
/// mode within the bounds; then the per-invocation family on the same shapes.
fn check_small<R: Real>()
where
    Complex<R>: Element<Real = R>,
{
    for n in [2, 3] {
        let worst = check_type::<R>(n, n, On::Gpu(KernelFamily::Small));
        assert!(worst <= 1.0);
        check_type::<R>(n, n, On::Gpu(KernelFamily::PerInvocation));
    }
}

#[test]
fn complex64_dedicated_kernel_meets_the_bounds() {
    check_small::<f32>();
}

#[test]
fn complex128_dedicated_kernel_meets_the_bounds() {
    check_small::<f64>();
}

#[test]
fn the_dedicated_kernel_serves_complex_batches() {
    // Batches that are not whole groups of four lanes (the last invocation's matrices are
    // padding on a CPU device), a NaN in a real and an infinity in an imaginary part, and
    // real data stored as complex: σ must be the real SVD's.
    let gpu = common::gpu().expect("a GPU adapter (BATCHED_SVD_REQUIRE_GPU)");
    let mut rng = Rng::new(31);
    for n in [2, 3] {
        for count in [1, 5, 11] {
            let mut matrices: Vec<DMatrix<C64>> =
                (0..count).map(|_| cx::gaussian(&mut rng, n, n)).collect();
            let real = rng.gaussian(n, n);
            matrices[0] = real.map(|x| C64::new(x, 0.0));
            let mut data = batch_row_major::<f32>(&matrices);
            let bad = [count - 1, count / 2].into_iter().filter(|&i| i > 0);
            let bad: Vec<usize> = bad.collect();
            for &i in &bad {
                if i % 2 == 0 {
                    data[i * n * n + 1].re = f32::NAN;
                } else {
                    data[i * n * n + n].im = f32::INFINITY;
                }
            }
            let batch = MatrixBatch::row_major(&data, count, n, n).unwrap();
            let opts = SvdOptions::default().with_vectors(Vectors::Full);
            for kernel in [KernelFamily::Auto, KernelFamily::Small] {
                let out = gpu.svd(&batch, &opts.clone().with_kernel(kernel)).unwrap();
                assert_eq!(out.engine().kind, Engine::Gpu);
                for i in 0..count {
                    let info = out.info(i);
                    if bad.contains(&i) {
                        assert_eq!(info.status, Status::NonFinite, "{n}×{n} matrix {i}");
                        assert!(out.singular_values(i).iter().all(|s| s.is_nan()));
                        assert!(
                            out.u(i)
                                .unwrap()
                                .iter()
                                .all(|z| z.re.is_nan() && z.im.is_nan())
                        );
                        continue;
                    }
                    assert_eq!(info.status, Status::Converged, "{n}×{n} matrix {i}");
                    // The dedicated kernel: one rotation for a 2×2, no off-diagonal report.
                    assert_eq!(info.off_diagonal, 0.0);
                    if n == 2 {
                        assert_eq!(info.sweeps, 1);
                    }
                    let acc = cx::accuracy(&out, i, &to_dmatrix_c64(&batch, i));
                    assert!(acc.worst() <= 1.0, "{n}×{n} matrix {i}: {acc:?}");
                }
                let sigma = common::reference_sigma(&real);
                for (s, r) in out.singular_values(0).iter().zip(&sigma) {
                    let bound = 16.0 * n as f64 * f64::from(f32::EPSILON) * sigma[0];
                    assert!((f64::from(*s) - r).abs() <= bound, "{n}×{n}: {s} vs {r}");
                }
            }
        }
    }
}

/// Blocked sweeps (SweepPairs::Blocks; Auto takes column pairs on a CPU device) on one
/// complex batch, against the column-pair sweeps: both meet the bounds, and the blocked solve
/// records fewer dispatches (2 per block-pair round instead of 1 per column-pair round) where
/// the device gives the blocked kernels their workgroup memory, and exactly as many where it
/// does not (complex128 needs 35 KB; lavapipe has 32 KiB).
fn check_blocked<R: Real>(label: &str, batch: &MatrixBatch<'_, Complex<R>>, vectors: Vectors)
where
    Complex<R>: Element<Real = R>,
{
    let gpu = common::gpu().expect("a GPU adapter (BATCHED_SVD_REQUIRE_GPU)");
    let opts = |pairs| {
        SvdOptions::default()
            .with_vectors(vectors)
            .with_kernel(KernelFamily::MultiDispatch)
            .with_sweep_pairs(pairs)
    };
    let blocks = gpu.svd(batch, &opts(SweepPairs::Blocks)).unwrap();
    let columns = gpu.svd(batch, &opts(SweepPairs::Columns)).unwrap();
    let name = format!("{} {label} {vectors:?}", Complex::<R>::NAME);
    let worst = assert_accurate(&format!("{name} blocks"), batch, &blocks);
    assert_accurate(&format!("{name} columns"), batch, &columns);
    let storage = gpu.device().limits().max_compute_workgroup_storage_size;
    let fits = R::BYTES == 4 || storage >= 34_700;
    let (b, c) = (blocks.work().dispatches, columns.work().dispatches);
    if fits {
        assert!(
            2 * b < c,
            "{name}: {b} dispatches blocked, {c} by column pairs"
        );
    } else {
        assert_eq!(b, c, "{name}: {storage} bytes of workgroup memory");
    }
    eprintln!(
        "{name}: worst error/bound {worst:.3}, {} sweeps, {b} dispatches (columns: {}, {c})",
        blocks.max_sweeps_used(),
        columns.max_sweeps_used()
    );
}

#[test]
fn complex_blocked_sweeps_on_the_gpu() {
    // 80 columns: 5 blocks, the last one partial only in the phantom sense (80 = 5·16), so a
    // phantom sixth; 72 columns: a partial fifth block. Every class of the issue.
    for (n, vectors, col_major) in [(80, Vectors::Thin, false), (72, Vectors::Full, true)] {
        let matrices: Vec<DMatrix<C64>> = classes(n, n, false, 70 + n as u64)
            .into_iter()
            .flat_map(|(_, m)| m)
            .collect();
        let row = batch_row_major::<f32>(&matrices);
        let count = matrices.len();
        let col = bench_support::matrices::to_col_major(&row, count, n, n);
        let batch = if col_major {
            MatrixBatch::col_major(&col, count, n, n).unwrap()
        } else {
            MatrixBatch::row_major(&row, count, n, n).unwrap()
        };
        check_blocked(&format!("{n}×{n} classes"), &batch, vectors);
    }
    let mut rng = Rng::new(71);
    // Complex Householder QR, then blocked sweeps on the 70×70 R; a wide matrix through Aᵀ.
    for (m, n, vectors) in [(600, 70, Vectors::Thin), (66, 300, Vectors::None)] {
        let s = latms_sigma(&mut rng, 3, m.min(n), 1e5);
        let matrices = [
            cx::gaussian(&mut rng, m, n),
            with_singular_values(&mut rng, m, n, &s),
        ];
        let data = batch_row_major::<f32>(&matrices);
        let batch = MatrixBatch::row_major(&data, 2, m, n).unwrap();
        check_blocked(&format!("{m}×{n}"), &batch, vectors);
    }
    // complex128.
    let s = latms_sigma(&mut rng, 2, 64, 1e12);
    let matrices = [
        cx::gaussian(&mut rng, 64, 64),
        with_singular_values(&mut rng, 64, 64, &s),
    ];
    let data = batch_row_major::<f64>(&matrices);
    let batch = MatrixBatch::row_major(&data, 2, 64, 64).unwrap();
    check_blocked("64×64", &batch, Vectors::Thin);
}

#[test]
fn a_nan_isolates_its_matrix_in_blocked_sweeps() {
    let gpu = common::gpu().expect("a GPU adapter (BATCHED_SVD_REQUIRE_GPU)");
    let mut rng = Rng::new(72);
    let n = 70;
    let matrices: Vec<DMatrix<C64>> = (0..3).map(|_| cx::gaussian(&mut rng, n, n)).collect();
    let clean = batch_row_major::<f32>(&matrices);
    let mut data = clean.clone();
    data[n * n + 11].im = f32::NAN;
    let batch = MatrixBatch::row_major(&data, 3, n, n).unwrap();
    let opts = SvdOptions::default()
        .with_kernel(KernelFamily::MultiDispatch)
        .with_sweep_pairs(SweepPairs::Blocks);
    let out = gpu.svd(&batch, &opts).unwrap();
    assert_eq!(out.status(1), Status::NonFinite);
    assert!(out.singular_values(1).iter().all(|s| s.is_nan()));
    let alone = MatrixBatch::row_major(&clean[..n * n], 1, n, n).unwrap();
    let reference = gpu.svd(&alone, &opts).unwrap();
    for i in [0, 2] {
        assert_eq!(out.status(i), Status::Converged, "matrix {i}");
        let acc = cx::accuracy(&out, i, &to_dmatrix_c64(&batch, i));
        assert!(acc.worst() <= 1.0, "matrix {i}: {acc:?}");
    }
    assert_eq!(out.singular_values(0), reference.singular_values(0));
    assert_eq!(out.u(0), reference.u(0));
}
