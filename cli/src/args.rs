//! The one argument parser of the computing commands (`svd`, `pinv`, `lstsq`, `polar`) and
//! its validators, hand-written so that every mistake is reported as one line naming the
//! command.
//!
//! Every command takes its positional inputs, `-o/--output`, `--backend`, `--tol` and
//! `--max-sweeps`; each adds its own options ([`Command::options`]). `--opt=value` and
//! `--opt value` are both accepted, in any order; `--` ends the options.

use std::ffi::OsString;
use std::path::PathBuf;

use batched_svd::{Backend, Cutoff, DEFAULT_MAX_SWEEPS, Vectors};

use crate::error::CliError;

/// The computing commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `svd INPUT.npy`.
    Svd,
    /// `pinv A.npy`.
    Pinv,
    /// `lstsq A.npy B.npy`.
    Lstsq,
    /// `polar INPUT.npy`.
    Polar,
}

impl Command {
    /// The command for its name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "svd" => Some(Command::Svd),
            "pinv" => Some(Command::Pinv),
            "lstsq" => Some(Command::Lstsq),
            "polar" => Some(Command::Polar),
            _ => None,
        }
    }

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Command::Svd => "svd",
            Command::Pinv => "pinv",
            Command::Lstsq => "lstsq",
            Command::Polar => "polar",
        }
    }

    /// The positional inputs, as the usage names them.
    fn inputs(self) -> &'static [&'static str] {
        match self {
            Command::Svd | Command::Polar => &["INPUT.npy"],
            Command::Pinv => &["A.npy"],
            Command::Lstsq => &["A.npy", "B.npy"],
        }
    }

    /// The options this command takes besides the common ones, with whether each takes a
    /// value.
    fn options(self) -> &'static [(&'static str, bool)] {
        match self {
            Command::Svd => &[("--vectors", true), ("--rank", true), ("--rtol", true)],
            Command::Pinv | Command::Lstsq => &[("--rcond", true)],
            Command::Polar => &[("--rotation-only", false)],
        }
    }

    /// `--help` of this command.
    pub fn usage(self) -> &'static str {
        match self {
            Command::Svd => crate::usage::SVD,
            Command::Pinv => crate::usage::PINV,
            Command::Lstsq => crate::usage::LSTSQ,
            Command::Polar => crate::usage::POLAR,
        }
    }
}

/// Options every computing command takes (canonical spelling), each with a value.
const COMMON_OPTIONS: [&str; 4] = ["--output", "--backend", "--tol", "--max-sweeps"];

/// What a command computes, with its own options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operation {
    /// The SVD, optionally truncated.
    Svd {
        /// Which singular vectors.
        vectors: Vectors,
        /// `--rank K` or `--rtol X`.
        truncation: Option<Cutoff>,
    },
    /// The pseudoinverse.
    Pinv {
        /// `--rcond X`, if given.
        rcond: Option<f64>,
    },
    /// Least squares.
    Lstsq {
        /// `--rcond X`, if given.
        rcond: Option<f64>,
    },
    /// The polar decomposition.
    Polar {
        /// `--rotation-only`.
        rotation_only: bool,
    },
}

/// The arguments of a computing command.
#[derive(Clone, Debug, PartialEq)]
pub struct RunArgs {
    /// The command.
    pub command: Command,
    /// Its input files, in the order of [`Command::inputs`].
    pub inputs: Vec<PathBuf>,
    /// The output directory.
    pub output: PathBuf,
    /// Which engine.
    pub backend: Backend,
    /// Explicit rotation threshold, if given.
    pub tolerance: Option<f32>,
    /// Sweep cap per matrix.
    pub max_sweeps: u32,
    /// What to compute.
    pub operation: Operation,
}

/// Result of parsing.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// `--help` was asked for.
    Help,
    /// Run with these arguments.
    Run(RunArgs),
}

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

/// Parses the arguments following the name of `command`.
pub fn parse(command: Command, args: &[OsString]) -> Result<Parsed, CliError> {
    let name = command.name();
    let err = |msg: String| CliError::usage(format!("{name}: {msg}"));
    let expected = command.inputs();
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut output: Option<PathBuf> = None;
    let mut backend = Backend::Auto;
    let mut tolerance = None;
    let mut max_sweeps = DEFAULT_MAX_SWEEPS;
    let mut vectors = Vectors::Thin;
    let mut truncation: Option<Cutoff> = None;
    let mut rcond = None;
    let mut rotation_only = false;
    let mut only_positional = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str();
        if only_positional || !text.is_some_and(|t| t.starts_with('-') && t.len() > 1) {
            if arg.is_empty() {
                return Err(err("an input path is empty".into()));
            }
            if inputs.len() == expected.len() {
                return Err(err(format!(
                    "unexpected argument '{}' (expected {})",
                    arg.to_string_lossy(),
                    expected.join(" ")
                )));
            }
            inputs.push(PathBuf::from(arg));
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
            Some((opt, value)) if opt.starts_with("--") => (opt, Some(OsString::from(value))),
            _ => (text, None),
        };
        let canonical = if given == "-o" { "--output" } else { given };
        let takes_value = if COMMON_OPTIONS.contains(&canonical) {
            true
        } else if let Some(&(_, v)) = command.options().iter().find(|(o, _)| *o == canonical) {
            v
        } else {
            return Err(err(format!("unknown option '{given}'")));
        };
        if !takes_value {
            if inline.is_some() {
                return Err(err(format!("{given} takes no value")));
            }
            rotation_only = true; // the only flag: --rotation-only
            continue;
        }
        let Some(value) = inline.or_else(|| iter.next().cloned()) else {
            return Err(err(format!("option {given} needs a value")));
        };
        if canonical == "--output" {
            if value.is_empty() {
                return Err(err("--output needs a non-empty value".into()));
            }
            output = Some(PathBuf::from(value));
            continue;
        }
        let value = value
            .into_string()
            .map_err(|v| err(format!("bad value for {canonical}: '{}'", v.display())))?;
        match canonical {
            "--backend" => backend = parse_backend(&value).map_err(err)?,
            "--tol" => tolerance = Some(parse_tolerance(&value).map_err(err)?),
            "--max-sweeps" => max_sweeps = parse_max_sweeps(&value).map_err(err)?,
            "--vectors" => vectors = parse_vectors(&value).map_err(err)?,
            "--rcond" => rcond = Some(parse_non_negative("--rcond", &value).map_err(err)?),
            "--rank" | "--rtol" => {
                let cutoff = parse_truncation(canonical, &value).map_err(err)?;
                if truncation
                    .is_some_and(|t| std::mem::discriminant(&t) != std::mem::discriminant(&cutoff))
                {
                    return Err(err("--rank and --rtol cannot be combined".into()));
                }
                truncation = Some(cutoff);
            }
            _ => unreachable!("every value option is matched above"),
        }
    }
    if inputs.len() < expected.len() {
        return Err(err(format!("missing {}", expected[inputs.len()])));
    }
    let output = output.ok_or_else(|| err("missing -o OUTDIR".into()))?;
    if truncation.is_some() && vectors == Vectors::Full {
        return Err(err(
            "--rank and --rtol truncate thin vectors; they cannot be used with --vectors full"
                .into(),
        ));
    }
    let operation = match command {
        Command::Svd => Operation::Svd {
            vectors,
            truncation,
        },
        Command::Pinv => Operation::Pinv { rcond },
        Command::Lstsq => Operation::Lstsq { rcond },
        Command::Polar => Operation::Polar { rotation_only },
    };
    Ok(Parsed::Run(RunArgs {
        command,
        inputs,
        output,
        backend,
        tolerance,
        max_sweeps,
        operation,
    }))
}

/// `none`, `thin` or `full`.
fn parse_vectors(value: &str) -> Result<Vectors, String> {
    match value {
        "none" => Ok(Vectors::None),
        "thin" => Ok(Vectors::Thin),
        "full" => Ok(Vectors::Full),
        _ => Err(format!(
            "bad value for --vectors: '{value}' (expected none, thin or full)"
        )),
    }
}

/// `auto`, `gpu` or `cpu`.
pub fn parse_backend(value: &str) -> Result<Backend, String> {
    value
        .parse()
        .map_err(|_| format!("bad value for --backend: '{value}' (expected auto, gpu or cpu)"))
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

/// A finite, non-negative number.
fn parse_non_negative(name: &str, value: &str) -> Result<f64, String> {
    let x: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("bad number for {name}: '{value}'"))?;
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("{name} must be finite and >= 0, got {value}"))
    }
}

/// `--rank K` (an integer ≥ 1) or `--rtol X` (a finite number ≥ 0).
fn parse_truncation(name: &str, value: &str) -> Result<Cutoff, String> {
    if name == "--rank" {
        return match value.trim().parse::<usize>() {
            Ok(0) => Err("--rank must be at least 1, got 0".to_string()),
            Ok(k) => Ok(Cutoff::Rank(k)),
            Err(_) => Err(format!(
                "bad number for --rank: '{value}' (expected a positive integer)"
            )),
        };
    }
    parse_non_negative("--rtol", value).map(Cutoff::Relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(command: Command, args: &[&str]) -> Result<Parsed, CliError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(command, &args)
    }

    fn run_args(command: Command, args: &[&str]) -> RunArgs {
        match parse_strs(command, args) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("expected arguments, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_any_order() {
        let a = run_args(Command::Svd, &["-o", "out", "in.npy"]);
        assert_eq!(a.inputs, vec![PathBuf::from("in.npy")]);
        assert_eq!(a.output, PathBuf::from("out"));
        assert_eq!(a.backend, Backend::Auto);
        assert_eq!(a.tolerance, None);
        assert_eq!(a.max_sweeps, DEFAULT_MAX_SWEEPS);
        assert_eq!(
            a.operation,
            Operation::Svd {
                vectors: Vectors::Thin,
                truncation: None
            }
        );
        let b = run_args(
            Command::Svd,
            &[
                "--max-sweeps=7",
                "--backend",
                "cpu",
                "in.npy",
                "--output=out",
                "--vectors",
                "full",
                "--tol",
                "1e-5",
            ],
        );
        assert_eq!(b.backend, Backend::Cpu);
        assert_eq!(b.tolerance, Some(1e-5));
        assert_eq!(b.max_sweeps, 7);
        assert!(matches!(
            b.operation,
            Operation::Svd {
                vectors: Vectors::Full,
                ..
            }
        ));
        let l = run_args(
            Command::Lstsq,
            &["a.npy", "-o", "out", "b.npy", "--rcond=1e-3"],
        );
        assert_eq!(
            l.inputs,
            vec![PathBuf::from("a.npy"), PathBuf::from("b.npy")]
        );
        assert_eq!(l.operation, Operation::Lstsq { rcond: Some(1e-3) });
        let p = run_args(
            Command::Polar,
            &["a.npy", "-o", "out", "--rotation-only", "--backend", "cpu"],
        );
        assert_eq!(
            p.operation,
            Operation::Polar {
                rotation_only: true
            }
        );
    }

    #[test]
    fn mistakes_are_errors_naming_the_command() {
        for (command, bad, needle) in [
            (Command::Svd, &["in.npy"][..], "svd: missing -o OUTDIR"),
            (Command::Svd, &["-o", "out"], "svd: missing INPUT.npy"),
            (Command::Svd, &["in.npy", "-o"], "option -o needs a value"),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--bogus"],
                "unknown option",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--tol", "1"],
                "--tol must be",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--tol", "abc"],
                "bad number",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--tol", "NaN"],
                "--tol must be",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--max-sweeps", "0"],
                "at least 1",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--max-sweeps", "-3"],
                "bad number",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--vectors", "some"],
                "--vectors",
            ),
            (
                Command::Svd,
                &["in.npy", "-o", "x", "--backend", "tpu"],
                "--backend",
            ),
            (
                Command::Svd,
                &["in.npy", "b.npy", "-o", "x"],
                "unexpected argument",
            ),
            (Command::Svd, &["in.npy", "-o", ""], "non-empty"),
            (
                Command::Lstsq,
                &["a.npy", "-o", "x"],
                "lstsq: missing B.npy",
            ),
            (
                Command::Pinv,
                &["a.npy", "-o", "x", "--rcond", "-1"],
                "--rcond must be",
            ),
            (
                Command::Pinv,
                &["a.npy", "-o", "x", "--vectors", "full"],
                "unknown option",
            ),
            (
                Command::Polar,
                &["a", "-o", "x", "--rotation-only=1"],
                "takes no value",
            ),
            (
                Command::Polar,
                &["a", "-o", "x", "--rank", "2"],
                "unknown option",
            ),
        ] {
            let e = parse_strs(command, bad)
                .expect_err("should fail")
                .to_string();
            assert!(e.contains(needle), "{bad:?}: {e:?} lacks {needle:?}");
            assert!(e.starts_with(command.name()), "{e}");
        }
    }

    #[test]
    fn help_and_double_dash() {
        assert_eq!(
            parse_strs(Command::Polar, &["--help"]).ok(),
            Some(Parsed::Help)
        );
        let a = run_args(Command::Svd, &["-o", "out", "--", "-weird.npy"]);
        assert_eq!(a.inputs, vec![PathBuf::from("-weird.npy")]);
    }
}
