//! The tool's error: a message printed as exactly one line on stderr, exit code 2.

use std::fmt;
use std::io;
use std::path::Path;

/// A usage, input, output or library error. Every error exits with code 2.
#[derive(Debug)]
pub struct CliError {
    message: String,
    usage: bool,
}

impl CliError {
    /// An error in the command line itself; the printed line points at `--help`.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            usage: true,
        }
    }

    /// Any other error (input file, output directory, device, library).
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            usage: false,
        }
    }

    /// An I/O failure on `path`: `"{what} '{path}': {reason}"`.
    pub fn io(what: &str, path: &Path, err: &io::Error) -> Self {
        Self::other(format!("{what} '{}': {}", path.display(), io_reason(err)))
    }

    /// Prints the error as one line on stderr.
    pub fn report(&self) {
        eprintln!("batched-svd: error: {self}");
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&one_line(&self.message))?;
        if self.usage {
            f.write_str(" (see batched-svd --help)")?;
        }
        Ok(())
    }
}

impl From<batched_svd::Error> for CliError {
    fn from(err: batched_svd::Error) -> Self {
        Self::other(err.to_string())
    }
}

/// The reason of an I/O error without Rust's `" (os error N)"` suffix, e.g.
/// `"No such file or directory"`.
pub fn io_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// `text` with its line breaks (and the indentation around them) replaced by single spaces,
/// so that a message (a library error, a path) always prints as one line.
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("a\nb\r\n  c  d "), "a b c  d");
        let err = CliError::usage("bad\nthing");
        assert_eq!(err.to_string(), "bad thing (see batched-svd --help)");
    }

    #[test]
    fn os_error_suffix_is_dropped() {
        let err = io::Error::from_raw_os_error(2);
        assert!(!io_reason(&err).contains("os error"));
    }
}
