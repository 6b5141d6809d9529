//! `batched-svd`: the command-line tool. Everything is in the library (`src/lib.rs`); this is
//! its entry point.

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A write past `ulimit -f` fails with EFBIG (one error line) instead of killing the tool.
    batched_svd_cli::outdir::ignore_file_size_signal();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    batched_svd_cli::main_with_args(&args)
}
