//! `batched-svd`: the command-line front end of the batched-svd library.
//!
//! ```text
//! batched-svd svd INPUT.npy -o OUTDIR [--vectors none|thin|full] [--backend auto|gpu|cpu]
//!                 [--tol X] [--max-sweeps N] [--rank K | --rtol X]
//! batched-svd pinv A.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
//! batched-svd lstsq A.npy B.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
//! batched-svd info
//! batched-svd bench [--quick] [--json FILE] [--shapes LIST] [--count N] [--peak-gflops X]
//! batched-svd --help | --version
//! ```
//!
//! Exit codes: `0` success (every matrix converged); `1` outputs written but some matrix did
//! not converge or had non-finite input; `2` usage, input, output or library error, reported
//! as exactly one line on stderr.
//!
//! This file parses the command line and dispatches; the subcommands live in their modules.

mod args;
mod bench;
mod bench_resident;
mod error;
mod info;
mod npy;
mod ops_args;
mod ops_cmd;
mod outdir;
mod polar_cmd;
mod report;
mod svd_cmd;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use error::CliError;

/// Exit code for usage, input, output and library errors.
const EXIT_ERROR: u8 = 2;

/// The overall usage text (`--help`).
const USAGE: &str = "\
batched-svd: singular value decomposition of a batch of matrices on the GPU (wgpu) or CPU

Usage:
  batched-svd svd INPUT.npy -o OUTDIR [--vectors none|thin|full] [--backend auto|gpu|cpu]
                  [--tol X] [--max-sweeps N] [--rank K | --rtol X]
  batched-svd pinv A.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
  batched-svd lstsq A.npy B.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
  batched-svd polar INPUT.npy -o OUTDIR [--backend auto|gpu|cpu] [--rotation-only]
  batched-svd info
  batched-svd bench [--quick] [--json FILE] [--shapes LIST] [--count N]
                    [--peak-gflops X]
  batched-svd --help | --version

Commands:
  svd    Decompose every matrix of a float32 .npy array of shape (m, n) or (count, m, n)
         (C or Fortran order, either byte order). Writes to OUTDIR, as numpy.linalg.svd
         returns them: s.npy, u.npy and vh.npy (unless --vectors none), status.npy
         (int32 per matrix: 0 converged, 1 not converged within max_sweeps,
         2 non-finite input) and report.json. Files appear only once all were written.
  pinv   Pseudoinverse of every matrix (singular values <= rcond * s_max treated as
         zero; default rcond max(m, n) * 2^-23): pinv.npy (count, n, m), rank.npy,
         status.npy, report.json (see batched-svd pinv --help).
  lstsq  Minimum-norm least squares min ||A x - b|| for B of shape (count, m) or
         (count, m, r), same cutoff: x.npy, residuals.npy, rank.npy, status.npy,
         report.json (see batched-svd lstsq --help).
  polar  Polar decomposition A = R·S of every square matrix: r.npy and s.npy shaped like
         the input (R the closest rotation, det +1; S symmetric), status.npy, report.json
         (see batched-svd polar --help).
  info   List the GPU adapters, the one chosen, and its limits and features.
  bench  Time the GPU path against nalgebra (f32) on 1 thread and on all cores on random
         batches of each shape; prints a table (see batched-svd bench --help).

Options of svd:
  -o, --output DIR     Output directory (created if missing).
  --vectors MODE       none, thin (default) or full (square U and Vh).
  --backend MODE       auto (default: GPU, else CPU with a warning), gpu or cpu (nalgebra).
  --tol X              Jacobi rotation threshold in (0, 1); default 4*sqrt(max(m, n))*2^-23.
                       GPU only, like --max-sweeps.
  --max-sweeps N       Sweep cap per matrix, at least 1 (default 30).
  --rank K             Keep the top K singular triplets: s (count, K), u (count, m, K),
                       vh (count, K, n) (K capped at min(m, n)), plus rank.npy.
  --rtol X             Keep the triplets with s > X * s_max; shapes stay thin, dropped
                       triplets are zero, rank.npy (int32, (count,)) has the rank kept.

Exit status: 0 all converged; 1 outputs written but some matrix did not converge or had
non-finite input; 2 usage, input, output or device error (one line on stderr).

Environment: WGPU_BACKEND (e.g. vulkan, gl) restricts the backends searched;
WGPU_ADAPTER_NAME picks an adapter by name.
";

fn main() -> ExitCode {
    install_panic_hook();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // A panic (a bug here or in a dependency) unwinds through the output staging, which
    // removes its temporaries, and then exits with the error status like any other error.
    match std::panic::catch_unwind(|| dispatch(&args)) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(err)) => {
            err.report();
            ExitCode::from(EXIT_ERROR)
        }
        Err(_) => ExitCode::from(EXIT_ERROR),
    }
}

/// Makes a panic print one `batched-svd: error:` line, unless `RUST_BACKTRACE` asks for the
/// default report.
fn install_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown panic");
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        CliError::other(format!(
            "internal error: {message}{location} (please report this bug)"
        ))
        .report();
    }));
}

/// Runs the command named by the first argument; returns the exit code on success.
fn dispatch(args: &[OsString]) -> Result<u8, CliError> {
    let Some(first) = args.first() else {
        // No arguments at all: usage on stderr, failure status.
        let _ = std::io::stderr().write_all(USAGE.as_bytes());
        return Ok(EXIT_ERROR);
    };
    let rest = &args[1..];
    match first.to_str() {
        Some("-h" | "--help" | "help") => print_stdout(USAGE),
        Some("-V" | "--version") => {
            print_stdout(&format!("batched-svd {}\n", env!("CARGO_PKG_VERSION")))
        }
        Some("svd") => match args::parse_svd(rest)? {
            args::Parsed::Help => print_stdout(args::SVD_USAGE),
            args::Parsed::Run(svd_args) => svd_cmd::run(&svd_args),
        },
        Some("info") => {
            args::expect_no_arguments("info", rest)?;
            info::run()
        }
        Some("bench") => match bench::parse(rest)? {
            bench::Parsed::Help => print_stdout(bench::BENCH_USAGE),
            bench::Parsed::Run(bench_args) => bench::run(&bench_args),
        },
        Some(command @ ("pinv" | "lstsq")) => {
            let (inputs, usage): (&[&str], _) = if command == "pinv" {
                (&["A.npy"], ops_args::PINV_USAGE)
            } else {
                (&["A.npy", "B.npy"], ops_args::LSTSQ_USAGE)
            };
            match ops_args::parse(command, inputs, rest)? {
                ops_args::Parsed::Help => print_stdout(usage),
                ops_args::Parsed::Run(a) if command == "pinv" => ops_cmd::run_pinv(&a),
                ops_args::Parsed::Run(a) => ops_cmd::run_lstsq(&a),
            }
        }
        Some("polar") => match polar_cmd::parse(rest)? {
            None => print_stdout(polar_cmd::USAGE),
            Some(polar_args) => polar_cmd::run(&polar_args),
        },
        Some(other) if other.starts_with('-') => {
            Err(CliError::usage(format!("unknown option '{other}'")))
        }
        _ => Err(CliError::usage(format!(
            "unknown command '{}' (expected svd, pinv, lstsq, polar, info or bench)",
            first.to_string_lossy()
        ))),
    }
}

/// Writes `text` to stdout (ignoring a closed pipe) and succeeds with exit code 0.
fn print_stdout(text: &str) -> Result<u8, CliError> {
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(0)
}
