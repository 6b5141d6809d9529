//! Measuring one case: every engine and peer on the same batch, runs interleaved.

use std::time::Instant;

use batched_svd::{
    Complex, Cpu, Element, Engine, Gpu, MatrixBatch, PolarOptions, PolarOutput, Real, Report,
    Solver, Status, SvdOptions, SvdOutput, WorkCounts,
};
use bench_support::peers::PeerScalar;
use bench_support::{flops, peers};

use super::plan::{Case, Dtype, MIN_COUNT, PROBE_FRACTION, SOFTWARE_GPU_MAX_ELEMENTS};
use super::resident::{Resident, ResidentCase};
use super::table::si;
use super::warn;

/// Which engine or peer a row measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The GPU engine.
    Gpu,
    /// 2×2 / 3×3 only: the kernel on device-resident data (see `resident.rs`).
    GpuResident,
    /// The CPU engine on all cores.
    Cpu,
    /// The engine interface's choice (`Solver`, `Backend::Auto`).
    Auto,
    NalgebraOne,
    NalgebraAll,
    /// Merged from `benches/numpy_peer.py`'s JSON.
    Numpy,
}

impl Backend {
    /// The name in the JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Gpu => "gpu",
            Backend::GpuResident => "gpu-resident",
            Backend::Cpu => "cpu",
            Backend::Auto => "auto",
            Backend::NalgebraOne => "nalgebra-1-thread",
            Backend::NalgebraAll => "nalgebra-all-cores",
            Backend::Numpy => "numpy",
        }
    }

    /// One of the library's rows (speedups are given for them).
    pub(crate) fn is_engine(self) -> bool {
        matches!(
            self,
            Backend::Gpu | Backend::GpuResident | Backend::Cpu | Backend::Auto
        )
    }

    /// One of the nalgebra peers.
    pub(crate) fn is_nalgebra(self) -> bool {
        matches!(self, Backend::NalgebraOne | Backend::NalgebraAll)
    }
}

/// What one GPU-engine call reported besides its time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GpuFacts {
    pub sweeps_max: u32,
    pub sweeps_mean: f64,
    pub converged: usize,
    pub work: WorkCounts,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub case: Case,
    pub backend: Backend,
    pub threads: usize,
    /// Seconds of every timed run, in run order.
    pub seconds: Vec<f64>,
    /// Engines only: the warm-up call's seconds.
    pub warmup: Option<f64>,
    /// Results the GPU engine computed (the GPU row, and auto when it chose the GPU).
    pub gpu: Option<GpuFacts>,
    /// Engine rows: the engine that ran (auto's choice).
    pub engine: Option<Engine>,
    /// Engine rows: matrices that converged.
    pub converged: Option<usize>,
    /// nalgebra only: statically sized matrices.
    pub statically_sized: Option<bool>,
    /// NaN for polar rows (no singular values returned).
    pub sigma_sum: f64,
    /// Filled once the case is done.
    pub speedup: Option<f64>,
    pub gflops: Option<f64>,
    pub peak_fraction: Option<f64>,
    /// The CPU engine and auto: throughput over numpy's, when numpy rows were merged.
    pub vs_numpy: Option<f64>,
}

impl Row {
    pub(crate) fn new(case: Case, backend: Backend, threads: usize) -> Self {
        Self {
            case,
            backend,
            threads,
            seconds: Vec::new(),
            warmup: None,
            gpu: None,
            engine: None,
            converged: None,
            statically_sized: None,
            sigma_sum: f64::NAN,
            speedup: None,
            gflops: None,
            peak_fraction: None,
            vs_numpy: None,
        }
    }

    pub(crate) fn median(&self) -> f64 {
        median(&self.seconds)
    }

    pub(crate) fn rate(&self) -> f64 {
        let t = self.median();
        if t > 0.0 {
            self.case.count as f64 / t
        } else {
            f64::INFINITY
        }
    }
}

/// The median of `xs` (mean of the middle two for an even count); NaN when empty.
pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => v[len / 2],
        len => 0.5 * (v[len / 2 - 1] + v[len / 2]),
    }
}

/// The engines a case runs on.
#[derive(Clone, Copy)]
pub(crate) struct Engines<'a> {
    pub gpu: Option<&'a Gpu>,
    pub cpu: Cpu,
    pub auto: &'a Solver,
    /// Which row groups to measure (`--only`).
    pub rows: RowGroups,
}

/// The row groups a case measures.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowGroups {
    pub gpu: bool,
    pub cpu: bool,
    pub auto: bool,
    pub nalgebra: bool,
}

/// One engine of a case, with the output it reuses across calls (as a caller solving batches
/// in a loop would: the timed runs pay for copying results out, not for fresh pages).
struct EngineRun<'a, T: Element> {
    which: Which<'a>,
    row: Row,
    svd: SvdOutput<T>,
    polar: PolarOutput<T>,
    failed: bool,
}

#[derive(Clone, Copy)]
enum Which<'a> {
    Gpu(&'a Gpu),
    Cpu(Cpu),
    Auto(&'a Solver),
}

impl<T: Element> EngineRun<'_, T> {
    /// One call on `batch`; its seconds.
    fn call(&mut self, batch: &MatrixBatch<'_, T>, opts: &SvdOptions) -> batched_svd::Result<f64> {
        let polar = self.row.case.polar;
        let popts = PolarOptions::default();
        let t = Instant::now();
        match (self.which, polar) {
            (Which::Gpu(g), false) => g.svd_into(batch, opts, &mut self.svd),
            (Which::Gpu(g), true) => g.polar_into(batch, &popts, &mut self.polar),
            (Which::Cpu(c), false) => c.svd_into(batch, opts, &mut self.svd),
            (Which::Cpu(c), true) => c.polar_into(batch, &popts, &mut self.polar),
            (Which::Auto(s), false) => s.svd_into(batch, opts, &mut self.svd),
            (Which::Auto(s), true) => s.polar_into(batch, &popts, &mut self.polar),
        }?;
        Ok(t.elapsed().as_secs_f64())
    }

    /// Records what the last call reported.
    fn record(&mut self) {
        let report: &Report = if self.row.case.polar {
            &self.polar
        } else {
            &self.svd
        };
        let engine = report.engine().kind;
        self.row.engine = Some(engine);
        self.row.converged = Some(report.count_status(Status::Converged));
        self.row.gpu = (engine == Engine::Gpu).then(|| facts(report));
        self.row.sigma_sum = if self.row.case.polar {
            f64::NAN
        } else {
            self.svd
                .all_singular_values()
                .iter()
                .map(|&x| x.to_f64())
                .sum()
        };
    }
}

/// Sweeps, convergence and work counts of one GPU-engine call.
fn facts(report: &Report) -> GpuFacts {
    let infos = report.infos();
    let total: u64 = infos.iter().map(|i| u64::from(i.sweeps)).sum();
    GpuFacts {
        sweeps_max: report.max_sweeps_used(),
        sweeps_mean: total as f64 / infos.len().max(1) as f64,
        converged: report.count_status(Status::Converged),
        work: report.work(),
    }
}

/// A seed per case, so every case draws its own (reproducible) matrices.
fn seed(case: &Case) -> u64 {
    (case.m as u64) << 32 | case.n as u64
}

/// Measures one case in its element type (see [`measure_as`]).
pub(crate) fn measure(
    case: &mut Case,
    engines: Engines<'_>,
    runs: usize,
    threads: usize,
    max_call: f64,
) -> (Vec<Row>, Option<String>) {
    match case.dtype {
        Dtype::F32 => measure_as::<f32>(case, engines, runs, threads, max_call),
        Dtype::F64 => measure_as::<f64>(case, engines, runs, threads, max_call),
        Dtype::C64 => measure_as::<Complex<f32>>(case, engines, runs, threads, max_call),
        Dtype::C128 => measure_as::<Complex<f64>>(case, engines, runs, threads, max_call),
    }
}

/// Measures one case: the GPU engine (if there is a GPU and the case fits it; for single
/// large matrices, and matrices of more than [`SOFTWARE_GPU_MAX_ELEMENTS`], only on hardware
/// adapters), the CPU engine, auto, and the nalgebra peers. f64 cases decompose the f32
/// case's matrices widened to f64 (exactly), so both tables solve the same problems; complex
/// cases take their real and imaginary parts from the same generator. A GPU call that fails
/// (for instance `Error::NoKernel`) skips its row with a warning naming the error.
///
/// First a probe on a small prefix of the batch compiles the GPU pipelines and estimates each
/// engine's and one nalgebra thread's throughput. If the slowest would need more than
/// `max_call` seconds per call, the batch is cut to a power-of-two prefix of the same
/// matrices that fits (`case.count` is updated and a note returned), so that a slow kernel
/// cannot stretch the benchmark without bound.
fn measure_as<T: PeerScalar>(
    case: &mut Case,
    engines: Engines<'_>,
    runs: usize,
    threads: usize,
    max_call: f64,
) -> (Vec<Row>, Option<String>) {
    let data: Vec<T> = peers::gaussian_batch(case.count, case.m, case.n, seed(case));
    let opts = SvdOptions::default().with_vectors(case.vectors);
    let single = case.planned == 1;
    let hardware = engines
        .gpu
        .is_some_and(|g| g.adapter_info().device_type != batched_svd::wgpu::DeviceType::Cpu);
    let gpu_fits = hardware || (!single && case.m * case.n <= SOFTWARE_GPU_MAX_ELEMENTS);
    let mut runners: Vec<EngineRun<'_, T>> = Vec::new();
    let mut add = |which, backend, threads| {
        runners.push(EngineRun {
            which,
            row: Row::new(*case, backend, threads),
            svd: SvdOutput::default(),
            polar: PolarOutput::default(),
            failed: false,
        });
    };
    let want = engines.rows;
    if let Some(g) = engines.gpu.filter(|_| want.gpu && gpu_fits) {
        add(Which::Gpu(g), Backend::Gpu, 0);
    }
    if want.cpu {
        add(Which::Cpu(engines.cpu), Backend::Cpu, engines.cpu.threads());
    }
    if want.auto {
        add(Which::Auto(engines.auto), Backend::Auto, 0);
    }
    let label = format!(
        "{}x{} {} {}",
        case.m,
        case.n,
        case.mode(),
        case.dtype.name()
    );
    let failed = |r: &mut EngineRun<'_, T>, e: &batched_svd::Error| {
        warn(&format!(
            "{label} on {}: {e}; row skipped",
            r.row.backend.name()
        ));
        r.failed = true;
    };

    let probe = (case.count / PROBE_FRACTION).max(case.count.min(MIN_COUNT));
    let Ok(probe_batch) =
        MatrixBatch::row_major(&data[..probe * case.m * case.n], probe, case.m, case.n)
    else {
        return (Vec::new(), None);
    };
    let mut slowest: Option<(f64, String)> = None;
    let mut consider = |rate: f64, who: String| {
        if slowest.as_ref().is_none_or(|(r, _)| rate < *r) {
            slowest = Some((rate, who));
        }
    };
    for r in &mut runners {
        // The first call compiles the pipelines; the second is timed.
        match r
            .call(&probe_batch, &opts)
            .and_then(|_| r.call(&probe_batch, &opts))
        {
            Ok(t) => consider(probe as f64 / t, r.row.backend.name().to_string()),
            Err(e) => failed(r, &e),
        }
    }
    let nalgebra = !single && want.nalgebra;
    if nalgebra {
        match peers::nalgebra_loop(&probe_batch, case.vectors, 1) {
            Ok(r) => consider(r.matrices_per_second(), "nalgebra on 1 thread".into()),
            Err(e) => {
                warn(&format!("{label} on nalgebra: {e}"));
                return (Vec::new(), None);
            }
        }
    }
    let mut note = (engines.gpu.is_some() && want.gpu && !gpu_fits && !single).then(|| {
        format!(
            "{label}: no gpu row: on a software adapter the GPU engine is measured up to \
             {SOFTWARE_GPU_MAX_ELEMENTS} elements per matrix (auto runs the CPU engine here)"
        )
    });
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
                let cut = format!(
                    "{label}: batch cut from {} to {reduced} matrices: {who} at {} matrices/s \
                     would take {:.0} s per call (limit {max_call} s)",
                    case.count,
                    si(rate),
                    case.count as f64 / rate
                );
                note = Some(match note {
                    Some(first) => format!("{first}\n  note: {cut}"),
                    None => cut,
                });
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
    for r in &mut runners {
        r.row.case = *case;
        if r.failed {
            continue;
        }
        // Warm-up on the whole batch: sizes (and pools) the buffers for it.
        match r.call(&batch, &opts) {
            Ok(t) => r.row.warmup = Some(t),
            Err(e) => failed(r, &e),
        }
    }
    // 2×2 and 3×3: the same kernel on device-resident data.
    let mut resident_row = Row::new(*case, Backend::GpuResident, 0);
    let mut resident = engines
        .gpu
        .filter(|_| {
            want.gpu && case.dtype == Dtype::F32 && case.m == case.n && (case.m == 2 || case.m == 3)
        })
        .and_then(|g| {
            let what = ResidentCase {
                n: case.m,
                vectors: case.vectors,
                polar: case.polar,
            };
            // f32 cases only (the filter above), so this is the f32 batch itself.
            Resident::new(g, what, bytemuck::cast_slice(batch.as_slice()), case.count)
                .map_err(|e| {
                    warn(&format!(
                        "{label} on device-resident data: {e}; row skipped"
                    ))
                })
                .ok()
        });
    let mut peer_rows = Vec::new();
    if nalgebra {
        peer_rows.push(Row::new(*case, Backend::NalgebraOne, 1));
        if threads > 1 {
            peer_rows.push(Row::new(*case, Backend::NalgebraAll, threads));
        }
    }
    for _ in 0..runs {
        for r in runners.iter_mut().filter(|r| !r.failed) {
            match r.call(&batch, &opts) {
                Ok(t) => {
                    r.row.seconds.push(t);
                    r.record();
                }
                Err(e) => failed(r, &e),
            }
        }
        if let Some(res) = &resident {
            match res.run() {
                Ok(seconds) => resident_row.seconds.push(seconds),
                Err(e) => {
                    warn(&format!(
                        "{label} on device-resident data: {e}; row skipped"
                    ));
                    resident = None;
                    resident_row.seconds.clear();
                }
            }
        }
        for row in &mut peer_rows {
            match peers::nalgebra_loop(&batch, case.vectors, row.threads) {
                Ok(run) => {
                    row.seconds.push(run.seconds);
                    row.sigma_sum = run.sigma_sum;
                    row.statically_sized = Some(run.statically_sized);
                    row.threads = run.threads;
                }
                Err(e) => warn(&format!("{label} on nalgebra: {e}")),
            }
        }
    }
    let mut rows = Vec::new();
    let mut engine_rows = runners
        .into_iter()
        .filter(|r| !r.failed && !r.row.seconds.is_empty())
        .map(|r| r.row);
    if let Some(gpu_row) = engine_rows.next() {
        rows.push(gpu_row);
    }
    if !resident_row.seconds.is_empty() {
        rows.push(resident_row);
    }
    rows.extend(engine_rows);
    rows.extend(peer_rows.into_iter().filter(|r| !r.seconds.is_empty()));
    (rows, note)
}

/// Fills speedups, GFLOP/s, the peak fraction and the numpy ratio of a case's rows; warns
/// when an engine's singular values disagree with nalgebra's (a sum check) or an engine left
/// matrices unconverged.
pub(crate) fn finish_case(rows: &mut [Row], peak: Option<f64>, software: bool) {
    let best = |pred: &dyn Fn(Backend) -> bool| {
        rows.iter()
            .filter(|r| pred(r.backend))
            .map(Row::rate)
            .fold(None, |best: Option<f64>, r| {
                Some(best.map_or(r, |b| b.max(r)))
            })
    };
    let best_nalgebra = best(&|b| b.is_nalgebra());
    let best_engine = best(&|b| matches!(b, Backend::Gpu | Backend::Cpu));
    let numpy = best(&|b| b == Backend::Numpy);
    let sweeps = rows.iter().find_map(|r| r.gpu.map(|g| g.sweeps_mean));
    let reference_sum = rows
        .iter()
        .find(|r| r.backend.is_nalgebra())
        .map(|r| r.sigma_sum);
    for row in rows.iter_mut() {
        let c = row.case;
        if row.backend.is_engine() {
            row.speedup = if row.backend == Backend::Auto {
                best_engine.map(|b| row.rate() / b)
            } else {
                best_nalgebra.map(|b| row.rate() / b)
            };
            if let Some(reference) = reference_sum.filter(|s| s.is_finite())
                && row.sigma_sum.is_finite()
            {
                let rel =
                    (row.sigma_sum - reference).abs() / reference.abs().max(f64::MIN_POSITIVE);
                if rel > 1e-4 {
                    warn(&format!(
                        "{}x{}: {} and nalgebra singular values disagree (sums differ by {rel:.1e} relative)",
                        c.m,
                        c.n,
                        row.backend.name()
                    ));
                }
            }
            if let Some(converged) = row.converged.filter(|&k| k < c.count) {
                warn(&format!(
                    "{}x{}: {} of {} matrices did not converge on {}",
                    c.m,
                    c.n,
                    c.count - converged,
                    c.count,
                    row.backend.name()
                ));
            }
        }
        if matches!(row.backend, Backend::Cpu | Backend::Auto) {
            row.vs_numpy = numpy.map(|np| row.rate() / np);
        }
        row.gflops = sweeps.map(|s| flops::jacobi_flops(c.m, c.n, c.vectors, s) * row.rate() / 1e9);
        // The peak is the device's: it applies to every row when the device is the CPU.
        if row.gpu.is_some() || row.backend == Backend::GpuResident || software {
            row.peak_fraction = peak.zip(row.gflops).map(|(p, g)| g / p);
        }
    }
}

/// Input plus output bytes of one case (matrices, σ, thin U and Vᵀ, in the case's type).
pub(crate) fn io_bytes(case: &Case) -> u64 {
    let k = case.m.min(case.n);
    let per = case.m * case.n
        + k
        + case.vectors.u_cols(case.m, case.n) * case.m
        + case.vectors.vt_rows(case.m, case.n) * case.n;
    (case.count * per * case.dtype.bytes()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
