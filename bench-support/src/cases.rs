//! The benchmark table: the shapes and batch sizes `batched-svd bench`, `cargo bench`,
//! `benches/numpy_peer.py` and the check kit measure.

/// The benchmark shapes `(m, n)` and their batch counts: square sizes 2…64, tall 64×8 and
/// 256×16, wide 8×64. Counts shrink with the cost of a matrix so each case does a bounded
/// amount of work. `benches/numpy_peer.py` repeats this table (a test checks they agree).
pub const BENCH_CASES: [((usize, usize), usize); 10] = [
    ((2, 2), 1 << 20),
    ((3, 3), 1 << 20),
    ((4, 4), 1 << 19),
    ((8, 8), 1 << 17),
    ((16, 16), 1 << 15),
    ((32, 32), 1 << 12),
    ((64, 64), 1 << 10),
    ((64, 8), 1 << 14),
    ((256, 16), 1 << 11),
    ((8, 64), 1 << 14),
];

/// The f64 benchmark shapes and their batch counts (thin vectors): the 3×3, 8×8 and 32×32 of
/// [`BENCH_CASES`] with a quarter of their counts, and a batch of eight 256×256 matrices.
pub const BENCH_F64_CASES: [((usize, usize), usize); 4] = [
    ((3, 3), 1 << 18),
    ((8, 8), 1 << 15),
    ((32, 32), 1 << 10),
    ((256, 256), 8),
];

/// The complex64 benchmark shapes and their batch counts (thin vectors): the 3×3, 8×8 and
/// 32×32 of [`BENCH_CASES`] with an eighth of their counts (a complex solve does about four
/// times the real one's flops).
pub const BENCH_C64_CASES: [((usize, usize), usize); 3] =
    [((3, 3), 1 << 17), ((8, 8), 1 << 14), ((32, 32), 1 << 9)];

/// The complex128 benchmark shapes and their batch counts (thin vectors).
pub const BENCH_C128_CASES: [((usize, usize), usize); 1] = [((8, 8), 1 << 14)];

/// The benchmark shapes also measured values only.
pub const BENCH_VALUES_ONLY: [(usize, usize); 4] = [(3, 3), (8, 8), (32, 32), (256, 16)];

/// The benchmark shapes also measured as polar decompositions.
pub const BENCH_POLAR: [(usize, usize); 1] = [(3, 3)];

/// Single large matrices for the CPU engine against numpy (`n×n`).
pub const LARGE_SINGLE: [usize; 4] = [256, 512, 1024, 2048];

#[cfg(test)]
mod tests {
    use super::*;

    /// `benches/numpy_peer.py` keeps its own copy of the table (it runs without the Rust
    /// toolchain); both must list the same cases.
    #[test]
    fn numpy_script_has_the_same_table() {
        let script = include_str!("../../benches/numpy_peer.py");
        for ((m, n), count) in BENCH_CASES {
            let log = count.trailing_zeros();
            let line = format!("({m}, {n}, 1 << {log}),");
            assert!(script.contains(&line), "numpy_peer.py lacks {line}");
        }
        for (m, n) in BENCH_VALUES_ONLY {
            assert!(
                script.contains(&format!("({m}, {n})")),
                "values-only {m}x{n}"
            );
        }
        let large: Vec<String> = LARGE_SINGLE.iter().map(ToString::to_string).collect();
        assert!(script.contains(&format!("LARGE = [{}]", large.join(", "))));
    }
}
