//! Concurrency: 8 threads sharing one `Gpu` (clones), 100 calls each of mixed shapes, vector
//! modes, kernel families and element types, all at once. Every result is bit for bit the
//! result of the same call made serially, nothing deadlocks (the run has a deadline), the
//! pipeline cache holds one pipeline per distinct kernel (concurrent first uses of a kernel
//! compile it once) and the buffer pool stays within its documented cap (1 GiB, 8 sets).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use batched_svd::tuning::KernelFamily;
use batched_svd::{Gpu, MatrixBatch, PolarOptions, Real, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major_as};

const THREADS: usize = 8;
const CALLS: usize = 100;

/// One call of the mix: shape, count, vectors, element type, product.
#[derive(Clone, Copy, Debug)]
struct Call {
    m: usize,
    n: usize,
    count: usize,
    vectors: Vectors,
    f64: bool,
    polar: bool,
    kernel: KernelFamily,
}

/// The mix: call `i` of thread `t` (deterministic). Shapes cover every kernel family the
/// automatic choice makes for small sizes (dedicated 2×2/3×3, per-invocation, workgroup for
/// the 20×20 forced calls, multi-dispatch for 40×6) and both element types when the device
/// has f64.
fn call(t: usize, i: usize, f64_ok: bool) -> Call {
    const SHAPES: [(usize, usize); 7] = [(2, 2), (3, 3), (4, 4), (5, 3), (3, 7), (8, 8), (40, 6)];
    let k = t * 131 + i * 17;
    let (m, n) = SHAPES[k % SHAPES.len()];
    let vectors = [Vectors::None, Vectors::Thin, Vectors::Full][(k / 7) % 3];
    let polar = m == n && k.is_multiple_of(5);
    let kernel = if k.is_multiple_of(11) && !polar {
        KernelFamily::Workgroup
    } else {
        KernelFamily::Auto
    };
    Call {
        m,
        n,
        count: 1 + (k * 7) % 23,
        vectors,
        f64: f64_ok && k % 3 == 1,
        polar,
        kernel,
    }
}

/// FNV-1a over the bytes of every output and the per-matrix reports.
fn run_as<T: Real>(gpu: &Gpu, c: &Call, seed: u64) -> u64 {
    let data = batch_row_major_as::<T>(Class::Gaussian, c.count, c.m, c.n, seed);
    let batch = MatrixBatch::row_major(&data, c.count, c.m, c.n).unwrap();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    if c.polar {
        let out = gpu.polar(&batch, &PolarOptions::default()).unwrap();
        eat(bytemuck::cast_slice(out.all_r()));
        eat(bytemuck::cast_slice(out.all_s()));
        for i in 0..c.count {
            eat(&out.info(i).sweeps.to_le_bytes());
        }
    } else {
        let opts = SvdOptions::default()
            .with_vectors(c.vectors)
            .with_kernel(c.kernel);
        let out = gpu.svd(&batch, &opts).unwrap();
        eat(bytemuck::cast_slice(out.all_singular_values()));
        eat(bytemuck::cast_slice(out.all_u()));
        eat(bytemuck::cast_slice(out.all_vt()));
        for i in 0..c.count {
            let info = out.info(i);
            eat(&[info.status as u8]);
            eat(&info.sweeps.to_le_bytes());
        }
    }
    h
}

fn run(gpu: &Gpu, c: &Call, seed: u64) -> u64 {
    if c.f64 {
        run_as::<f64>(gpu, c, seed)
    } else {
        run_as::<f32>(gpu, c, seed)
    }
}

fn seed(t: usize, i: usize) -> u64 {
    (t * 1000 + i) as u64
}

#[test]
fn eight_threads_sharing_one_gpu_match_the_serial_results() {
    let Some(shared) = common::gpu() else { return };
    // A context of its own, so that the pipeline count is this test's.
    let gpu = Gpu::from_device(shared.device().clone(), shared.queue().clone());
    let f64_ok = gpu.supports_f64();
    // Serially first: the reference results, and every kernel compiled.
    let serial: Vec<Vec<u64>> = (0..THREADS)
        .map(|t| {
            (0..CALLS)
                .map(|i| run(&gpu, &call(t, i, f64_ok), seed(t, i)))
                .collect()
        })
        .collect();
    let pipelines = gpu.compiled_pipelines();
    assert!(pipelines > 0);

    // The same calls from 8 threads at once, each in reverse order of the serial pass so
    // that first uses of a kernel by different threads overlap.
    let (done, finished) = mpsc::channel();
    for t in 0..THREADS {
        let gpu = gpu.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let hashes: Vec<u64> = (0..CALLS)
                .rev()
                .map(|i| run(&gpu, &call(t, i, f64_ok), seed(t, i)))
                .collect();
            let _ = done.send((t, hashes));
        });
    }
    drop(done);
    let mut seen = 0;
    while seen < THREADS {
        // A deadlock (or a lost wake-up in polling) shows as no result within the deadline.
        let (t, mut hashes) = finished
            .recv_timeout(Duration::from_secs(300))
            .expect("a thread neither finished nor panicked within 300 s: deadlock");
        hashes.reverse();
        for (i, (got, want)) in hashes.iter().zip(&serial[t]).enumerate() {
            assert_eq!(
                got,
                want,
                "thread {t} call {i} ({:?}) differs from the serial result",
                call(t, i, f64_ok)
            );
        }
        seen += 1;
    }
    assert_eq!(
        gpu.compiled_pipelines(),
        pipelines,
        "concurrent calls of already-compiled kernels compiled more pipelines"
    );
    assert!(
        gpu.pooled_bytes() <= 1 << 30,
        "buffer pool beyond its 1 GiB cap: {}",
        gpu.pooled_bytes()
    );
}

/// Concurrent first uses of one kernel compile it once: 8 threads start the same new shape at
/// the same moment on a fresh context.
#[test]
fn concurrent_first_use_compiles_a_kernel_once() {
    let Some(shared) = common::gpu() else { return };
    let gpu = Gpu::from_device(shared.device().clone(), shared.queue().clone());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (gpu, barrier) = (gpu.clone(), barrier.clone());
            std::thread::spawn(move || {
                let c = Call {
                    m: 6,
                    n: 5,
                    count: 9,
                    vectors: Vectors::Thin,
                    f64: false,
                    polar: false,
                    kernel: KernelFamily::Auto,
                };
                barrier.wait();
                run(&gpu, &c, t as u64)
            })
        })
        .collect();
    for h in handles {
        h.join().expect("no thread panics");
    }
    assert_eq!(gpu.compiled_pipelines(), 1);
}
