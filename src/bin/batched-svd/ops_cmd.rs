//! `batched-svd pinv` and `batched-svd lstsq`, and the truncated outputs of
//! `batched-svd svd --rank K | --rtol X`: read, decompose (through `svd`'s backend selection),
//! apply the operation of `batched_svd::ops`, write all outputs or none.

use std::path::Path;
use std::time::Instant;

use batched_svd::ops::{self, Cutoff, RightHandSides};
use batched_svd::{MatrixInfo, Status, SvdOptions, SvdOutput, Vectors};
use serde_json::{Value, json};

use crate::error::CliError;
use crate::npy::{self, Input};
use crate::ops_args::OpsArgs;
use crate::outdir::Staging;
use crate::report::{self, Run, Seconds};
use crate::svd_cmd::{self, Computed};

/// Output files written, with their shapes (for the report).
type Files = Vec<(String, Vec<usize>)>;

/// Runs `pinv`; returns exit code 0 (every SVD converged) or 1 (outputs written, some matrix
/// not converged or non-finite).
///
/// # Errors
/// Input, output-directory, device and library errors (exit code 2); nothing is left in the
/// output directory then.
pub fn run_pinv(args: &OpsArgs) -> Result<u8, CliError> {
    let start = Instant::now();
    let input = npy::read_input(&args.inputs[0])?;
    let read_input = start.elapsed().as_secs_f64();
    let batch = input.batch()?;
    let opts = svd_options(args);
    opts.validate()?;
    let mut staging = Staging::prepare(&args.output)?;
    let computed = svd_cmd::compute(&batch, &opts, args.backend)?;
    let op_start = Instant::now();
    let pinv = ops::pinv(&computed.output, args.rcond)?;
    let op_seconds = op_start.elapsed().as_secs_f64();

    let write_start = Instant::now();
    let (m, n) = (input.m, input.n);
    let mut files = Files::new();
    let shape = batched(&input, &[n, m]);
    write_array(&mut staging, &mut files, "pinv.npy", shape, pinv.as_slice())?;
    write_rank_and_status(&mut staging, &mut files, pinv.ranks(), pinv.infos())?;

    let mut report = report_value(args, &input, &opts, &computed, files, read_input, start);
    report["seconds"]["write_output"] = json!(write_start.elapsed().as_secs_f64());
    report["seconds"]["pinv"] = json!(op_seconds);
    report["command"] = json!("pinv");
    add_cutoff(
        &mut report,
        pinv.rcond(),
        args.rcond.is_none(),
        pinv.ranks(),
    );
    write_report(&mut staging, &report)?;
    staging.commit()?;
    Ok(exit_code(pinv.infos()))
}

/// Runs `lstsq`; exit codes as [`run_pinv`], with non-finite right-hand sides counting as
/// non-finite input.
///
/// # Errors
/// As [`run_pinv`], and a `B.npy` whose shape does not fit `A.npy`.
pub fn run_lstsq(args: &OpsArgs) -> Result<u8, CliError> {
    let start = Instant::now();
    let input = npy::read_input(&args.inputs[0])?;
    let b_path = &args.inputs[1];
    let rhs_file = npy::read_array(b_path, "(count, m) or (count, m, r)")?;
    let read_input = start.elapsed().as_secs_f64();
    let (vector, r) = rhs_shape(&input, &rhs_file.shape, b_path)?;
    let (count, m, n) = (input.count, input.m, input.n);
    let rhs = if vector {
        RightHandSides::vectors(&rhs_file.data, count, m)?
    } else {
        RightHandSides::matrices(&rhs_file.data, count, m, r)?
    };
    let batch = input.batch()?;
    let opts = svd_options(args);
    opts.validate()?;
    let mut staging = Staging::prepare(&args.output)?;
    let computed = svd_cmd::compute(&batch, &opts, args.backend)?;
    let op_start = Instant::now();
    let solved = ops::lstsq(&batch, &computed.output, &rhs, args.rcond)?;
    let op_seconds = op_start.elapsed().as_secs_f64();

    let write_start = Instant::now();
    let mut files = Files::new();
    let (x_shape, res_shape) = match (input.batched, vector) {
        (true, true) => (vec![count, n], vec![count]),
        (true, false) => (vec![count, n, r], vec![count, r]),
        (false, true) => (vec![n], vec![1]),
        (false, false) => (vec![n, r], vec![r]),
    };
    write_array(
        &mut staging,
        &mut files,
        "x.npy",
        x_shape,
        solved.all_solutions(),
    )?;
    let residuals: Vec<f32> = solved.all_residuals().iter().map(|&x| x as f32).collect();
    write_array(
        &mut staging,
        &mut files,
        "residuals.npy",
        res_shape,
        &residuals,
    )?;
    write_rank_and_status(&mut staging, &mut files, solved.ranks(), solved.infos())?;

    let mut report = report_value(args, &input, &opts, &computed, files, read_input, start);
    report["seconds"]["write_output"] = json!(write_start.elapsed().as_secs_f64());
    report["seconds"]["lstsq"] = json!(op_seconds);
    report["command"] = json!("lstsq");
    report["rhs"] = json!({
        "path": b_path.display().to_string(),
        "shape": rhs_file.shape,
        "dtype": rhs_file.descr,
        "fortran_order": rhs_file.fortran_order,
    });
    // The status counts of lstsq include non-finite right-hand sides.
    let count_of = |s: Status| solved.infos().iter().filter(|i| i.status == s).count();
    report["converged"] = json!(count_of(Status::Converged));
    report["not_converged"] = json!(count_of(Status::NotConverged));
    report["non_finite"] = json!(count_of(Status::NonFinite));
    report["status_codes"]["2"] = json!("non-finite input (A or B)");
    add_cutoff(
        &mut report,
        solved.rcond(),
        args.rcond.is_none(),
        solved.ranks(),
    );
    write_report(&mut staging, &report)?;
    staging.commit()?;
    Ok(exit_code(solved.infos()))
}

/// Writes the truncated `s`, `u`, `vh` (when computed), `rank` and `status` arrays of
/// `svd --rank K | --rtol X`; returns the files and the report's `truncation` entry.
///
/// With `--rank K` the arrays have `w = min(K, k)` triplets: s `(count, w)`, u `(count, m, w)`,
/// vh `(count, w, n)`. With `--rtol X` they keep `w = k` and the triplets with
/// `σ ≤ X·σ₁` are zero; `rank.npy` (int32, `(count,)`) says how many each matrix kept.
///
/// # Errors
/// Library errors (invalid cutoff) and write errors.
pub fn write_truncated(
    staging: &mut Staging,
    input: &Input,
    out: &SvdOutput,
    cutoff: Cutoff,
) -> Result<(Files, Value), CliError> {
    let t = ops::truncate(out, cutoff)?;
    let ((m, n), w) = (t.shape(), t.width());
    let mut files = Files::new();
    write_array(
        staging,
        &mut files,
        "s.npy",
        batched(input, &[w]),
        t.all_singular_values(),
    )?;
    if t.has_vectors() {
        write_array(
            staging,
            &mut files,
            "u.npy",
            batched(input, &[m, w]),
            t.all_u(),
        )?;
        write_array(
            staging,
            &mut files,
            "vh.npy",
            batched(input, &[w, n]),
            t.all_vt(),
        )?;
    }
    write_rank_and_status(staging, &mut files, t.ranks(), t.infos())?;
    let (mode, value) = match cutoff {
        Cutoff::Rank(k) => ("rank", json!(k)),
        Cutoff::Relative(x) => ("rtol", json!(x)),
        Cutoff::Absolute(x) => ("atol", json!(x)),
    };
    let entry = json!({
        "mode": mode,
        "value": value,
        "width": w,
        "rank_min": t.ranks().iter().min(),
        "rank_max": t.ranks().iter().max(),
    });
    Ok((files, entry))
}

/// The SVD options of `pinv` and `lstsq`: thin vectors, the given sweep cap and tolerance.
fn svd_options(args: &OpsArgs) -> SvdOptions {
    let opts = SvdOptions::default()
        .with_vectors(Vectors::Thin)
        .with_max_sweeps(args.max_sweeps);
    match args.tolerance {
        Some(tol) => opts.with_tolerance(tol),
        None => opts,
    }
}

/// `(vector, r)` for a right-hand-side array of `shape` given the matrix input, or a one-line
/// error saying which shapes fit.
fn rhs_shape(input: &Input, shape: &[usize], path: &Path) -> Result<(bool, usize), CliError> {
    let (count, m) = (input.count, input.m);
    let fits = if input.batched {
        match *shape {
            [c, rows] if c == count && rows == m => Some((true, 1)),
            [c, rows, r] if c == count && rows == m => Some((false, r)),
            _ => None,
        }
    } else {
        match *shape {
            [rows] if rows == m => Some((true, 1)),
            [rows, r] if rows == m => Some((false, r)),
            _ => None,
        }
    };
    fits.ok_or_else(|| {
        let expected = if input.batched {
            format!("({count}, {m}) or ({count}, {m}, r)")
        } else {
            format!("({m},) or ({m}, r)")
        };
        let as_u64: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        CliError::other(format!(
            "'{}' has shape {}; for A of shape {} it must have shape {expected}",
            path.display(),
            npy::format_shape(&as_u64),
            npy::format_shape(&input.shape)
        ))
    })
}

/// `dims` with the batch axis in front when the input was 3-D.
fn batched(input: &Input, dims: &[usize]) -> Vec<usize> {
    if input.batched {
        std::iter::once(input.count)
            .chain(dims.iter().copied())
            .collect()
    } else {
        dims.to_vec()
    }
}

/// Writes an array (float32 or int32) and records it.
fn write_array<T: npyz::AutoSerialize + bytemuck::Pod>(
    staging: &mut Staging,
    files: &mut Files,
    name: &str,
    shape: Vec<usize>,
    data: &[T],
) -> Result<(), CliError> {
    staging.write(name, |p| npy::write_array(p, &shape, data))?;
    files.push((name.to_string(), shape));
    Ok(())
}

/// Writes `rank.npy` and `status.npy` (int32, `(count,)`) and records them.
fn write_rank_and_status(
    staging: &mut Staging,
    files: &mut Files,
    ranks: &[usize],
    infos: &[MatrixInfo],
) -> Result<(), CliError> {
    let count = infos.len();
    write_array(staging, files, "rank.npy", vec![count], &ranks_i32(ranks))?;
    write_array(
        staging,
        files,
        "status.npy",
        vec![count],
        &status_codes(infos),
    )
}

/// Ranks as int32.
fn ranks_i32(ranks: &[usize]) -> Vec<i32> {
    ranks
        .iter()
        .map(|&r| i32::try_from(r).unwrap_or(i32::MAX))
        .collect()
}

/// Status codes as int32.
fn status_codes(infos: &[MatrixInfo]) -> Vec<i32> {
    infos.iter().map(|i| i.status.code()).collect()
}

/// The common report of `pinv` and `lstsq` (that of `svd` for the decomposition behind it).
fn report_value(
    args: &OpsArgs,
    input: &Input,
    opts: &SvdOptions,
    computed: &Computed,
    files: Files,
    read_input: f64,
    start: Instant,
) -> Value {
    report::value(&Run {
        input,
        input_path: args.inputs[0].display().to_string(),
        output: &computed.output,
        backend: computed.backend,
        adapter: computed.adapter.clone(),
        tolerance: opts.effective_tolerance(input.m, input.n),
        max_sweeps: opts.max_sweeps,
        files,
        seconds: Seconds {
            read_input,
            setup: computed.setup,
            write_output: 0.0,
            total: start.elapsed().as_secs_f64(),
        },
    })
}

/// Adds `rcond`, whether it is the default, and the range of the ranks.
fn add_cutoff(report: &mut Value, rcond: f64, default: bool, ranks: &[usize]) {
    report["rcond"] = json!(rcond);
    report["rcond_default"] = json!(default);
    report["rank_min"] = json!(ranks.iter().min());
    report["rank_max"] = json!(ranks.iter().max());
}

/// Writes `report.json` under a temporary name.
fn write_report(staging: &mut Staging, report: &Value) -> Result<(), CliError> {
    let text = report::to_text(report);
    staging.write("report.json", |p| svd_cmd::write_synced(p, text.as_bytes()))
}

/// 0 if every status is converged, else 1 (with a one-line summary on stderr).
fn exit_code(infos: &[MatrixInfo]) -> u8 {
    let not_converged = infos
        .iter()
        .filter(|i| i.status == Status::NotConverged)
        .count();
    let non_finite = infos
        .iter()
        .filter(|i| i.status == Status::NonFinite)
        .count();
    if not_converged == 0 && non_finite == 0 {
        return 0;
    }
    svd_cmd::warn(&format!(
        "of {} matrices, {not_converged} did not converge and {non_finite} had non-finite \
         input (see status.npy)",
        infos.len()
    ));
    1
}
