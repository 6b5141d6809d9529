//! `batched-svd svd`: read, decompose, write all outputs or none.

use std::path::Path;
use std::time::Instant;

use batched_svd::{Error, Status, SvdOptions, SvdOutput};
use serde_json::Value;

use crate::args::{Backend, SvdArgs};
use crate::error::CliError;
use crate::npy::{self, Input};
use crate::outdir::Staging;
use crate::report::{self, Run, Seconds};

/// Adapter name reported for the CPU path.
const CPU_ADAPTER: &str = "cpu (nalgebra)";

/// A finished decomposition and where it ran.
pub struct Computed {
    /// The decomposition.
    pub output: SvdOutput,
    /// `"gpu"` or `"cpu"`.
    pub backend: &'static str,
    /// Adapter name, or [`CPU_ADAPTER`].
    pub adapter: String,
    /// Seconds spent creating the GPU device.
    pub setup: f64,
}

/// Runs `svd`; returns exit code 0 (all converged) or 1 (outputs written, some matrix not
/// converged or non-finite).
///
/// # Errors
/// Input, output-directory, device and library errors (exit code 2); nothing is left in the
/// output directory then.
pub fn run(args: &SvdArgs) -> Result<u8, CliError> {
    let start = Instant::now();
    let input = npy::read_input(&args.input)?;
    let read_input = start.elapsed().as_secs_f64();
    let batch = input.batch()?;
    let opts = options(args);
    opts.validate()?;
    let mut staging = Staging::prepare(&args.output)?;
    let computed = compute(&batch, &opts, args.backend)?;
    let write_start = Instant::now();
    let (files, truncation) = match args.truncation {
        Some(cutoff) => {
            crate::ops_cmd::write_truncated(&mut staging, &input, &computed.output, cutoff)?
        }
        None => (
            write_arrays(&mut staging, &input, &computed.output)?,
            Value::Null,
        ),
    };
    let seconds = Seconds {
        read_input,
        setup: computed.setup,
        write_output: write_start.elapsed().as_secs_f64(),
        total: start.elapsed().as_secs_f64(),
    };
    let mut report = report::value(&Run {
        input: &input,
        input_path: args.input.display().to_string(),
        output: &computed.output,
        backend: computed.backend,
        adapter: computed.adapter.clone(),
        tolerance: opts.effective_tolerance(input.m, input.n),
        max_sweeps: opts.max_sweeps,
        files,
        seconds,
    });
    if !truncation.is_null() {
        report["truncation"] = truncation;
    }
    let report = report::to_text(&report);
    staging.write("report.json", |p| write_synced(p, report.as_bytes()))?;
    staging.commit()?;
    Ok(exit_code(&computed.output))
}

/// The library options for the command-line arguments.
fn options(args: &SvdArgs) -> SvdOptions {
    let opts = SvdOptions::default()
        .with_vectors(args.vectors)
        .with_max_sweeps(args.max_sweeps);
    match args.tolerance {
        Some(tol) => opts.with_tolerance(tol),
        None => opts,
    }
}

/// Decomposes on the requested backend; `auto` falls back to the CPU (with a one-line
/// warning) when there is no adapter or a matrix does not fit the device.
pub fn compute(
    batch: &batched_svd::MatrixBatch<'_>,
    opts: &SvdOptions,
    backend: Backend,
) -> Result<Computed, CliError> {
    let Some((gpu, setup)) = open_gpu(backend)? else {
        return compute_cpu(batch, opts);
    };
    match gpu.svd(batch, opts) {
        Ok(output) => Ok(Computed {
            output,
            backend: "gpu",
            adapter: gpu.adapter_info().name.clone(),
            setup,
        }),
        Err(e @ Error::LimitExceeded { .. }) if backend == Backend::Auto => {
            warn(&format!("{e}; using the CPU backend"));
            compute_cpu(batch, opts)
        }
        Err(e) => Err(e.into()),
    }
}

/// The GPU context for `backend` with the tool's chunk size, and the seconds its creation
/// took; `None` for the CPU backend, or for `auto` without an adapter (after a warning).
///
/// # Errors
/// `--backend gpu` without a usable adapter.
pub fn open_gpu(backend: Backend) -> Result<Option<(batched_svd::Gpu, f64)>, CliError> {
    if backend == Backend::Cpu {
        return Ok(None);
    }
    let setup_start = Instant::now();
    let gpu = match batched_svd::Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) if backend == Backend::Auto => {
            warn(&format!("{e}; using the CPU backend"));
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let setup = setup_start.elapsed().as_secs_f64();
    // Small chunks keep the device-side copies (which on a software device are host memory)
    // a small fraction of the input and output the process already holds.
    let gpu = gpu.with_plan_limits(batched_svd::PlanLimits {
        max_chunk_bytes: CLI_CHUNK_BYTES,
        ..gpu.plan_limits()
    });
    Ok(Some((gpu, setup)))
}

/// Soft cap per device buffer for the command-line tool: with two buffer sets in flight, the
/// device holds about 10 × 4 MiB beyond the input and output arrays.
const CLI_CHUNK_BYTES: u64 = 4 << 20;

/// Decomposes with nalgebra on all cores.
fn compute_cpu(
    batch: &batched_svd::MatrixBatch<'_>,
    opts: &SvdOptions,
) -> Result<Computed, CliError> {
    Ok(Computed {
        output: batched_svd::cpu::svd(batch, opts)?,
        backend: "cpu",
        adapter: CPU_ADAPTER.to_string(),
        setup: 0.0,
    })
}

/// Prints a one-line warning on stderr.
pub fn warn(message: &str) {
    eprintln!("batched-svd: warning: {}", crate::error::one_line(message));
}

/// The contents of one output array.
enum Data<'a> {
    /// Singular values, U or Vᵀ, straight from the output.
    F32(&'a [f32]),
    /// Status codes.
    I32(Vec<i32>),
}

/// Writes `s`, `u`, `vh` (when computed) and `status` under temporary names; returns the
/// final file names with their shapes.
fn write_arrays(
    staging: &mut Staging,
    input: &Input,
    out: &SvdOutput,
) -> Result<Vec<(String, Vec<usize>)>, CliError> {
    let mut files = Vec::new();
    for (name, shape, data) in output_arrays(input, out) {
        match &data {
            Data::F32(values) => staging.write(name, |p| npy::write_array(p, &shape, values))?,
            Data::I32(values) => staging.write(name, |p| npy::write_array(p, &shape, values))?,
        }
        files.push((name.to_string(), shape));
    }
    Ok(files)
}

/// The output arrays with their file names and shapes. For a 2-D input `s`, `u` and `vh` have
/// no leading batch axis (as `numpy.linalg.svd` returns them); `status` always has one.
fn output_arrays<'a>(
    input: &Input,
    out: &'a SvdOutput,
) -> Vec<(&'static str, Vec<usize>, Data<'a>)> {
    let (count, (m, n), k) = (out.count(), out.shape(), out.k());
    let batched = |dims: &[usize]| -> Vec<usize> {
        if input.batched {
            std::iter::once(count).chain(dims.iter().copied()).collect()
        } else {
            dims.to_vec()
        }
    };
    let mut arrays = vec![("s.npy", batched(&[k]), Data::F32(out.all_singular_values()))];
    if out.vectors().wanted() {
        arrays.push(("u.npy", batched(&[m, out.u_cols()]), Data::F32(out.all_u())));
        arrays.push((
            "vh.npy",
            batched(&[out.vt_rows(), n]),
            Data::F32(out.all_vt()),
        ));
    }
    let statuses = out.infos().iter().map(|i| i.status.code()).collect();
    arrays.push(("status.npy", vec![count], Data::I32(statuses)));
    arrays
}

/// Writes `bytes` to `path` and syncs it to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// 0 if every matrix converged, else 1 (with a one-line summary on stderr).
fn exit_code(out: &SvdOutput) -> u8 {
    let not_converged = out.count_status(Status::NotConverged);
    let non_finite = out.count_status(Status::NonFinite);
    if not_converged == 0 && non_finite == 0 {
        return 0;
    }
    warn(&format!(
        "of {} matrices, {not_converged} did not converge and {non_finite} had non-finite \
         input (see status.npy)",
        out.count()
    ));
    1
}
