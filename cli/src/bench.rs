//! `batched-svd bench`: the GPU path against nalgebra on one thread and on all cores, same
//! matrices, same run, as a table (and optionally JSON).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use batched_svd::{Gpu, MatrixBatch, Status, SvdOptions, Vectors, WorkCounts};
use bench_support::peers::{self, PeerRun};
use bench_support::{cases, flops, rng};
use serde_json::{Value, json};

use crate::bench_resident::{Resident, ResidentCase};
use crate::error::{CliError, one_line};
use crate::report::vectors_name;

/// Usage text of `batched-svd bench --help`.
pub const BENCH_USAGE: &str = "\
Usage: batched-svd bench [--quick] [--json FILE] [--shapes LIST] [--count N]
                         [--peak-gflops X]

Decomposes batches of random Gaussian f32 matrices (deterministic seed) with the GPU path
(Gpu::svd_into / polar_into with one output reused per case, default options) and with nalgebra in f32 on one thread and on all cores (the
batch split over threads; statically sized matrices where nalgebra allows), in one run.
Each case: a probe on a small prefix of the batch (compiles the GPU pipelines, estimates
the rates), one GPU warm-up call on the whole batch, then the median of 5 timed runs (3 with
--quick) of each backend, interleaved. 2x2 and 3x3 also get a 'gpu, data resident' row: the
same kernel on matrices already in device buffers (Gpu::encode_svd / encode_polar, then
submit and wait; no upload, read-back or host copies), as a graphics or physics engine
calls it. Also reports the GPU start-up (creating the context
to the first result of 1000 16x16 matrices, the first compile in this process; the on-disk
pipeline cache, when on, may hold pipelines of an earlier process) and the peak resident
memory of the process (VmHWM).

Options (in any order; --opt=value also accepted):
  --quick            Smaller batches, 3 runs, thin vectors only (about a minute).
  --json FILE        Also write every row as JSON to FILE (schema in the README).
  --shapes LIST      Comma-separated MxN shapes, e.g. 3x3,8x8,256x16 (default: 2x2 3x3 4x4
                     8x8 16x16 32x32 64x64 64x8 256x16 8x64).
  --count N          Matrices per case instead of the defaults (2^20 for 2x2 and 3x3 down
                     to 2^10 for 64x64; a quarter with --quick). Cases are cut further when
                     the slowest backend would take over 10 s per call (1 s with --quick).
  --peak-gflops X    The device's nominal peak in GFLOP/s, for the 'of peak' column
                     (otherwise n/a: wgpu does not report it).

Columns: matrices/s is the median throughput; speedup is the GPU's over the fastest CPU peer;
GFLOP/s counts the nominal one-sided Jacobi cost: with W = A (or A^T when A is wide),
M = max(m, n), N = min(m, n), each sweep rotates N(N-1)/2 column pairs at 6M flops (three
dot products) + 6M (two columns of W) + 6N (two columns of V; not for values only), so
  flops per matrix = sweeps * N(N-1)/2 * (12M + 6N),
with the GPU run's mean sweeps used for every row of the case (the nalgebra rows are
'Jacobi-equivalent' GFLOP/s: nalgebra runs a different algorithm). sweeps is the GPU's
max/mean per matrix; trips, dispatches and MiB are host-device round trips, compute
dispatches and bytes moved (up + down) per GPU call.
";

/// The default shapes `(m, n)` and their batch counts (full mode; `--quick` divides them).
const DEFAULT_CASES: [((usize, usize), usize); 10] = cases::BENCH_CASES;

/// Shapes also measured values-only in full mode.
const VALUES_ONLY_SHAPES: [(usize, usize); 4] = cases::BENCH_VALUES_ONLY;

/// Shapes also measured as polar decompositions (in full and quick mode).
const POLAR_SHAPES: [(usize, usize); 1] = cases::BENCH_POLAR;

/// `--quick` divides the full-mode counts by this.
const QUICK_DIVISOR: usize = 4;

/// The longest call (seconds) of the slowest backend a case may plan for; beyond it the batch
/// is cut (see [`measure`]).
const MAX_CALL_SECONDS_FULL: f64 = 10.0;
/// As [`MAX_CALL_SECONDS_FULL`], with `--quick`.
const MAX_CALL_SECONDS_QUICK: f64 = 1.0;

/// The probe that estimates each backend's throughput runs on this fraction of the batch…
const PROBE_FRACTION: usize = 64;
/// …but on at least this many matrices (the smallest batch a cut leaves, too).
const MIN_COUNT: usize = 16;

/// Timed runs per backend and case.
const RUNS_FULL: usize = 5;
/// Timed runs per backend and case with `--quick`.
const RUNS_QUICK: usize = 3;

/// The start-up measurement: matrices and shape.
const STARTUP_CASE: (usize, usize, usize) = (1000, 16, 16);

/// Largest `m` or `n` accepted by `--shapes`.
const MAX_DIM: usize = 8192;

/// Largest `--count`.
const MAX_COUNT: usize = 1 << 24;

/// Nominal flops per case for shapes without a default count (about what the defaults do).
const WORK_PER_CASE: f64 = 4e9;

/// The arguments of `batched-svd bench`.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchArgs {
    /// Smaller batches, fewer runs, thin only.
    pub quick: bool,
    /// Where to write the JSON rows.
    pub json: Option<PathBuf>,
    /// The shapes to measure (`None`: the default set).
    pub shapes: Option<Vec<(usize, usize)>>,
    /// Matrices per case instead of the defaults.
    pub count: Option<usize>,
    /// The device's nominal peak, GFLOP/s.
    pub peak_gflops: Option<f64>,
}

/// Result of parsing the `bench` arguments.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// `--help` was asked for.
    Help,
    /// Run with these arguments.
    Run(BenchArgs),
}

/// Parses the arguments following `bench`.
pub fn parse(args: &[OsString]) -> Result<Parsed, CliError> {
    let mut parsed = BenchArgs {
        quick: false,
        json: None,
        shapes: None,
        count: None,
        peak_gflops: None,
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str() else {
            return Err(CliError::usage(format!(
                "bench: unexpected argument '{}'",
                arg.to_string_lossy()
            )));
        };
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (text, None),
        };
        match name {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--quick" => {
                if inline.is_some() {
                    return Err(CliError::usage("bench: --quick takes no value"));
                }
                parsed.quick = true;
            }
            "--json" | "--shapes" | "--count" | "--peak-gflops" => {
                let value = match inline {
                    Some(v) => OsString::from(v),
                    None => iter.next().cloned().ok_or_else(|| {
                        CliError::usage(format!("bench: option {name} needs a value"))
                    })?,
                };
                match name {
                    "--json" => {
                        if value.is_empty() {
                            return Err(CliError::usage("bench: --json needs a non-empty path"));
                        }
                        parsed.json = Some(PathBuf::from(value));
                    }
                    "--shapes" => parsed.shapes = Some(parse_shapes(&utf8(name, &value)?)?),
                    "--count" => parsed.count = Some(parse_count(&utf8(name, &value)?)?),
                    _ => parsed.peak_gflops = Some(parse_peak(&utf8(name, &value)?)?),
                }
            }
            _ if name.starts_with('-') => {
                return Err(CliError::usage(format!("bench: unknown option '{name}'")));
            }
            _ => {
                return Err(CliError::usage(format!(
                    "bench: unexpected argument '{text}'"
                )));
            }
        }
    }
    Ok(Parsed::Run(parsed))
}

/// The value as UTF-8 text.
fn utf8(name: &str, value: &OsString) -> Result<String, CliError> {
    value.to_str().map(str::to_string).ok_or_else(|| {
        CliError::usage(format!(
            "bench: bad value for {name}: '{}'",
            value.to_string_lossy()
        ))
    })
}

/// `MxN[,MxN…]` (`x`, `X` or `×`), each dimension from 1 to [`MAX_DIM`]; duplicates dropped.
fn parse_shapes(value: &str) -> Result<Vec<(usize, usize)>, CliError> {
    let mut shapes = Vec::new();
    for item in value.split(',').map(str::trim) {
        let bad = || {
            CliError::usage(format!(
                "bench: bad shape '{item}' in --shapes (expected MxN with 1 <= M, N <= {MAX_DIM}, e.g. 3x3,64x8)"
            ))
        };
        let (m, n) = item.split_once(['x', 'X', '×']).ok_or_else(bad)?;
        let dim = |s: &str| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|d| (1..=MAX_DIM).contains(d))
        };
        let shape = (dim(m).ok_or_else(bad)?, dim(n).ok_or_else(bad)?);
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    Ok(shapes)
}

/// A batch count from 1 to [`MAX_COUNT`].
fn parse_count(value: &str) -> Result<usize, CliError> {
    match value.trim().parse::<usize>() {
        Ok(count) if (1..=MAX_COUNT).contains(&count) => Ok(count),
        _ => Err(CliError::usage(format!(
            "bench: --count must be an integer from 1 to {MAX_COUNT}, got '{value}'"
        ))),
    }
}

/// A positive, finite number.
fn parse_peak(value: &str) -> Result<f64, CliError> {
    match value.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(CliError::usage(format!(
            "bench: --peak-gflops must be a positive number, got '{value}'"
        ))),
    }
}

/// One measured configuration: shape, batch count, vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Case {
    m: usize,
    n: usize,
    /// Matrices measured (at most `planned`; see [`measure`]).
    count: usize,
    /// Matrices planned for the shape and mode.
    planned: usize,
    vectors: Vectors,
    /// The polar decomposition (R and S) instead of the SVD; the CPU peers then run the SVD
    /// it is built on (thin vectors), without the two small products R = U·Vᵀ, S = V·Σ·Vᵀ.
    polar: bool,
}

impl Case {
    /// The mode as the table and the JSON name it: `thin`, `none` or `polar`.
    fn mode(&self) -> &'static str {
        if self.polar {
            "polar"
        } else {
            vectors_name(self.vectors)
        }
    }
}

/// The cases to measure, in order.
fn plan(args: &BenchArgs) -> Vec<Case> {
    let shapes: Vec<(usize, usize)> = match &args.shapes {
        Some(list) => list.clone(),
        None => DEFAULT_CASES.iter().map(|&(shape, _)| shape).collect(),
    };
    let mut cases = Vec::new();
    for (m, n) in shapes {
        let full = default_count(m, n);
        let count = match args.count {
            Some(count) => count,
            None if args.quick => (full / QUICK_DIVISOR).max(1),
            None => full,
        };
        let case = Case {
            m,
            n,
            count,
            planned: count,
            vectors: Vectors::Thin,
            polar: false,
        };
        cases.push(case);
        if !args.quick && VALUES_ONLY_SHAPES.contains(&(m, n)) {
            cases.push(Case {
                vectors: Vectors::None,
                ..case
            });
        }
        if POLAR_SHAPES.contains(&(m, n)) {
            cases.push(Case {
                polar: true,
                ..case
            });
        }
    }
    cases
}

/// The full-mode batch count for `m×n`: the table's, or a power of two giving about
/// [`WORK_PER_CASE`] nominal flops at 8 sweeps (between 16 and 2^20).
fn default_count(m: usize, n: usize) -> usize {
    if let Some(&(_, count)) = DEFAULT_CASES.iter().find(|(shape, _)| *shape == (m, n)) {
        return count;
    }
    let per_matrix = flops::jacobi_flops(m, n, Vectors::Thin, 8.0).max(1.0);
    let count = (WORK_PER_CASE / per_matrix).clamp(16.0, (1u64 << 20) as f64);
    1usize << (count.log2().floor() as u32)
}

/// Which engine a row measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Gpu,
    /// 2×2 / 3×3 only: the kernel on device-resident data (see `bench_resident`).
    GpuResident,
    NalgebraOne,
    NalgebraAll,
}

impl Backend {
    /// The name in the table and the JSON.
    fn name(self) -> &'static str {
        match self {
            Backend::Gpu => "gpu",
            Backend::GpuResident => "gpu-resident",
            Backend::NalgebraOne => "nalgebra-1-thread",
            Backend::NalgebraAll => "nalgebra-all-cores",
        }
    }

    /// One of the GPU rows (speedups are given for them).
    fn is_gpu(self) -> bool {
        matches!(self, Backend::Gpu | Backend::GpuResident)
    }
}

/// What one GPU call reported besides its time.
#[derive(Clone, Copy, Debug, Default)]
struct GpuFacts {
    sweeps_max: u32,
    sweeps_mean: f64,
    converged: usize,
    work: WorkCounts,
    sigma_sum: f64,
}

/// One row of the table.
#[derive(Clone, Debug)]
struct Row {
    case: Case,
    backend: Backend,
    threads: usize,
    /// Seconds of every timed run, in run order.
    seconds: Vec<f64>,
    /// GPU only: the warm-up call's seconds.
    warmup: Option<f64>,
    gpu: Option<GpuFacts>,
    /// CPU only: statically sized nalgebra matrices.
    statically_sized: Option<bool>,
    sigma_sum: f64,
    /// Filled once the case is done.
    speedup: Option<f64>,
    gflops: Option<f64>,
    peak_fraction: Option<f64>,
}

impl Row {
    fn median(&self) -> f64 {
        median(&self.seconds)
    }

    fn rate(&self) -> f64 {
        let t = self.median();
        if t > 0.0 {
            self.case.count as f64 / t
        } else {
            f64::INFINITY
        }
    }
}

/// The median of `xs` (mean of the middle two for an even count); NaN when empty.
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => v[len / 2],
        len => 0.5 * (v[len / 2 - 1] + v[len / 2]),
    }
}

/// The GPU start-up measurement.
#[derive(Clone, Debug)]
struct Startup {
    context_seconds: f64,
    first_result_seconds: f64,
    disk_cache: bool,
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

    let (gpu, startup) = start_gpu();
    let mut out = std::io::stdout().lock();
    let mut header = String::new();
    match &gpu {
        Some(g) => {
            let info = g.adapter_info();
            let _ = writeln!(
                header,
                "adapter: {} ({:?}, {:?}); CPU peers: nalgebra {} (f32) on 1 and {threads} threads",
                info.name, info.backend, info.device_type, NALGEBRA_VERSION
            );
        }
        None => {
            let _ = writeln!(
                header,
                "adapter: none (GPU rows skipped); CPU peers: nalgebra {NALGEBRA_VERSION} (f32) on 1 and {threads} threads"
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
        let (mut case_rows, note) = measure(&mut case, gpu.as_ref(), runs, threads, max_call);
        largest_io_bytes = largest_io_bytes.max(io_bytes(&case));
        finish_case(&mut case_rows, args.peak_gflops, gpu.as_ref());
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

    let peak_rss = peak_rss_bytes();
    let total = started.elapsed().as_secs_f64();
    let footer = format!(
        "\npeak resident memory: {} (largest case: input + output {}); total {total:.1} s\n",
        peak_rss.map_or_else(|| "n/a".to_string(), mib),
        mib(largest_io_bytes)
    );
    let _ = out.write_all(footer.as_bytes());
    let _ = out.flush();

    if let Some(path) = &args.json {
        let doc = to_json(
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

/// Measures one case: the GPU row (if there is a GPU and the case fits it) and the CPU rows.
///
/// First a probe on a small prefix of the batch compiles the GPU pipelines and estimates the
/// GPU's and one nalgebra thread's throughput. If the slower of them would need more than
/// `max_call` seconds per call, the batch is cut to a power-of-two prefix of the same
/// matrices that fits (`case.count` is updated and a note returned), so that a slow kernel
/// cannot stretch the benchmark without bound.
fn measure(
    case: &mut Case,
    gpu: Option<&Gpu>,
    runs: usize,
    threads: usize,
    max_call: f64,
) -> (Vec<Row>, Option<String>) {
    let data = rng::gaussian_row_major(case.count, case.m, case.n, seed(case));
    let opts = SvdOptions::default().with_vectors(case.vectors);
    let polar = case.polar;
    // One GPU call of the case: the SVD or the polar decomposition, into one output reused
    // across the case's calls, as a caller solving batches in a loop would: the timed runs pay
    // for copying results out but not for faulting in fresh pages.
    let reused = std::cell::RefCell::new(batched_svd::SvdOutput::default());
    let reused_polar = std::cell::RefCell::new(batched_svd::PolarOutput::default());
    let call = |g: &Gpu, batch: &MatrixBatch<'_>| -> batched_svd::Result<()> {
        if polar {
            g.polar_into(
                batch,
                &batched_svd::PolarOptions::default(),
                &mut reused_polar.borrow_mut(),
            )
        } else {
            g.svd_into(batch, &opts, &mut reused.borrow_mut())
        }
    };
    // What the last call reported; read after its time is taken.
    let facts = || {
        if polar {
            polar_facts(&reused_polar.borrow())
        } else {
            gpu_facts(&reused.borrow())
        }
    };
    let mut gpu = gpu;
    // A GPU row that failed is skipped with a warning naming where it ran.
    let skipped = |on: &str, row: &str, e: &dyn std::fmt::Display| {
        warn(&format!(
            "{}x{} on {on}: {e}; {row} skipped",
            case.m, case.n
        ));
    };
    let gpu_failed = |e: &batched_svd::Error| skipped("the GPU", "GPU row", e);
    let resident_failed = |e: &str| skipped("device-resident data", "row", &e);

    let probe = (case.count / PROBE_FRACTION).max(case.count.min(MIN_COUNT));
    let Ok(probe_batch) =
        MatrixBatch::row_major(&data[..probe * case.m * case.n], probe, case.m, case.n)
    else {
        return (Vec::new(), None);
    };
    let mut slowest: Option<(f64, &str)> = None;
    let mut consider = |rate: f64, who| {
        if slowest.is_none_or(|(r, _)| rate < r) {
            slowest = Some((rate, who));
        }
    };
    if let Some(g) = gpu {
        // The first call compiles the pipelines; the second is timed.
        let timed = call(g, &probe_batch).and_then(|_| {
            let t = Instant::now();
            call(g, &probe_batch).map(|_| t.elapsed().as_secs_f64())
        });
        match timed {
            Ok(t) => consider(probe as f64 / t, "the GPU"),
            Err(e) => {
                gpu_failed(&e);
                gpu = None;
            }
        }
    }
    match peers::nalgebra_loop(&probe_batch, case.vectors, 1) {
        Ok(r) => consider(r.matrices_per_second(), "nalgebra on 1 thread"),
        Err(e) => {
            warn(&format!("{}x{} on nalgebra: {e}", case.m, case.n));
            return (Vec::new(), None);
        }
    }
    let mut note = None;
    if let Some((rate, who)) = slowest {
        let fits = rate * max_call;
        if (case.count as f64) > fits {
            let reduced = if fits >= 1.0 {
                1usize << (fits.log2().floor() as u32)
            } else {
                1
            };
            let reduced = reduced.clamp(case.count.min(MIN_COUNT), case.count);
            if reduced < case.count {
                note = Some(format!(
                    "{}x{} {}: batch cut from {} to {reduced} matrices: {who} at {} matrices/s \
                     would take {:.0} s per call (limit {max_call} s)",
                    case.m,
                    case.n,
                    case.mode(),
                    case.count,
                    si(rate),
                    case.count as f64 / rate
                ));
                case.count = reduced;
            }
        }
    }
    let case = &*case;
    let Ok(batch) = MatrixBatch::row_major(
        &data[..case.count * case.m * case.n],
        case.count,
        case.m,
        case.n,
    ) else {
        return (Vec::new(), note);
    };

    let new_row = |backend, threads| Row {
        case: *case,
        backend,
        threads,
        seconds: Vec::with_capacity(runs),
        warmup: None,
        gpu: None,
        statically_sized: None,
        sigma_sum: 0.0,
        speedup: None,
        gflops: None,
        peak_fraction: None,
    };
    let mut gpu_row = new_row(Backend::Gpu, 0);
    // Warm-up on the whole batch: sizes (and pools) the buffers for it.
    if let Some(g) = gpu {
        let t = Instant::now();
        match call(g, &batch) {
            Ok(_) => gpu_row.warmup = Some(t.elapsed().as_secs_f64()),
            Err(e) => {
                gpu_failed(&e);
                gpu = None;
            }
        }
    }
    // 2×2 and 3×3: the same kernel on device-resident data.
    let mut resident_row = new_row(Backend::GpuResident, 0);
    let mut resident = gpu
        .filter(|_| case.m == case.n && (case.m == 2 || case.m == 3))
        .and_then(|g| {
            let what = ResidentCase {
                n: case.m,
                vectors: case.vectors,
                polar,
            };
            Resident::new(g, what, batch.as_slice(), case.count)
                .map_err(|e| resident_failed(&e))
                .ok()
        });
    let mut cpu_rows = vec![new_row(Backend::NalgebraOne, 1)];
    if threads > 1 {
        cpu_rows.push(new_row(Backend::NalgebraAll, threads));
    }
    for _ in 0..runs {
        if let Some(g) = gpu {
            let t = Instant::now();
            match call(g, &batch) {
                Ok(()) => {
                    gpu_row.seconds.push(t.elapsed().as_secs_f64());
                    let facts = facts();
                    gpu_row.sigma_sum = facts.sigma_sum;
                    gpu_row.gpu = Some(facts);
                }
                Err(e) => {
                    gpu_failed(&e);
                    gpu = None;
                    gpu_row.seconds.clear();
                }
            }
        }
        if let Some(r) = &resident {
            match r.run() {
                Ok(seconds) => resident_row.seconds.push(seconds),
                Err(e) => {
                    resident_failed(&e);
                    resident = None;
                    resident_row.seconds.clear();
                }
            }
        }
        for row in &mut cpu_rows {
            match peers::nalgebra_loop(&batch, case.vectors, row.threads) {
                Ok(PeerRun {
                    seconds,
                    sigma_sum,
                    statically_sized,
                    threads,
                    ..
                }) => {
                    row.seconds.push(seconds);
                    row.sigma_sum = sigma_sum;
                    row.statically_sized = Some(statically_sized);
                    row.threads = threads;
                }
                Err(e) => warn(&format!("{}x{} on nalgebra: {e}", case.m, case.n)),
            }
        }
    }
    let mut rows = Vec::with_capacity(4);
    if gpu.is_some() && !gpu_row.seconds.is_empty() {
        rows.push(gpu_row);
    }
    if !resident_row.seconds.is_empty() {
        rows.push(resident_row);
    }
    rows.extend(cpu_rows.into_iter().filter(|r| !r.seconds.is_empty()));
    (rows, note)
}

/// A seed per case, so every case draws its own (reproducible) matrices.
fn seed(case: &Case) -> u64 {
    (case.m as u64) << 32 | case.n as u64
}

/// Sweeps, convergence, work counts and σ sum of one GPU call.
fn gpu_facts(out: &batched_svd::SvdOutput) -> GpuFacts {
    let infos = out.infos();
    let total: u64 = infos.iter().map(|i| u64::from(i.sweeps)).sum();
    GpuFacts {
        sweeps_max: out.max_sweeps_used(),
        sweeps_mean: total as f64 / infos.len().max(1) as f64,
        converged: out.count_status(Status::Converged),
        work: out.work(),
        sigma_sum: out
            .all_singular_values()
            .iter()
            .map(|&x| f64::from(x))
            .sum(),
    }
}

/// Sweeps, convergence and work counts of one GPU polar call (no σ sum: NaN skips the check).
fn polar_facts(out: &batched_svd::PolarOutput) -> GpuFacts {
    let infos = out.infos();
    let total: u64 = infos.iter().map(|i| u64::from(i.sweeps)).sum();
    GpuFacts {
        sweeps_max: infos.iter().map(|i| i.sweeps).max().unwrap_or(0),
        sweeps_mean: total as f64 / infos.len().max(1) as f64,
        converged: infos
            .iter()
            .filter(|i| i.status == Status::Converged)
            .count(),
        work: out.work(),
        sigma_sum: f64::NAN,
    }
}

/// Fills speedup, GFLOP/s and the peak fraction of a case's rows; warns when the GPU and CPU
/// singular values disagree (a sum check) or the GPU left matrices unconverged.
fn finish_case(rows: &mut [Row], peak: Option<f64>, gpu: Option<&Gpu>) {
    let best_cpu = rows
        .iter()
        .filter(|r| !r.backend.is_gpu())
        .map(Row::rate)
        .fold(None, |best: Option<f64>, r| {
            Some(best.map_or(r, |b| b.max(r)))
        });
    let sweeps = rows.iter().find_map(|r| r.gpu.map(|g| g.sweeps_mean));
    let software =
        gpu.is_some_and(|g| g.adapter_info().device_type == batched_svd::wgpu::DeviceType::Cpu);
    let cpu_sum = rows
        .iter()
        .find(|r| !r.backend.is_gpu())
        .map(|r| r.sigma_sum);
    for row in rows.iter_mut() {
        let c = row.case;
        if row.backend.is_gpu() {
            row.speedup = best_cpu.map(|b| row.rate() / b);
            if let (Some(facts), Some(cpu)) = (row.gpu, cpu_sum) {
                let rel = (facts.sigma_sum - cpu).abs() / cpu.abs().max(f64::MIN_POSITIVE);
                if rel > 1e-4 {
                    warn(&format!(
                        "{}x{}: GPU and nalgebra singular values disagree (sums differ by {rel:.1e} relative)",
                        c.m, c.n
                    ));
                }
                if facts.converged < c.count {
                    warn(&format!(
                        "{}x{}: {} of {} matrices did not converge on the GPU",
                        c.m,
                        c.n,
                        c.count - facts.converged,
                        c.count
                    ));
                }
            }
        }
        row.gflops = sweeps.map(|s| flops::jacobi_flops(c.m, c.n, c.vectors, s) * row.rate() / 1e9);
        // The peak is the device's: it applies to the CPU rows too when the device is the CPU.
        if row.backend.is_gpu() || software {
            row.peak_fraction = peak.zip(row.gflops).map(|(p, g)| g / p);
        }
    }
}

/// Input plus output bytes of one case (f32 matrices, σ, thin U and Vᵀ).
fn io_bytes(case: &Case) -> u64 {
    let k = case.m.min(case.n);
    let per = case.m * case.n
        + k
        + case.vectors.u_cols(case.m, case.n) * case.m
        + case.vectors.vt_rows(case.m, case.n) * case.n;
    (case.count * per * 4) as u64
}

/// The table header (two lines).
fn table_header() -> String {
    let mut s = format!(
        "{:<8} {:>8} {:<7} {:<19} {:>11} {:>8} {:>8} {:>7} {:>11} {:>5} {:>5} {:>9}\n",
        "shape",
        "count",
        "vectors",
        "backend",
        "matrices/s",
        "speedup",
        "GFLOP/s",
        "of peak",
        "sweeps",
        "trips",
        "disp.",
        "MiB/call"
    );
    s.push_str(&"-".repeat(s.trim_end().chars().count()));
    s.push('\n');
    s
}

/// One table line.
fn table_line(row: &Row) -> String {
    let c = row.case;
    let dash = || "-".to_string();
    let backend = match row.backend {
        Backend::Gpu => "gpu".to_string(),
        Backend::GpuResident => "gpu, data resident".to_string(),
        Backend::NalgebraOne => "nalgebra 1 thread".to_string(),
        Backend::NalgebraAll => format!("nalgebra {} threads", row.threads),
    };
    let facts = row.gpu;
    format!(
        "{:<8} {:>8} {:<7} {:<19} {:>11} {:>8} {:>8} {:>7} {:>11} {:>5} {:>5} {:>9}\n",
        format!("{}x{}", c.m, c.n),
        c.count,
        c.mode(),
        backend,
        si(row.rate()),
        row.speedup.map_or_else(dash, |s| format!("{s:.2}x")),
        row.gflops.map_or_else(dash, |g| format!("{g:.2}")),
        row.peak_fraction
            .map_or_else(|| "n/a".to_string(), |p| format!("{:.1}%", 100.0 * p)),
        facts.map_or_else(dash, |f| format!("{}/{:.2}", f.sweeps_max, f.sweeps_mean)),
        facts.map_or_else(dash, |f| f.work.host_round_trips.to_string()),
        facts.map_or_else(dash, |f| f.work.dispatches.to_string()),
        facts.map_or_else(dash, |f| format!(
            "{:.1}",
            (f.work.bytes_uploaded + f.work.bytes_downloaded) as f64 / (1u64 << 20) as f64
        )),
    )
}

/// `x` with three significant digits and an SI suffix (`1.23M`).
fn si(x: f64) -> String {
    if !x.is_finite() {
        return "inf".to_string();
    }
    let (value, suffix) = if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{suffix}")
}

/// Bytes in MiB, one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// The process's peak resident set size (`VmHWM` of `/proc/self/status`), where available.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Prints a one-line warning on stderr.
fn warn(message: &str) {
    eprintln!("batched-svd: warning: {}", one_line(message));
}

/// A finite number, or null.
fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// The JSON document `--json` writes (schema in the README).
#[allow(clippy::too_many_arguments)]
fn to_json(
    args: &BenchArgs,
    runs: usize,
    threads: usize,
    gpu: Option<&Gpu>,
    startup: Option<&Startup>,
    rows: &[Row],
    peak_rss: Option<u64>,
    largest_io_bytes: u64,
    total: f64,
) -> Value {
    let adapter = gpu.map_or(Value::Null, |g| {
        let info = g.adapter_info();
        json!({
            "name": info.name,
            "backend": format!("{:?}", info.backend).to_lowercase(),
            "device_type": format!("{:?}", info.device_type),
            "driver": info.driver,
            "driver_info": info.driver_info,
        })
    });
    let startup = startup.map_or(Value::Null, |s| {
        json!({
            "count": STARTUP_CASE.0,
            "m": STARTUP_CASE.1,
            "n": STARTUP_CASE.2,
            "context_seconds": s.context_seconds,
            "first_result_seconds": s.first_result_seconds,
            "disk_pipeline_cache": s.disk_cache,
        })
    });
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let c = r.case;
            let f = r.gpu;
            json!({
                "shape": format!("{}x{}", c.m, c.n),
                "m": c.m,
                "n": c.n,
                "count": c.count,
                "count_planned": c.planned,
                "vectors": c.mode(),
                "backend": r.backend.name(),
                "threads": if r.backend.is_gpu() { Value::Null } else { json!(r.threads) },
                "runs": r.seconds.len(),
                "seconds": r.seconds,
                "median_seconds": num(r.median()),
                "matrices_per_second": num(r.rate()),
                "speedup": r.speedup.map_or(Value::Null, num),
                "gflops": r.gflops.map_or(Value::Null, num),
                "peak_fraction": r.peak_fraction.map_or(Value::Null, num),
                "warmup_seconds": r.warmup.map_or(Value::Null, num),
                "sweeps_max": f.map(|f| f.sweeps_max),
                "sweeps_mean": f.map_or(Value::Null, |f| num(f.sweeps_mean)),
                "converged": f.map(|f| f.converged),
                "host_round_trips": f.map(|f| f.work.host_round_trips),
                "dispatches": f.map(|f| f.work.dispatches),
                "submissions": f.map(|f| f.work.submissions),
                "chunks": f.map(|f| f.work.chunks),
                "bytes_uploaded": f.map(|f| f.work.bytes_uploaded),
                "bytes_downloaded": f.map(|f| f.work.bytes_downloaded),
                "statically_sized": r.statically_sized,
                "sigma_sum": num(r.sigma_sum),
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "quick": args.quick,
        "runs": runs,
        "cpu_threads": threads,
        "adapter": adapter,
        "peak_gflops": args.peak_gflops,
        "flops_formula": "sweeps_mean * N*(N-1)/2 * (12*M + 6*N) per matrix, M = max(m, n), N = min(m, n); 12*M only for vectors none",
        "startup": startup,
        "peak_rss_bytes": peak_rss,
        "largest_case_io_bytes": largest_io_bytes,
        "total_seconds": total,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Parsed, CliError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args)
    }

    fn run_args(args: &[&str]) -> BenchArgs {
        match parse_args(args) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("expected arguments, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let a = run_args(&[]);
        assert_eq!(
            a,
            BenchArgs {
                quick: false,
                json: None,
                shapes: None,
                count: None,
                peak_gflops: None
            }
        );
        let cases = plan(&a);
        // Ten shapes thin, four of them also values-only, 3×3 also as polar decompositions.
        assert_eq!(cases.len(), 15);
        assert_eq!(cases[0].count, 1 << 20);
        assert!(cases.iter().any(|c| c.vectors == Vectors::None));
        assert_eq!(cases.iter().filter(|c| c.polar).count(), 1);
    }

    #[test]
    fn all_options_in_any_order() {
        let a = run_args(&[
            "--shapes",
            "3x3, 8X8,256×16,3x3",
            "--json=out.json",
            "--quick",
            "--peak-gflops",
            "150.5",
        ]);
        assert_eq!(a.count, None);
        assert!(a.quick);
        assert_eq!(a.json, Some(PathBuf::from("out.json")));
        assert_eq!(a.shapes, Some(vec![(3, 3), (8, 8), (256, 16)]));
        assert_eq!(a.peak_gflops, Some(150.5));
        let cases = plan(&a);
        // Thin for each shape, plus 3×3 as polar decompositions.
        assert_eq!(cases.len(), 4);
        assert!(cases.iter().all(|c| c.vectors == Vectors::Thin));
        assert_eq!(cases.iter().filter(|c| c.polar).count(), 1);
        assert_eq!(cases[0].count, (1 << 20) / QUICK_DIVISOR);
        assert_eq!(parse_args(&["-h"]).ok(), Some(Parsed::Help));
        let b = run_args(&["--count=100", "--shapes=5x7"]);
        assert_eq!(plan(&b)[0].count, 100);
        assert_eq!(plan(&b)[0].planned, 100);
        assert_eq!(parse_args(&["--quick", "--help"]).ok(), Some(Parsed::Help));
    }

    #[test]
    fn mistakes_are_errors() {
        for bad in [
            &["--bogus"][..],
            &["extra"],
            &["--json"],
            &["--json", ""],
            &["--shapes"],
            &["--shapes", ""],
            &["--shapes", "3"],
            &["--shapes", "3x"],
            &["--shapes", "0x3"],
            &["--shapes", "3x3,"],
            &["--shapes", "axb"],
            &["--shapes", "9000x2"],
            &["--shapes", "-3x3"],
            &["--peak-gflops", "0"],
            &["--peak-gflops", "-1"],
            &["--peak-gflops", "inf"],
            &["--peak-gflops", "fast"],
            &["--quick=yes"],
            &["--count", "0"],
            &["--count", "-5"],
            &["--count", "1e3"],
            &["--count", "99999999999"],
        ] {
            let err = parse_args(bad).expect_err(&format!("{bad:?} should fail"));
            assert!(err.to_string().starts_with("bench: "), "{err}");
        }
    }

    #[test]
    fn counts_for_other_shapes_are_bounded() {
        for (m, n) in [(1, 1), (5, 7), (128, 128), (1000, 3), (4096, 4096)] {
            let count = default_count(m, n);
            assert!(count.is_power_of_two() && (16..=1 << 20).contains(&count));
        }
        assert_eq!(default_count(64, 64), 1 << 10);
    }

    #[test]
    fn median_and_formatting() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(si(1_234_567.0), "1.23M");
        assert_eq!(si(512.0), "512");
        assert_eq!(si(45_600.0), "45.6k");
        assert_eq!(table_header().lines().count(), 2);
    }
}
