//! complex64 and complex128 `.npy` input to `svd`, `pinv`, `lstsq` and `polar`: numpy's
//! output dtypes (s and residuals real of the matching precision, the rest complex), shapes
//! with leading dimensions and empty batches, both byte orders, and the values against
//! nalgebra's complex f64 arithmetic.

mod common;

use std::path::Path;

use common::cli::{Scratch, assert_error, assert_success, load_report, op, write_raw_npy};
use common::matrices::Rng;
use nalgebra::{Complex, DMatrix};

type C64 = Complex<f64>;

/// Random complex values (parts N(0, 1)).
fn values(rng: &mut Rng, len: usize) -> Vec<C64> {
    (0..len)
        .map(|_| C64::new(rng.normal(), rng.normal()))
        .collect()
}

/// The raw bytes of `v` as complex64 or complex128 in the given byte order.
fn bytes(v: &[C64], double: bool, big_endian: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for z in v {
        for part in [z.re, z.im] {
            let b = match (double, big_endian) {
                (true, false) => part.to_le_bytes().to_vec(),
                (true, true) => part.to_be_bytes().to_vec(),
                (false, false) => (part as f32).to_le_bytes().to_vec(),
                (false, true) => (part as f32).to_be_bytes().to_vec(),
            };
            out.extend(b);
        }
    }
    out
}

/// Saves `v` (rounded to complex64 unless `double`) with `shape`; returns the stored values.
fn save(path: &Path, v: &[C64], shape: &[usize], double: bool, big_endian: bool) -> Vec<C64> {
    let descr = match (double, big_endian) {
        (true, false) => "'<c16'",
        (true, true) => "'>c16'",
        (false, false) => "'<c8'",
        (false, true) => "'>c8'",
    };
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    write_raw_npy(path, descr, &shape, &bytes(v, double, big_endian));
    v.iter()
        .map(|z| {
            if double {
                *z
            } else {
                C64::new(f64::from(z.re as f32), f64::from(z.im as f32))
            }
        })
        .collect()
}

/// An output file: its shape, descr and values widened to `Complex<f64>` (real files get a
/// zero imaginary part).
fn load(path: &Path) -> (Vec<u64>, String, Vec<C64>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let npy = npyz::NpyFile::new(file).unwrap();
    let shape = npy.shape().to_vec();
    let descr = npy.dtype().descr();
    let values = match descr.as_str() {
        "'<c8'" => npy
            .into_vec::<Complex<f32>>()
            .unwrap()
            .iter()
            .map(|z| C64::new(f64::from(z.re), f64::from(z.im)))
            .collect(),
        "'<c16'" => npy.into_vec::<C64>().unwrap(),
        "'<f4'" => npy
            .into_vec::<f32>()
            .unwrap()
            .iter()
            .map(|&x| C64::new(f64::from(x), 0.0))
            .collect(),
        "'<f8'" => npy
            .into_vec::<f64>()
            .unwrap()
            .iter()
            .map(|&x| C64::new(x, 0.0))
            .collect(),
        other => panic!("unexpected dtype {other}"),
    };
    (shape, descr.trim_matches('\'').to_string(), values)
}

/// Matrix `b` (`rows×cols`, row-major) of a flat array.
fn matrix(v: &[C64], b: usize, rows: usize, cols: usize) -> DMatrix<C64> {
    DMatrix::from_row_slice(rows, cols, &v[b * rows * cols..(b + 1) * rows * cols])
}

fn eps(double: bool) -> f64 {
    if double {
        f64::EPSILON
    } else {
        f64::from(f32::EPSILON)
    }
}

#[test]
fn svd_writes_numpys_dtypes_and_the_factors_reconstruct_a() {
    let s = Scratch::new("complex_svd");
    let mut rng = Rng::new(3);
    for (double, big_endian, lead, m, n, full) in [
        (false, false, vec![3], 4, 3, false),
        (true, false, vec![2, 2], 3, 5, true),
        (false, true, vec![], 3, 3, false),
        (true, true, vec![2], 6, 2, false),
    ] {
        let count: usize = lead.iter().product();
        let input = s.path("a.npy");
        let shape: Vec<usize> = lead.iter().copied().chain([m, n]).collect();
        let a = save(
            &input,
            &values(&mut rng, count * m * n),
            &shape,
            double,
            big_endian,
        );
        let out = s.path("out");
        let vectors = if full { "full" } else { "thin" };
        assert_success(&op("svd", &[&input], &out, "cpu", &["--vectors", vectors]));
        let k = m.min(n);
        let (uc, vr) = if full { (m, n) } else { (k, k) };
        let (s_shape, s_dtype, sigma) = load(&out.join("s.npy"));
        let (u_shape, u_dtype, u) = load(&out.join("u.npy"));
        let (vh_shape, vh_dtype, vh) = load(&out.join("vh.npy"));
        let with =
            |dims: &[usize]| -> Vec<u64> { lead.iter().chain(dims).map(|&d| d as u64).collect() };
        assert_eq!(s_shape, with(&[k]));
        assert_eq!(u_shape, with(&[m, uc]));
        assert_eq!(vh_shape, with(&[vr, n]));
        let (real, complex) = if double {
            ("<f8", "<c16")
        } else {
            ("<f4", "<c8")
        };
        assert_eq!((s_dtype.as_str(), u_dtype.as_str()), (real, complex));
        assert_eq!(vh_dtype, complex);
        assert_eq!(
            load_report(&out)["dtype"],
            if double { "complex128" } else { "complex64" }
        );
        let bound = 16.0 * m.max(n) as f64 * eps(double);
        for b in 0..count {
            let ab = matrix(&a, b, m, n);
            let ub = matrix(&u, b, m, uc);
            let vhb = matrix(&vh, b, vr, n);
            let mut reference: Vec<f64> = ab.clone().singular_values().iter().copied().collect();
            reference.sort_by(|x, y| y.total_cmp(x));
            for (got, want) in sigma[b * k..(b + 1) * k].iter().zip(&reference) {
                assert!(
                    (got.re - want).abs() <= bound * reference[0],
                    "{got} vs {want}"
                );
            }
            let sk = DMatrix::from_fn(k, k, |i, j| {
                if i == j {
                    sigma[b * k + i]
                } else {
                    C64::new(0.0, 0.0)
                }
            });
            let rec = ub.columns(0, k) * sk * vhb.rows(0, k);
            assert!(
                (rec - &ab).norm() <= bound * ab.norm(),
                "{m}×{n} matrix {b}"
            );
            let eye_u = DMatrix::<C64>::identity(uc, uc);
            assert!((ub.adjoint() * &ub - eye_u).camax() <= 16.0 * m as f64 * eps(double));
            let eye_v = DMatrix::<C64>::identity(vr, vr);
            assert!((&vhb * vhb.adjoint() - eye_v).camax() <= 16.0 * n as f64 * eps(double));
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn pinv_and_lstsq_of_complex_input() {
    let s = Scratch::new("complex_pinv");
    let mut rng = Rng::new(5);
    let (count, m, n) = (3, 5, 3);
    let input = s.path("a.npy");
    let a = save(
        &input,
        &values(&mut rng, count * m * n),
        &[count, m, n],
        true,
        false,
    );
    let out = s.path("pinv");
    assert_success(&op("pinv", &[&input], &out, "cpu", &[]));
    let (shape, dtype, p) = load(&out.join("pinv.npy"));
    assert_eq!((shape, dtype.as_str()), (vec![3, 3, 5], "<c16"));
    for b in 0..count {
        let (ab, pb) = (matrix(&a, b, m, n), matrix(&p, b, n, m));
        // The Penrose conditions: A·A⁺·A = A, and A⁺·A = I for full column rank.
        assert!((&ab * &pb * &ab - &ab).norm() <= 1e-12 * ab.norm());
        assert!((&pb * &ab - DMatrix::<C64>::identity(n, n)).camax() <= 1e-12);
    }
    // A complex128 A with a float32 B: numpy's common type is complex128.
    let rhs = s.path("b.npy");
    let b_real: Vec<f32> = (0..count * m).map(|i| (i as f32).sin()).collect();
    let b_bytes: Vec<u8> = b_real.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_raw_npy(&rhs, "'<f4'", &format!("({count}, {m})"), &b_bytes);
    let out = s.path("lstsq");
    assert_success(&op("lstsq", &[&input, &rhs], &out, "cpu", &[]));
    let (x_shape, x_dtype, x) = load(&out.join("x.npy"));
    let (r_shape, r_dtype, res) = load(&out.join("residuals.npy"));
    assert_eq!((x_shape, x_dtype.as_str()), (vec![3, 3], "<c16"));
    assert_eq!((r_shape, r_dtype.as_str()), (vec![3], "<f8"));
    for i in 0..count {
        let ab = matrix(&a, i, m, n);
        let bb = DMatrix::from_fn(m, 1, |r, _| C64::new(f64::from(b_real[i * m + r]), 0.0));
        let xb = matrix(&x, i, n, 1);
        // The normal equations Aᴴ·(b − A·x) = 0 hold at the least-squares solution.
        let r = &bb - &ab * &xb;
        assert!((ab.adjoint() * &r).norm() <= 1e-12 * ab.norm() * bb.norm());
        assert!((res[i].re - r.norm_squared()).abs() <= 1e-12 * bb.norm_squared());
    }
}

#[test]
fn complex_polar_is_unitary_times_hermitian_and_rotation_only_is_refused() {
    let s = Scratch::new("complex_polar");
    let mut rng = Rng::new(7);
    let (count, n) = (4, 3);
    let input = s.path("a.npy");
    let a = save(
        &input,
        &values(&mut rng, count * n * n),
        &[count, n, n],
        false,
        false,
    );
    let out = s.path("out");
    assert_success(&op("polar", &[&input], &out, "cpu", &[]));
    let (_, r_dtype, r) = load(&out.join("r.npy"));
    let (_, s_dtype, p) = load(&out.join("s.npy"));
    assert_eq!((r_dtype.as_str(), s_dtype.as_str()), ("<c8", "<c8"));
    let bound = 16.0 * n as f64 * eps(false);
    for b in 0..count {
        let (ab, wb, pb) = (
            matrix(&a, b, n, n),
            matrix(&r, b, n, n),
            matrix(&p, b, n, n),
        );
        assert!((wb.adjoint() * &wb - DMatrix::<C64>::identity(n, n)).camax() <= bound);
        assert!((&pb - pb.adjoint()).camax() <= bound * ab.norm());
        assert!((&wb * &pb - &ab).norm() <= bound * ab.norm());
    }
    let refused = s.path("refused");
    assert_error(
        &op("polar", &[&input], &refused, "cpu", &["--rotation-only"]),
        "complex",
    );
    assert!(!refused.exists());
}

#[test]
fn empty_complex_batches_are_shaped_as_numpys() {
    let s = Scratch::new("complex_empty");
    let input = s.path("a.npy");
    write_raw_npy(&input, "'<c8'", "(2, 3, 0)", &[]);
    let out = s.path("out");
    assert_success(&op("svd", &[&input], &out, "cpu", &["--vectors", "full"]));
    let (s_shape, s_dtype, _) = load(&out.join("s.npy"));
    let (u_shape, u_dtype, u) = load(&out.join("u.npy"));
    let (vh_shape, _, _) = load(&out.join("vh.npy"));
    assert_eq!((s_shape, s_dtype.as_str()), (vec![2, 0], "<f4"));
    assert_eq!((u_shape, u_dtype.as_str()), (vec![2, 3, 3], "<c8"));
    assert_eq!(vh_shape, vec![2, 0, 0]);
    // numpy: full U of an (m, 0) matrix is the identity.
    assert_eq!(matrix(&u, 1, 3, 3), DMatrix::<C64>::identity(3, 3));
}

#[test]
fn clongdouble_is_refused_naming_it() {
    let s = Scratch::new("complex_clongdouble");
    let input = s.path("a.npy");
    write_raw_npy(&input, "'<c32'", "(2, 2)", &[0u8; 128]);
    assert_error(
        &op("svd", &[&input], &s.path("out"), "cpu", &[]),
        "complex256 (<c32); expected float32, float64, complex64 or complex128",
    );
}
