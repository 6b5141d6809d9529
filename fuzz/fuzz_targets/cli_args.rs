//! The tool's argument parsers on arbitrary argument vectors, non-UTF-8 included: the
//! computing commands' parser (`svd`, `pinv`, `lstsq`, `polar`), `bench`'s, and `info`'s
//! no-argument check, as `main` dispatches to them.
//!
//! The input is the argument vector with its arguments separated by NUL bytes (the seeds in
//! `corpus/cli_args` read as command lines); `cli_args.dict` gives libFuzzer the option
//! names and edge-case values (numbers out of range, NaN, shapes, lists) to splice in. A parse
//! must return (no panic, no hang), deterministically; an error must be one non-empty line; a
//! success must hold values the library accepts (the options it builds validate).

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use batched_svd::{Cutoff, SvdOptions, Vectors};
use batched_svd_cli::args::{self, Command, Operation, Parsed};
use batched_svd_cli::bench;
use batched_svd_cli::error::CliError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The arguments, separated by NUL bytes (which no real argument holds).
    let mut argv: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    if argv.len() > 64 {
        return;
    }
    let first = argv.remove(0);
    let rest = argv;

    // As `main` dispatches.
    match first.to_str() {
        Some("info") => {
            if let Err(e) = args::expect_no_arguments("info", &rest) {
                check_error(&e);
                assert!(!rest.is_empty());
            } else {
                assert!(rest.is_empty());
            }
        }
        Some("bench") => check_bench(&rest),
        Some(name) => {
            if let Some(command) = Command::from_name(name) {
                assert_eq!(command.name(), name);
                assert!(!command.usage().is_empty());
                check_command(command, &rest);
            }
        }
        None => {}
    }
    // Every parser on every argument vector, whatever the first word.
    for command in [Command::Svd, Command::Pinv, Command::Lstsq, Command::Polar] {
        let mut all = vec![first.clone()];
        all.extend(rest.iter().cloned());
        check_command(command, &all);
    }
    check_bench(&rest);
});

fn check_command(command: Command, argv: &[OsString]) {
    let parsed = args::parse(command, argv);
    // Deterministic.
    match (&parsed, &args::parse(command, argv)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("two parses of the same arguments differ"),
    }
    let run = match parsed {
        Ok(Parsed::Help) => {
            assert!(argv.iter().any(|a| a == "-h" || a == "--help"));
            return;
        }
        Ok(Parsed::Run(run)) => run,
        Err(e) => {
            check_error(&e);
            assert!(e.to_string().starts_with(command.name()));
            return;
        }
    };
    assert_eq!(run.command, command);
    let inputs = if command == Command::Lstsq { 2 } else { 1 };
    assert_eq!(run.inputs.len(), inputs);
    assert!(run.inputs.iter().all(|p| !p.as_os_str().is_empty()));
    assert!(!run.output.as_os_str().is_empty());
    // What the tool then hands the library must be valid options.
    let mut opts = SvdOptions::default().with_max_sweeps(run.max_sweeps);
    if let Some(tol) = run.tolerance {
        opts = opts.with_tolerance(tol);
    }
    opts.validate().expect("parsed options are valid");
    match run.operation {
        Operation::Svd {
            vectors,
            truncation,
        } => {
            assert_eq!(command, Command::Svd);
            if let Some(cutoff) = truncation {
                cutoff.validate().expect("parsed cutoff is valid");
                assert!(matches!(cutoff, Cutoff::Rank(_) | Cutoff::Relative(_)));
                assert_ne!(vectors, Vectors::Full);
            }
            opts.with_vectors(vectors).validate().unwrap();
        }
        Operation::Pinv { rcond } | Operation::Lstsq { rcond } => {
            assert!(matches!(command, Command::Pinv | Command::Lstsq));
            if let Some(r) = rcond {
                batched_svd::ops::pinv::validate_rcond(r).expect("parsed rcond is valid");
            }
        }
        Operation::Polar { .. } => assert_eq!(command, Command::Polar),
    }
}

fn check_bench(argv: &[OsString]) {
    let parsed = bench::parse(argv);
    match (&parsed, &bench::parse(argv)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("two parses of the same arguments differ"),
    }
    match parsed {
        Ok(bench::Parsed::Help) => {}
        Ok(bench::Parsed::Run(b)) => {
            assert!(b.count.is_none_or(|c| (1..=1 << 24).contains(&c)));
            assert!(b.peak_gflops.is_none_or(|p| p.is_finite() && p > 0.0));
            for &(m, n) in b.shapes.iter().flatten() {
                assert!((1..=8192).contains(&m) && (1..=8192).contains(&n));
            }
            for &((m, n), c) in b.cases.iter().flatten() {
                assert!((1..=8192).contains(&m) && (1..=8192).contains(&n));
                assert!((1..=1 << 24).contains(&c));
            }
            assert!(b.json.as_ref().is_none_or(|p| !p.as_os_str().is_empty()));
            assert!(b.numpy.as_ref().is_none_or(|p| !p.as_os_str().is_empty()));
        }
        Err(e) => {
            check_error(&e);
            assert!(e.to_string().starts_with("bench: "));
        }
    }
}

/// The tool prints every error as exactly one non-empty line.
fn check_error(err: &CliError) {
    let text = err.to_string();
    assert!(!text.is_empty());
    assert!(
        !text.contains(['\n', '\r']),
        "error is not one line: {text:?}"
    );
}
