//! The tool with arrays as numpy makes them: float64 in gives float64 out for every file of
//! every command, integer and bool inputs compute in float64, any number of leading batch
//! dimensions in C or Fortran order, and zero-sized dimensions with numpy's outputs.

mod common;

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use common::cli::{Scratch, assert_success, backends, entries, load_report, op};
use common::matrices::Rng;
use nalgebra::DMatrix;
use npyz::{AutoSerialize, DType, NpyFile, Order, WriteOptions, WriterBuilder};

/// Writes a C-order (or, with `fortran`, Fortran-order) `.npy` of logical C-order `data`.
fn save<T: AutoSerialize + Copy>(path: &Path, shape: &[usize], data: &[T], fortran: bool) {
    let file: Vec<T> = if fortran {
        // Element at C index (i₀, …, i_{d−1}) goes to Σ iₖ·Πⱼ<ₖ shapeⱼ.
        let mut out = data.to_vec();
        for (c, &x) in data.iter().enumerate() {
            let (mut rest, mut offset, mut stride) = (c, 0, 1);
            let mut strides = vec![0; shape.len()];
            for (d, s) in strides.iter_mut().enumerate() {
                *s = stride;
                stride *= shape[d];
            }
            for d in (0..shape.len()).rev() {
                offset += (rest % shape[d]) * strides[d];
                rest /= shape[d];
            }
            out[offset] = x;
        }
        out
    } else {
        data.to_vec()
    };
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let order = if fortran { Order::Fortran } else { Order::C };
    let mut w = WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .order(order)
        .writer(BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(file).unwrap();
    w.finish().unwrap();
}

/// A C-order output: its dtype string (`<f8`), shape and data.
fn load<T: npyz::Deserialize>(path: &Path) -> (String, Vec<usize>, Vec<T>) {
    let npy = NpyFile::new(BufReader::new(File::open(path).unwrap())).unwrap();
    assert_eq!(npy.order(), Order::C, "{}", path.display());
    let descr = match npy.dtype() {
        DType::Plain(ts) => ts.to_string(),
        other => panic!("{}: dtype {other:?}", path.display()),
    };
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (descr, shape, npy.into_vec().unwrap())
}

/// `count` graded `m×n` matrices, row-major: σ from 1 down to 1e-10, beyond what f32 resolves.
fn graded(count: usize, m: usize, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut data = Vec::with_capacity(count * m * n);
    let sigma: Vec<f64> = (0..n.min(m))
        .map(|i| 10f64.powf(-10.0 * i as f64 / (n.min(m) - 1) as f64))
        .collect();
    for _ in 0..count {
        let a = rng.with_singular_values(m, n, &sigma);
        data.extend((0..m).flat_map(|i| (0..n).map(|j| a[(i, j)]).collect::<Vec<_>>()));
    }
    data
}

fn matrix(data: &[f64], b: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| data[b * m * n + i * n + j])
}

/// The backends that run f64: the CPU, and the GPU if its adapter has SHADER_F64.
fn f64_backends() -> Vec<&'static str> {
    let mut v = vec!["cpu"];
    if common::gpu_f64().is_some() {
        v.push("gpu");
    }
    v
}

/// float64 in, float64 out, at f64 accuracy, for svd, pinv, lstsq and polar, with a leading
/// shape of two dimensions.
#[test]
fn float64_stays_float64_in_every_file() {
    let s = Scratch::new("numpy_f64");
    let (lead, m, n) = ([2, 3], 5, 4);
    let count = 6;
    let data = graded(count, m, n, 3);
    let a = s.path("a.npy");
    save(&a, &[2, 3, m, n], &data, false);
    let b_data: Vec<f64> = (0..count * m).map(|i| (i as f64).sin()).collect();
    let b = s.path("b.npy");
    save(&b, &[2, 3, m], &b_data, false);
    let sq_data = graded(count, 3, 3, 4);
    let sq = s.path("sq.npy");
    save(&sq, &[2, 3, 3, 3], &sq_data, false);
    let f8 = "<f8";
    for backend in f64_backends() {
        let out = s.path(&format!("svd-{backend}"));
        assert_success(&op("svd", &[&a], &out, backend, &["--vectors", "full"]));
        let (d, shape, sigma) = load::<f64>(&out.join("s.npy"));
        assert_eq!((d.as_str(), shape), (f8, vec![2, 3, n]));
        let (d, shape, u) = load::<f64>(&out.join("u.npy"));
        assert_eq!((d.as_str(), shape), (f8, vec![2, 3, m, m]));
        let (d, shape, vh) = load::<f64>(&out.join("vh.npy"));
        assert_eq!((d.as_str(), shape), (f8, vec![2, 3, n, n]));
        let (_, shape, status) = load::<i32>(&out.join("status.npy"));
        assert_eq!((shape, status), (lead.to_vec(), vec![0; count]));
        let report = load_report(&out);
        assert_eq!(report["dtype"], "float64", "{backend}");
        assert_eq!(report["batch_shape"], serde_json::json!(lead));
        for i in 0..count {
            let ai = matrix(&data, i, m, n);
            let reference = common::reference_sigma(&ai);
            let got = &sigma[i * n..(i + 1) * n];
            for (g, r) in got.iter().zip(&reference) {
                // The smallest σ is 1e-10·σ₁: only f64 arithmetic resolves it to 1e-6.
                assert!(
                    (g - r).abs() <= 1e-13 * reference[0],
                    "{backend} {i}: {got:?}"
                );
            }
            let ui = matrix(&u, i, m, m).columns(0, n).into_owned();
            let vhi = matrix(&vh, i, n, n);
            let recon = ui * DMatrix::from_diagonal(&got.to_vec().into()) * vhi;
            assert!((recon - &ai).norm() <= 1e-13 * ai.norm(), "{backend} {i}");
        }

        let out = s.path(&format!("pinv-{backend}"));
        assert_success(&op("pinv", &[&a], &out, backend, &[]));
        let (d, shape, _) = load::<f64>(&out.join("pinv.npy"));
        assert_eq!((d.as_str(), shape), (f8, vec![2, 3, n, m]));
        assert_eq!(load::<i32>(&out.join("rank.npy")).1, lead.to_vec());

        let out = s.path(&format!("lstsq-{backend}"));
        assert_success(&op("lstsq", &[&a, &b], &out, backend, &[]));
        let (d, shape, x) = load::<f64>(&out.join("x.npy"));
        assert_eq!((d.as_str(), shape), (f8, vec![2, 3, n]));
        let (d, shape, _) = load::<f64>(&out.join("residuals.npy"));
        assert_eq!((d.as_str(), shape), (f8, lead.to_vec()));
        // The default cutoff is max(m, n)·2⁻⁵² for float64, so σ down to 1e-10·σ₁ count:
        // rank 4 everywhere, and x agrees with the f64 reference to κ·ε (κ = 1e10).
        assert_eq!(
            load::<i32>(&out.join("rank.npy")).2,
            vec![4; count],
            "{backend}"
        );
        for i in 0..count {
            let ai = matrix(&data, i, m, n);
            let bi = DMatrix::from_column_slice(m, 1, &b_data[i * m..(i + 1) * m]);
            let reference = ai.clone().svd(true, true).solve(&bi, 0.0).unwrap();
            let xi = DMatrix::from_column_slice(n, 1, &x[i * n..(i + 1) * n]);
            let err = (&xi - &reference).norm() / reference.norm();
            assert!(err <= 1e-4, "{backend} {i}: relative error {err}");
        }

        let out = s.path(&format!("polar-{backend}"));
        assert_success(&op("polar", &[&sq], &out, backend, &[]));
        for name in ["r.npy", "s.npy"] {
            let (d, shape, _) = load::<f64>(&out.join(name));
            assert_eq!((d.as_str(), shape), (f8, vec![2, 3, 3, 3]), "{name}");
        }
    }
}

/// Integer and bool arrays compute in float64 (numpy's conversion), and `lstsq` of float32 A
/// with float64 B computes in float64.
#[test]
fn integers_and_bools_compute_in_float64() {
    let s = Scratch::new("numpy_ints");
    let ints = s.path("i.npy");
    save(&ints, &[2, 2, 2], &[3i64, 0, 4, 5, 2, 0, 0, -7], false);
    let bools = s.path("b.npy");
    save(&bools, &[2, 2], &[true, false, false, true], false);
    let small = s.path("u8.npy");
    save(&small, &[2, 2], &[255u8, 0, 0, 1], false);
    let cases: [(&Path, &str, &[f64]); 3] = [
        // [[3, 0], [4, 5]] has σ = 3√5, √5; diag(2, −7) has 7, 2.
        (&ints, "<i8", &[45f64.sqrt(), 5f64.sqrt(), 7.0, 2.0]),
        (&bools, "|b1", &[1.0, 1.0]),
        (&small, "|u1", &[255.0, 1.0]),
    ];
    for backend in backends() {
        for (input, descr, expected) in cases {
            let out = s.path("out");
            let _ = std::fs::remove_dir_all(&out);
            assert_success(&op("svd", &[input], &out, backend, &[]));
            let (d, _, sigma) = load::<f64>(&out.join("s.npy"));
            assert_eq!(d, "<f8", "{backend} {descr}");
            for (g, e) in sigma.iter().zip(expected) {
                assert!((g - e).abs() <= 1e-14 * e, "{backend} {descr}: {sigma:?}");
            }
            let report = load_report(&out);
            assert_eq!(report["dtype"], "float64");
            assert_eq!(report["input"]["dtype"], descr);
        }
        let a = s.path("a32.npy");
        save(&a, &[3, 2], &[1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], false);
        let b = s.path("b64.npy");
        save(&b, &[3], &[1.0f64, 2.0, 3.0], false);
        let out = s.path("lstsq");
        let _ = std::fs::remove_dir_all(&out);
        assert_success(&op("lstsq", &[&a, &b], &out, backend, &[]));
        let (d, shape, x) = load::<f64>(&out.join("x.npy"));
        assert_eq!((d.as_str(), shape), ("<f8", vec![2]));
        // Normal equations [[2, 1], [1, 2]] x = [4, 5]: x = (1, 2).
        assert!(
            (x[0] - 1.0).abs() < 1e-14 && (x[1] - 2.0).abs() < 1e-14,
            "{x:?}"
        );
    }
}

/// Four dimensions in C and Fortran order give the same float32 results, shaped as numpy's.
#[test]
fn leading_dimensions_in_either_order() {
    let s = Scratch::new("numpy_lead");
    let (m, n) = (4, 2);
    let mut rng = Rng::new(8);
    let data: Vec<f32> = (0..6 * m * n).map(|_| rng.normal() as f32).collect();
    let c = s.path("c.npy");
    save(&c, &[2, 3, m, n], &data, false);
    let f = s.path("f.npy");
    save(&f, &[2, 3, m, n], &data, true);
    for backend in backends() {
        let mut results = Vec::new();
        for input in [&c, &f] {
            let out = s.path(&format!("out-{backend}-{}", results.len()));
            assert_success(&op("svd", &[input], &out, backend, &[]));
            let (d, s_shape, sigma) = load::<f32>(&out.join("s.npy"));
            assert_eq!((d.as_str(), s_shape), ("<f4", vec![2, 3, n]));
            let (_, u_shape, u) = load::<f32>(&out.join("u.npy"));
            let (_, vh_shape, vh) = load::<f32>(&out.join("vh.npy"));
            assert_eq!((u_shape, vh_shape), (vec![2, 3, m, n], vec![2, 3, n, n]));
            assert_eq!(load::<i32>(&out.join("status.npy")).1, vec![2, 3]);
            for b in 0..6 {
                let a = DMatrix::from_fn(m, n, |i, j| f64::from(data[b * m * n + i * n + j]));
                let reference = common::reference_sigma(&a);
                for (g, r) in sigma[b * n..(b + 1) * n].iter().zip(&reference) {
                    assert!(
                        (f64::from(*g) - r).abs() <= 1e-5 * reference[0],
                        "{backend} {b}"
                    );
                }
            }
            results.push((sigma, u, vh));
        }
        // The Fortran file holds the same matrices, so the results agree to rounding.
        let (c_res, f_res) = (&results[0], &results[1]);
        for (x, y) in c_res.0.iter().zip(&f_res.0) {
            assert!((x - y).abs() <= 1e-5, "{backend}");
        }
    }
}

/// numpy's outputs for zero-sized dimensions: exit 0 with every file written.
#[test]
fn zero_sized_dimensions_as_numpy() {
    let s = Scratch::new("numpy_empty");
    let one_by_zero = s.path("e.npy");
    save::<f64>(&one_by_zero, &[3, 0], &[], false);
    let no_matrix = s.path("none.npy");
    save::<f32>(&no_matrix, &[0, 4, 4], &[], false);
    let tall_empty = s.path("t.npy");
    save::<f32>(&tall_empty, &[2, 3, 0], &[], false);
    let rhs = s.path("b.npy");
    save(&rhs, &[2, 3], &[1.0f32, 2.0, 2.0, 0.0, 3.0, 4.0], false);
    let squares = s.path("sq.npy");
    save::<f32>(&squares, &[0, 3, 3], &[], false);
    for backend in backends() {
        let out = s.path(&format!("e-{backend}"));
        assert_success(&op(
            "svd",
            &[&one_by_zero],
            &out,
            backend,
            &["--vectors", "full"],
        ));
        assert_eq!(
            entries(&out),
            ["report.json", "s.npy", "status.npy", "u.npy", "vh.npy"]
        );
        let (d, shape, u) = load::<f64>(&out.join("u.npy"));
        assert_eq!((d.as_str(), shape), ("<f8", vec![3, 3]));
        assert_eq!(u, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(load::<f64>(&out.join("s.npy")).1, vec![0]);
        assert_eq!(load::<f64>(&out.join("vh.npy")).1, vec![0, 0]);
        let (_, shape, status) = load::<i32>(&out.join("status.npy"));
        assert_eq!((shape, status), (vec![], vec![0]));

        let out = s.path(&format!("none-{backend}"));
        assert_success(&op("svd", &[&no_matrix], &out, backend, &[]));
        assert_eq!(load::<f32>(&out.join("s.npy")).1, vec![0, 4]);
        assert_eq!(load::<f32>(&out.join("u.npy")).1, vec![0, 4, 4]);
        assert_eq!(load::<i32>(&out.join("status.npy")).1, vec![0]);
        assert_eq!(load_report(&out)["count"], 0);

        let out = s.path(&format!("pinv-{backend}"));
        assert_success(&op("pinv", &[&tall_empty], &out, backend, &[]));
        assert_eq!(load::<f32>(&out.join("pinv.npy")).1, vec![2, 0, 3]);
        assert_eq!(load::<i32>(&out.join("rank.npy")).2, vec![0, 0]);

        // n = 0: x is empty and the residuals are ‖b‖², as numpy.linalg.lstsq gives.
        let out = s.path(&format!("lstsq-{backend}"));
        assert_success(&op("lstsq", &[&tall_empty, &rhs], &out, backend, &[]));
        assert_eq!(load::<f32>(&out.join("x.npy")).1, vec![2, 0]);
        let (_, shape, res) = load::<f32>(&out.join("residuals.npy"));
        assert_eq!((shape, res), (vec![2], vec![9.0, 25.0]));

        let out = s.path(&format!("polar-{backend}"));
        assert_success(&op("polar", &[&squares], &out, backend, &[]));
        assert_eq!(load::<f32>(&out.join("r.npy")).1, vec![0, 3, 3]);
        assert_eq!(load::<f32>(&out.join("s.npy")).1, vec![0, 3, 3]);
    }
}
