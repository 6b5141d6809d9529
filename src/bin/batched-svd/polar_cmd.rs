//! `batched-svd polar INPUT.npy -o OUTDIR [--backend auto|gpu|cpu] [--rotation-only]`: the
//! polar decomposition A = R·S of every square matrix; writes `r.npy` and `s.npy` shaped like
//! the input ((count, n, n), or (n, n) for a 2-D input), `status.npy` (count,) int32 and
//! `report.json`, all or nothing.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Instant;

use batched_svd::{PolarOptions, PolarOutput, Status};
use serde_json::json;

use crate::args::Backend;
use crate::error::CliError;
use crate::npy;
use crate::outdir::Staging;
use crate::svd_cmd::{open_gpu, write_synced};

/// Usage of `batched-svd polar`.
pub const USAGE: &str = "\
Usage: batched-svd polar INPUT.npy -o OUTDIR [--backend auto|gpu|cpu] [--rotation-only]

Polar decomposition A = R·S of every square matrix of a float32 .npy array of shape (n, n)
or (count, n, n): R is the closest proper rotation (det R = +1), S = Rᵀ·A is symmetric
(indefinite when det A < 0). Writes r.npy and s.npy (same shape as the input; s.npy is
skipped with --rotation-only), status.npy (count,) int32 (0 converged, 1 not converged,
2 non-finite input) and report.json. Exit status as for svd.
";

/// The arguments of `batched-svd polar`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolarArgs {
    input: PathBuf,
    output: PathBuf,
    backend: Backend,
    rotation_only: bool,
}

/// Parses the arguments after `polar`; `Ok(None)` for `--help`.
///
/// # Errors
/// A one-line usage error.
pub fn parse(args: &[OsString]) -> Result<Option<PolarArgs>, CliError> {
    let (mut input, mut output, mut backend, mut rotation_only) =
        (None, None, Backend::Auto, false);
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| CliError::usage(format!("polar: {name} needs a value")))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-o" | "--output" => output = Some(PathBuf::from(value(&arg)?)),
            "--backend" => {
                backend = match value("--backend")?.as_str() {
                    "auto" => Backend::Auto,
                    "gpu" => Backend::Gpu,
                    "cpu" => Backend::Cpu,
                    other => {
                        return Err(CliError::usage(format!(
                            "polar: --backend must be auto, gpu or cpu, not '{other}'"
                        )));
                    }
                }
            }
            "--rotation-only" => rotation_only = true,
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(CliError::usage(format!("polar: unknown option '{flag}'")));
            }
            path if input.is_none() => input = Some(PathBuf::from(path)),
            extra => {
                return Err(CliError::usage(format!(
                    "polar: unexpected argument '{extra}'"
                )));
            }
        }
    }
    let input = input.ok_or_else(|| CliError::usage("polar: missing INPUT.npy"))?;
    let output = output.ok_or_else(|| CliError::usage("polar: missing -o OUTDIR"))?;
    Ok(Some(PolarArgs {
        input,
        output,
        backend,
        rotation_only,
    }))
}

/// Runs `polar`; returns exit code 0 (all converged) or 1 (outputs written, some matrix not
/// converged or non-finite).
///
/// # Errors
/// Input, output-directory, device and library errors (exit code 2); nothing is left behind.
pub fn run(args: &PolarArgs) -> Result<u8, CliError> {
    let start = Instant::now();
    let input = npy::read_input(&args.input)?;
    if input.m != input.n {
        return Err(CliError::usage(format!(
            "'{}' holds {}×{} matrices; the polar decomposition needs square ones",
            args.input.display(),
            input.m,
            input.n
        )));
    }
    let read_input = start.elapsed().as_secs_f64();
    let batch = input.batch()?;
    let mut staging = Staging::prepare(&args.output)?;
    let opts = if args.rotation_only {
        PolarOptions::rotation_only()
    } else {
        PolarOptions::default()
    };
    let compute_start = Instant::now();
    let (out, backend, adapter, setup): (PolarOutput, &str, String, f64) =
        match open_gpu(args.backend)? {
            Some((gpu, setup)) => {
                let adapter = gpu.adapter_info().name.clone();
                (gpu.polar(&batch, &opts)?, "gpu", adapter, setup)
            }
            None => (
                batched_svd::polar_cpu(&batch, &opts)?,
                "cpu",
                "cpu (nalgebra)".into(),
                0.0,
            ),
        };
    let compute = compute_start.elapsed().as_secs_f64() - setup;

    let write_start = Instant::now();
    let (count, n) = (input.count, input.n);
    let shape = if input.batched {
        vec![count, n, n]
    } else {
        vec![n, n]
    };
    let mut files = vec![("r.npy", shape.clone())];
    staging.write("r.npy", |p| npy::write_array(p, &shape, out.all_r()))?;
    if !args.rotation_only {
        staging.write("s.npy", |p| npy::write_array(p, &shape, out.all_s()))?;
        files.push(("s.npy", shape.clone()));
    }
    let statuses: Vec<i32> = out.infos().iter().map(|i| i.status.code()).collect();
    staging.write("status.npy", |p| npy::write_array(p, &[count], &statuses))?;
    files.push(("status.npy", vec![count]));
    let not_converged = out
        .infos()
        .iter()
        .filter(|i| i.status == Status::NotConverged)
        .count();
    let non_finite = out
        .infos()
        .iter()
        .filter(|i| i.status == Status::NonFinite)
        .count();
    let report = json!({
        "command": "polar",
        "backend": backend,
        "adapter": adapter,
        "count": count,
        "m": n,
        "n": n,
        "rotation_only": args.rotation_only,
        "not_converged": not_converged,
        "non_finite": non_finite,
        "max_sweeps_used": out.infos().iter().map(|i| i.sweeps).max().unwrap_or(0),
        "files": files.iter().map(|(name, shape)| (name.to_string(), json!(shape))).collect::<serde_json::Map<_, _>>(),
        "status_codes": {"0": "converged", "1": "not converged within max_sweeps", "2": "non-finite input"},
        "seconds": {
            "read_input": read_input,
            "setup": setup,
            "upload": out.timings().upload,
            "compute": compute,
            "download": out.timings().download,
            "write_output": write_start.elapsed().as_secs_f64(),
            "total": start.elapsed().as_secs_f64(),
        },
    });
    let text = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
    staging.write("report.json", |p| write_synced(p, text.as_bytes()))?;
    staging.commit()?;
    if not_converged + non_finite > 0 {
        crate::svd_cmd::warn(&format!(
            "{not_converged} matrices did not converge and {non_finite} had non-finite input"
        ));
        return Ok(1);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Option<PolarArgs>, CliError> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        let a = parse_strs(&["a.npy", "-o", "out", "--rotation-only", "--backend", "cpu"])
            .unwrap()
            .unwrap();
        assert_eq!((a.backend, a.rotation_only), (Backend::Cpu, true));
        assert!(parse_strs(&["--help"]).unwrap().is_none());
        for bad in [
            &["a.npy"][..],
            &["-o", "x"],
            &["a.npy", "-o"],
            &["a.npy", "-o", "x", "--nope"],
            &["a", "b", "-o", "x"],
            &["a", "-o", "x", "--backend", "tpu"],
        ] {
            assert!(parse_strs(bad).is_err(), "{bad:?}");
        }
    }
}
