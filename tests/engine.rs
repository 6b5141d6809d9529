//! The engine interface (`Solver`): which engine each backend runs, the reasons it reports,
//! and that its results are exactly the chosen engine's (bit for bit), for the SVD, the polar
//! decomposition and the derived operations.

mod common;

use batched_svd::ops::{self, Cutoff, RightHandSides};
use batched_svd::{
    Backend, Cpu, Engine, MatrixBatch, PolarOptions, Reason, Solver, SvdOptions, Vectors,
};
use common::matrices::gaussian_row_major;

fn batch(count: usize, m: usize, n: usize, seed: u64) -> MatrixBatch<'static> {
    let data = gaussian_row_major(count, m, n, seed);
    MatrixBatch::from_vec(data, count, m, n, batched_svd::Layout::RowMajor).unwrap()
}

#[test]
fn cpu_backend_is_the_cpu_engine_bit_for_bit() {
    let b = batch(20, 9, 7, 1);
    let opts = SvdOptions::default().with_vectors(Vectors::Full);
    let via = Solver::cpu().svd(&b, &opts).unwrap();
    let direct = Cpu::new().svd(&b, &opts).unwrap();
    assert_eq!(via.engine().kind, Engine::Cpu);
    assert_eq!(via.engine().reason, Reason::Requested);
    assert_eq!(via.all_singular_values(), direct.all_singular_values());
    assert_eq!(via.all_u(), direct.all_u());
    assert_eq!(via.all_vt(), direct.all_vt());
    assert!(
        Solver::cpu().gpu().is_none(),
        "the CPU backend created a device"
    );
}

#[test]
fn auto_follows_the_rule_and_matches_the_chosen_engine() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    let software = gpu.adapter_info().device_type == batched_svd::wgpu::DeviceType::Cpu;
    let auto = Solver::with_gpu(gpu.clone(), Backend::Auto);
    let opts = SvdOptions::default();
    for (m, n) in [(3, 3), (8, 8), (16, 16), (32, 32), (64, 8)] {
        let b = batch(40, m, n, (m * 100 + n) as u64);
        let out = auto.svd(&b, &opts).unwrap();
        let gpu_rule =
            batched_svd::engine::software_adapter_prefers_gpu::<f32>(m, n, Vectors::Thin);
        let expected = if !software || gpu_rule {
            Engine::Gpu
        } else {
            Engine::Cpu
        };
        assert_eq!(out.engine().kind, expected, "{m}×{n}: {}", out.engine());
        let reason = &out.engine().reason;
        match (software, expected) {
            (false, _) => assert_eq!(*reason, Reason::HardwareGpu),
            (true, Engine::Gpu) => assert_eq!(*reason, Reason::SoftwareAdapterGpuFaster),
            (true, Engine::Cpu) => assert_eq!(*reason, Reason::SoftwareAdapterCpuFaster),
        }
        let direct = match expected {
            Engine::Gpu => gpu.svd(&b, &opts).unwrap(),
            Engine::Cpu => Cpu::new().svd(&b, &opts).unwrap(),
        };
        assert_eq!(out.all_singular_values(), direct.all_singular_values());
        assert_eq!(out.all_u(), direct.all_u());
        common::assert_accurate(&format!("auto {m}×{n}"), &b, &out);
    }
}

#[test]
fn auto_without_a_device_object_decides_the_same_way() {
    // A fresh Auto solver (no context handed in): the CPU shapes of the software rule never
    // need a device; the reason says why.
    let solver = Solver::auto();
    let choice = solver.choose::<f32>(64, 64, Vectors::Thin);
    match common::gpu() {
        Some(g) if g.adapter_info().device_type != batched_svd::wgpu::DeviceType::Cpu => {
            assert_eq!(choice.kind, Engine::Gpu);
        }
        _ => {
            assert_eq!(choice.kind, Engine::Cpu);
            assert!(
                matches!(
                    choice.reason,
                    Reason::NoGpuDevice | Reason::SoftwareAdapterCpuFaster | Reason::NoAdapter(_)
                ),
                "{choice}"
            );
            let out = solver
                .svd(&batch(3, 64, 64, 5), &SvdOptions::default())
                .unwrap();
            assert_eq!(out.engine().kind, Engine::Cpu);
            assert!(
                solver.gpu().is_none(),
                "a device was created for a CPU shape"
            );
        }
    }
}

#[test]
fn derived_operations_through_the_solver_equal_the_ops_on_the_engine() {
    let solvers = [Solver::cpu()]
        .into_iter()
        .chain(common::gpu().map(|g| Solver::with_gpu(g.clone(), Backend::Gpu)));
    for solver in solvers {
        let b = batch(6, 7, 4, 9);
        let opts = SvdOptions::default();
        let svd = solver.svd(&b, &opts).unwrap();
        let label = solver.backend().name();
        let p = solver.pinv(&b, &opts, None).unwrap();
        assert_eq!(
            p.as_slice(),
            ops::pinv(&svd, None).unwrap().as_slice(),
            "{label}"
        );
        assert_eq!(p.engine(), svd.engine());
        let t = solver.truncated_svd(&b, &opts, Cutoff::Rank(2)).unwrap();
        let t2 = ops::truncate(&svd, Cutoff::Rank(2)).unwrap();
        assert_eq!(t.all_u(), t2.all_u(), "{label}");
        let l = solver.low_rank(&b, &opts, Cutoff::Rank(2)).unwrap();
        assert_eq!(
            l.as_slice(),
            ops::low_rank(&svd, Cutoff::Rank(2)).unwrap().as_slice()
        );
        let rhs_data = gaussian_row_major(6, 7, 1, 10);
        let rhs = RightHandSides::vectors(&rhs_data, 6, 7).unwrap();
        let x = solver.lstsq(&b, &rhs, &opts, None).unwrap();
        let x2 = ops::lstsq(&b, &svd, &rhs, None).unwrap();
        assert_eq!(x.all_solutions(), x2.all_solutions(), "{label}");
        // A right-hand side of the wrong shape is refused before any SVD.
        let short = RightHandSides::vectors(&rhs_data[..30], 6, 5).unwrap();
        assert!(solver.lstsq(&b, &short, &opts, None).is_err());
        let pca = solver.pca(&b, Some(2)).unwrap();
        assert_eq!(pca.n_components(), 2);
        assert_eq!(pca.engine().kind, svd.engine().kind);
    }
}

#[test]
fn polar_through_the_solver() {
    let b = batch(10, 5, 5, 3);
    for solver in [Solver::cpu()]
        .into_iter()
        .chain(common::gpu().map(|g| Solver::with_gpu(g.clone(), Backend::Gpu)))
    {
        let p = solver.polar(&b, &PolarOptions::default()).unwrap();
        assert_eq!(p.count(), 10);
        for i in 0..10 {
            let r = p.r(i).map(f64::from);
            let s = p.s(i).unwrap().map(f64::from);
            let a = b.to_dmatrix_f64(i);
            assert!(
                (&a - &r * &s).norm() <= 1e-4 * a.norm(),
                "{}",
                solver.backend().name()
            );
            assert!((r.determinant() - 1.0).abs() < 1e-4);
        }
        let non_square = batch(2, 3, 4, 1);
        assert!(solver.polar(&non_square, &PolarOptions::default()).is_err());
    }
}
