//! Integration tests of the command-line operations built on the SVD: `svd --rank/--rtol`,
//! `pinv` and `lstsq`: output files, shapes and values against nalgebra f64, exit codes, and
//! one-line errors with nothing written.
//!
//! Tests passing `--backend cpu` always run; `--backend gpu` ones skip (with a printed reason)
//! when [`common::gpu`] finds no adapter, unless `BATCHED_SVD_REQUIRE_GPU=1`.

mod common;

use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::Path;

use common::cli::{
    Scratch, assert_error, assert_success, backends, entries, load_report, op, run, stderr,
};
use common::matrices::{Rng, gaussian_row_major};
use common::reference_sigma;
use nalgebra::DMatrix;
use npyz::{NpyFile, Order, WriteOptions, WriterBuilder};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers (the shared ones are in tests/common/cli.rs)
// ---------------------------------------------------------------------------------------

/// Writes a little-endian C-order float32 `.npy`.
fn save(path: &Path, shape: &[usize], data: &[f32]) {
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

/// Writes a float32 `.npy` of logical C-order `data` in Fortran order (2-D only).
fn save_fortran_2d(path: &Path, rows: usize, cols: usize, data: &[f32]) {
    let file: Vec<f32> = (0..cols)
        .flat_map(|j| (0..rows).map(move |i| data[i * cols + j]))
        .collect();
    let mut w = WriteOptions::new()
        .default_dtype()
        .shape(&[rows as u64, cols as u64])
        .order(Order::Fortran)
        .writer(BufWriter::new(File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    w.extend(file).unwrap();
    w.finish().unwrap();
}

/// Reads a C-order `.npy`: shape and data.
fn load<T: npyz::Deserialize>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let npy = NpyFile::new(BufReader::new(File::open(path).unwrap())).unwrap();
    assert_eq!(npy.order(), Order::C, "{} is not C order", path.display());
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec().unwrap())
}

/// Matrix `b` of a row-major `(count, m, n)` buffer, in f64.
fn matrix(data: &[f32], b: usize, m: usize, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(m, n, |i, j| f64::from(data[b * m * n + i * n + j]))
}

/// nalgebra's f64 SVD with vectors, checked to reconstruct `a` (nalgebra 0.35's can be wrong
/// for some inputs, nalgebra issue #1172).
fn reference_svd(a: &DMatrix<f64>) -> nalgebra::SVD<f64, nalgebra::Dyn, nalgebra::Dyn> {
    let svd = a.clone().svd(true, true);
    let err = (svd.clone().recompose().unwrap() - a).norm();
    assert!(
        err <= 1e-8 * a.norm(),
        "wrong nalgebra reference SVD: {err:e}"
    );
    svd
}

/// nalgebra's pseudoinverse with numpy's relative rule `σ > rcond·σ₁`.
fn reference_pinv(a: &DMatrix<f64>, rcond: f64) -> DMatrix<f64> {
    let s1 = reference_sigma(a)[0];
    reference_svd(a).pseudo_inverse(rcond * s1).unwrap()
}

/// The default cutoff `max(m, n)·2⁻²³`.
fn default_rcond(m: usize, n: usize) -> f64 {
    m.max(n) as f64 * f64::from(f32::EPSILON)
}

// ---------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------

#[test]
fn help_lists_the_operations() {
    let help = run(&["--help"]);
    assert_success(&help);
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "batched-svd pinv A.npy",
        "batched-svd lstsq A.npy B.npy",
        "--rank K",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}");
    }
    for (command, needle) in [("pinv", "pinv.npy"), ("lstsq", "x.npy"), ("svd", "--rtol")] {
        let out = run(&[command, "--help"]);
        assert_success(&out);
        assert!(String::from_utf8_lossy(&out.stdout).contains(needle));
    }
}

// ---------------------------------------------------------------------------------------
// pinv
// ---------------------------------------------------------------------------------------

/// pinv.npy is `(count, n, m)`, equal to nalgebra's f64 pseudoinverse to the documented
/// accuracy, for tall and wide batches, with rank.npy, status.npy and the report.
#[test]
fn pinv_batches_match_nalgebra() {
    let s = Scratch::new("pinv_batches");
    for backend in backends() {
        for (count, m, n) in [(5, 6, 4), (4, 3, 7)] {
            let data = gaussian_row_major(count, m, n, 31 + m as u64);
            let input = s.path(&format!("a{m}x{n}.npy"));
            save(&input, &[count, m, n], &data);
            let out = s.path(&format!("out-{backend}-{m}x{n}"));
            assert_success(&op("pinv", &[&input], &out, backend, &[]));
            assert_eq!(
                entries(&out),
                ["pinv.npy", "rank.npy", "report.json", "status.npy"]
            );
            let (shape, p) = load::<f32>(&out.join("pinv.npy"));
            assert_eq!(shape, vec![count, n, m]);
            let (rshape, ranks) = load::<i32>(&out.join("rank.npy"));
            assert_eq!(rshape, vec![count]);
            assert_eq!(ranks, vec![m.min(n) as i32; count]);
            let (_, status) = load::<i32>(&out.join("status.npy"));
            assert!(status.iter().all(|&x| x == 0));
            for b in 0..count {
                let a = matrix(&data, b, m, n);
                let want = reference_pinv(&a, default_rcond(m, n));
                let got = matrix(&p, b, n, m);
                let sigma = reference_sigma(&a);
                let kappa = sigma[0] / sigma[m.min(n) - 1];
                let bound = kappa * 16.0 * m.max(n) as f64 * common::EPS;
                let rel = (&got - &want).norm() / want.norm();
                assert!(rel <= bound, "{backend} {b}: {rel:e} > {bound:e}");
            }
            let r = load_report(&out);
            assert_eq!(r["command"], "pinv");
            assert_eq!(r["backend"], backend);
            assert_eq!(r["rcond_default"], true);
            let rcond = r["rcond"].as_f64().unwrap();
            assert!((rcond - default_rcond(m, n)).abs() < 1e-15);
            assert_eq!(r["files"]["pinv.npy"], serde_json::json!([count, n, m]));
            assert!(r["seconds"]["pinv"].as_f64().is_some());
        }
    }
}

/// A 2-D input gives an `(n, m)` pseudoinverse; the hand-checked rank-1 matrix
/// `[[1, 2], [2, 4], [3, 6]]` has `A⁺ = [[1, 2, 3], [2, 4, 6]]/70` (numpy's result too), also
/// from a Fortran-order file.
#[test]
fn pinv_single_rank_deficient_matrix() {
    let s = Scratch::new("pinv_single");
    let a = [1.0f32, 2.0, 2.0, 4.0, 3.0, 6.0];
    let c_order = s.path("a.npy");
    save(&c_order, &[3, 2], &a);
    let fortran = s.path("f.npy");
    save_fortran_2d(&fortran, 3, 2, &a);
    let expect = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0].map(|x: f64| x / 70.0);
    for backend in backends() {
        for input in [&c_order, &fortran] {
            let out = s.path(&format!("out-{backend}"));
            let _ = fs::remove_dir_all(&out);
            assert_success(&op("pinv", &[input], &out, backend, &[]));
            let (shape, p) = load::<f32>(&out.join("pinv.npy"));
            assert_eq!(shape, vec![2, 3]);
            for (g, e) in p.iter().zip(expect) {
                assert!((f64::from(*g) - e).abs() < 1e-7, "{backend}: {p:?}");
            }
            // One matrix: rank and status are numpy scalars (shape ()).
            assert_eq!(load::<i32>(&out.join("rank.npy")), (vec![], vec![1]));
            assert_eq!(load::<i32>(&out.join("status.npy")).0, Vec::<usize>::new());
        }
    }
}

/// `--rcond X` drops `σ ≤ X·σ₁` (numpy's rule): diag(1, 0.25) at rcond 0.25 has rank 1.
#[test]
fn pinv_explicit_rcond() {
    let s = Scratch::new("pinv_rcond");
    let input = s.path("a.npy");
    save(&input, &[1, 2, 2], &[1.0, 0.0, 0.0, 0.25]);
    for backend in backends() {
        for (rcond, rank, second) in [("0.25", 1, 0.0f32), ("0.2", 2, 4.0)] {
            let out = s.path(&format!("out-{backend}-{rcond}"));
            assert_success(&op("pinv", &[&input], &out, backend, &["--rcond", rcond]));
            let (shape, p) = load::<f32>(&out.join("pinv.npy"));
            assert_eq!(shape, vec![1, 2, 2]);
            assert_eq!(p, vec![1.0, 0.0, 0.0, second], "{backend} rcond {rcond}");
            assert_eq!(load::<i32>(&out.join("rank.npy")).1, vec![rank]);
            let r = load_report(&out);
            assert_eq!(r["rcond_default"], false);
            assert_eq!(r["rcond"].as_f64().unwrap(), rcond.parse::<f64>().unwrap());
        }
    }
}

/// A NaN in one matrix: exit 1, status 2 and a NaN pseudoinverse for it, the rest correct.
#[test]
fn pinv_non_finite_matrix_exits_1() {
    let s = Scratch::new("pinv_nan");
    let (count, m, n) = (3, 4, 3);
    let mut data = gaussian_row_major(count, m, n, 8);
    data[m * n] = f32::NAN;
    let input = s.path("a.npy");
    save(&input, &[count, m, n], &data);
    for backend in backends() {
        let out = s.path(&format!("out-{backend}"));
        let result = op("pinv", &[&input], &out, backend, &[]);
        assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
        assert_eq!(load::<i32>(&out.join("status.npy")).1, vec![0, 2, 0]);
        assert_eq!(load::<i32>(&out.join("rank.npy")).1, vec![3, 0, 3]);
        let (_, p) = load::<f32>(&out.join("pinv.npy"));
        assert!(p[n * m..2 * n * m].iter().all(|x| x.is_nan()));
        assert!(
            p[..n * m]
                .iter()
                .chain(&p[2 * n * m..])
                .all(|x| x.is_finite())
        );
        assert_eq!(load_report(&out)["non_finite"], 1);
    }
}

// ---------------------------------------------------------------------------------------
// lstsq
// ---------------------------------------------------------------------------------------

/// x.npy and residuals.npy for B of shape (count, m) and (count, m, r), against nalgebra's
/// `SVD::solve` in f64, for tall (overdetermined) and wide (minimum-norm) batches.
#[test]
fn lstsq_batches_match_nalgebra() {
    let s = Scratch::new("lstsq_batches");
    let mut rng = Rng::new(12);
    for backend in backends() {
        for (count, m, n) in [(4, 7, 3), (3, 3, 6)] {
            let data = gaussian_row_major(count, m, n, 50 + n as u64);
            let input = s.path(&format!("a{m}x{n}.npy"));
            save(&input, &[count, m, n], &data);
            for r in [None, Some(2)] {
                let cols = r.unwrap_or(1);
                let b: Vec<f32> = (0..count * m * cols).map(|_| rng.normal() as f32).collect();
                let b_path = s.path(&format!("b{m}x{n}-{cols}.npy"));
                let b_shape = match r {
                    None => vec![count, m],
                    Some(r) => vec![count, m, r],
                };
                save(&b_path, &b_shape, &b);
                let out = s.path(&format!("out-{backend}-{m}x{n}-{cols}"));
                assert_success(&op("lstsq", &[&input, &b_path], &out, backend, &[]));
                assert_eq!(
                    entries(&out),
                    [
                        "rank.npy",
                        "report.json",
                        "residuals.npy",
                        "status.npy",
                        "x.npy"
                    ]
                );
                let (x_shape, x) = load::<f32>(&out.join("x.npy"));
                let (res_shape, res) = load::<f32>(&out.join("residuals.npy"));
                match r {
                    None => {
                        assert_eq!(x_shape, vec![count, n]);
                        assert_eq!(res_shape, vec![count]);
                    }
                    Some(r) => {
                        assert_eq!(x_shape, vec![count, n, r]);
                        assert_eq!(res_shape, vec![count, r]);
                    }
                }
                assert_eq!(
                    load::<i32>(&out.join("rank.npy")).1,
                    vec![m.min(n) as i32; count]
                );
                for i in 0..count {
                    let a = matrix(&data, i, m, n);
                    let bi = matrix(&b, i, m, cols);
                    let sigma = reference_sigma(&a);
                    let want = reference_svd(&a)
                        .solve(&bi, default_rcond(m, n) * sigma[0])
                        .unwrap();
                    let got = matrix(&x, i, n, cols);
                    let rel = (&got - &want).norm() / want.norm();
                    let kappa = sigma[0] / sigma[m.min(n) - 1];
                    let res_norm = (&bi - &a * &want).norm();
                    let sens = kappa + kappa * kappa * res_norm / (sigma[0] * want.norm());
                    let bound = sens * 16.0 * m.max(n) as f64 * common::EPS;
                    assert!(rel <= bound, "{backend} {m}×{n} {i}: {rel:e} > {bound:e}");
                    for c in 0..cols {
                        let want_r = (bi.column(c) - &a * want.column(c)).norm_squared();
                        let got_r = f64::from(res[i * cols + c]);
                        let scale = bi.column(c).norm_squared();
                        assert!(
                            (got_r - want_r).abs() <= 1e-5 * scale,
                            "{got_r} vs {want_r}"
                        );
                    }
                }
                let rep = load_report(&out);
                assert_eq!(rep["command"], "lstsq");
                let b_shape_json: Vec<Value> = b_shape.iter().map(|&d| d.into()).collect();
                assert_eq!(rep["rhs"]["shape"], Value::Array(b_shape_json));
            }
        }
    }
}

/// A 2-D A takes B of shape (m,) or (m, r), as `numpy.linalg.lstsq`; numpy's docstring
/// example: the line through (0, −1), (1, 0.2), (2, 0.9), (3, 2.1) is `y = x − 0.95`, with
/// residual 0.05.
#[test]
fn lstsq_single_matrix_numpy_example() {
    let s = Scratch::new("lstsq_single");
    let a = s.path("a.npy");
    save(&a, &[4, 2], &[0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0, 1.0]);
    let y = s.path("y.npy");
    save(&y, &[4], &[-1.0, 0.2, 0.9, 2.1]);
    let y2 = s.path("y2.npy");
    save(&y2, &[4, 2], &[-1.0, 0.0, 0.2, 2.0, 0.9, 4.0, 2.1, 6.0]);
    for backend in backends() {
        let out = s.path(&format!("out-{backend}"));
        assert_success(&op("lstsq", &[&a, &y], &out, backend, &[]));
        let (shape, x) = load::<f32>(&out.join("x.npy"));
        assert_eq!(shape, vec![2]);
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] + 0.95).abs() < 1e-5,
            "{x:?}"
        );
        let (rshape, res) = load::<f32>(&out.join("residuals.npy"));
        assert_eq!(rshape, vec![1]);
        assert!((res[0] - 0.05).abs() < 1e-5, "{res:?}");
        assert_eq!(load::<i32>(&out.join("rank.npy")), (vec![], vec![2]));

        let out2 = s.path(&format!("out2-{backend}"));
        assert_success(&op("lstsq", &[&a, &y2], &out2, backend, &[]));
        let (shape, x) = load::<f32>(&out2.join("x.npy"));
        assert_eq!(shape, vec![2, 2]);
        // Second column: y = 2x exactly, so slope 2, intercept 0, residual 0.
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[2] + 0.95).abs() < 1e-5,
            "{x:?}"
        );
        assert!((x[1] - 2.0).abs() < 1e-5 && x[3].abs() < 1e-5, "{x:?}");
        let (rshape, res) = load::<f32>(&out2.join("residuals.npy"));
        assert_eq!(rshape, vec![2]);
        assert!(
            (res[0] - 0.05).abs() < 1e-5 && res[1].abs() < 1e-9,
            "{res:?}"
        );
    }
}

/// A right-hand side holding an infinity: exit 1, status 2 for its matrix, NaN solution.
#[test]
fn lstsq_non_finite_rhs_exits_1() {
    let s = Scratch::new("lstsq_inf");
    let (count, m, n) = (3, 5, 2);
    let input = s.path("a.npy");
    save(&input, &[count, m, n], &gaussian_row_major(count, m, n, 4));
    let mut b = gaussian_row_major(1, count, m, 5);
    b[2 * m + 1] = f32::INFINITY;
    let b_path = s.path("b.npy");
    save(&b_path, &[count, m], &b);
    let out = s.path("out");
    let result = op("lstsq", &[&input, &b_path], &out, "cpu", &[]);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    assert_eq!(stderr(&result).lines().count(), 1);
    assert_eq!(load::<i32>(&out.join("status.npy")).1, vec![0, 0, 2]);
    let (_, x) = load::<f32>(&out.join("x.npy"));
    assert!(x[..2 * n].iter().all(|v| v.is_finite()));
    assert!(x[2 * n..].iter().all(|v| v.is_nan()));
    let r = load_report(&out);
    assert_eq!(
        (r["non_finite"].as_u64(), r["converged"].as_u64()),
        (Some(1), Some(2))
    );
}

// ---------------------------------------------------------------------------------------
// svd --rank / --rtol
// ---------------------------------------------------------------------------------------

/// `--rank K`: s (count, K), u (count, m, K), vh (count, K, n), rank.npy, equal to the leading
/// part of the full decomposition; K above min(m, n) is capped.
#[test]
fn svd_rank_truncates_outputs() {
    let s = Scratch::new("svd_rank");
    let (count, m, n) = (4, 6, 5);
    let data = gaussian_row_major(count, m, n, 77);
    let input = s.path("a.npy");
    save(&input, &[count, m, n], &data);
    for backend in backends() {
        let full = s.path(&format!("full-{backend}"));
        assert_success(&op("svd", &[&input], &full, backend, &[]));
        let (_, s_all) = load::<f32>(&full.join("s.npy"));
        let (_, u_all) = load::<f32>(&full.join("u.npy"));
        let (_, vh_all) = load::<f32>(&full.join("vh.npy"));
        for (k, w) in [(2, 2), (5, 5), (9, 5)] {
            let out = s.path(&format!("rank{k}-{backend}"));
            let kk = k.to_string();
            assert_success(&op("svd", &[&input], &out, backend, &["--rank", &kk]));
            assert_eq!(
                entries(&out),
                [
                    "rank.npy",
                    "report.json",
                    "s.npy",
                    "status.npy",
                    "u.npy",
                    "vh.npy"
                ]
            );
            let (s_shape, sv) = load::<f32>(&out.join("s.npy"));
            let (u_shape, u) = load::<f32>(&out.join("u.npy"));
            let (vh_shape, vh) = load::<f32>(&out.join("vh.npy"));
            assert_eq!(s_shape, vec![count, w]);
            assert_eq!(u_shape, vec![count, m, w]);
            assert_eq!(vh_shape, vec![count, w, n]);
            assert_eq!(load::<i32>(&out.join("rank.npy")).1, vec![w as i32; count]);
            let k_all = m.min(n);
            for b in 0..count {
                assert_eq!(sv[b * w..(b + 1) * w], s_all[b * k_all..b * k_all + w]);
                for i in 0..m {
                    let row = &u[(b * m + i) * w..(b * m + i + 1) * w];
                    let src = &u_all[(b * m + i) * k_all..(b * m + i) * k_all + w];
                    assert_eq!(row, src);
                }
                assert_eq!(
                    vh[b * w * n..(b + 1) * w * n],
                    vh_all[b * k_all * n..b * k_all * n + w * n]
                );
            }
            let r = load_report(&out);
            assert_eq!(r["truncation"]["mode"], "rank");
            assert_eq!(r["truncation"]["width"], w);
        }
    }
}

/// `--rtol X`: thin shapes, the triplets with σ ≤ X·σ₁ zeroed, rank.npy as nalgebra's rank;
/// a 2-D input and values-only output too.
#[test]
fn svd_rtol_zeroes_dropped_triplets() {
    let s = Scratch::new("svd_rtol");
    let (count, m, n) = (6, 5, 4);
    // Rank-2 matrices (product of Gaussian factors) plus Gaussian ones.
    let mut rng = Rng::new(9);
    let mut data = Vec::new();
    for b in 0..count {
        let a = if b % 2 == 0 {
            rng.gaussian(m, 2) * rng.gaussian(2, n)
        } else {
            rng.gaussian(m, n)
        };
        for i in 0..m {
            for j in 0..n {
                data.push(a[(i, j)] as f32);
            }
        }
    }
    let input = s.path("a.npy");
    save(&input, &[count, m, n], &data);
    let rtol = 1e-3;
    for backend in backends() {
        let out = s.path(&format!("out-{backend}"));
        assert_success(&op("svd", &[&input], &out, backend, &["--rtol", "1e-3"]));
        let (s_shape, sv) = load::<f32>(&out.join("s.npy"));
        let (u_shape, u) = load::<f32>(&out.join("u.npy"));
        let (vh_shape, vh) = load::<f32>(&out.join("vh.npy"));
        assert_eq!((s_shape, u_shape), (vec![count, 4], vec![count, m, 4]));
        assert_eq!(vh_shape, vec![count, 4, n]);
        let (_, ranks) = load::<i32>(&out.join("rank.npy"));
        for b in 0..count {
            let a = matrix(&data, b, m, n);
            let sigma = reference_sigma(&a);
            let r = a.rank(rtol * sigma[0]);
            assert_eq!(ranks[b] as usize, r, "{backend} {b}");
            assert_eq!(r, if b % 2 == 0 { 2 } else { 4 });
            assert!(sv[b * 4 + r..(b + 1) * 4].iter().all(|&x| x == 0.0));
            for i in 0..m {
                assert!(
                    u[(b * m + i) * 4 + r..(b * m + i + 1) * 4]
                        .iter()
                        .all(|&x| x == 0.0)
                );
            }
            assert!(
                vh[b * 4 * n + r * n..(b + 1) * 4 * n]
                    .iter()
                    .all(|&x| x == 0.0)
            );
            // The truncated factors reconstruct A (its rank is r).
            let recon = DMatrix::from_fn(m, n, |i, j| {
                (0..4)
                    .map(|l| {
                        f64::from(u[(b * m + i) * 4 + l])
                            * f64::from(sv[b * 4 + l])
                            * f64::from(vh[(b * 4 + l) * n + j])
                    })
                    .sum::<f64>()
            });
            assert!((recon - &a).norm() <= 1e-4 * a.norm(), "{backend} {b}");
        }
        assert_eq!(load_report(&out)["truncation"]["mode"], "rtol");

        // A single matrix, values only: s.npy (k,) and rank.npy ().
        let single = s.path("single.npy");
        save(&single, &[m, n], &data[..m * n]);
        let out2 = s.path(&format!("single-{backend}"));
        let extra = ["--rtol", "1e-3", "--vectors", "none"];
        assert_success(&op("svd", &[&single], &out2, backend, &extra));
        assert_eq!(
            entries(&out2),
            ["rank.npy", "report.json", "s.npy", "status.npy"]
        );
        assert_eq!(load::<f32>(&out2.join("s.npy")).0, vec![4]);
        assert_eq!(load::<i32>(&out2.join("rank.npy")), (vec![], vec![2]));
    }
}

// ---------------------------------------------------------------------------------------
// Errors: exit 2, one line, nothing written
// ---------------------------------------------------------------------------------------

#[test]
fn bad_inputs_and_options_are_one_line_errors() {
    let s = Scratch::new("errors");
    let a = s.path("a.npy");
    save(&a, &[3, 4, 2], &gaussian_row_major(3, 4, 2, 1));
    let good_b = s.path("b.npy");
    save(&good_b, &[3, 4], &[1.0; 12]);
    let bad_shapes: [(&[usize], &str); 5] = [
        (
            &[3, 5],
            "has shape (3, 5); for A of shape (3, 4, 2) it must have shape (3, 4) or (3, 4, r)",
        ),
        (&[2, 4], "has shape (2, 4)"),
        (&[4], "has shape (4,)"),
        (
            &[3, 4, 1, 1],
            "has shape (3, 4, 1, 1); for A of shape (3, 4, 2) it must have shape (3, 4) or \
             (3, 4, r)",
        ),
        (&[3, 5, 2], "has shape (3, 5, 2)"),
    ];
    let out = s.path("out");
    for (shape, needle) in bad_shapes {
        let b = s.path("bad.npy");
        save(&b, shape, &vec![1.0; shape.iter().product()]);
        assert_error(&op("lstsq", &[&a, &b], &out, "cpu", &[]), needle);
        assert!(!out.exists(), "output written for B of shape {shape:?}");
    }
    // A 2-D A wants B of (m,) or (m, r).
    let a2 = s.path("a2.npy");
    save(&a2, &[4, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 3.0]);
    assert_error(
        &op("lstsq", &[&a2, &good_b], &out, "cpu", &[]),
        "it must have shape (4,) or (4, r)",
    );
    // B of a dtype the tool does not compute in, and a missing B.
    let half = s.path("half.npy");
    common::cli::write_raw_npy(&half, "'<f2'", "(3, 4)", &[0u8; 24]);
    assert_error(
        &op("lstsq", &[&a, &half], &out, "cpu", &[]),
        "has dtype float16 (<f2); expected float32, float64, complex64 or complex128",
    );
    let missing = s.path("missing.npy");
    assert_error(
        &op("lstsq", &[&a, &missing], &out, "cpu", &[]),
        "cannot read",
    );
    assert!(!out.exists());

    // Command lines.
    let a_str = a.to_str().unwrap();
    let b_str = good_b.to_str().unwrap();
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 12] = [
        (&["lstsq", a_str, "-o", o], "lstsq: missing B.npy"),
        (&["lstsq", a_str, b_str], "lstsq: missing -o OUTDIR"),
        (
            &["pinv", a_str, b_str, "-o", o],
            "pinv: unexpected argument",
        ),
        (
            &["pinv", a_str, "-o", o, "--rcond", "-1"],
            "--rcond must be finite and >= 0",
        ),
        (
            &["pinv", a_str, "-o", o, "--rcond", "inf"],
            "--rcond must be finite and >= 0",
        ),
        (
            &["pinv", a_str, "-o", o, "--rcond"],
            "option --rcond needs a value",
        ),
        (
            &["pinv", a_str, "-o", o, "--vectors", "full"],
            "pinv: unknown option '--vectors'",
        ),
        (
            &["svd", a_str, "-o", o, "--rank", "0"],
            "--rank must be at least 1",
        ),
        (
            &["svd", a_str, "-o", o, "--rank", "two"],
            "bad number for --rank: 'two'",
        ),
        (
            &["svd", a_str, "-o", o, "--rtol", "-0.5"],
            "--rtol must be finite and >= 0",
        ),
        (
            &["svd", a_str, "-o", o, "--rank", "1", "--rtol", "0.1"],
            "cannot be combined",
        ),
        (
            &["svd", a_str, "-o", o, "--rank", "1", "--vectors", "full"],
            "--vectors full",
        ),
    ];
    for (args, needle) in cases {
        assert_error(&run(args), needle);
        assert!(!out.exists(), "{args:?} wrote output");
    }
}
