//! The cases `batched-svd bench` measures: the bench table of bench-support, the values-only
//! and polar variants, `--shapes`, `--count`, `--quick` and `--large`.

use batched_svd::Vectors;
use bench_support::{cases, flops};

use super::args::BenchArgs;
use crate::report::vectors_name;

/// The default shapes `(m, n)` and their batch counts (full mode; `--quick` divides them).
pub(crate) const DEFAULT_CASES: [((usize, usize), usize); 10] = cases::BENCH_CASES;

/// The default f64 shapes and their batch counts (thin vectors only).
pub(crate) const DEFAULT_F64_CASES: [((usize, usize), usize); 4] = cases::BENCH_F64_CASES;

/// The default complex64 and complex128 shapes and their batch counts (thin vectors only).
pub(crate) const DEFAULT_C64_CASES: [((usize, usize), usize); 3] = cases::BENCH_C64_CASES;
pub(crate) const DEFAULT_C128_CASES: [((usize, usize), usize); 1] = cases::BENCH_C128_CASES;

/// On a software adapter the GPU engine is not measured for matrices of more elements than
/// this (the multi-dispatch kernels take seconds per 256×256 matrix there, and auto sends such
/// shapes to the CPU engine); on hardware adapters it always is.
pub(crate) const SOFTWARE_GPU_MAX_ELEMENTS: usize = 128 * 128;

/// Shapes also measured values-only in full mode.
pub(crate) const VALUES_ONLY_SHAPES: [(usize, usize); 4] = cases::BENCH_VALUES_ONLY;

/// Shapes also measured as polar decompositions (in full and quick mode).
pub(crate) const POLAR_SHAPES: [(usize, usize); 1] = cases::BENCH_POLAR;

/// `--quick` divides the full-mode counts by this.
pub(crate) const QUICK_DIVISOR: usize = 4;

/// The longest call (seconds) of the slowest backend a case may plan for; beyond it the batch
/// is cut (see [`measure`](super::measure::measure)).
pub(crate) const MAX_CALL_SECONDS_FULL: f64 = 10.0;
/// As [`MAX_CALL_SECONDS_FULL`], with `--quick`.
pub(crate) const MAX_CALL_SECONDS_QUICK: f64 = 1.0;

/// The probe that estimates each backend's throughput runs on this fraction of the batch…
pub(crate) const PROBE_FRACTION: usize = 64;
/// …but on at least this many matrices (the smallest batch a cut leaves, too).
pub(crate) const MIN_COUNT: usize = 16;

/// Timed runs per backend and case.
pub(crate) const RUNS_FULL: usize = 5;
/// Timed runs per backend and case with `--quick`.
pub(crate) const RUNS_QUICK: usize = 3;

/// The start-up measurement: matrices and shape.
pub(crate) const STARTUP_CASE: (usize, usize, usize) = (1000, 16, 16);

/// Largest `m` or `n` accepted by `--shapes`.
pub(crate) const MAX_DIM: usize = 8192;

/// Largest `--count`.
pub(crate) const MAX_COUNT: usize = 1 << 24;

/// Nominal flops per case for shapes without a default count (about what the defaults do).
pub(crate) const WORK_PER_CASE: f64 = 4e9;

/// The element type of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
    C64,
    C128,
}

impl Dtype {
    /// numpy's name, as the table, the JSON and `--dtype` spell it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::C64 => "complex64",
            Dtype::C128 => "complex128",
        }
    }

    /// Bytes per element.
    pub(crate) fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 | Dtype::C64 => 8,
            Dtype::C128 => 16,
        }
    }

    /// `"float32"`/`"f32"`, `"float64"`/`"f64"`, `"complex64"`/`"c64"` or
    /// `"complex128"`/`"c128"`.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "float32" | "f32" => Some(Dtype::F32),
            "float64" | "f64" => Some(Dtype::F64),
            "complex64" | "c64" => Some(Dtype::C64),
            "complex128" | "c128" => Some(Dtype::C128),
            _ => None,
        }
    }
}

/// One measured configuration: shape, batch count, vectors, element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Case {
    pub m: usize,
    pub n: usize,
    /// Matrices measured (at most `planned`; see [`measure`]).
    pub count: usize,
    /// Matrices planned for the shape and mode.
    pub planned: usize,
    pub vectors: Vectors,
    /// The polar decomposition (R and S) instead of the SVD; the CPU peers then run the SVD
    /// it is built on (thin vectors), without the two small products R = U·Vᵀ, S = V·Σ·Vᵀ.
    pub polar: bool,
    pub dtype: Dtype,
}

impl Case {
    /// The mode as the table and the JSON name it: `thin`, `none` or `polar`.
    pub(crate) fn mode(&self) -> &'static str {
        if self.polar {
            "polar"
        } else {
            vectors_name(self.vectors)
        }
    }
}

/// The cases to measure, in order: for each element type of `--dtype` (default: both with the
/// tables, float32 with `--shapes` or `--cases`), its shapes.
pub(crate) fn plan(args: &BenchArgs) -> Vec<Case> {
    let given = args.cases.is_some() || args.shapes.is_some();
    let dtypes = args.dtypes.clone().unwrap_or_else(|| {
        if given {
            vec![Dtype::F32]
        } else {
            vec![Dtype::F32, Dtype::F64, Dtype::C64, Dtype::C128]
        }
    });
    let mut cases = Vec::new();
    for dtype in dtypes {
        let table: &[((usize, usize), usize)] = match dtype {
            Dtype::F32 => &DEFAULT_CASES,
            Dtype::F64 => &DEFAULT_F64_CASES,
            Dtype::C64 => &DEFAULT_C64_CASES,
            Dtype::C128 => &DEFAULT_C128_CASES,
        };
        plan_dtype(args, dtype, table, &mut cases);
    }
    if args.large {
        for n in cases::LARGE_SINGLE {
            cases.push(Case {
                m: n,
                n,
                count: 1,
                planned: 1,
                vectors: Vectors::Thin,
                polar: false,
                dtype: Dtype::F32,
            });
        }
    }
    cases
}

/// The cases of one element type, appended to `cases`; `table` gives the default shapes and
/// counts. f64 cases are thin only.
fn plan_dtype(
    args: &BenchArgs,
    dtype: Dtype,
    table: &[((usize, usize), usize)],
    cases: &mut Vec<Case>,
) {
    // (shape, explicit count): `--cases` gives both; `--shapes` (or the default table) the shape.
    let shapes: Vec<((usize, usize), Option<usize>)> = match (&args.cases, &args.shapes) {
        (Some(list), _) => list.iter().map(|&(s, c)| (s, Some(c))).collect(),
        (None, Some(list)) => list.iter().map(|&s| (s, None)).collect(),
        (None, None) => table.iter().map(|&(s, _)| (s, None)).collect(),
    };
    for ((m, n), explicit) in shapes {
        let full = table
            .iter()
            .find(|(shape, _)| *shape == (m, n))
            .map_or_else(|| default_count(m, n), |&(_, count)| count);
        let count = match explicit.or(args.count) {
            Some(count) => count,
            None if args.quick => (full / QUICK_DIVISOR).max(1),
            None => full,
        };
        let case = Case {
            m,
            n,
            count,
            planned: count,
            vectors: Vectors::Thin,
            polar: false,
            dtype,
        };
        cases.push(case);
        if dtype != Dtype::F32 {
            continue;
        }
        if !args.quick && VALUES_ONLY_SHAPES.contains(&(m, n)) {
            cases.push(Case {
                vectors: Vectors::None,
                ..case
            });
        }
        if POLAR_SHAPES.contains(&(m, n)) {
            cases.push(Case {
                polar: true,
                ..case
            });
        }
    }
}

/// The full-mode batch count for `m×n`: the table's, or a power of two giving about
/// [`WORK_PER_CASE`] nominal flops at 8 sweeps (between 16 and 2^20).
fn default_count(m: usize, n: usize) -> usize {
    if let Some(&(_, count)) = DEFAULT_CASES.iter().find(|(shape, _)| *shape == (m, n)) {
        return count;
    }
    let per_matrix = flops::jacobi_flops(m, n, Vectors::Thin, 8.0).max(1.0);
    let count = (WORK_PER_CASE / per_matrix).clamp(16.0, (1u64 << 20) as f64);
    1usize << (count.log2().floor() as u32)
}

#[cfg(test)]
mod tests {
    use super::super::args::{BenchArgs, Parsed, parse};
    use super::*;
    use std::ffi::OsString;
    use std::path::PathBuf;

    fn run_args(args: &[&str]) -> BenchArgs {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse(&args) {
            Ok(Parsed::Run(a)) => a,
            other => panic!("expected arguments, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let a = run_args(&[]);
        assert_eq!(
            a,
            BenchArgs {
                quick: false,
                json: None,
                shapes: None,
                count: None,
                peak_gflops: None,
                large: false,
                numpy: None,
                only: None,
                cases: None,
                dtypes: None,
            }
        );
        let cases = plan(&a);
        // Ten f32 shapes thin, four of them also values-only, 3×3 also as polar
        // decompositions; then four f64 shapes, three complex64 and one complex128, thin.
        assert_eq!(cases.len(), 15 + 4 + 3 + 1);
        assert_eq!(cases[0].count, 1 << 20);
        assert!(cases.iter().any(|c| c.vectors == Vectors::None));
        assert_eq!(cases.iter().filter(|c| c.polar).count(), 1);
        let f64_cases: Vec<_> = cases.iter().filter(|c| c.dtype == Dtype::F64).collect();
        assert_eq!(f64_cases.len(), 4);
        assert!(
            f64_cases
                .iter()
                .all(|c| c.vectors == Vectors::Thin && !c.polar)
        );
        assert_eq!((f64_cases[3].m, f64_cases[3].count), (256, 8));
        let complex: Vec<_> = cases
            .iter()
            .filter(|c| matches!(c.dtype, Dtype::C64 | Dtype::C128))
            .collect();
        assert!(
            complex
                .iter()
                .all(|c| c.vectors == Vectors::Thin && !c.polar)
        );
        assert_eq!(
            complex.iter().map(|c| (c.dtype, c.m)).collect::<Vec<_>>(),
            [
                (Dtype::C64, 3),
                (Dtype::C64, 8),
                (Dtype::C64, 32),
                (Dtype::C128, 8)
            ]
        );
        let large = plan(&run_args(&["--large"]));
        assert_eq!(large.len(), 23 + cases::LARGE_SINGLE.len());
        assert!(large[23..].iter().all(|c| c.count == 1 && c.m == c.n));
        let only64 = plan(&run_args(&["--dtype", "float64", "--shapes", "8x8"]));
        assert_eq!(only64.len(), 1);
        assert_eq!((only64[0].dtype, only64[0].count), (Dtype::F64, 1 << 15));
        let both = plan(&run_args(&["--dtype=float32,float64", "--quick"]));
        assert_eq!(both.len(), 10 + 1 + 4);
        let c128 = plan(&run_args(&["--dtype", "c128,complex128", "--quick"]));
        assert_eq!((c128.len(), c128[0].dtype, c128[0].m), (1, Dtype::C128, 8));
    }

    #[test]
    fn all_options_in_any_order() {
        let a = run_args(&[
            "--shapes",
            "3x3, 8X8,256×16,3x3",
            "--json=out.json",
            "--quick",
            "--peak-gflops",
            "150.5",
            "--numpy",
            "np.json",
        ]);
        assert_eq!(a.count, None);
        assert!(a.quick);
        assert_eq!(a.json, Some(PathBuf::from("out.json")));
        assert_eq!(a.numpy, Some(PathBuf::from("np.json")));
        assert_eq!(a.shapes, Some(vec![(3, 3), (8, 8), (256, 16)]));
        assert_eq!(a.peak_gflops, Some(150.5));
        let cases = plan(&a);
        // Thin for each shape, plus 3×3 as polar decompositions.
        assert_eq!(cases.len(), 4);
        assert!(cases.iter().all(|c| c.vectors == Vectors::Thin));
        assert_eq!(cases.iter().filter(|c| c.polar).count(), 1);
        assert_eq!(cases[0].count, (1 << 20) / QUICK_DIVISOR);
        let c = plan(&run_args(&["--cases", "3x3:1024,16x16:64"]));
        assert_eq!(
            c.iter()
                .map(|c| (c.m, c.count, c.mode()))
                .collect::<Vec<_>>(),
            [
                (3, 1024, "thin"),
                (3, 1024, "none"),
                (3, 1024, "polar"),
                (16, 64, "thin")
            ]
        );
        let b = run_args(&["--count=100", "--shapes=5x7"]);
        assert_eq!(plan(&b)[0].count, 100);
        assert_eq!(plan(&b)[0].planned, 100);
    }

    #[test]
    fn counts_for_other_shapes_are_bounded() {
        for (m, n) in [(1, 1), (5, 7), (128, 128), (1000, 3), (4096, 4096)] {
            let count = default_count(m, n);
            assert!(count.is_power_of_two() && (16..=1 << 20).contains(&count));
        }
        assert_eq!(default_count(64, 64), 1 << 10);
    }
}
