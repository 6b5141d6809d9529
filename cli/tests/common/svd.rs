//! Helpers of the `svd` command's tests: running it, writing `.npy` inputs in every order
//! and byte order, loading outputs, and checking them against the f64 reference.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::process::Output;

use nalgebra::DMatrix;
use npyz::{DType, NpyFile, Order, TypeStr, WriteOptions, WriterBuilder};

use super::cli::{Scratch, load_report, run, stderr};
use super::matrices::gaussian_row_major;
use super::{orthogonality_error, reference_sigma};

/// Runs `svd INPUT -o OUT` plus `extra`.
pub fn svd(input: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new("svd"), input.as_os_str()];
    args.extend([OsStr::new("-o"), out.as_os_str()]);
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// Reorders a C-order array of `shape` into Fortran (first index fastest) file order.
pub fn to_fortran_order(data: &[f32], shape: &[u64]) -> Vec<f32> {
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let mut out = vec![0.0; data.len()];
    for (c, &x) in data.iter().enumerate() {
        let mut rest = c;
        let mut f = 0;
        let mut stride = 1;
        let mut index = vec![0; dims.len()];
        for (k, &d) in dims.iter().enumerate().rev() {
            index[k] = rest % d;
            rest /= d;
        }
        for (k, &d) in dims.iter().enumerate() {
            f += index[k] * stride;
            stride *= d;
        }
        out[f] = x;
    }
    out
}

/// Writes a float32 `.npy` of `shape` whose logical (C-order) contents are `data`, stored in
/// `order` and the given byte order.
pub fn save_f32(path: &Path, shape: &[u64], data: &[f32], order: Order, big_endian: bool) {
    let descr = if big_endian { ">f4" } else { "<f4" };
    let file_data = match order {
        Order::C => data.to_vec(),
        Order::Fortran => to_fortran_order(data, shape),
    };
    let mut w = WriteOptions::new()
        .dtype(DType::Plain(descr.parse::<TypeStr>().unwrap()))
        .shape(shape)
        .order(order)
        .writer(BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(file_data).unwrap();
    w.finish().unwrap();
}

/// Writes a little-endian C-order float32 `.npy`.
pub fn save(path: &Path, shape: &[u64], data: &[f32]) {
    save_f32(path, shape, data, Order::C, false);
}

/// Reads a C-order `.npy` of `T`: shape and data.
pub fn load<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, Vec<T>) {
    let npy = NpyFile::new(BufReader::new(File::open(path).unwrap())).unwrap();
    assert_eq!(npy.order(), Order::C, "{} is not C order", path.display());
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

pub fn load_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    load(path)
}

pub fn matrix(data: &[f32], b: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| f64::from(data[b * m * n + i * n + j]))
}

/// Asserts `got` matches the f64 reference singular values of `a` within 1e-4·σ₁.
pub fn assert_sigma(got: &[f32], a: &DMatrix<f64>, label: &str) {
    let reference = reference_sigma(a);
    assert_eq!(got.len(), reference.len(), "{label}");
    let tol = 1e-4 * reference[0].max(f64::MIN_POSITIVE);
    for (g, r) in got.iter().zip(&reference) {
        assert!(
            (f64::from(*g) - r).abs() <= tol,
            "{label}: σ {got:?} vs reference {reference:?}"
        );
    }
}

/// Checks every output of a thin or full run on a row-major `(count, m, n)` input: shapes as
/// `numpy.linalg.svd`, σ against the reference, orthonormal U and V, and `U·Σ·Vᵀ = A`.
pub fn check_outputs(dir: &Path, data: &[f32], shape3: [usize; 3], batched: bool, full: bool) {
    let [count, m, n] = shape3;
    let k = m.min(n);
    let (uc, vr) = if full { (m, n) } else { (k, k) };
    let lead = |dims: &[usize]| -> Vec<u64> {
        let mut v: Vec<u64> = if batched { vec![count as u64] } else { vec![] };
        v.extend(dims.iter().map(|&d| d as u64));
        v
    };
    let (s_shape, s) = load_f32(&dir.join("s.npy"));
    let (u_shape, u) = load_f32(&dir.join("u.npy"));
    let (vh_shape, vh) = load_f32(&dir.join("vh.npy"));
    let (st_shape, status) = load::<i32>(&dir.join("status.npy"));
    assert_eq!(s_shape, lead(&[k]));
    assert_eq!(u_shape, lead(&[m, uc]));
    assert_eq!(vh_shape, lead(&[vr, n]));
    assert_eq!(st_shape, lead(&[]));
    assert!(status.iter().all(|&x| x == 0), "status {status:?}");
    for b in 0..count {
        let a = matrix(data, b, m, n);
        assert_sigma(&s[b * k..(b + 1) * k], &a, &format!("matrix {b}"));
        let ub = matrix(&u, b, m, uc);
        let vt = matrix(&vh, b, vr, n);
        let scale = 1e-4;
        assert!(orthogonality_error(&ub) < scale, "U of {b} not orthonormal");
        let v = vt.transpose();
        assert!(orthogonality_error(&v) < scale, "V of {b} not orthonormal");
        let sigma = DMatrix::from_fn(
            k,
            k,
            |i, j| {
                if i == j { f64::from(s[b * k + i]) } else { 0.0 }
            },
        );
        let recon = ub.columns(0, k) * sigma * vt.rows(0, k);
        let err = (&a - recon).norm();
        assert!(
            err <= 1e-4 * a.norm().max(1.0),
            "matrix {b}: ‖A − UΣVᵀ‖ = {err}"
        );
    }
}

/// A batch whose middle matrix holds a NaN: exit 1, status `[0, 2, 0]`, others correct.
pub fn non_finite_batch(backend: &str, test: &str) {
    let s = Scratch::new(test);
    let (count, m, n) = (3, 4, 3);
    let mut data = gaussian_row_major(count, m, n, 3);
    data[m * n + 5] = f32::NAN;
    let input = s.path("a.npy");
    save(&input, &[count as u64, m as u64, n as u64], &data);
    let out = s.path("out");
    let result = svd(&input, &out, &["--backend", backend]);
    assert_eq!(result.status.code(), Some(1), "stderr: {}", stderr(&result));
    let (_, status) = load::<i32>(&out.join("status.npy"));
    assert_eq!(status, vec![0, 2, 0]);
    let (_, sigma) = load_f32(&out.join("s.npy"));
    for b in [0, 2] {
        assert_sigma(
            &sigma[b * n..(b + 1) * n],
            &matrix(&data, b, m, n),
            "finite matrix",
        );
    }
    assert!(sigma[n..2 * n].iter().all(|x| x.is_nan()));
    let r = load_report(&out);
    assert_eq!(r["non_finite"], 1);
    assert_eq!(r["not_converged"], 0);
}
