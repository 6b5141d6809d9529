//! No leaks: 10 000 calls of one shape hold the resident memory flat (within 5 % after a
//! warm-up), on the GPU and the CPU engine, through the allocating `svd` (each result dropped)
//! and through `svd_into`. Linux only (`/proc/self/statm`); elsewhere the test only runs the
//! calls.

mod common;

use batched_svd::{Cpu, Gpu, MatrixBatch, SvdOptions, SvdOutput, Vectors};
use common::matrices::gaussian_row_major;

const CALLS: usize = 10_000;
const WARM_UP: usize = 1_000;

/// Resident set size in bytes, if the system reports it.
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Runs `call` CALLS times; asserts the RSS after the last is within 5 % of the RSS after
/// the warm-up.
fn assert_flat(label: &str, mut call: impl FnMut()) {
    for _ in 0..WARM_UP {
        call();
    }
    let before = rss_bytes();
    for _ in WARM_UP..CALLS {
        call();
    }
    let (Some(before), Some(after)) = (before, rss_bytes()) else {
        eprintln!("{label}: no /proc/self/statm, resident memory not checked");
        return;
    };
    let growth = after as f64 / before as f64 - 1.0;
    eprintln!(
        "{label}: resident {:.1} MiB after {WARM_UP} calls, {:.1} MiB after {CALLS} ({:+.2} %)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        100.0 * growth
    );
    assert!(
        growth <= 0.05,
        "{label}: resident memory grew {:.1} % over {} calls",
        100.0 * growth,
        CALLS - WARM_UP
    );
}

#[test]
fn ten_thousand_calls_hold_memory_flat() {
    let (count, m, n) = (64, 3, 3);
    let data = gaussian_row_major(count, m, n, 1);
    let batch = MatrixBatch::row_major(&data, count, m, n).unwrap();
    let opts = SvdOptions::default().with_vectors(Vectors::Thin);
    let cpu = Cpu::new();
    assert_flat("cpu svd", || {
        std::hint::black_box(cpu.svd(&batch, &opts).unwrap());
    });
    let Some(shared) = common::gpu() else { return };
    let gpu = Gpu::from_device(shared.device().clone(), shared.queue().clone());
    assert_flat("gpu svd", || {
        std::hint::black_box(gpu.svd(&batch, &opts).unwrap());
    });
    let mut out = SvdOutput::default();
    let general = MatrixBatch::row_major(&data[..8 * 8], 1, 8, 8).unwrap();
    assert_flat("gpu svd_into 8×8", || {
        gpu.svd_into(&general, &opts, &mut out).unwrap();
    });
}
