//! Regression tests of what the fuzz targets in `fuzz/` found (and of the reader's guards that
//! they check), each named after the failure. The inputs are the fuzzer's, rebuilt here so
//! that the tests need neither cargo-fuzz nor the corpus; `fuzz/README.md` lists the commands
//! that reproduce them with libFuzzer.
//!
//! The test binary counts the largest single allocation of each thread, so that "an error,
//! not an allocation" is checked, not assumed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use batched_svd_cli::npy;

/// The system allocator, recording the largest allocation of the current thread.
struct Largest;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: no record during thread teardown.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds as it does for `System`; `note` only touches a const-initialised
// thread-local `Cell`, which does not allocate.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's `layout` is passed on as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` was allocated by `System` with `layout`; `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// Runs `f`, returning its result and the largest allocation it made on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|l| l.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// A version 1.0 `.npy` file: `header` (the dict literal), padded as numpy pads it, then `data`.
fn npy_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header.as_bytes().to_vec();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(b' ');
    }
    text.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&u16::try_from(text.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

/// The error of reading `bytes` as the tool's input, with the length known (a file) and not
/// (a pipe); both must fail, and both messages are returned.
fn read_errors(bytes: &[u8]) -> [String; 2] {
    let path = Path::new("fuzz.npy");
    let as_file = npy::read_input_from(bytes, Some(bytes.len() as u64), path);
    let as_pipe = npy::read_input_from(bytes, None, path);
    [as_file, as_pipe].map(|r| match r {
        Ok(input) => panic!("read as {:?}", input.shape),
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains(['\n', '\r']), "{text:?}");
            text
        }
    })
}

/// Runs the tool on `bytes` given as a pipe on stdin (`svd /dev/stdin`), returning the exit
/// code, stderr and the wall time.
fn run_on_pipe(bytes: &[u8]) -> (Option<i32>, String, Duration) {
    let out_dir = std::env::temp_dir().join(format!("batched-svd-fuzzreg-{}", std::process::id()));
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_batched-svd"))
        .args(["svd", "/dev/stdin", "--backend", "cpu", "-o"])
        .arg(&out_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run batched-svd");
    let mut stdin = child.stdin.take().unwrap();
    // The tool may stop reading early (that is the point); a broken pipe is fine.
    let _ = stdin.write_all(bytes);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

/// Found by `npy_reader` in its first minute (a 204-byte file; its header is rebuilt here):
/// a mangled `fortran_order` key whose value opens 48 `[`. npyz's Python-literal parser (pest) backtracks exponentially in the nesting
/// depth, so the reader never returned; 12 levels of `{` took over a minute. Headers nesting
/// more than 4 deep are now refused before the parser sees them.
#[test]
fn npy_header_with_deeply_nested_brackets_is_an_error_not_a_hang() {
    let found = format!(
        "{{'descr': '>u4', 'fortran_ord{}er': {}False, 'shape': (2, 3, 4), }}",
        "^".repeat(41),
        "[".repeat(48)
    );
    let dicts = format!(
        "{{'descr': '<f4', 'fortran_order': {}False, 'shape': (2, 3), }}",
        "{".repeat(12)
    );
    let balanced = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': {}1{}}}",
        "[".repeat(16),
        "]".repeat(16)
    );
    for header in [found, dicts, balanced] {
        let started = Instant::now();
        for message in read_errors(&npy_bytes(&header, &[0; 96])) {
            assert!(
                message.contains("nests brackets more than 4 deep"),
                "{message}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    // Brackets inside strings do not count; a plain header still reads, as does a structured
    // dtype's (refused for its dtype, not its nesting).
    let quoted = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'x': '[[[[[[(((('}";
    assert!(npy::read_input_from(&npy_bytes(quoted, &[0; 4])[..], None, Path::new("q")).is_ok());
    let structured = "{'descr': [('a', '<f4', (2,)), ('b', '<i4')], 'fortran_order': False, \
                      'shape': (1, 1), }";
    for message in read_errors(&npy_bytes(structured, &[0; 12])) {
        assert!(message.contains("structured"), "{message}");
    }
    // The tool: exit 2 and one line, at once.
    let (code, stderr, took) = run_on_pipe(&npy_bytes(
        &format!(
            "{{'descr': '<f4', 'fortran_order': {}False, 'shape': (2, 2), }}",
            "{".repeat(40)
        ),
        &[0; 16],
    ));
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("nests brackets"), "{stderr}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// A header declaring 10¹² float32 elements (4 TB) over 64 bytes of data. With the length
/// known the declared size is checked against it before anything is allocated; from a pipe
/// (length unknown) the reader used to allocate and zero the declared size before reading
/// (`try_reserve` succeeds for any size the kernel overcommits: a 16 GiB shape on this
/// machine was 16 GiB resident) and now reads in 1 MiB blocks, failing at the end of the data.
#[test]
fn npy_header_with_huge_shape_is_an_error_not_an_allocation() {
    let huge = npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100), }",
        &[0; 64],
    );
    let (messages, largest) = largest_allocation(|| read_errors(&huge));
    assert!(messages[0].contains("is truncated"), "{}", messages[0]);
    assert!(
        messages[0].contains("needs 4000000000000 bytes"),
        "{}",
        messages[0]
    );
    // From a pipe: refused for the memory it would need once read (4 TB).
    assert!(messages[1].contains("memory"), "{}", messages[1]);
    assert!(largest <= 2 << 20, "largest allocation {largest} bytes");
    // A shape of 1 GiB, which fits the memory available: from a pipe of 64 bytes, a
    // truncation error after one 1 MiB block.
    let gib = npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (16384, 16384), }",
        &[0; 64],
    );
    let (messages, largest) = largest_allocation(|| read_errors(&gib));
    assert!(messages[1].contains("truncated") || messages[1].contains("memory"));
    assert!(largest <= 2 << 20, "largest allocation {largest} bytes");
    // Every element type, and the integer types' float64 conversion.
    for descr in ["<f8", ">f4", "|i1", "<u2", "|b1"] {
        let bytes = npy_bytes(
            &format!("{{'descr': '{descr}', 'fortran_order': True, 'shape': (7, 4000000000), }}"),
            &[1; 64],
        );
        let (_, largest) = largest_allocation(|| read_errors(&bytes));
        assert!(
            largest <= 2 << 20,
            "{descr}: largest allocation {largest} bytes"
        );
    }
    // The tool reading the same from a pipe: exit 2, one line.
    let (code, stderr, _) = run_on_pipe(&huge);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("truncated") || stderr.contains("memory"),
        "{stderr}"
    );
}

/// Data of unknown length shorter than its shape, across the 1 MiB block boundary: an error
/// naming the truncation; data exactly as long reads, and reads as the file does.
#[test]
fn npy_data_from_a_pipe_reads_in_blocks_as_from_a_file() {
    let n = 300_000; // 1.2 MB of float32: two blocks
    let data: Vec<u8> = (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': (3, {}, 2), }}",
        n / 6
    );
    let bytes = npy_bytes(&header, &data);
    let path = Path::new("p");
    let a = npy::read_input_from(&bytes[..], Some(bytes.len() as u64), path).unwrap();
    let b = npy::read_input_from(&bytes[..], None, path).unwrap();
    match (a.values, b.values) {
        (npy::Values::F32(a), npy::Values::F32(b)) => {
            assert_eq!(a.len(), n);
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        _ => panic!("float32 expected"),
    }
    for cut in [1, 4, (1 << 20) - 10, data.len() - 1] {
        let short = &bytes[..bytes.len() - cut];
        for message in read_errors(short) {
            assert!(message.contains("truncated"), "{message}");
        }
    }
}

/// A header over 64 KiB is refused before it is parsed (npyz's parser takes about 3 µs a
/// byte: a 1 MiB header took 3 s, 45 s under the fuzzer's instrumentation).
#[test]
fn npy_header_over_64_kib_is_an_error_not_a_slow_parse() {
    let list = "1, ".repeat(30_000);
    let header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'x': [{list}]}}");
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&u32::try_from(header.len() + 1).unwrap().to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(b"\n\0\0\0\0");
    let started = Instant::now();
    for message in read_errors(&bytes) {
        assert!(message.contains("is too long"), "{message}");
    }
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// Shapes whose dimensions multiply past `u64`, written as a list, in hexadecimal, binary or
/// octal, as a sum, or under a repeated `'shape'` key. The reader's check looked for a
/// parenthesised tuple of decimal integers and left the rest to npyz, which multiplies the
/// dimensions unchecked: `attempt to multiply with overflow` in builds with overflow checks
/// (the fuzz build, debug builds), a wrapped size otherwise. Found by feeding these spellings
/// to the `npy_reader` fuzz binary while extending its corpus; the check now parses the header
/// with npyz's own parser.
#[test]
fn npy_header_with_overflowing_shape_in_any_spelling_is_an_error_not_a_panic() {
    for (shape, extra) in [
        ("[4294967296, 4294967296, 2]", ""),
        ("(0x100000000, 0x100000000, 2)", ""),
        ("(4294967295+1, 4294967296, 2)", ""),
        ("(4_294_967_296, 4294967296, 0)", ""),
        ("(4294967296, 4294967296, 2)", "'shape': (1, 1), "),
    ] {
        let header =
            format!("{{{extra}'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        for message in read_errors(&npy_bytes(&header, &[0; 16])) {
            assert!(message.contains("too large"), "{shape}: {message}");
        }
    }
}

/// The tool on the matrix behind the `batch_constructors` finding (the CPU engine's Jacobi
/// sweeps never converged on matrices with a zero row): `svd --backend cpu` of
/// [[0, 0], [-2, 5]] printed NaN singular values and exited 1; now σ = (√29, 0), exit 0.
#[test]
fn svd_cpu_of_a_matrix_with_a_zero_row_converges_not_nan() {
    let dir = std::env::temp_dir().join(format!("batched-svd-zero-row-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("a.npy");
    let data: Vec<u8> = [0.0f64, 0.0, -2.0, 5.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let bytes = npy_bytes(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
        &data,
    );
    std::fs::write(&input, bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_batched-svd"))
        .args(["svd", "--backend", "cpu", "-o"])
        .arg(dir.join("out"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = std::fs::read(dir.join("out").join("s.npy")).unwrap();
    let sigma = npy::read_array_from(&s[..], Some(s.len() as u64), Path::new("s.npy")).unwrap();
    let npy::Values::F64(sigma) = sigma.values else {
        panic!("float64 expected")
    };
    assert!((sigma[0] - 29f64.sqrt()).abs() < 1e-14, "{sigma:?}");
    assert!(sigma[1].abs() < 1e-14, "{sigma:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
