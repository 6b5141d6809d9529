//! The public API: the caller's own device, pipeline reuse, async entry points, nalgebra input.

mod common;

use batched_svd::{Gpu, MatrixBatch, SvdOptions, Vectors};
use common::matrices::gaussian_row_major;
use nalgebra::Matrix3x2;

/// A device the caller created (as a game engine would) works, and the library leaves it usable.
#[test]
fn caller_owned_device() {
    if common::gpu().is_none() {
        return;
    }
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter =
        pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
            .expect("an adapter exists since common::gpu() found one");
    // WebGPU default limits, not the adapter's: the library must plan within them.
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).unwrap();
    let gpu = Gpu::from_device(device.clone(), queue.clone());
    assert_eq!(
        gpu.plan_limits().max_binding_bytes,
        device.limits().max_storage_buffer_binding_size
    );
    let (count, m, n) = (64, 12, 10);
    let data = gaussian_row_major(count, m, n, 51);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    common::assert_accurate("caller device", &batch, &out);
    // Without MAPPABLE_PRIMARY_BUFFERS results go through a staging buffer; chunked, the
    // two alternating buffer sets are read back through it too.
    let chunked = gpu.with_plan_limits(batched_svd::PlanLimits {
        max_chunk_bytes: 4096,
        ..gpu.plan_limits()
    });
    for opts in [SvdOptions::default(), SvdOptions::values_only()] {
        let again = chunked.svd(&batch, &opts).unwrap();
        assert!(again.work().chunks > 2, "{:?}", again.work());
        assert_eq!(again.all_singular_values(), out.all_singular_values());
    }
    // The caller's device still works for its own purposes.
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 16,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&buffer, 0, &[0u8; 16]);
    queue.submit([]);
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
}

/// Pipelines are compiled once per kernel and shape, then reused.
#[test]
fn pipelines_are_reused() {
    let Some(shared) = common::gpu() else { return };
    // A fresh context on the same device so other tests' pipelines do not count.
    let gpu = Gpu::from_device(shared.device().clone(), shared.queue().clone());
    let data = gaussian_row_major(8, 5, 5, 52);
    let batch = MatrixBatch::row_major(&data, 8, 5, 5).unwrap();
    assert_eq!(gpu.compiled_pipelines(), 0);
    gpu.svd(&batch, &SvdOptions::default()).unwrap();
    gpu.svd(&batch, &SvdOptions::default()).unwrap();
    assert_eq!(gpu.compiled_pipelines(), 1);
    gpu.svd(&batch, &SvdOptions::values_only()).unwrap();
    assert_eq!(gpu.compiled_pipelines(), 2);
    let col = MatrixBatch::col_major(&data, 8, 5, 5).unwrap();
    gpu.svd(&col, &SvdOptions::default()).unwrap();
    gpu.svd(&col, &SvdOptions::default().with_tolerance(1e-3))
        .unwrap();
    assert_eq!(gpu.compiled_pipelines(), 3);
    // Clones share the cache.
    gpu.clone().svd(&col, &SvdOptions::default()).unwrap();
    assert_eq!(gpu.compiled_pipelines(), 3);
}

/// The async entry point gives the same result as the blocking one.
#[test]
fn async_entry_point() {
    let Some(gpu) = common::gpu() else { return };
    let data = gaussian_row_major(16, 6, 4, 53);
    let batch = MatrixBatch::row_major(&data, 16, 6, 4).unwrap();
    let blocking = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    let asynchronous =
        futures::executor::block_on(gpu.svd_async(&batch, &SvdOptions::default())).unwrap();
    assert_eq!(
        blocking.all_singular_values(),
        asynchronous.all_singular_values()
    );
    assert_eq!(blocking.all_u(), asynchronous.all_u());
}

/// A slice of nalgebra matrices is used without copying, and a transposed view decomposes to
/// the transposed factors.
#[test]
fn nalgebra_input_and_transpose() {
    let Some(gpu) = common::gpu() else { return };
    let ms: Vec<Matrix3x2<f32>> = (0..10)
        .map(|i| Matrix3x2::new(1.0 + i as f32, 2.0, -3.0, 0.5, 4.0, i as f32 * 0.1))
        .collect();
    let batch = MatrixBatch::from_matrices(&ms).unwrap();
    assert_eq!((batch.rows(), batch.cols()), (3, 2));
    let opts = SvdOptions::default().with_vectors(Vectors::Full);
    let out = gpu.svd(&batch, &opts).unwrap();
    common::assert_accurate("nalgebra 3×2", &batch, &out);
    let t = batch.transpose();
    let out_t = gpu.svd(&t, &opts).unwrap();
    common::assert_accurate("transposed 2×3", &t, &out_t);
    for i in 0..10 {
        let a = out.singular_values(i);
        let b = out_t.singular_values(i);
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-5 * a[0], "σ(A) = {a:?}, σ(Aᵀ) = {b:?}");
        }
    }
}

/// Buffers are pooled: repeated calls of one shape reuse them, so memory does not grow.
#[test]
fn repeated_calls_reuse_buffers() {
    let Some(shared) = common::gpu() else { return };
    let gpu = Gpu::from_device(shared.device().clone(), shared.queue().clone());
    let data = gaussian_row_major(500, 7, 5, 54);
    let batch = MatrixBatch::row_major(&data, 500, 7, 5).unwrap();
    assert_eq!(gpu.pooled_bytes(), 0);
    let first = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    let after_first = gpu.pooled_bytes();
    assert!(after_first > 0);
    for _ in 0..5 {
        let again = gpu.svd(&batch, &SvdOptions::default()).unwrap();
        assert_eq!(again.all_singular_values(), first.all_singular_values());
        assert_eq!(gpu.pooled_bytes(), after_first);
    }
    // Chunked (two alternating buffer sets) calls are pooled too.
    let chunked = gpu.with_plan_limits(batched_svd::PlanLimits {
        max_chunk_bytes: 7 * 5 * 4 * 64,
        ..gpu.plan_limits()
    });
    let out = chunked.svd(&batch, &SvdOptions::default()).unwrap();
    assert!(out.work().chunks > 2, "{:?}", out.work());
    assert_eq!(out.all_u(), first.all_u());
    let with_chunked = gpu.pooled_bytes();
    chunked.svd(&batch, &SvdOptions::default()).unwrap();
    assert_eq!(gpu.pooled_bytes(), with_chunked);
}

/// `svd_into` reuses one output across calls of changing shapes and vector modes, and gives
/// exactly what `svd` gives each time (no stale values from the previous call survive).
#[test]
fn svd_into_reuses_the_output() {
    let Some(gpu) = common::gpu() else { return };
    let mut out = batched_svd::SvdOutput::default();
    assert_eq!(out.count(), 0);
    for (count, m, n, vectors) in [
        (5000, 3, 3, Vectors::Thin),
        (300, 8, 5, Vectors::Full),
        (7, 3, 3, Vectors::None),
        (64, 6, 9, Vectors::Thin),
        (5000, 3, 3, Vectors::Thin),
    ] {
        let data = gaussian_row_major(count, m, n, 41 + count as u64);
        let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
        let opts = SvdOptions::default().with_vectors(vectors);
        gpu.svd_into(&batch, &opts, &mut out).unwrap();
        let fresh = gpu.svd(&batch, &opts).unwrap();
        assert_eq!(
            (out.count(), out.shape(), out.vectors()),
            (count, (m, n), vectors)
        );
        assert_eq!(out.all_singular_values(), fresh.all_singular_values());
        assert_eq!(out.all_u(), fresh.all_u(), "{m}×{n} {vectors:?}");
        assert_eq!(out.all_vt(), fresh.all_vt(), "{m}×{n} {vectors:?}");
        assert_eq!(out.infos(), fresh.infos());
        common::assert_accurate("svd_into", &batch, &out);
    }
}

/// `polar_into` reuses one output across calls (with and without S, 2×2, 3×3 and a size that
/// goes through the general SVD) and gives exactly what `polar` gives.
#[test]
fn polar_into_reuses_the_output() {
    let Some(gpu) = common::gpu() else { return };
    let mut out = batched_svd::PolarOutput::default();
    assert_eq!(out.count(), 0);
    for (count, n, rotation_only) in [
        (4000, 3, false),
        (4000, 3, true),
        (500, 2, false),
        (20, 4, false),
        (4000, 3, false),
    ] {
        let data = gaussian_row_major(count, n, n, 77 + count as u64 + n as u64);
        let batch = MatrixBatch::row_major(&data, count, n, n).unwrap();
        let opts = if rotation_only {
            batched_svd::PolarOptions::rotation_only()
        } else {
            batched_svd::PolarOptions::default()
        };
        gpu.polar_into(&batch, &opts, &mut out).unwrap();
        let fresh = gpu.polar(&batch, &opts).unwrap();
        assert_eq!((out.count(), out.n()), (count, n));
        assert_eq!(out.all_r(), fresh.all_r(), "{n}×{n} R");
        assert_eq!(out.all_s(), fresh.all_s(), "{n}×{n} S");
        assert_eq!(out.all_s().is_empty(), rotation_only);
        assert_eq!(out.infos(), fresh.infos());
        // R is orthogonal.
        for i in (0..count).step_by(101) {
            let r = out.r(i).map(f64::from);
            let e = (r.transpose() * &r - nalgebra::DMatrix::<f64>::identity(n, n)).amax();
            assert!(e < 16.0 * n as f64 * common::EPS, "{n}×{n} matrix {i}: {e}");
        }
    }
}
