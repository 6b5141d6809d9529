//! The tool under faults: the file size limit (`ulimit -f`) and a full disk in the middle of
//! writing the outputs, `SIGKILL` at random moments while it writes them, and inputs larger
//! than the memory. Every failure is exit 2 with one line on stderr and leaves the output
//! directory as it was; every kill leaves it with none of the new files or all of them,
//! complete. All on the CPU engine, so that no GPU is needed.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::cli::{Scratch, assert_error, assert_success, entries, write_raw_npy};
use common::matrices::{Rng, gaussian_row_major};
use common::svd::{load, load_f32, save};
use serde_json::Value;

const TOOL: &str = env!("CARGO_BIN_EXE_batched-svd");

/// The outputs of `svd` in the order the tool writes them.
const SVD_FILES: [&str; 5] = ["s.npy", "u.npy", "vh.npy", "status.npy", "report.json"];

/// `svd INPUT -o OUT --backend cpu` plus `extra`, as arguments.
fn svd_args<'a>(input: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a OsStr> {
    let mut args: Vec<&OsStr> = vec![OsStr::new("svd"), input.as_os_str()];
    args.extend([OsStr::new("-o"), out.as_os_str()]);
    args.extend([OsStr::new("--backend"), OsStr::new("cpu")]);
    args.extend(extra.iter().map(|&e| OsStr::new(e)));
    args
}

/// Every file under `dir` (relative path → contents), directories listed with no contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The entries next to `out` that the tool left there (staging directories).
fn leftovers_next_to(out: &Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    entries(out.parent().unwrap())
        .into_iter()
        .filter(|e| e.starts_with(&format!(".{name}.batched-svd")))
        .collect()
}

/// Fills `out` with an earlier run's outputs (of `old_input`, values only) and files of the
/// user's: `keep.txt` and `notes/deep.txt`.
fn populate(out: &Path, old_input: &Path) {
    assert_success(&common::cli::run(&svd_args(
        old_input,
        out,
        &["--vectors", "none"],
    )));
    fs::write(out.join("keep.txt"), b"precious").unwrap();
    fs::create_dir(out.join("notes")).unwrap();
    fs::write(out.join("notes").join("deep.txt"), b"deep").unwrap();
}

/// Asserts that the failed run `result` left `out` exactly as `before` and nothing next to
/// it, and that its one error line names `file` (when given) and `cause`.
fn assert_failed_cleanly(
    result: &Output,
    out: &Path,
    before: Option<&BTreeMap<String, Option<Vec<u8>>>>,
    file: Option<&str>,
    cause: &str,
) {
    assert_error(result, cause);
    if let Some(file) = file {
        assert_error(result, &format!("{file}'"));
    }
    match before {
        Some(before) => assert!(
            snapshot(out) == *before,
            "{} changed: {:?}",
            out.display(),
            entries(out)
        ),
        None => assert!(!out.exists(), "{} was created", out.display()),
    }
    assert_eq!(leftovers_next_to(out), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// The file size limit
// ---------------------------------------------------------------------------------------

/// Runs `svd` under `ulimit -f blocks` in `sh`, optionally from the directory `cwd`.
fn svd_limited(blocks: u64, args: &[&OsStr], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -f "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg(blocks.to_string())
        .arg(TOOL)
        .args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output().expect("run sh")
}

/// The bytes of one `ulimit -f` block in `sh` (512 in POSIX shells, 1024 in bash).
fn ulimit_block_bytes(s: &Scratch) -> u64 {
    let probe = s.path("block-probe");
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -f 1 && exec head -c 100000 /dev/zero > "$1""#)
        .arg("sh")
        .arg(&probe)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "head wrote past the limit");
    let bytes = fs::metadata(&probe).unwrap().len();
    assert!(
        bytes == 512 || bytes == 1024,
        "ulimit block of {bytes} bytes"
    );
    bytes
}

/// The sizes of a successful run's outputs, in the order they are written.
fn output_sizes(input: &Path, out: &Path) -> Vec<(&'static str, u64)> {
    assert_success(&common::cli::run(&svd_args(input, out, &[])));
    let sizes = SVD_FILES
        .iter()
        .map(|&f| (f, fs::metadata(out.join(f)).unwrap().len()))
        .collect();
    fs::remove_dir_all(out).unwrap();
    sizes
}

/// For each output that a limit can make the first to fail (larger than every file before
/// it), the largest limit in blocks below its size.
fn limits_hitting(sizes: &[(&'static str, u64)], block: u64) -> Vec<(u64, &'static str)> {
    let mut cases = vec![(0, sizes[0].0)];
    for (i, &(file, size)) in sizes.iter().enumerate() {
        let before = sizes[..i].iter().map(|&(_, s)| s).max().unwrap_or(0);
        // 64 bytes of margin: report.json's length varies with its timings.
        let blocks = (size - 64) / block;
        if blocks > 0 && blocks * block >= before + 64 {
            cases.push((blocks, file));
        }
    }
    cases
}

#[test]
fn file_size_limit_fails_cleanly_on_every_output() {
    let s = Scratch::new("faults_ulimit");
    let block = ulimit_block_bytes(&s);
    // s (640 bytes), u (8 KiB), vh (32 KiB) grow in writing order; the arrays of one 2×2
    // matrix are all smaller than its report.json.
    let wide = s.path("wide.npy");
    save(&wide, &[8, 16, 64], &gaussian_row_major(8, 16, 64, 1));
    let tiny = s.path("tiny.npy");
    save(&tiny, &[2, 2], &[2.0, 1.0, 1.0, 3.0]);
    let old = s.path("old.npy");
    save(&old, &[3, 4, 4], &gaussian_row_major(3, 4, 4, 2));

    let mut hit: Vec<&str> = Vec::new();
    for input in [&wide, &tiny] {
        let sizes = output_sizes(input, &s.path("sizes"));
        for (blocks, file) in limits_hitting(&sizes, block) {
            // Into a new directory, and into one holding an earlier run's files and the user's.
            let fresh = s.path("fresh");
            let result = svd_limited(blocks, &svd_args(input, &fresh, &[]), None);
            assert_failed_cleanly(&result, &fresh, None, Some(file), "File too large");

            let out = s.path("existing");
            let _ = fs::remove_dir_all(&out);
            populate(&out, &old);
            let before = snapshot(&out);
            let result = svd_limited(blocks, &svd_args(input, &out, &[]), None);
            assert_failed_cleanly(&result, &out, Some(&before), Some(file), "File too large");

            // The per-file fallback (OUTDIR is the working directory) cleans up as well.
            let result = svd_limited(blocks, &svd_args(input, Path::new("."), &[]), Some(&out));
            assert_error(&result, "File too large");
            assert!(snapshot(&out) == before, "in place: {:?}", entries(&out));
            hit.push(file);
        }
    }
    hit.sort_unstable();
    hit.dedup();
    println!("ulimit -f blocks of {block} bytes; failures hit {hit:?}");
    for file in ["s.npy", "u.npy", "vh.npy", "report.json"] {
        assert!(hit.contains(&file), "no limit made {file} fail: {hit:?}");
    }
}

// ---------------------------------------------------------------------------------------
// A full disk
// ---------------------------------------------------------------------------------------

/// A tmpfs mounted for one test, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `bytes` on `dir`; the reason when that is not possible.
    fn tmpfs(dir: &Path, bytes: u64) -> Result<Self, String> {
        fs::create_dir_all(dir).unwrap();
        let result = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={bytes},mode=0755"))
            .arg("batched-svd-test")
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if result.status.success() {
            Ok(Self(dir.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&result.stderr).trim().to_string())
        }
    }

    /// The bytes available in the file system, and its block size.
    fn available(&self) -> (u64, u64) {
        let path = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: `statvfs` is plain old data, fully written by a successful call; `path` is
        // NUL-terminated and outlives the call.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: as above; the call writes only into `st`.
        let rc = unsafe { libc::statvfs(path.as_ptr(), &raw mut st) };
        assert_eq!(rc, 0, "statvfs");
        (st.f_bavail * st.f_frsize, st.f_frsize)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_disk_fails_cleanly_on_every_output() {
    let s = Scratch::new("faults_full_disk");
    let mount = match Mount::tmpfs(&s.path("mnt"), 4 << 20) {
        Ok(m) => m,
        Err(reason) => {
            println!("skipped: cannot mount a small tmpfs for a full disk: {reason}");
            return;
        }
    };
    let wide = s.path("wide.npy");
    save(&wide, &[8, 16, 64], &gaussian_row_major(8, 16, 64, 1));
    let old = s.path("old.npy");
    save(&old, &[3, 4, 4], &gaussian_row_major(3, 4, 4, 2));
    let sizes = output_sizes(&wide, &s.path("sizes"));
    let out = mount.0.join("out");
    populate(&out, &old);
    let before = snapshot(&out);

    let (_, page) = mount.available();
    let pages = |bytes: u64| bytes.div_ceil(page) * page;
    let mut hit = Vec::new();
    for (i, &(file, _)) in sizes.iter().enumerate() {
        // Room for every file before this one and not one byte more.
        let room: u64 = sizes[..i].iter().map(|&(_, b)| pages(b)).sum();
        let filler = mount.0.join("filler");
        let (available, _) = mount.available();
        fs::write(
            &filler,
            vec![1u8; usize::try_from(available - room).unwrap()],
        )
        .unwrap();
        assert_eq!(mount.available().0, room);

        let result = common::cli::run(&svd_args(&wide, &out, &[]));
        assert_failed_cleanly(
            &result,
            &out,
            Some(&before),
            Some(file),
            "No space left on device",
        );
        let fresh = mount.0.join("fresh");
        let result = common::cli::run(&svd_args(&wide, &fresh, &[]));
        assert_failed_cleanly(&result, &fresh, None, Some(file), "No space left on device");
        // OUTDIR that is the mount point itself: the per-file fallback, which cleans up too.
        let root_before = snapshot(&mount.0);
        let result = common::cli::run(&svd_args(&wide, &mount.0, &[]));
        assert_error(&result, "No space left on device");
        assert!(
            snapshot(&mount.0) == root_before,
            "mount point: {:?}",
            entries(&mount.0)
        );
        fs::remove_file(&filler).unwrap();
        hit.push(file);
    }
    println!("full tmpfs: failures hit {hit:?}");
    // With room again, the same run succeeds.
    assert_success(&common::cli::run(&svd_args(&wide, &out, &[])));
    assert_eq!(leftovers_next_to(&out), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// SIGKILL at random moments
// ---------------------------------------------------------------------------------------

/// What a killed run left in the output directory.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Exactly the files that were there before.
    Old,
    /// All the new files, complete, and the user's files.
    New,
}

/// The outputs of one run, to compare with.
struct Expected {
    arrays: BTreeMap<&'static str, Vec<u8>>,
    input: String,
}

impl Expected {
    fn of(dir: &Path, names: &[&'static str], input: &Path) -> Self {
        let arrays = names
            .iter()
            .filter(|n| n.ends_with(".npy"))
            .map(|&n| (n, fs::read(dir.join(n)).unwrap()))
            .collect();
        Self {
            arrays,
            input: input.display().to_string(),
        }
    }

    /// Whether `dir` holds exactly these arrays, byte for byte, and a complete report.json
    /// of the same input.
    fn held_by(&self, dir: &Path) -> Result<(), String> {
        for (name, bytes) in &self.arrays {
            let got = fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
            if got != *bytes {
                return Err(format!("{name} differs ({} bytes)", got.len()));
            }
        }
        let text = fs::read_to_string(dir.join("report.json")).map_err(|e| e.to_string())?;
        let report: Value = serde_json::from_str(&text).map_err(|e| format!("report.json: {e}"))?;
        if report["input"]["path"] != self.input.as_str() {
            return Err(format!("report.json is another run's: {}", report["input"]));
        }
        Ok(())
    }
}

/// Classifies what a kill left in `out`.
fn classify(
    out: &Path,
    user: &BTreeMap<String, Option<Vec<u8>>>,
    old: &Expected,
    new: &Expected,
) -> Result<State, String> {
    let names: Vec<String> = entries(out);
    let has = |n: &str| names.iter().any(|e| e == n);
    for (path, contents) in user {
        let now = fs::read(out.join(path)).ok();
        if contents.is_some() && now != *contents {
            return Err(format!("the user's {path} changed"));
        }
    }
    let state = if has("u.npy") || has("vh.npy") {
        new.held_by(out).map(|()| State::New)
    } else {
        old.held_by(out).map(|()| State::Old)
    }?;
    let mut expected: Vec<&str> = vec!["keep.txt", "notes", "report.json", "s.npy", "status.npy"];
    if state == State::New {
        expected.extend(["u.npy", "vh.npy"]);
    }
    expected.sort_unstable();
    if names != expected {
        return Err(format!("{state:?} with other entries: {names:?}"));
    }
    Ok(state)
}

/// Where a killed run was, from what it left: its staging directory next to `out` (empty
/// while computing, then filling with the outputs, then with the links of OUTDIR's other
/// files), or the new files in OUTDIR.
fn phase(out: &Path, state: State) -> &'static str {
    if state == State::New {
        return "after the exchange";
    }
    let Some(staging) = leftovers_next_to(out).pop() else {
        return "before staging";
    };
    let staged = entries(&out.parent().unwrap().join(staging));
    let outputs = staged
        .iter()
        .filter(|e| SVD_FILES.contains(&e.as_str()))
        .count();
    match (outputs, staged.len() > outputs) {
        (0, _) => "computing",
        (_, true) => "linking",
        (n, false) if n < SVD_FILES.len() => "writing",
        _ => "written",
    }
}

/// Copies the files of `from` (and its subdirectories) into a new `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn sigkill_while_writing_leaves_none_or_all_of_the_new_files() {
    const KILLS: usize = 60;
    let s = Scratch::new("faults_sigkill");
    // Full vectors of tall matrices: little computing, 33 MB of outputs to write and sync.
    let (count, m, n) = (128, 256, 2);
    let input = s.path("new.npy");
    save(
        &input,
        &[count as u64, m as u64, n as u64],
        &gaussian_row_major(count, m, n, 7),
    );
    let old_input = s.path("old.npy");
    save(&old_input, &[5, 3, 3], &gaussian_row_major(5, 3, 3, 8));
    let out = s.path("out");
    let args = svd_args(&input, &out, &["--vectors", "full"]);

    // The old state: an earlier run's values and the user's files, kept as a template.
    let template = s.path("template");
    populate(&template, &old_input);
    let old = Expected::of(&template, &["s.npy", "status.npy"], &old_input);
    let user = {
        let mut u = snapshot(&template);
        u.retain(|k, _| k == "keep.txt" || k.starts_with("notes"));
        u
    };
    // The new state, and how long a run takes (spawn to exit) and writes.
    let reference = s.path("reference");
    let mut durations = Vec::new();
    let mut write = 0.0f64;
    for _ in 0..3 {
        let _ = fs::remove_dir_all(&reference);
        copy_tree(&template, &reference);
        let started = Instant::now();
        let result = common::cli::run(&svd_args(&input, &reference, &["--vectors", "full"]));
        durations.push(started.elapsed());
        assert_success(&result);
        let report: Value =
            serde_json::from_str(&fs::read_to_string(reference.join("report.json")).unwrap())
                .unwrap();
        write = write.max(report["seconds"]["write_output"].as_f64().unwrap());
    }
    durations.sort();
    let run = durations[1];
    let new = Expected::of(&reference, &SVD_FILES, &input);
    assert_eq!(classify(&reference, &user, &old, &new), Ok(State::New));

    // A third of the kills at any moment of the run, the others in its last part, where it
    // writes and commits.
    let window = Duration::from_secs_f64(write + 0.02).min(run);
    let mut rng = Rng::new(16);
    let mut phases: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut killed, mut finished) = (0, 0);
    let started = Instant::now();
    let mut attempt = 0;
    while killed < KILLS {
        attempt += 1;
        assert!(attempt < 4 * KILLS, "too many runs ended before their kill");
        let _ = fs::remove_dir_all(&out);
        copy_tree(&template, &out);
        let delay = if attempt % 3 == 0 {
            run.mul_f64(rng.uniform())
        } else {
            run - window + window.mul_f64(rng.uniform())
        };
        let mut child = Command::new(TOOL)
            .args(&args)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn batched-svd");
        std::thread::sleep(delay);
        let ended_first = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let status = child.wait().unwrap();
        if ended_first || status.code().is_some() {
            finished += 1;
            assert_eq!(status.code(), Some(0));
            assert_eq!(classify(&out, &user, &old, &new), Ok(State::New));
            continue;
        }
        killed += 1;
        let state = classify(&out, &user, &old, &new)
            .unwrap_or_else(|e| panic!("kill {killed} after {delay:?}: {e}"));
        *phases.entry(phase(&out, state)).or_default() += 1;
    }
    // The next run completes and removes every leftover of the killed ones.
    assert_success(&common::cli::run(&args));
    assert_eq!(classify(&out, &user, &old, &new), Ok(State::New));
    assert_eq!(leftovers_next_to(&out), Vec::<String>::new());
    println!(
        "SIGKILL: {killed} kills over runs of {run:?} (writing {write:.3} s), {:.1} s in all, \
         each leaving OUTDIR with the old files or all the new ones; by phase: {phases:?}; \
         {finished} runs ended before their kill",
        started.elapsed().as_secs_f64()
    );
    assert!(
        phases.get("writing").copied().unwrap_or(0) >= KILLS / 6,
        "too few kills while writing: {phases:?}"
    );
    numpy_loads(&out, &["s.npy", "u.npy", "vh.npy", "status.npy"]);
}

/// Loads each file with numpy (when python3 has it), checking the shapes against npyz's.
fn numpy_loads(dir: &Path, names: &[&str]) {
    let has_numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_numpy {
        println!("numpy check skipped: python3 with numpy not found");
        return;
    }
    let script = "import sys, numpy\nfor p in sys.argv[1:]:\n    a = numpy.load(p)\n    \
                  print(p, a.shape, a.dtype, bool(numpy.isfinite(a).all()))";
    let result = Command::new("python3")
        .args(["-c", script])
        .args(names.iter().map(|n| dir.join(n)))
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "numpy: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let text = String::from_utf8_lossy(&result.stdout);
    for (line, name) in text.lines().zip(names) {
        let shape = if name.starts_with("status") {
            load::<i32>(&dir.join(name)).0
        } else {
            load_f32(&dir.join(name)).0
        };
        let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
        assert!(line.contains(&dims.join(", ")), "{line} vs {shape:?}");
        assert!(line.ends_with("True"), "{line}");
    }
}

// ---------------------------------------------------------------------------------------
// Inputs larger than the memory
// ---------------------------------------------------------------------------------------

/// Runs the tool with `args`; returns its output and its peak resident memory in KiB.
#[allow(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also gives its peak memory"
)]
fn run_measured(args: &[&OsStr]) -> (Output, u64) {
    let mut child = Command::new(TOOL)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = Vec::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain old data, zero is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is this process's unwaited child; `status` and `usage` are valid for
    // writes. `child` is not waited on afterwards (only dropped), so nothing reuses the pid.
    let rc = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(rc, pid, "wait4");
    assert!(libc::WIFEXITED(status), "killed by a signal: {status}");
    let code = libc::WEXITSTATUS(status);
    let output = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(code << 8),
        stdout: Vec::new(),
        stderr,
    };
    (output, u64::try_from(usage.ru_maxrss).unwrap())
}

/// The machine's memory in bytes (`MemTotal`).
fn mem_total() -> u64 {
    let info = fs::read_to_string("/proc/meminfo").unwrap();
    let line = info.lines().find(|l| l.starts_with("MemTotal:")).unwrap();
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[test]
fn header_claiming_more_than_memory_fails_before_allocating() {
    let s = Scratch::new("faults_huge_header");
    // 4 TB of float32 declared, 64 bytes present.
    let input = s.path("huge.npy");
    write_raw_npy(&input, "'<f4'", "(1000000, 1000, 1000)", &[0u8; 64]);
    let out = s.path("out");
    let started = Instant::now();
    let (result, peak_kib) = run_measured(&svd_args(&input, &out, &[]));
    let took = started.elapsed();
    assert_error(
        &result,
        "is truncated: its shape needs 4000000000000 bytes of data",
    );
    assert!(!out.exists());
    println!("4 TB header, 64 bytes of data: {took:?}, peak RSS {peak_kib} KiB");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn input_larger_than_memory_fails_before_allocating() {
    let s = Scratch::new("faults_huge_input");
    // A sparse file of twice the machine's memory (and swap), header and length consistent.
    let swap = {
        let info = fs::read_to_string("/proc/meminfo").unwrap();
        let line = info.lines().find(|l| l.starts_with("SwapTotal:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    };
    let matrix_bytes = 4u64 << 20;
    let count = (2 * (mem_total() + swap)).div_ceil(matrix_bytes);
    let input = s.path("huge.npy");
    write_raw_npy(&input, "'<f4'", &format!("({count}, 1024, 1024)"), &[]);
    let header = fs::metadata(&input).unwrap().len();
    let file = fs::OpenOptions::new().write(true).open(&input).unwrap();
    if let Err(e) = file.set_len(header + count * matrix_bytes) {
        println!("skipped: cannot make a sparse file of {count} × 4 MiB here: {e}");
        return;
    }
    drop(file);
    let out = s.path("out");
    let started = Instant::now();
    let (result, peak_kib) = run_measured(&svd_args(&input, &out, &[]));
    let took = started.elapsed();
    assert_error(&result, "of memory available; nothing was allocated");
    assert_error(&result, "huge.npy' holds ");
    assert!(!out.exists());
    let line = String::from_utf8_lossy(&result.stderr).trim().to_string();
    println!("{line} ({took:?}, peak RSS {peak_kib} KiB)");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn integer_input_larger_than_memory_as_float64_fails_before_allocating() {
    let s = Scratch::new("faults_huge_int8");
    // int8 data read as float64: a sparse file of 2/9 of the memory needs twice the memory.
    let swap = {
        let info = fs::read_to_string("/proc/meminfo").unwrap();
        let line = info.lines().find(|l| l.starts_with("SwapTotal:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    };
    let matrix_bytes = 1u64 << 20;
    let count = (2 * (mem_total() + swap)).div_ceil(9 * matrix_bytes);
    let input = s.path("huge_i1.npy");
    write_raw_npy(&input, "'|i1'", &format!("({count}, 1024, 1024)"), &[]);
    let header = fs::metadata(&input).unwrap().len();
    let file = fs::OpenOptions::new().write(true).open(&input).unwrap();
    if let Err(e) = file.set_len(header + count * matrix_bytes) {
        println!("skipped: cannot make a sparse file of {count} MiB here: {e}");
        return;
    }
    drop(file);
    let out = s.path("out");
    let started = Instant::now();
    let (result, peak_kib) = run_measured(&svd_args(&input, &out, &[]));
    let took = started.elapsed();
    // The reader's check (the file itself may also exceed the memory free right now).
    assert_error(&result, "huge_i1.npy'");
    assert_error(&result, "of memory");
    assert_error(&result, "nothing was allocated");
    assert!(!out.exists());
    let line = String::from_utf8_lossy(&result.stderr).trim().to_string();
    println!("{line} ({took:?}, peak RSS {peak_kib} KiB)");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
}
