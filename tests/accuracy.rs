//! Accuracy of the GPU and CPU engines against nalgebra in f64, on every matrix class, for
//! square, tall and wide shapes, both layouts, thin and full vectors, in f32 and f64.
//!
//! Bounds, with ε the element type's machine epsilon (2⁻²³ for f32, 2⁻⁵² for f64):
//! max|σᵢ − σ̂ᵢ| ≤ 16·max(m,n)·ε·σ₁; ‖UᵀU − I‖max ≤ 16·m·ε; ‖VᵀV − I‖max ≤ 16·n·ε;
//! ‖A − UΣVᵀ‖F ≤ 16·max(m,n)·ε·‖A‖F. f64 residuals are summed in double-double
//! (`bench_support::dd`); the f64 classes take the grading to κ = 10¹² and the scales to
//! 10^±300 (`Class::ALL_F64`).

mod common;

use batched_svd::{Gpu, Layout, MatrixBatch, Real, SvdOptions, Vectors};
use common::matrices::{Class, batch_row_major_as, to_col_major};

/// Matrices of each class per batch.
const PER_CLASS: usize = 3;

/// The classes tested in `T`.
fn classes<T: Real>() -> &'static [Class] {
    if T::BYTES == 8 {
        &Class::ALL_F64
    } else {
        &Class::ALL
    }
}

/// One batch holding `PER_CLASS` matrices of every class, row-major.
fn mixed_batch<T: Real>(m: usize, n: usize, seed: u64) -> Vec<T> {
    classes::<T>()
        .iter()
        .enumerate()
        .flat_map(|(c, &class)| batch_row_major_as::<T>(class, PER_CLASS, m, n, seed + c as u64))
        .collect()
}

fn check_shape_as<T: Real>(gpu: Option<&Gpu>, m: usize, n: usize) {
    let count = PER_CLASS * classes::<T>().len();
    let row = mixed_batch::<T>(m, n, (m * 100 + n) as u64);
    let col = to_col_major(&row, count, m, n);
    let ty = T::NAME;
    for (layout, data) in [(Layout::RowMajor, &row), (Layout::ColMajor, &col)] {
        let batch = MatrixBatch::with_layout(data, count, m, n, layout).unwrap();
        for vectors in [Vectors::Thin, Vectors::Full] {
            let opts = SvdOptions::default().with_vectors(vectors);
            if let Some(gpu) = gpu {
                let out = gpu.svd(&batch, &opts).unwrap();
                common::assert_sorted_non_negative(&out);
                common::assert_accurate(
                    &format!("gpu {ty} {m}×{n} {layout:?} {vectors:?}"),
                    &batch,
                    &out,
                );
            }
            // The CPU engine is held to the same bounds.
            let out = batched_svd::cpu::svd(&batch, &opts).unwrap();
            common::assert_sorted_non_negative(&out);
            common::assert_accurate(
                &format!("cpu {ty} {m}×{n} {layout:?} {vectors:?}"),
                &batch,
                &out,
            );
        }
    }
}

/// Both element types.
fn check_shape(m: usize, n: usize) {
    check_shape_as::<f32>(common::gpu(), m, n);
    check_shape_as::<f64>(common::gpu_f64(), m, n);
}

#[test]
fn tiny_square() {
    for n in [1, 2, 3, 4] {
        check_shape(n, n);
    }
}

#[test]
fn small_square() {
    for n in [5, 8, 16] {
        check_shape(n, n);
    }
}

#[test]
fn square_32() {
    check_shape(32, 32);
}

#[test]
fn tall() {
    for (m, n) in [(2, 1), (5, 3), (17, 9), (40, 8), (100, 30)] {
        check_shape(m, n);
    }
}

#[test]
fn wide() {
    for (m, n) in [(1, 2), (3, 5), (9, 17), (8, 40)] {
        check_shape(m, n);
    }
}

#[test]
fn global_memory_kernel_mid_sizes() {
    // 64×64 (and 48×70) do not fit 32 KiB of workgroup memory in f32 (nor 40×40 in f64): the
    // global-memory kernel.
    check_shape(64, 64);
    check_shape(48, 70);
}
