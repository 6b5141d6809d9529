//! Device loss: the device destroyed in the middle of a call (`wgpu::Device::destroy`, what a
//! driver reset or a removed GPU looks like to wgpu). The call returns `Error::DeviceLost`,
//! without a panic or a hang; later calls on that context say `DeviceLost` at once; a new
//! `Gpu` then works.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use batched_svd::{Error, Gpu, MatrixBatch, SvdOptions};
use common::matrices::gaussian_row_major;

/// Runs `f` on a thread of its own and fails if it takes longer than `limit` (a hang).
fn within<R: Send + 'static>(limit: Duration, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no result within {limit:?}: the call hangs or panicked"))
}

#[test]
fn device_destroyed_mid_call_is_device_lost_and_a_new_gpu_works() {
    if common::gpu().is_none() {
        return;
    }
    // A context of its own: the shared one must survive for the other tests.
    let gpu = Gpu::new().expect("an adapter (the shared context found one)");
    // Long enough on any device that the destroy lands inside the call: the multi-dispatch
    // family, many host round trips (one per sweep) on 48×48 matrices.
    let (count, m, n) = (256, 48, 48);
    let data = gaussian_row_major(count, m, n, 5);
    // Warm up (compile) so the timed call spends its time computing.
    let small = MatrixBatch::row_major(&data[..m * n], 1, m, n).unwrap();
    gpu.svd(&small, &SvdOptions::default()).unwrap();

    for delay_ms in [0u64, 30, 200] {
        let gpu = Gpu::new().unwrap();
        gpu.svd(&small, &SvdOptions::default()).unwrap();
        let device = gpu.device().clone();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay_ms));
            device.destroy();
        });
        let started = Instant::now();
        let worker = gpu.clone();
        let data_c = data.clone();
        let result = within(Duration::from_secs(120), move || {
            let batch = MatrixBatch::row_major(&data_c, count, m, n).unwrap();
            worker.svd(&batch, &SvdOptions::default()).map(|_| ())
        });
        killer.join().unwrap();
        match &result {
            Err(Error::DeviceLost(msg)) => eprintln!(
                "destroyed after {delay_ms} ms: DeviceLost after {:?} ({msg})",
                started.elapsed()
            ),
            other => panic!("destroyed after {delay_ms} ms: expected DeviceLost, got {other:?}"),
        }
        // The lost context answers DeviceLost at once, every time.
        let one = data[..m * n].to_vec();
        let again = within(Duration::from_secs(30), move || {
            let batch = MatrixBatch::row_major(&one, 1, m, n).unwrap();
            gpu.svd(&batch, &SvdOptions::default()).map(|_| ())
        });
        assert!(matches!(again, Err(Error::DeviceLost(_))), "{again:?}");
        // A new Gpu works and gives accurate results.
        let fresh = Gpu::new().unwrap();
        let batch = MatrixBatch::row_major(&data[..4 * m * n], 4, m, n).unwrap();
        let out = fresh.svd(&batch, &SvdOptions::default()).unwrap();
        common::assert_accurate("after device loss", &batch, &out);
    }
}

/// The caller's own device (`Gpu::from_device`) destroyed by the caller mid-call: the library
/// keeps the caller's device-lost callback, and still reports `DeviceLost`.
#[test]
fn callers_device_destroyed_mid_call_is_device_lost() {
    use batched_svd::wgpu;
    let Some(shared) = common::gpu() else { return };
    let name = shared.adapter_info().name.clone();
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .find(|a| a.get_info().name == name)
        .expect("the shared context's adapter");
    let (count, m, n) = (256, 48, 48);
    let data = gaussian_row_major(count, m, n, 6);
    for delay_ms in [0u64, 30, 200] {
        let (device, queue) =
            pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).unwrap();
        let gpu = Gpu::from_device(device.clone(), queue);
        let one = MatrixBatch::row_major(&data[..m * n], 1, m, n).unwrap();
        gpu.svd(&one, &SvdOptions::default()).unwrap();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay_ms));
            device.destroy();
        });
        let d = data.clone();
        let result = within(Duration::from_secs(120), move || {
            let batch = MatrixBatch::row_major(&d, count, m, n).unwrap();
            gpu.svd(&batch, &SvdOptions::default()).map(|_| ())
        });
        killer.join().unwrap();
        assert!(
            matches!(result, Err(Error::DeviceLost(_))),
            "destroyed after {delay_ms} ms: {result:?}"
        );
    }
}
