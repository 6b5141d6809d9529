//! The tool's `.npy` reader on arbitrary bytes: the magic and version, the header (dtype,
//! shape, order, its length field), and data that is truncated, oversized or just right.
//!
//! Every input is read four ways: as the matrix batch of `svd` (`read_input_from`) and as the
//! any-rank array of `lstsq`'s right-hand sides (`read_array_from`), each with the length
//! known (a file: the declared size is checked against it before allocating) and unknown (a
//! pipe: the data is read in blocks). The reader must return (no panic, no hang, no
//! allocation beyond what the data justifies — libFuzzer's `-malloc_limit_mb`), the two
//! length modes must agree, an error must be one non-empty line, and a success must be
//! self-consistent (element count = product of the shape, a valid `MatrixBatch`).

#![no_main]

use std::path::Path;

use batched_svd_cli::error::CliError;
use batched_svd_cli::npy::{self, Values};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.npy");
    let known = Some(data.len() as u64);

    let as_file = npy::read_input_from(data, known, path);
    let as_pipe = npy::read_input_from(data, None, path);
    match (&as_file, &as_pipe) {
        (Ok(a), Ok(b)) => {
            check_input(a);
            assert_eq!(a.shape, b.shape);
            assert_eq!((a.count, a.m, a.n, a.layout), (b.count, b.m, b.n, b.layout));
            assert!(
                same_values(&a.values, &b.values),
                "file and pipe reads differ"
            );
        }
        (Err(a), Err(b)) => {
            check_error(a);
            check_error(b);
        }
        _ => panic!(
            "file and pipe reads disagree: {:?} vs {:?}",
            as_file.as_ref().err().map(ToString::to_string),
            as_pipe.as_ref().err().map(ToString::to_string)
        ),
    }

    let array_file = npy::read_array_from(data, known, path);
    let array_pipe = npy::read_array_from(data, None, path);
    match (&array_file, &array_pipe) {
        (Ok(a), Ok(b)) => {
            let elements: usize = a.shape.iter().product();
            assert_eq!(a.values.len(), elements);
            assert_eq!(a.shape, b.shape);
            assert!(
                same_values(&a.values, &b.values),
                "file and pipe reads differ"
            );
            // A file the batch reader accepts is the same array read as any rank.
            if let Ok(input) = &as_file {
                let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
                assert_eq!(shape, input.shape);
            }
        }
        (Err(a), Err(b)) => {
            check_error(a);
            check_error(b);
            // The batch reader is the array reader plus a rank check.
            assert!(as_file.is_err());
        }
        _ => panic!("file and pipe reads of the array disagree"),
    }
});

/// A successful read is a valid batch of `count` `m×n` matrices.
fn check_input(input: &npy::Input) {
    let count: usize = input.lead.iter().product();
    assert_eq!(count, input.count);
    assert_eq!(input.shape.len(), input.lead.len() + 2);
    assert_eq!(input.values.len(), input.count * input.m * input.n);
    assert_eq!(input.shaped(&[input.m, input.n]).len(), input.shape.len());
    let batch_ok = match &input.values {
        Values::F32(v) => input.batch(v).map(|b| (b.count(), b.rows(), b.cols())),
        Values::F64(v) => input.batch(v).map(|b| (b.count(), b.rows(), b.cols())),
        Values::C64(v) => input.batch(v).map(|b| (b.count(), b.rows(), b.cols())),
        Values::C128(v) => input.batch(v).map(|b| (b.count(), b.rows(), b.cols())),
    };
    assert_eq!(batch_ok.unwrap(), (input.count, input.m, input.n));
    assert!(matches!(
        input.values.dtype(),
        "float32" | "float64" | "complex64" | "complex128"
    ));
    let _ = npy::format_shape(&input.shape);
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

/// Bit for bit (NaN payloads included).
fn same_values(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::F32(a), Values::F32(b)) => a
            .iter()
            .map(|x| x.to_bits())
            .eq(b.iter().map(|x| x.to_bits())),
        (Values::F64(a), Values::F64(b)) => a
            .iter()
            .map(|x| x.to_bits())
            .eq(b.iter().map(|x| x.to_bits())),
        (Values::C64(a), Values::C64(b)) => a
            .iter()
            .map(|z| (z.re.to_bits(), z.im.to_bits()))
            .eq(b.iter().map(|z| (z.re.to_bits(), z.im.to_bits()))),
        (Values::C128(a), Values::C128(b)) => a
            .iter()
            .map(|z| (z.re.to_bits(), z.im.to_bits()))
            .eq(b.iter().map(|z| (z.re.to_bits(), z.im.to_bits()))),
        _ => false,
    }
}
