//! Shared support of the command-line tests (`tests/cli*.rs`): scratch directories, running
//! the built tool, and the exit-code and stderr checks.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A scratch directory unique to this process and test, removed on drop.
pub struct Scratch {
    root: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Self {
        let root =
            std::env::temp_dir().join(format!("batched-svd-cli-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("create scratch directory");
        Self { root }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Runs the tool with `args` (paths or strings).
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    run_env(args, &[])
}

/// Runs the tool with `args` and extra environment variables.
pub fn run_env<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_batched-svd"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run batched-svd")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts exit code 2 and exactly one stderr line, a `batched-svd: error:` naming `needle`.
pub fn assert_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got {lines:?}");
    assert!(
        lines[0].starts_with("batched-svd: error: "),
        "unexpected line {:?}",
        lines[0]
    );
    assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
}

/// Asserts exit code 0, printing stderr otherwise.
pub fn assert_success(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(out));
}

/// File names in `dir`, sorted (hidden ones included).
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read output directory")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The `report.json` of an output directory.
pub fn load_report(dir: &Path) -> Value {
    let text = fs::read_to_string(dir.join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Writes a version-1 `.npy` with the given header fields and raw data bytes.
pub fn write_raw_npy(path: &Path, descr: &str, shape: &str, data: &[u8]) {
    let mut header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}");
    while !(header.len() + 11).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut file = b"\x93NUMPY\x01\x00".to_vec();
    file.extend_from_slice(&(header.len() as u16).to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(data);
    fs::write(path, file).unwrap();
}

/// Runs `command` with the given leading arguments, `-o out`, `--backend backend` and `extra`.
pub fn op(command: &str, inputs: &[&Path], out: &Path, backend: &str, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new(command)];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend([OsStr::new("-o"), out.as_os_str()]);
    args.extend([OsStr::new("--backend"), OsStr::new(backend)]);
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// The backends to exercise: the CPU always, the GPU when there is an adapter.
pub fn backends() -> Vec<&'static str> {
    let mut v = vec!["cpu"];
    if super::gpu().is_some() {
        v.push("gpu");
    }
    v
}
