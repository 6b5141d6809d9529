//! The one compute-and-write path of `svd`, `pinv`, `lstsq` and `polar`: read and validate
//! the inputs, prepare the output directory, compute through the engine interface
//! ([`batched_svd::Solver`]), write every array and `report.json` into the output staging,
//! and make them all appear at once (see `outdir.rs`).

pub(crate) mod memory;

use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;

use batched_svd::ops::{self, Cutoff, RightHandSides};
use batched_svd::{
    Complex, Element, Engine, MatrixBatch, PolarOptions, Real, Report, Solver, Status, SvdOptions,
    Vectors,
};
use serde_json::{Map, Value, json};

use crate::args::{Operation, RunArgs};
use crate::error::CliError;
use crate::npy::{self, Input, Values};
use crate::outdir::Staging;
use crate::report;

/// Soft cap per device buffer for the tool: with two buffer sets in flight, the device holds
/// about 10 × 4 MiB beyond the input and output arrays (on a software adapter, host memory the
/// process also holds the arrays in).
const CLI_CHUNK_BYTES: u64 = 4 << 20;

/// The element types the tool computes in and writes: the input's float32, float64,
/// complex64 or complex128 (whose singular values, residuals and ranks are real).
trait Float: Element + npyz::AutoSerialize {
    /// The values if they are of this type.
    fn of(values: &Values) -> Option<&[Self]>;
    /// An output file's contents.
    fn data(values: Cow<'_, [Self]>) -> Data<'_>;
}

/// [`Float`] for each element type: its [`Values`] and [`Data`] variant.
macro_rules! float {
    ($t:ty, $variant:ident) => {
        impl Float for $t {
            fn of(values: &Values) -> Option<&[$t]> {
                match values {
                    Values::$variant(v) => Some(v),
                    _ => None,
                }
            }

            fn data(values: Cow<'_, [$t]>) -> Data<'_> {
                Data::$variant(values)
            }
        }
    };
}

float!(f32, F32);
float!(f64, F64);
float!(Complex<f32>, C64);
float!(Complex<f64>, C128);

/// The contents of one output file.
enum Data<'a> {
    F32(Cow<'a, [f32]>),
    F64(Cow<'a, [f64]>),
    C64(Cow<'a, [Complex<f32>]>),
    C128(Cow<'a, [Complex<f64>]>),
    I32(Vec<i32>),
}

/// One output file: name, shape, contents.
struct OutputArray<'a> {
    name: &'static str,
    shape: Vec<usize>,
    data: Data<'a>,
}

/// What an operation produced: its arrays, its report, the keys it adds to `report.json`,
/// and the seconds of its host-side step after the decomposition.
struct Outcome<'a> {
    arrays: Vec<OutputArray<'a>>,
    report: &'a Report,
    extra: Map<String, Value>,
    op_seconds: Option<(&'static str, f64)>,
}

/// Runs a computing command; returns exit code 0 (every matrix converged) or 1 (outputs
/// written, some matrix not converged or non-finite). The outputs have the input's dtype
/// (float32, float64, complex64 or complex128; integer and bool inputs are computed in
/// float64; singular values and residuals are real of the matching precision), and `lstsq`
/// computes in numpy's common type of A and B (float32 with float64 is float64, float64 with
/// complex64 is complex128).
///
/// # Errors
/// Input, output-directory, device and library errors (exit code 2); nothing is left in the
/// output directory then.
pub fn run(args: &RunArgs) -> Result<u8, CliError> {
    let start = Instant::now();
    memory::check_inputs(&args.inputs)?;
    let mut input = npy::read_input(&args.inputs[0])?;
    let mut rhs = match args.operation {
        Operation::Lstsq { .. } => Some(read_rhs(&input, &args.inputs[1])?),
        _ => None,
    };
    if let Some(rhs) = &mut rhs
        && input.values.dtype() != rhs.array.values.dtype()
    {
        // numpy's type promotion: float32 with float64 computes in float64, a real with a
        // complex array in complex.
        let take = |v: &mut Values| std::mem::replace(v, Values::F64(Vec::new()));
        let a = take(&mut input.values);
        let b = take(&mut rhs.array.values);
        rhs.array.values = b.promote_with(&a);
        input.values = a.promote_with(&rhs.array.values);
    }
    if matches!(args.operation, Operation::Polar { .. }) && input.m != input.n {
        return Err(CliError::other(format!(
            "'{}' holds {}×{} matrices; the polar decomposition needs square ones",
            args.inputs[0].display(),
            input.m,
            input.n
        )));
    }
    let read_input = start.elapsed().as_secs_f64();
    match &input.values {
        Values::F32(data) => compute_and_write(args, start, read_input, &input, data, rhs.as_ref()),
        Values::F64(data) => compute_and_write(args, start, read_input, &input, data, rhs.as_ref()),
        Values::C64(data) => compute_and_write(args, start, read_input, &input, data, rhs.as_ref()),
        Values::C128(data) => {
            compute_and_write(args, start, read_input, &input, data, rhs.as_ref())
        }
    }
}

/// Everything after reading: the output directory, the engine, the computation in `T`, the
/// files and the report.
fn compute_and_write<T: Float>(
    args: &RunArgs,
    start: Instant,
    read_input: f64,
    input: &Input,
    data: &[T],
    rhs: Option<&Rhs>,
) -> Result<u8, CliError>
where
    T::Real: Float,
{
    let batch = input.batch(data)?;
    let opts = svd_options(args);
    opts.validate()?;
    let mut staging = Staging::prepare(&args.output)?;

    // `--backend gpu` creates the device here; `auto` looks the adapter up during the first
    // call (see the engine interface), so its set-up time is part of `compute`.
    let setup_start = Instant::now();
    let solver = Solver::new(args.backend)?.with_max_chunk_bytes(CLI_CHUNK_BYTES);
    let setup = setup_start.elapsed().as_secs_f64();
    crate::fault::arm(&solver);

    let computed = Computed::new(&solver, args, input, &batch, rhs, &opts)?;
    let outcome = computed.outcome(input);
    let reason = &outcome.report.engine().reason;
    if reason.is_fallback() {
        warn(&format!("using the CPU engine: {reason}"));
    }

    let write_start = Instant::now();
    let mut files = Vec::new();
    for array in &outcome.arrays {
        let shape = &array.shape;
        match &array.data {
            Data::F32(v) => staging.write(array.name, |p| npy::write_array(p, shape, v))?,
            Data::F64(v) => staging.write(array.name, |p| npy::write_array(p, shape, v))?,
            Data::C64(v) => staging.write(array.name, |p| npy::write_array(p, shape, v))?,
            Data::C128(v) => staging.write(array.name, |p| npy::write_array(p, shape, v))?,
            Data::I32(v) => staging.write(array.name, |p| npy::write_array(p, shape, v))?,
        }
        files.push((array.name.to_string(), array.shape.clone()));
    }
    let mut value = report::value(&report::Run {
        command: args.command.name(),
        input,
        dtype: T::NAME,
        input_path: args.inputs[0].display().to_string(),
        report: outcome.report,
        requested: args.backend,
        adapter: adapter_name(&solver, outcome.report),
        vectors: match args.operation {
            Operation::Svd { vectors, .. } => vectors,
            Operation::Polar { .. } => Vectors::Full,
            _ => Vectors::Thin,
        },
        tolerance: opts.effective_tolerance_for::<T::Real>(input.m, input.n),
        max_sweeps: opts.max_sweeps,
        files,
        seconds: report::Seconds {
            read_input,
            setup,
            write_output: write_start.elapsed().as_secs_f64(),
            total: start.elapsed().as_secs_f64(),
        },
    });
    if let Some((name, seconds)) = outcome.op_seconds {
        value["seconds"][name] = json!(seconds);
    }
    for (key, v) in outcome.extra {
        value[key] = v;
    }
    let text = report::to_text(&value);
    staging.write("report.json", |p| write_synced(p, text.as_bytes()))?;
    staging.commit()?;
    Ok(exit_code(outcome.report))
}

/// The library options of the command line: the given tolerance and sweep cap; the vectors
/// of `svd`, full ones for `polar` (which sets its own), thin ones for the others.
fn svd_options(args: &RunArgs) -> SvdOptions {
    let vectors = match args.operation {
        Operation::Svd { vectors, .. } => vectors,
        _ => Vectors::Thin,
    };
    let opts = SvdOptions::default()
        .with_vectors(vectors)
        .with_max_sweeps(args.max_sweeps);
    match args.tolerance {
        Some(tol) => opts.with_tolerance(tol),
        None => opts,
    }
}

/// The right-hand sides of `lstsq`, checked against A's shape `lead + (m, n)`: `lead + (m,)`
/// (one vector per matrix) or `lead + (m, r)`.
struct Rhs {
    vector: bool,
    r: usize,
    array: npy::Array,
    path: std::path::PathBuf,
}

fn read_rhs(input: &Input, path: &Path) -> Result<Rhs, CliError> {
    let array = npy::read_array(path)?;
    let (lead, m) = (&input.lead[..], input.m);
    let shape = &array.shape[..];
    let fits = match shape.strip_prefix(lead) {
        Some(&[rows]) if rows == m => Some((true, 1)),
        Some(&[rows, r]) if rows == m => Some((false, r)),
        _ => None,
    };
    let Some((vector, r)) = fits else {
        let as_u64 = |dims: &[usize]| -> Vec<u64> { dims.iter().map(|&d| d as u64).collect() };
        let vectors = npy::format_shape(&as_u64(&input.shaped(&[m])));
        let matrices = npy::format_shape(&as_u64(&input.shaped(&[m, 0])));
        return Err(CliError::other(format!(
            "'{}' has shape {}; for A of shape {} it must have shape {vectors} or {}r)",
            path.display(),
            npy::format_shape(&as_u64(shape)),
            npy::format_shape(&input.shape),
            matrices.trim_end_matches("0)")
        )));
    };
    Ok(Rhs {
        vector,
        r,
        array,
        path: path.to_path_buf(),
    })
}

/// The result of one operation, before it is turned into files.
enum Computed<'a, T: Element> {
    Svd(batched_svd::SvdOutput<T>),
    Truncated(ops::Truncated<T>, Cutoff),
    Pinv(ops::Pinv<T>, Option<f64>, f64),
    Lstsq(ops::Lstsq<T>, &'a Rhs, Option<f64>, f64),
    Polar(batched_svd::PolarOutput<T>, bool),
}

impl<'a, T: Float> Computed<'a, T>
where
    T::Real: Float,
{
    fn new(
        solver: &Solver,
        args: &RunArgs,
        input: &Input,
        batch: &MatrixBatch<'_, T>,
        rhs: Option<&'a Rhs>,
        opts: &SvdOptions,
    ) -> Result<Self, CliError> {
        Ok(match args.operation {
            Operation::Svd {
                truncation: None, ..
            } => Computed::Svd(solver.svd(batch, opts)?),
            Operation::Svd {
                truncation: Some(cutoff),
                ..
            } => Computed::Truncated(solver.truncated_svd(batch, opts, cutoff)?, cutoff),
            Operation::Pinv { rcond } => {
                let svd = solver.svd(batch, opts)?;
                let t = Instant::now();
                let pinv = ops::pinv(&svd, rcond)?;
                Computed::Pinv(pinv, rcond, t.elapsed().as_secs_f64())
            }
            Operation::Lstsq { rcond } => {
                let rhs = rhs.expect("lstsq reads its right-hand sides");
                let values = T::of(&rhs.array.values).expect("A and B share the dtype");
                let (count, m) = (input.count, input.m);
                let b = if rhs.vector {
                    RightHandSides::vectors(values, count, m)?
                } else {
                    RightHandSides::matrices(values, count, m, rhs.r)?
                };
                let svd = solver.svd(batch, opts)?;
                let t = Instant::now();
                let solved = ops::lstsq(batch, &svd, &b, rcond)?;
                Computed::Lstsq(solved, rhs, rcond, t.elapsed().as_secs_f64())
            }
            Operation::Polar { rotation_only } => {
                let popts = if rotation_only {
                    PolarOptions::rotation_only()
                } else {
                    PolarOptions::default()
                };
                Computed::Polar(solver.polar(batch, &popts)?, rotation_only)
            }
        })
    }

    /// The files and report entries of this result, shaped as numpy's: the input's batch
    /// dimensions `lead` in front of each matrix's, and `lead` alone for status and rank.
    fn outcome(&'a self, input: &Input) -> Outcome<'a> {
        let floats = |name, shape, data: &'a [T]| OutputArray {
            name,
            shape,
            data: T::data(data.into()),
        };
        let reals = |name, shape, data: &'a [T::Real]| OutputArray {
            name,
            shape,
            data: T::Real::data(data.into()),
        };
        let status = |r: &Report| OutputArray {
            name: "status.npy",
            shape: input.shaped(&[]),
            data: Data::I32(r.infos().iter().map(|i| i.status.code()).collect()),
        };
        let rank = |ranks: &[usize]| OutputArray {
            name: "rank.npy",
            shape: input.shaped(&[]),
            data: Data::I32(
                ranks
                    .iter()
                    .map(|&r| i32::try_from(r).unwrap_or(i32::MAX))
                    .collect(),
            ),
        };
        let (m, n) = (input.m, input.n);
        let mut extra = Map::new();
        match self {
            Computed::Svd(out) => {
                let mut arrays = vec![reals(
                    "s.npy",
                    input.shaped(&[out.k()]),
                    out.all_singular_values(),
                )];
                if out.vectors().wanted() {
                    arrays.push(floats(
                        "u.npy",
                        input.shaped(&[m, out.u_cols()]),
                        out.all_u(),
                    ));
                    arrays.push(floats(
                        "vh.npy",
                        input.shaped(&[out.vt_rows(), n]),
                        out.all_vt(),
                    ));
                }
                arrays.push(status(out));
                Outcome {
                    arrays,
                    report: out.report(),
                    extra,
                    op_seconds: None,
                }
            }
            Computed::Truncated(t, cutoff) => {
                let w = t.width();
                let mut arrays = vec![reals("s.npy", input.shaped(&[w]), t.all_singular_values())];
                if t.has_vectors() {
                    arrays.push(floats("u.npy", input.shaped(&[m, w]), t.all_u()));
                    arrays.push(floats("vh.npy", input.shaped(&[w, n]), t.all_vt()));
                }
                arrays.push(rank(t.ranks()));
                arrays.push(status(t));
                let (mode, value) = match cutoff {
                    Cutoff::Rank(k) => ("rank", json!(k)),
                    Cutoff::Relative(x) => ("rtol", json!(x)),
                    Cutoff::Absolute(x) => ("atol", json!(x)),
                };
                extra.insert(
                    "truncation".into(),
                    json!({
                        "mode": mode,
                        "value": value,
                        "width": w,
                        "rank_min": t.ranks().iter().min(),
                        "rank_max": t.ranks().iter().max(),
                    }),
                );
                Outcome {
                    arrays,
                    report: t,
                    extra,
                    op_seconds: None,
                }
            }
            Computed::Pinv(p, rcond, seconds) => {
                add_cutoff(&mut extra, p.rcond(), rcond.is_none(), p.ranks());
                Outcome {
                    arrays: vec![
                        floats("pinv.npy", input.shaped(&[n, m]), p.as_slice()),
                        rank(p.ranks()),
                        status(p),
                    ],
                    report: p,
                    extra,
                    op_seconds: Some(("pinv", *seconds)),
                }
            }
            Computed::Lstsq(x, rhs, rcond, seconds) => {
                let r = rhs.r;
                // numpy's residuals of one vector are (1,); a batch of vectors gives `lead`.
                let (x_shape, res_shape) = match (input.lead.is_empty(), rhs.vector) {
                    (true, true) => (vec![n], vec![1]),
                    (false, true) => (input.shaped(&[n]), input.shaped(&[])),
                    (_, false) => (input.shaped(&[n, r]), input.shaped(&[r])),
                };
                let residuals: Vec<T::Real> = x
                    .all_residuals()
                    .iter()
                    .map(|&v| T::Real::from_f64(v))
                    .collect();
                add_cutoff(&mut extra, x.rcond(), rcond.is_none(), x.ranks());
                extra.insert(
                    "rhs".into(),
                    json!({
                        "path": rhs.path.display().to_string(),
                        "shape": rhs.array.shape,
                        "dtype": rhs.array.descr,
                        "fortran_order": rhs.array.fortran_order,
                    }),
                );
                let mut codes = report::status_codes();
                codes["2"] = json!("non-finite input (A or B)");
                extra.insert("status_codes".into(), codes);
                Outcome {
                    arrays: vec![
                        floats("x.npy", x_shape, x.all_solutions()),
                        OutputArray {
                            name: "residuals.npy",
                            shape: res_shape,
                            data: T::Real::data(residuals.into()),
                        },
                        rank(x.ranks()),
                        status(x),
                    ],
                    report: x,
                    extra,
                    op_seconds: Some(("lstsq", *seconds)),
                }
            }
            Computed::Polar(p, rotation_only) => {
                let shape = input.shaped(&[n, n]);
                let mut arrays = vec![floats("r.npy", shape.clone(), p.all_r())];
                if !rotation_only {
                    arrays.push(floats("s.npy", shape, p.all_s()));
                }
                arrays.push(status(p));
                extra.insert("rotation_only".into(), json!(rotation_only));
                Outcome {
                    arrays,
                    report: p,
                    extra,
                    op_seconds: None,
                }
            }
        }
    }
}

/// Adds `rcond`, whether it is the default, and the range of the ranks.
fn add_cutoff(extra: &mut Map<String, Value>, rcond: f64, default: bool, ranks: &[usize]) {
    extra.insert("rcond".into(), json!(rcond));
    extra.insert("rcond_default".into(), json!(default));
    extra.insert("rank_min".into(), json!(ranks.iter().min()));
    extra.insert("rank_max".into(), json!(ranks.iter().max()));
}

/// The adapter the result ran on, or `"cpu"`.
fn adapter_name(solver: &Solver, report: &Report) -> String {
    match (report.engine().kind, solver.gpu()) {
        (Engine::Gpu, Some(gpu)) => gpu.adapter_info().name.clone(),
        _ => "cpu".to_string(),
    }
}

/// Prints a one-line warning on stderr.
pub fn warn(message: &str) {
    eprintln!("batched-svd: warning: {}", crate::error::one_line(message));
}

/// Writes `bytes` to `path` and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// 0 if every matrix converged, else 1 (with a one-line summary on stderr).
fn exit_code(report: &Report) -> u8 {
    let not_converged = report.count_status(Status::NotConverged);
    let non_finite = report.count_status(Status::NonFinite);
    if not_converged == 0 && non_finite == 0 {
        return 0;
    }
    warn(&format!(
        "of {} matrices, {not_converged} did not converge and {non_finite} had non-finite \
         input (see status.npy)",
        report.count()
    ));
    1
}
