//! `batched-svd bench`: the GPU engine, the CPU engine and auto against nalgebra on one thread
//! and on all cores (and numpy, when its rows are given), same matrices, same run, as a table
//! (and optionally JSON).
//!
//! `args.rs` parses, `plan.rs` lists the cases, `measure.rs` times one case, `resident.rs` is
//! the device-resident 2×2/3×3 row, `numpy.rs` merges numpy's rows, `table.rs` and `json.rs`
//! print.

mod args;
mod json;
mod measure;
mod numpy;
mod plan;
mod resident;
mod table;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use batched_svd::{Backend as EngineBackend, Cpu, Gpu, MatrixBatch, Solver, SvdOptions};
use bench_support::{peers, rng};

pub use args::{BENCH_USAGE, BenchArgs, Parsed, parse};
use measure::{Engines, Row};
use plan::{
    MAX_CALL_SECONDS_FULL, MAX_CALL_SECONDS_QUICK, RUNS_FULL, RUNS_QUICK, STARTUP_CASE, plan,
};
use table::{mib, table_header, table_line};

use crate::error::{CliError, one_line};

/// The GPU start-up measurement.
#[derive(Clone, Debug)]
struct Startup {
    context_seconds: f64,
    first_result_seconds: f64,
    disk_cache: bool,
}

/// "; numpy X (merged)" for the header, when numpy rows are merged.
fn numpy_note(numpy: Option<&numpy::NumpyRows>) -> String {
    numpy.map_or_else(String::new, |np| {
        format!("; numpy {} (merged from benches/numpy_peer.py)", np.version)
    })
}

/// Runs the benchmark; exit code 0.
///
/// # Errors
/// When the JSON file cannot be written (exit code 2). A GPU failure on one case is a warning
/// and the case keeps its CPU rows.
pub fn run(args: &BenchArgs) -> Result<u8, CliError> {
    let started = Instant::now();
    // Fail on an unwritable JSON path now, not after minutes of measuring.
    if let Some(path) = &args.json {
        std::fs::File::create(path)
            .map_err(|e| CliError::io("cannot create the JSON file", path, &e))?;
    }
    let cases = plan(args);
    let runs = if args.quick { RUNS_QUICK } else { RUNS_FULL };
    let threads = peers::all_cores();

    let numpy = match &args.numpy {
        Some(path) => Some(numpy::NumpyRows::read(path)?),
        None => None,
    };
    let (gpu, startup) = start_gpu();
    let cpu = Cpu::new();
    // Auto on the same device as the GPU rows (or without one), deciding per case.
    let auto = match &gpu {
        Some(g) => Solver::with_gpu(g.clone(), EngineBackend::Auto),
        None => Solver::auto(),
    };
    let engines = Engines {
        gpu: gpu.as_ref(),
        cpu,
        auto: &auto,
        rows: measure::RowGroups {
            gpu: args.wants("gpu"),
            cpu: args.wants("cpu"),
            auto: args.wants("auto"),
            nalgebra: args.wants("nalgebra"),
        },
    };
    let mut out = std::io::stdout().lock();
    let mut header = String::new();
    match &gpu {
        Some(g) => {
            let info = g.adapter_info();
            let _ = writeln!(
                header,
                "adapter: {} ({:?}, {:?}); CPU engine on {} threads; peers: nalgebra {} (in the dtype of the row) on 1 and {threads} threads{}",
                info.name,
                info.backend,
                info.device_type,
                cpu.threads(),
                NALGEBRA_VERSION,
                numpy_note(numpy.as_ref())
            );
        }
        None => {
            let _ = writeln!(
                header,
                "adapter: none (GPU rows skipped); CPU engine on {} threads; peers: nalgebra {NALGEBRA_VERSION} (in the dtype of the row) on 1 and {threads} threads{}",
                cpu.threads(),
                numpy_note(numpy.as_ref())
            );
        }
    }
    if let Some(s) = &startup {
        let _ = writeln!(
            header,
            "start-up: context {:.3} s, first result of {} {}x{} matrices {:.3} s after creating \
             the context (first compile in this process; on-disk pipeline cache: {})",
            s.context_seconds,
            STARTUP_CASE.0,
            STARTUP_CASE.1,
            STARTUP_CASE.2,
            s.first_result_seconds,
            if s.disk_cache { "on" } else { "off" }
        );
    }
    let _ = writeln!(
        header,
        "{} cases, median of {runs} runs each{}\n",
        cases.len(),
        if args.quick { " (--quick)" } else { "" }
    );
    header.push_str(&table_header());
    let _ = out.write_all(header.as_bytes());
    let _ = out.flush();

    let mut rows: Vec<Row> = Vec::new();
    let mut largest_io_bytes = 0u64;
    let max_call = if args.quick {
        MAX_CALL_SECONDS_QUICK
    } else {
        MAX_CALL_SECONDS_FULL
    };
    for mut case in cases.iter().copied() {
        let (mut case_rows, note) = measure::measure(&mut case, engines, runs, threads, max_call);
        if let Some(row) = numpy.as_ref().and_then(|np| np.row(&case)) {
            case_rows.push(row);
        }
        largest_io_bytes = largest_io_bytes.max(measure::io_bytes(&case));
        let software = gpu
            .as_ref()
            .is_some_and(|g| g.adapter_info().device_type == batched_svd::wgpu::DeviceType::Cpu);
        measure::finish_case(&mut case_rows, args.peak_gflops, software);
        let mut text = String::new();
        for row in &case_rows {
            text.push_str(&table_line(row));
        }
        if let Some(note) = note {
            let _ = writeln!(text, "  note: {note}");
        }
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        rows.extend(case_rows);
    }

    let peak_rss = json::peak_rss_bytes();
    let total = started.elapsed().as_secs_f64();
    let footer = format!(
        "\npeak resident memory: {} (largest case: input + output {}); total {total:.1} s\n",
        peak_rss.map_or_else(|| "n/a".to_string(), mib),
        mib(largest_io_bytes)
    );
    let _ = out.write_all(footer.as_bytes());
    let _ = out.flush();

    if let Some(path) = &args.json {
        let doc = json::to_json(
            args,
            runs,
            threads,
            gpu.as_ref(),
            startup.as_ref(),
            &rows,
            peak_rss,
            largest_io_bytes,
            total,
        );
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        std::fs::write(path, text).map_err(|e| CliError::io("cannot write", path, &e))?;
    }
    Ok(0)
}

/// The nalgebra version the peers are built with (kept in step with Cargo.toml).
const NALGEBRA_VERSION: &str = "0.35";

/// Creates the GPU context and measures the start-up; `None` (with a warning) without adapter.
fn start_gpu() -> (Option<Gpu>, Option<Startup>) {
    let (count, m, n) = STARTUP_CASE;
    let data = rng::gaussian_row_major(count, m, n, 16);
    let start = Instant::now();
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) => {
            warn(&format!("{e}; measuring the CPU peers only"));
            return (None, None);
        }
    };
    let context_seconds = start.elapsed().as_secs_f64();
    let first = MatrixBatch::row_major(&data, count, m, n)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            gpu.svd(&b, &SvdOptions::default())
                .map_err(|e| e.to_string())
        });
    let first_result_seconds = start.elapsed().as_secs_f64();
    let startup = match first {
        Ok(_) => Some(Startup {
            context_seconds,
            first_result_seconds,
            disk_cache: gpu.has_pipeline_cache(),
        }),
        Err(e) => {
            warn(&format!("start-up measurement failed: {e}"));
            None
        }
    };
    (Some(gpu), startup)
}

/// Prints a one-line warning on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("batched-svd: warning: {}", one_line(message));
}
