//! Matrices too large for workgroup memory run through the global-memory kernel and must
//! already meet the accuracy bounds (their speed is a later concern).

mod common;

use batched_svd::{MatrixBatch, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major, gaussian_row_major};

fn check(label: &str, data: &[f32], count: usize, m: usize, n: usize, vectors: Vectors) {
    let Some(gpu) = common::gpu() else { return };
    let batch = MatrixBatch::row_major(data, count, m, n).unwrap();
    let out = gpu
        .svd(&batch, &SvdOptions::default().with_vectors(vectors))
        .unwrap();
    common::assert_accurate(label, &batch, &out);
}

#[test]
fn square_256() {
    check(
        "256×256",
        &gaussian_row_major(1, 256, 256, 31),
        1,
        256,
        256,
        Vectors::Thin,
    );
}

#[test]
fn graded_128() {
    let data = batch_row_major(Class::Graded, 2, 128, 128, 32);
    check("graded 128×128", &data, 2, 128, 128, Vectors::Thin);
}

#[test]
fn tall_2048_by_64() {
    check(
        "2048×64",
        &gaussian_row_major(1, 2048, 64, 33),
        1,
        2048,
        64,
        Vectors::Thin,
    );
}

#[test]
fn wide_64_by_2048() {
    check(
        "64×2048",
        &gaussian_row_major(1, 64, 2048, 34),
        1,
        64,
        2048,
        Vectors::Thin,
    );
}

#[test]
fn tall_full_u() {
    check(
        "300×20 full",
        &gaussian_row_major(2, 300, 20, 35),
        2,
        300,
        20,
        Vectors::Full,
    );
}
