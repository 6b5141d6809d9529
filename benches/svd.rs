//! `cargo bench`: the GPU path against nalgebra on one thread and on all cores, on the same
//! batches, in one run (criterion).
//!
//! One group per shape and vector mode (`svd/3x3/thin`, `svd/3x3/none`, …), each with three
//! functions on the same batch of random Gaussian f32 matrices: `gpu` ([`Gpu::svd_into`] with
//! default options, into one output reused across calls), `nalgebra_1_thread` and
//! `nalgebra_all_cores` ([`bench_support::peers`]: nalgebra in f32, statically sized where it
//! can). Then the f64 groups (`svd_f64/3x3/thin`, …, `svd_f64/256x256/thin`): the same
//! matrices widened to f64, against nalgebra in f64. Throughput is in matrices (criterion's
//! `elem/s`); the benchmark parameter is the batch count. Then the complex groups
//! (`svd_c64/3x3/thin`, `svd_c64/8x8/thin`, `svd_c64/32x32/thin`, `svd_c128/8x8/thin`): the
//! `gpu` function (the complex kernels) and a `cpu_engine` one ([`Cpu::svd_into`]), against
//! nalgebra's complex SVD. On a software adapter the `gpu`
//! function is skipped for matrices of more than 128×128 elements (seconds per matrix there).
//!
//! Batches are 2^20 matrices for 2×2 and 3×3 down to 2^10 for 64×64, cut to a power of two
//! where the slowest of the three would take more than [`MAX_CALL_SECONDS`] per call (a probe
//! on a small prefix of the batch estimates the rates; the cut is printed). With 10 flat
//! samples, 0.5 s warm-up and at least 2 s measurement per function (longer when ten calls
//! need it), the whole suite stays within about 10 minutes on a 2-core machine with Mesa's
//! software Vulkan driver.
//!
//! Without a GPU adapter the `gpu` functions are skipped with a printed message.
//!
//! ```text
//! cargo bench                       # everything
//! cargo bench -- 'svd/8x8/'         # one group (criterion's filter)
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use batched_svd::{Complex, Cpu, Gpu, MatrixBatch, SvdOptions, Vectors};
use bench_support::peers;
use bench_support::peers::PeerScalar;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// Shapes `(m, n)` and their planned batch counts (the `batched-svd bench` defaults).
const CASES: [((usize, usize), usize); 10] = bench_support::cases::BENCH_CASES;

/// Shapes also measured values-only.
const VALUES_ONLY: [(usize, usize); 4] = bench_support::cases::BENCH_VALUES_ONLY;

/// The f64 shapes and their planned batch counts (thin vectors).
const F64_CASES: [((usize, usize), usize); 4] = bench_support::cases::BENCH_F64_CASES;

/// The complex shapes and their planned batch counts (thin vectors).
const C64_CASES: [((usize, usize), usize); 3] = bench_support::cases::BENCH_C64_CASES;
const C128_CASES: [((usize, usize), usize); 1] = bench_support::cases::BENCH_C128_CASES;

/// Largest matrix (elements) the `gpu` function runs on a software adapter.
const SOFTWARE_GPU_MAX_ELEMENTS: usize = 128 * 128;

/// Longest call (seconds) of the slowest backend a batch may take; larger batches are cut.
const MAX_CALL_SECONDS: f64 = 1.0;

/// The rate probe runs on this fraction of the batch, and on at least [`MIN_COUNT`] matrices.
const PROBE_FRACTION: usize = 64;
/// Smallest batch.
const MIN_COUNT: usize = 16;

fn bench_svd(c: &mut Criterion) {
    let gpu = match Gpu::new() {
        Ok(gpu) => {
            let info = gpu.adapter_info();
            println!(
                "GPU: {} ({:?}, {:?})",
                info.name, info.backend, info.device_type
            );
            Some(gpu)
        }
        Err(e) => {
            println!("SKIPPED gpu benchmarks: no GPU adapter ({e})");
            None
        }
    };
    let cores = peers::all_cores();
    println!("CPU peers: nalgebra (in the group's precision) on 1 and {cores} threads");
    for ((m, n), planned) in CASES {
        for vectors in [Vectors::Thin, Vectors::None] {
            if vectors == Vectors::None && !VALUES_ONLY.contains(&(m, n)) {
                continue;
            }
            bench_case::<f32>(c, gpu.as_ref(), m, n, planned, vectors, cores);
        }
    }
    let software = gpu
        .as_ref()
        .is_some_and(|g| g.adapter_info().device_type == batched_svd::wgpu::DeviceType::Cpu);
    for ((m, n), planned) in F64_CASES {
        let gpu = gpu
            .as_ref()
            .filter(|_| !software || m * n <= SOFTWARE_GPU_MAX_ELEMENTS);
        bench_case::<f64>(c, gpu, m, n, planned, Vectors::Thin, cores);
    }
    // Complex: the GPU engine where it has a kernel for the shape (the per-invocation family;
    // elsewhere the probe's `Error::NoKernel` skips the function), and the CPU engine, against
    // nalgebra's complex SVD.
    for ((m, n), planned) in C64_CASES {
        bench_case::<Complex<f32>>(c, gpu.as_ref(), m, n, planned, Vectors::Thin, cores);
    }
    for ((m, n), planned) in C128_CASES {
        bench_case::<Complex<f64>>(c, gpu.as_ref(), m, n, planned, Vectors::Thin, cores);
    }
}

/// One group: the three backends on one batch of `T`.
fn bench_case<T: PeerScalar>(
    c: &mut Criterion,
    gpu: Option<&Gpu>,
    m: usize,
    n: usize,
    planned: usize,
    vectors: Vectors,
    cores: usize,
) {
    let mode = if vectors == Vectors::None {
        "none"
    } else {
        "thin"
    };
    let label = format!("{m}x{n}/{mode}");
    let group_name = match (T::IS_COMPLEX, T::BYTES) {
        (false, 4) => "svd",
        (false, _) => "svd_f64",
        (true, 8) => "svd_c64",
        (true, _) => "svd_c128",
    };
    let opts = SvdOptions::default().with_vectors(vectors);
    // The same generator and seed as `batched-svd bench`.
    let data: Vec<T> = peers::gaussian_batch(planned, m, n, (m as u64) << 32 | n as u64);
    let prefix = |count: usize| {
        MatrixBatch::row_major(&data[..count * m * n], count, m, n).expect("a valid batch")
    };

    // Probe: compiles the GPU pipelines and estimates the slowest backend's rate.
    let probe = (planned / PROBE_FRACTION).max(planned.min(MIN_COUNT));
    let probe_batch = prefix(probe);
    let mut gpu = gpu;
    let mut gpu_rate = f64::INFINITY;
    if let Some(g) = gpu {
        let timed = g.svd(&probe_batch, &opts).and_then(|_| {
            let t = Instant::now();
            g.svd(&probe_batch, &opts)
                .map(|_| t.elapsed().as_secs_f64())
        });
        match timed {
            Ok(t) => gpu_rate = probe as f64 / t,
            Err(e) => {
                println!("SKIPPED gpu {label}: {e}");
                gpu = None;
            }
        }
    }
    let cpu_rate = peers::nalgebra_loop(&probe_batch, vectors, 1)
        .expect("thin or values only")
        .matrices_per_second();
    let slowest = gpu_rate.min(cpu_rate);
    let fits = slowest * MAX_CALL_SECONDS;
    let count = if (planned as f64) > fits {
        let cut =
            (1usize << fits.max(1.0).log2().floor() as u32).clamp(planned.min(MIN_COUNT), planned);
        println!(
            "{label}: batch cut from {planned} to {cut} matrices (slowest backend at {slowest:.0} matrices/s; limit {MAX_CALL_SECONDS} s per call)"
        );
        cut
    } else {
        planned
    };
    let batch = prefix(count);
    // At least 2 s, and time for ten calls at the probed rate (no "unable to complete"
    // warnings); the all-cores peer gets the one-thread time, an upper bound.
    let measurement =
        |rate: f64| Duration::from_secs(2).max(Duration::from_secs_f64(11.0 * count as f64 / rate));

    let mut group = c.benchmark_group(format!("{group_name}/{label}"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .throughput(Throughput::Elements(count as u64));
    if let Some(g) = gpu {
        group.measurement_time(measurement(gpu_rate));
        // One output reused across calls (`Gpu::svd_into`), as `batched-svd bench` does: a
        // loop of solves pays for copying results out, not for faulting in fresh pages.
        let mut out = batched_svd::SvdOutput::<T>::default();
        group.bench_with_input(BenchmarkId::new("gpu", count), &batch, |b, batch| {
            b.iter(|| {
                g.svd_into(batch, &opts, &mut out)
                    .expect("the probe succeeded on this shape");
                black_box(&out);
            });
        });
    }
    group.measurement_time(measurement(cpu_rate));
    if T::IS_COMPLEX {
        let cpu = Cpu::new();
        let mut out = batched_svd::SvdOutput::<T>::default();
        group.bench_with_input(BenchmarkId::new("cpu_engine", count), &batch, |b, batch| {
            b.iter(|| {
                cpu.svd_into(batch, &opts, &mut out)
                    .expect("the CPU engine takes every shape");
                black_box(&out);
            });
        });
    }
    for (name, threads) in [("nalgebra_1_thread", 1), ("nalgebra_all_cores", cores)] {
        group.bench_with_input(BenchmarkId::new(name, count), &batch, |b, batch| {
            b.iter(|| {
                black_box(
                    peers::nalgebra_loop(batch, vectors, threads).expect("thin or values only"),
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_svd);
criterion_main!(benches);
