//! Argument parsing of `pinv` and `lstsq`, in the style of [`crate::args`]: every mistake is
//! one line naming the command.

use std::ffi::OsString;
use std::path::PathBuf;

use batched_svd::DEFAULT_MAX_SWEEPS;

use crate::args::Backend;
use crate::error::CliError;

/// Usage text of `batched-svd pinv --help`.
pub const PINV_USAGE: &str = "\
Usage: batched-svd pinv A.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu] [--tol X]
                        [--max-sweeps N]

The Moore-Penrose pseudoinverse A+ = V diag(1/s) U^T of every matrix of A.npy (float32,
shape (m, n) or (count, m, n), C or Fortran order, either byte order), from its SVD.
Singular values s <= rcond * s_max are treated as zero, as numpy.linalg.pinv does.

Writes to OUTDIR (all files or none):
  pinv.npy     float32 (count, n, m), or (n, m) for 2-D input
  rank.npy     int32 (count,): singular values inverted per matrix
  status.npy   int32 (count,): 0 converged, 1 SVD not converged, 2 non-finite input
  report.json

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --rcond X            Relative cutoff, finite and >= 0; default max(m, n) * 2^-23 (the
                       Array API default; numpy.linalg.pinv's own default is 1e-15).
  --backend MODE       auto (default), gpu or cpu: where the SVD runs.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
";

/// Usage text of `batched-svd lstsq --help`.
pub const LSTSQ_USAGE: &str = "\
Usage: batched-svd lstsq A.npy B.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
                         [--tol X] [--max-sweeps N]

Minimum-norm least squares min ||A x - b|| for every matrix of A.npy (float32, (count, m, n)
or (m, n)) and its right-hand sides in B.npy (float32): B of shape (count, m) gives one
solution per matrix, (count, m, r) gives r (the columns of B[i]); for a 2-D A, B is (m,) or
(m, r), as numpy.linalg.lstsq takes it. x = A+ b with the cutoff of pinv (singular values
s <= rcond * s_max treated as zero), as numpy.linalg.lstsq(a, b, rcond) computes it.

Writes to OUTDIR (all files or none):
  x.npy          float32: (count, n) for B (count, m); (count, n, r) for B (count, m, r);
                 (n,) or (n, r) for a 2-D A
  residuals.npy  float32 ||b - A x||^2 per right-hand side: (count,), (count, r), (1,), (r,)
                 (for every matrix; numpy returns them only when rank = n < m)
  rank.npy       int32 (count,)
  status.npy     int32 (count,): 0 converged, 1 SVD not converged, 2 non-finite A or B
  report.json

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --rcond X            Relative cutoff, finite and >= 0; default max(m, n) * 2^-23
                       (numpy.linalg.lstsq's default is max(m, n) * 2^-52, float64 eps).
  --backend MODE       auto (default), gpu or cpu: where the SVD runs.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
";

/// The arguments of `pinv` (one input) and `lstsq` (two inputs).
#[derive(Clone, Debug, PartialEq)]
pub struct OpsArgs {
    /// The input files: `[A]` or `[A, B]`.
    pub inputs: Vec<PathBuf>,
    /// The output directory.
    pub output: PathBuf,
    /// Explicit relative cutoff, if given.
    pub rcond: Option<f64>,
    /// Where the SVD runs.
    pub backend: Backend,
    /// Explicit rotation threshold, if given.
    pub tolerance: Option<f32>,
    /// Sweep cap per matrix.
    pub max_sweeps: u32,
}

/// Result of parsing.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// `--help` was asked for.
    Help,
    /// Run with these arguments.
    Run(OpsArgs),
}

/// Options taking a value (canonical spelling).
const VALUE_OPTIONS: [&str; 5] = ["--output", "--rcond", "--backend", "--tol", "--max-sweeps"];

/// Parses the arguments following `command`, which takes the positional inputs named in
/// `inputs` (e.g. `["A.npy", "B.npy"]`).
pub fn parse(command: &str, inputs: &[&str], args: &[OsString]) -> Result<Parsed, CliError> {
    let err = |msg: String| CliError::usage(format!("{command}: {msg}"));
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut output: Option<PathBuf> = None;
    let mut parsed = OpsArgs {
        inputs: Vec::new(),
        output: PathBuf::new(),
        rcond: None,
        backend: Backend::Auto,
        tolerance: None,
        max_sweeps: DEFAULT_MAX_SWEEPS,
    };
    let mut only_positional = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str();
        if only_positional || !text.is_some_and(|t| t.starts_with('-') && t.len() > 1) {
            if arg.is_empty() {
                return Err(err("an input path is empty".to_string()));
            }
            if paths.len() == inputs.len() {
                return Err(err(format!(
                    "unexpected argument '{}' (expected {})",
                    arg.to_string_lossy(),
                    inputs.join(" ")
                )));
            }
            paths.push(PathBuf::from(arg));
            continue;
        }
        let text = text.unwrap_or_default();
        if text == "--" {
            only_positional = true;
            continue;
        }
        if matches!(text, "-h" | "--help") {
            return Ok(Parsed::Help);
        }
        let (given, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(OsString::from(value))),
            _ => (text, None),
        };
        let canonical = if given == "-o" { "--output" } else { given };
        let Some(name) = VALUE_OPTIONS.into_iter().find(|o| *o == canonical) else {
            return Err(err(format!("unknown option '{given}'")));
        };
        let Some(value) = inline.or_else(|| iter.next().cloned()) else {
            return Err(err(format!("option {given} needs a value")));
        };
        if name == "--output" {
            if value.is_empty() {
                return Err(err("--output needs a non-empty value".to_string()));
            }
            output = Some(PathBuf::from(value));
            continue;
        }
        let value = value
            .into_string()
            .map_err(|v| err(format!("bad value for {name}: '{}'", v.display())))?;
        match name {
            "--rcond" => parsed.rcond = Some(parse_rcond(&value).map_err(err)?),
            "--backend" => parsed.backend = parse_backend(&value).map_err(err)?,
            "--tol" => parsed.tolerance = Some(parse_tolerance(&value).map_err(err)?),
            _ => parsed.max_sweeps = parse_max_sweeps(&value).map_err(err)?,
        }
    }
    if paths.len() < inputs.len() {
        return Err(err(format!("missing {}", inputs[paths.len()])));
    }
    parsed.output = output.ok_or_else(|| err("missing -o OUTDIR".to_string()))?;
    parsed.inputs = paths;
    Ok(Parsed::Run(parsed))
}

/// A finite, non-negative number.
fn parse_rcond(value: &str) -> Result<f64, String> {
    let x: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("bad number for --rcond: '{value}'"))?;
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("--rcond must be finite and >= 0, got {value}"))
    }
}

/// `auto`, `gpu` or `cpu`.
fn parse_backend(value: &str) -> Result<Backend, String> {
    match value {
        "auto" => Ok(Backend::Auto),
        "gpu" => Ok(Backend::Gpu),
        "cpu" => Ok(Backend::Cpu),
        _ => Err(format!(
            "bad value for --backend: '{value}' (expected auto, gpu or cpu)"
        )),
    }
}

/// A number strictly between 0 and 1.
fn parse_tolerance(value: &str) -> Result<f32, String> {
    let tol: f32 = value
        .trim()
        .parse()
        .map_err(|_| format!("bad number for --tol: '{value}'"))?;
    if tol.is_finite() && tol > 0.0 && tol < 1.0 {
        Ok(tol)
    } else {
        Err(format!("--tol must be in (0, 1), got {value}"))
    }
}

/// A positive integer.
fn parse_max_sweeps(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(0) => Err("--max-sweeps must be at least 1, got 0".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "bad number for --max-sweeps: '{value}' (expected an integer from 1 to {})",
            u32::MAX
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_lstsq(args: &[&str]) -> Result<Parsed, CliError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse("lstsq", &["A.npy", "B.npy"], &args)
    }

    #[test]
    fn any_order_and_defaults() {
        let Ok(Parsed::Run(a)) = parse_lstsq(&["a.npy", "-o", "out", "b.npy", "--rcond=1e-3"])
        else {
            panic!("expected arguments");
        };
        assert_eq!(
            a.inputs,
            vec![PathBuf::from("a.npy"), PathBuf::from("b.npy")]
        );
        assert_eq!(a.output, PathBuf::from("out"));
        assert_eq!(a.rcond, Some(1e-3));
        assert_eq!(a.backend, Backend::Auto);
        assert_eq!(a.max_sweeps, DEFAULT_MAX_SWEEPS);
        assert_eq!(parse_lstsq(&["--help"]).ok(), Some(Parsed::Help));
    }

    #[test]
    fn mistakes_name_the_command() {
        for (bad, needle) in [
            (&["a.npy", "-o", "out"][..], "lstsq: missing B.npy"),
            (&["a.npy", "b.npy"], "lstsq: missing -o OUTDIR"),
            (
                &["a.npy", "b.npy", "c.npy", "-o", "x"],
                "unexpected argument 'c.npy'",
            ),
            (
                &["a.npy", "b.npy", "-o", "x", "--rcond", "-1"],
                "--rcond must be",
            ),
            (
                &["a.npy", "b.npy", "-o", "x", "--rcond", "nan"],
                "--rcond must be",
            ),
            (
                &["a.npy", "b.npy", "-o", "x", "--rcond", "x"],
                "bad number for --rcond",
            ),
            (
                &["a.npy", "b.npy", "-o", "x", "--vectors", "full"],
                "unknown option",
            ),
            (
                &["a.npy", "b.npy", "-o", "x", "--backend", "tpu"],
                "--backend",
            ),
            (
                &["a.npy", "b.npy", "-o", "x", "--max-sweeps", "0"],
                "at least 1",
            ),
        ] {
            let err = parse_lstsq(bad).expect_err("should fail").to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        }
    }
}
