//! Hand-written argument parsing, so that every mistake is reported as one line.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use batched_svd::{Cutoff, DEFAULT_MAX_SWEEPS, Vectors};

use crate::error::CliError;

/// Usage text of `batched-svd svd --help`.
pub const SVD_USAGE: &str = "\
Usage: batched-svd svd INPUT.npy -o OUTDIR [--vectors none|thin|full] [--backend auto|gpu|cpu]
                       [--tol X] [--max-sweeps N] [--rank K | --rtol X]

INPUT.npy is float32 (either byte order), shape (m, n) or (count, m, n), C or Fortran order.
Writes s.npy, u.npy, vh.npy (not with --vectors none), status.npy and report.json to OUTDIR.
For a 2-D input s, u and vh have no leading batch axis (as numpy.linalg.svd) and status.npy
has shape (1,).

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --vectors MODE       none, thin (default) or full.
  --backend MODE       auto (default), gpu or cpu.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
  --rank K             Keep the K largest singular triplets (K >= 1; w = min(K, k)):
                       s (count, w), u (count, m, w), vh (count, w, n), and rank.npy.
  --rtol X             Keep the triplets with s > X * s_max (X finite, >= 0): s, u and vh keep
                       their thin shapes with the dropped triplets zeroed; rank.npy (int32,
                       (count,)) gives the number kept per matrix. Not with --vectors full.
";

/// Which engine `svd` runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The GPU if an adapter exists, else the CPU (with a warning).
    Auto,
    /// The GPU only; no adapter is an error.
    Gpu,
    /// nalgebra on the CPU.
    Cpu,
}

/// The arguments of `batched-svd svd`.
#[derive(Clone, Debug, PartialEq)]
pub struct SvdArgs {
    /// The input `.npy` file.
    pub input: PathBuf,
    /// The output directory.
    pub output: PathBuf,
    /// Which singular vectors to compute and write.
    pub vectors: Vectors,
    /// Which engine to use.
    pub backend: Backend,
    /// Explicit rotation threshold, if given.
    pub tolerance: Option<f32>,
    /// Sweep cap per matrix.
    pub max_sweeps: u32,
    /// Truncation of the outputs (`--rank K` or `--rtol X`), if asked for.
    pub truncation: Option<Cutoff>,
}

/// Result of parsing the `svd` arguments.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// `--help` was asked for.
    Help,
    /// Run with these arguments.
    Run(SvdArgs),
}

/// Options the `svd` command takes a value for (canonical spelling).
const VALUE_OPTIONS: [&str; 7] = [
    "--output",
    "--vectors",
    "--backend",
    "--tol",
    "--max-sweeps",
    "--rank",
    "--rtol",
];

/// Fails unless `args` is empty (for commands that take no arguments).
pub fn expect_no_arguments(command: &str, args: &[OsString]) -> Result<(), CliError> {
    match args.first() {
        None => Ok(()),
        Some(arg) => Err(CliError::usage(format!(
            "'{command}' takes no arguments, got '{}'",
            arg.to_string_lossy()
        ))),
    }
}

/// Parses the arguments following `svd`.
pub fn parse_svd(args: &[OsString]) -> Result<Parsed, CliError> {
    let mut input: Option<PathBuf> = None;
    let mut output: Option<PathBuf> = None;
    let mut vectors = Vectors::Thin;
    let mut backend = Backend::Auto;
    let mut tolerance = None;
    let mut max_sweeps = DEFAULT_MAX_SWEEPS;
    let mut truncation: Option<Cutoff> = None;
    let mut only_positional = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str();
        if only_positional || !text.is_some_and(|t| t.starts_with('-') && t.len() > 1) {
            set_input(&mut input, arg)?;
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
        let (name, value) = split_option(text, &mut iter)?;
        match name {
            "--output" => output = Some(PathBuf::from(non_empty(name, value)?)),
            "--vectors" => vectors = parse_vectors(&utf8(name, value)?)?,
            "--backend" => backend = parse_backend(&utf8(name, value)?)?,
            "--tol" => tolerance = Some(parse_tolerance(&utf8(name, value)?)?),
            "--max-sweeps" => max_sweeps = parse_max_sweeps(&utf8(name, value)?)?,
            "--rank" | "--rtol" => {
                let cutoff = parse_truncation(name, &utf8(name, value)?)?;
                if truncation
                    .is_some_and(|t| std::mem::discriminant(&t) != std::mem::discriminant(&cutoff))
                {
                    return Err(CliError::usage("svd: --rank and --rtol cannot be combined"));
                }
                truncation = Some(cutoff);
            }
            _ => return Err(CliError::usage(format!("svd: unknown option '{name}'"))),
        }
    }
    let input = input.ok_or_else(|| CliError::usage("svd: missing INPUT.npy"))?;
    let output = output.ok_or_else(|| CliError::usage("svd: missing -o OUTDIR"))?;
    if truncation.is_some() && vectors == Vectors::Full {
        return Err(CliError::usage(
            "svd: --rank and --rtol truncate thin vectors; they cannot be used with --vectors full",
        ));
    }
    Ok(Parsed::Run(SvdArgs {
        input,
        output,
        vectors,
        backend,
        tolerance,
        max_sweeps,
        truncation,
    }))
}

/// Records the positional input path; a second one is an error.
fn set_input(input: &mut Option<PathBuf>, arg: &OsStr) -> Result<(), CliError> {
    if arg.is_empty() {
        return Err(CliError::usage("svd: the input path is empty"));
    }
    if let Some(first) = input {
        return Err(CliError::usage(format!(
            "svd: unexpected argument '{}' (the input is already '{}')",
            arg.to_string_lossy(),
            first.display()
        )));
    }
    *input = Some(PathBuf::from(arg));
    Ok(())
}

/// Splits `--name=value`, or takes the value from the next argument; returns the canonical
/// option name (`-o` becomes `--output`) and its value.
fn split_option<'a>(
    text: &'a str,
    rest: &mut impl Iterator<Item = &'a OsString>,
) -> Result<(&'static str, OsString), CliError> {
    let (given, inline) = match text.split_once('=') {
        Some((name, value)) if name.starts_with("--") => (name, Some(OsString::from(value))),
        _ => (text, None),
    };
    let canonical = if given == "-o" { "--output" } else { given };
    let Some(name) = VALUE_OPTIONS.into_iter().find(|o| *o == canonical) else {
        return Err(CliError::usage(format!("svd: unknown option '{given}'")));
    };
    match inline.or_else(|| rest.next().cloned()) {
        Some(value) => Ok((name, value)),
        None => Err(CliError::usage(format!(
            "svd: option {given} needs a value"
        ))),
    }
}

/// The value as UTF-8 text (only paths may be other bytes).
fn utf8(name: &str, value: OsString) -> Result<String, CliError> {
    value
        .into_string()
        .map_err(|v| CliError::usage(format!("svd: bad value for {name}: '{}'", v.display())))
}

/// The value, unless it is empty.
fn non_empty(name: &str, value: OsString) -> Result<OsString, CliError> {
    if value.is_empty() {
        Err(CliError::usage(format!(
            "svd: {name} needs a non-empty value"
        )))
    } else {
        Ok(value)
    }
}

/// `none`, `thin` or `full`.
fn parse_vectors(value: &str) -> Result<Vectors, CliError> {
    match value {
        "none" => Ok(Vectors::None),
        "thin" => Ok(Vectors::Thin),
        "full" => Ok(Vectors::Full),
        _ => Err(CliError::usage(format!(
            "svd: bad value for --vectors: '{value}' (expected none, thin or full)"
        ))),
    }
}

/// `auto`, `gpu` or `cpu`.
fn parse_backend(value: &str) -> Result<Backend, CliError> {
    match value {
        "auto" => Ok(Backend::Auto),
        "gpu" => Ok(Backend::Gpu),
        "cpu" => Ok(Backend::Cpu),
        _ => Err(CliError::usage(format!(
            "svd: bad value for --backend: '{value}' (expected auto, gpu or cpu)"
        ))),
    }
}

/// A number strictly between 0 and 1.
fn parse_tolerance(value: &str) -> Result<f32, CliError> {
    let tol: f32 = value
        .trim()
        .parse()
        .map_err(|_| CliError::usage(format!("svd: bad number for --tol: '{value}'")))?;
    if tol.is_finite() && tol > 0.0 && tol < 1.0 {
        Ok(tol)
    } else {
        Err(CliError::usage(format!(
            "svd: --tol must be in (0, 1), got {value}"
        )))
    }
}

/// `--rank K` (an integer ≥ 1) or `--rtol X` (a finite number ≥ 0).
fn parse_truncation(name: &str, value: &str) -> Result<Cutoff, CliError> {
    if name == "--rank" {
        return match value.trim().parse::<usize>() {
            Ok(0) => Err(CliError::usage("svd: --rank must be at least 1, got 0")),
            Ok(k) => Ok(Cutoff::Rank(k)),
            Err(_) => Err(CliError::usage(format!(
                "svd: bad number for --rank: '{value}' (expected a positive integer)"
            ))),
        };
    }
    let rtol: f64 = value
        .trim()
        .parse()
        .map_err(|_| CliError::usage(format!("svd: bad number for --rtol: '{value}'")))?;
    if rtol.is_finite() && rtol >= 0.0 {
        Ok(Cutoff::Relative(rtol))
    } else {
        Err(CliError::usage(format!(
            "svd: --rtol must be finite and >= 0, got {value}"
        )))
    }
}

/// A positive integer.
fn parse_max_sweeps(value: &str) -> Result<u32, CliError> {
    let sweeps: u32 = value.trim().parse().map_err(|_| {
        CliError::usage(format!(
            "svd: bad number for --max-sweeps: '{value}' (expected an integer from 1 to {})",
            u32::MAX
        ))
    })?;
    if sweeps == 0 {
        return Err(CliError::usage(
            "svd: --max-sweeps must be at least 1, got 0",
        ));
    }
    Ok(sweeps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, CliError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse_svd(&args)
    }

    fn run_args(args: &[&str]) -> SvdArgs {
        match parse(args) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("expected arguments, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_any_order() {
        let a = run_args(&["-o", "out", "in.npy"]);
        assert_eq!(a.input, PathBuf::from("in.npy"));
        assert_eq!(a.output, PathBuf::from("out"));
        assert_eq!(a.vectors, Vectors::Thin);
        assert_eq!(a.backend, Backend::Auto);
        assert_eq!(a.tolerance, None);
        assert_eq!(a.max_sweeps, DEFAULT_MAX_SWEEPS);
        let b = run_args(&[
            "--max-sweeps=7",
            "--backend",
            "cpu",
            "in.npy",
            "--output=out",
            "--vectors",
            "full",
            "--tol",
            "1e-5",
        ]);
        assert_eq!(b.vectors, Vectors::Full);
        assert_eq!(b.backend, Backend::Cpu);
        assert_eq!(b.tolerance, Some(1e-5));
        assert_eq!(b.max_sweeps, 7);
    }

    #[test]
    fn mistakes_are_errors() {
        for bad in [
            &["in.npy"][..],
            &["-o", "out"],
            &["in.npy", "-o"],
            &["in.npy", "-o", "out", "--bogus"],
            &["in.npy", "-o", "out", "--tol", "1"],
            &["in.npy", "-o", "out", "--tol", "abc"],
            &["in.npy", "-o", "out", "--tol", "NaN"],
            &["in.npy", "-o", "out", "--max-sweeps", "0"],
            &["in.npy", "-o", "out", "--max-sweeps", "-3"],
            &["in.npy", "-o", "out", "--vectors", "some"],
            &["in.npy", "-o", "out", "--backend", "tpu"],
            &["in.npy", "other.npy", "-o", "out"],
            &["in.npy", "-o", ""],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn help_and_double_dash() {
        assert_eq!(parse(&["--help"]).ok(), Some(Parsed::Help));
        let a = run_args(&["-o", "out", "--", "-weird.npy"]);
        assert_eq!(a.input, PathBuf::from("-weird.npy"));
    }
}
