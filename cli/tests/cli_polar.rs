//! `batched-svd polar`: shapes, values, the rotation-only mode and input errors.

mod common;

use std::path::Path;

use common::cli::{Scratch, run};

use nalgebra::DMatrix;
use npyz::WriterBuilder;

fn save(path: &Path, shape: &[u64], data: &[f32]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut file)
        .begin_nd()
        .unwrap();
    writer.extend(data.iter().copied()).unwrap();
    writer.finish().unwrap();
}

fn load(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let npy =
        npyz::NpyFile::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

fn check(dir: &Path, data: &[f32], count: usize, n: usize, with_s: bool) {
    let (shape, r) = load(&dir.join("r.npy"));
    assert_eq!(shape, [count as u64, n as u64, n as u64]);
    let s = with_s.then(|| load(&dir.join("s.npy")).1);
    assert_eq!(dir.join("s.npy").exists(), with_s);
    let (_, status) = {
        let npy = npyz::NpyFile::new(std::io::BufReader::new(
            std::fs::File::open(dir.join("status.npy")).unwrap(),
        ))
        .unwrap();
        (npy.shape().to_vec(), npy.into_vec::<i32>().unwrap())
    };
    assert!(status.iter().all(|&c| c == 0));
    let bound = 16.0 * n as f64 * common::EPS;
    for b in 0..count {
        let at = |v: &[f32], i: usize, j: usize| f64::from(v[b * n * n + i * n + j]);
        let a = DMatrix::from_fn(n, n, |i, j| at(data, i, j));
        let rm = DMatrix::from_fn(n, n, |i, j| at(&r, i, j));
        assert!(common::orthogonality_error(&rm) <= bound);
        assert!((rm.determinant() - 1.0).abs() < 1e-5);
        if let Some(s) = &s {
            let sm = DMatrix::from_fn(n, n, |i, j| at(s, i, j));
            assert!((&a - &rm * &sm).norm() <= bound * a.norm(), "matrix {b}");
            assert!((sm.clone() - sm.transpose()).amax() <= bound * a.norm());
        }
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    for key in [
        "backend",
        "adapter",
        "count",
        "m",
        "n",
        "seconds",
        "not_converged",
        "max_sweeps_used",
    ] {
        assert!(report.get(key).is_some(), "report.json lacks {key}");
    }
}

#[test]
fn polar_cpu_and_gpu() {
    let scratch = Scratch::new("polar-both");
    let dir = scratch.path("");
    for n in [2usize, 3, 5] {
        let count = 30;
        let data = common::matrices::gaussian_row_major(count, n, n, 100 + n as u64);
        let input = dir.join(format!("a{n}.npy"));
        save(&input, &[count as u64, n as u64, n as u64], &data);
        let mut backends = vec!["cpu"];
        if common::gpu().is_some() {
            backends.push("gpu");
        }
        for backend in backends {
            let out = dir.join(format!("out-{n}-{backend}"));
            let result = run(&[
                "polar",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--backend",
                backend,
            ]);
            assert_eq!(
                result.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&result.stderr)
            );
            check(&out, &data, count, n, true);
            let out = dir.join(format!("out-{n}-{backend}-r"));
            let result = run(&[
                "polar",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--backend",
                backend,
                "--rotation-only",
            ]);
            assert_eq!(result.status.code(), Some(0));
            check(&out, &data, count, n, false);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn polar_refuses_non_square_input_and_leaves_nothing() {
    let scratch = Scratch::new("polar-nonsquare");
    let dir = scratch.path("");
    let input = dir.join("a.npy");
    save(&input, &[4, 2, 3], &[1.0; 24]);
    let out = dir.join("out");
    let result = run(&[
        "polar",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("square"), "{stderr}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
