//! Resource exhaustion: a batch larger than a device's buffers is chunked; a single matrix
//! beyond a device limit is `Error::LimitExceeded` (and `Auto` takes the CPU engine); results
//! that the host cannot allocate are `Error::OutOfMemory`, never an abort.

mod common;

use batched_svd::{Backend, Error, Gpu, MatrixBatch, Reason, Solver, SvdOptions, Vectors, wgpu};
use common::matrices::gaussian_row_major;

/// A device on the test adapter whose storage buffers hold at most 1 MiB.
fn small_device() -> Option<Gpu> {
    let shared = common::gpu()?;
    let name = shared.adapter_info().name.clone();
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .find(|a| a.get_info().name == name)?;
    let limits = wgpu::Limits {
        max_storage_buffer_binding_size: 1 << 20,
        max_buffer_size: 1 << 20,
        ..adapter.limits()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("small limits"),
        required_limits: limits,
        ..Default::default()
    }))
    .ok()?;
    Some(Gpu::from_device(device, queue))
}

#[test]
fn a_batch_beyond_the_device_buffers_is_chunked() {
    let Some(gpu) = small_device() else { return };
    // 4096 16×16 matrices: 4 MiB of input, four times the largest buffer.
    let (count, m, n) = (4096, 16, 16);
    let data = gaussian_row_major(count, m, n, 3);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
    assert!(out.work().chunks >= 4, "{:?}", out.work());
    let sample = MatrixBatch::row_major(&data[..64 * m * n], 64, m, n).unwrap();
    let reference = batched_svd::cpu::svd(&sample, &SvdOptions::default()).unwrap();
    for i in 0..64 {
        for (g, c) in out
            .singular_values(i)
            .iter()
            .zip(reference.singular_values(i))
        {
            assert!((g - c).abs() <= 1e-4 * reference.singular_values(i)[0]);
        }
    }
    common::assert_accurate(
        "chunked",
        &sample,
        &gpu.svd(&sample, &SvdOptions::default()).unwrap(),
    );
}

#[test]
fn a_matrix_beyond_a_device_limit_is_limit_exceeded_and_auto_takes_the_cpu() {
    let Some(gpu) = small_device() else { return };
    // One 600×600 matrix: 1.4 MB of input, more than one buffer may hold.
    let (m, n) = (600, 600);
    let data = gaussian_row_major(1, m, n, 4);
    let batch = MatrixBatch::row_major(&data, 1, m, n).unwrap();
    match gpu.svd(&batch, &SvdOptions::values_only()) {
        Err(Error::LimitExceeded {
            required,
            available,
            ..
        }) => {
            assert!(required > available, "{required} ≤ {available}");
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    let auto = Solver::with_gpu(gpu, Backend::Auto);
    let out = auto.svd(&batch, &SvdOptions::values_only()).unwrap();
    assert!(
        matches!(
            out.engine().reason,
            Reason::ExceedsDevice(_) | Reason::SoftwareAdapterCpuFaster
        ),
        "{:?}",
        out.engine()
    );
}

/// Full vectors of very wide matrices need far more memory than their input: 64 matrices of
/// 1×65 536 (16 MiB of input) would have 64 Vᵀ of 65 536×65 536, 1 TiB in f32. Every engine
/// refuses with an error before computing anything; the process does not abort.
#[test]
fn results_beyond_host_memory_are_an_error_not_an_abort() {
    let overcommit = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").ok();
    if overcommit.as_deref().map(str::trim) == Some("1") {
        // "Always overcommit": the allocation succeeds lazily and the kernel's OOM killer
        // decides later; no library can report that as an error.
        eprintln!("SKIPPED: vm.overcommit_memory = 1");
        return;
    }
    let (count, m, n) = (64, 1, 65_536);
    let data = vec![1.0f32; count * m * n];
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let opts = SvdOptions::default().with_vectors(Vectors::Full);
    let cpu = Solver::cpu().svd(&batch, &opts);
    assert!(matches!(cpu, Err(Error::OutOfMemory(_))), "cpu: {cpu:?}");
    if let Some(gpu) = common::gpu() {
        let result = gpu.svd(&batch, &opts);
        assert!(
            matches!(
                result,
                Err(Error::OutOfMemory(_) | Error::LimitExceeded { .. } | Error::TooLarge(_))
            ),
            "gpu: {result:?}"
        );
    }
    // The same shape values-only is small and works.
    let values = Solver::cpu()
        .svd(&batch, &SvdOptions::values_only())
        .unwrap();
    assert!((values.singular_values(0)[0] - 256.0).abs() < 1e-3);
}
