mod common;
use batched_svd::*;
use common::matrices::*;

#[test]
fn smoke() {
    let Some(gpu) = common::gpu() else { return };
    eprintln!("{:?}", gpu);
    for (m, n) in [
        (2usize, 2usize),
        (3, 3),
        (8, 5),
        (5, 8),
        (32, 32),
        (1, 1),
        (7, 1),
        (1, 6),
    ] {
        let data = batch_row_major(Class::Gaussian, 50, m, n, 1);
        let batch = MatrixBatch::row_major(&data, 50, m, n).unwrap();
        let out = gpu.svd(&batch, &SvdOptions::default()).unwrap();
        eprintln!(
            "{m}x{n}: sweeps {} σ0 {:?}",
            out.max_sweeps_used(),
            out.singular_values(0)
        );
        common::assert_accurate(&format!("{m}x{n}"), &batch, &out);
    }
}
