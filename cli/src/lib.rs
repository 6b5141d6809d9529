//! `batched-svd`: the command-line front end of the batched-svd library (this library is the
//! whole tool; `main.rs` only passes it the arguments, and the fuzz targets in `fuzz/` call its
//! `.npy` reader and argument parsers directly).
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
//! This file dispatches on the command ([`main_with_args`]); `args.rs` parses the computing
//! commands and `run.rs` is their one compute-and-write path; `info.rs` and `bench.rs` are the
//! other two commands.

pub mod args;
pub mod bench;
pub mod error;
pub mod fault;
pub mod info;
pub mod npy;
pub mod outdir;
pub mod report;
pub mod run;
pub mod usage;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use error::CliError;

/// Exit code for usage, input, output and library errors.
pub const EXIT_ERROR: u8 = 2;

/// The whole tool: runs the command line `args` (without the program name) and returns the
/// process's exit status.
pub fn main_with_args(args: &[OsString]) -> ExitCode {
    install_panic_hook();
    // A panic (a bug here or in a dependency) unwinds through the output staging, which
    // removes its temporaries, and then exits with the error status like any other error.
    match std::panic::catch_unwind(|| dispatch(args)) {
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
        let _ = std::io::stderr().write_all(usage::USAGE.as_bytes());
        return Ok(EXIT_ERROR);
    };
    let rest = &args[1..];
    match first.to_str() {
        Some("-h" | "--help" | "help") => print_stdout(usage::USAGE),
        Some("-V" | "--version") => {
            print_stdout(&format!("batched-svd {}\n", env!("CARGO_PKG_VERSION")))
        }
        Some("info") => {
            args::expect_no_arguments("info", rest)?;
            info::run()
        }
        Some("bench") => match bench::parse(rest)? {
            bench::Parsed::Help => print_stdout(bench::BENCH_USAGE),
            bench::Parsed::Run(bench_args) => bench::run(&bench_args),
        },
        Some(name) if args::Command::from_name(name).is_some() => {
            let command = args::Command::from_name(name).expect("matched above");
            match args::parse(command, rest)? {
                args::Parsed::Help => print_stdout(command.usage()),
                args::Parsed::Run(run_args) => run::run(&run_args),
            }
        }
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
