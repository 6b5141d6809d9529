//! The arguments of `batched-svd bench`.

use std::ffi::OsString;
use std::path::PathBuf;

use super::plan::MAX_DIM;
use super::plan::{Dtype, MAX_COUNT};
use crate::error::CliError;

/// Usage text of `batched-svd bench --help`.
pub const BENCH_USAGE: &str = "\
Usage: batched-svd bench [--quick] [--json FILE] [--shapes LIST] [--count N]
                         [--peak-gflops X] [--large] [--numpy FILE] [--dtype LIST]

Decomposes batches of random Gaussian f32 matrices (deterministic seed), then the f64 table
(3x3, 8x8, 32x32 and 256x256, thin vectors, the same matrices widened to f64) and the complex
tables (complex64 3x3, 8x8, 32x32 and complex128 8x8, thin vectors), with the GPU engine
(Gpu::svd_into / polar_into with one output reused per case, default options), the CPU
engine (all cores), the engine interface's auto choice (Solver, Backend::Auto), and nalgebra
in the same precision on one thread and on all cores (the batch split over threads; statically sized
matrices where nalgebra allows), in one run. Each case: a probe on a small prefix of the
batch (compiles the GPU pipelines, estimates the rates), one warm-up call per engine on the
whole batch, then the median of 5 timed runs (3 with --quick) of each backend,
interleaved. 2x2 and 3x3 also get a 'gpu, data resident' row: the
same kernel on matrices already in device buffers (Gpu::encode_svd / encode_polar, then
submit and wait; no upload, read-back or host copies), as a graphics or physics engine
calls it. Also reports the GPU start-up (creating the context
to the first result of 1000 16x16 matrices, the first compile in this process; the on-disk
pipeline cache, when on, may hold pipelines of an earlier process) and the peak resident
memory of the process (VmHWM).

Options (in any order; --opt=value also accepted):
  --quick            Smaller batches, 3 runs, thin vectors only (about a minute).
  --json FILE        Also write every row as JSON to FILE (schema in the README).
  --shapes LIST      Comma-separated MxN shapes, e.g. 3x3,8x8,256x16 (default: 2x2 3x3 4x4
                     8x8 16x16 32x32 64x64 64x8 256x16 8x64).
  --count N          Matrices per case instead of the defaults (2^20 for 2x2 and 3x3 down
                     to 2^10 for 64x64; a quarter with --quick). Cases are cut further when
                     the slowest backend would take over 10 s per call (1 s with --quick).
  --peak-gflops X    The device's nominal peak in GFLOP/s, for the 'of peak' column
                     (otherwise n/a: wgpu does not report it).
  --large            Also single matrices of 256x256 to 2048x2048 (CPU engine and auto;
                     the GPU engine only on hardware adapters).
  --numpy FILE       Add the numpy rows of FILE, written just before by
                     python3 benches/numpy_peer.py --json FILE (same machine, same shapes).
  --cases LIST       Shapes with their batch counts instead of the table, e.g.
                     3x3:16777216,8x8:1048576 (the real-GPU check's sizes).
  --only LIST        Measure only these rows: any of gpu (with the data-resident rows), cpu,
                     auto, nalgebra (e.g. --only gpu,nalgebra, the rows of earlier builds).
  --dtype LIST       Element types, comma-separated: float32, float64, complex64,
                     complex128 (default: every table; float32 only with --shapes or
                     --cases). On a software adapter the
                     GPU engine is skipped for matrices over 128x128 elements.

Columns: matrices/s is the median throughput; speedup is each engine's over the fastest
nalgebra peer (for auto: over the faster of the GPU and CPU engines, the ratio the auto rule
is held to); the backend column of auto says which engine it chose;
GFLOP/s counts the nominal one-sided Jacobi cost: with W = A (or A^T when A is wide),
M = max(m, n), N = min(m, n), each sweep rotates N(N-1)/2 column pairs at 6M flops (three
dot products) + 6M (two columns of W) + 6N (two columns of V; not for values only), so
  flops per matrix = sweeps * N(N-1)/2 * (12M + 6N),
with the GPU run's mean sweeps used for every row of the case (the nalgebra rows are
'Jacobi-equivalent' GFLOP/s: nalgebra runs a different algorithm). sweeps is the GPU's
max/mean per matrix; trips, dispatches and MiB are host-device round trips, compute
dispatches and bytes moved (up + down) per GPU call.
";

/// The arguments of `batched-svd bench`.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchArgs {
    /// Smaller batches, fewer runs, thin only.
    pub quick: bool,
    /// Where to write the JSON rows.
    pub json: Option<PathBuf>,
    /// The shapes to measure (`None`: the default set).
    pub shapes: Option<Vec<(usize, usize)>>,
    /// Matrices per case instead of the defaults.
    pub count: Option<usize>,
    /// The device's nominal peak, GFLOP/s.
    pub peak_gflops: Option<f64>,
    /// Also the single large matrices.
    pub large: bool,
    /// numpy rows to merge (the JSON of `benches/numpy_peer.py`).
    pub numpy: Option<PathBuf>,
    /// Measure only these rows (`--only gpu,cpu,auto,nalgebra`); `None`: all.
    pub only: Option<Vec<String>>,
    /// Shapes with their batch counts (`--cases 3x3:16777216,...`), instead of the table.
    pub cases: Option<Vec<ShapeCount>>,
    /// The element types to measure (`--dtype float32,float64`); `None`: both with the
    /// tables, float32 with `--shapes` or `--cases`.
    pub dtypes: Option<Vec<Dtype>>,
}

/// A shape `(m, n)` with its batch count.
pub type ShapeCount = ((usize, usize), usize);

/// The row groups `--only` accepts.
pub(crate) const ROW_GROUPS: [&str; 4] = ["gpu", "cpu", "auto", "nalgebra"];

impl BenchArgs {
    /// Whether the row group `group` (one of [`ROW_GROUPS`]) is measured.
    pub(crate) fn wants(&self, group: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|g| g == group))
    }
}

/// Result of parsing the `bench` arguments.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// `--help` was asked for.
    Help,
    /// Run with these arguments.
    Run(BenchArgs),
}

/// Parses the arguments following `bench`.
pub fn parse(args: &[OsString]) -> Result<Parsed, CliError> {
    let mut parsed = BenchArgs {
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
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str() else {
            return Err(CliError::usage(format!(
                "bench: unexpected argument '{}'",
                arg.to_string_lossy()
            )));
        };
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (text, None),
        };
        match name {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--quick" | "--large" => {
                if inline.is_some() {
                    return Err(CliError::usage(format!("bench: {name} takes no value")));
                }
                if name == "--quick" {
                    parsed.quick = true;
                } else {
                    parsed.large = true;
                }
            }
            "--json" | "--shapes" | "--count" | "--peak-gflops" | "--numpy" | "--only"
            | "--cases" | "--dtype" => {
                let value = match inline {
                    Some(v) => OsString::from(v),
                    None => iter.next().cloned().ok_or_else(|| {
                        CliError::usage(format!("bench: option {name} needs a value"))
                    })?,
                };
                match name {
                    "--json" | "--numpy" => {
                        if value.is_empty() {
                            return Err(CliError::usage(format!(
                                "bench: {name} needs a non-empty path"
                            )));
                        }
                        if name == "--json" {
                            parsed.json = Some(PathBuf::from(value));
                        } else {
                            parsed.numpy = Some(PathBuf::from(value));
                        }
                    }
                    "--shapes" => parsed.shapes = Some(parse_shapes(&utf8(name, &value)?)?),
                    "--only" => parsed.only = Some(parse_only(&utf8(name, &value)?)?),
                    "--cases" => parsed.cases = Some(parse_cases(&utf8(name, &value)?)?),
                    "--dtype" => parsed.dtypes = Some(parse_dtypes(&utf8(name, &value)?)?),
                    "--count" => parsed.count = Some(parse_count(&utf8(name, &value)?)?),
                    _ => parsed.peak_gflops = Some(parse_peak(&utf8(name, &value)?)?),
                }
            }
            _ if name.starts_with('-') => {
                return Err(CliError::usage(format!("bench: unknown option '{name}'")));
            }
            _ => {
                return Err(CliError::usage(format!(
                    "bench: unexpected argument '{text}'"
                )));
            }
        }
    }
    Ok(Parsed::Run(parsed))
}

/// `MxN:COUNT[,MxN:COUNT…]`.
fn parse_cases(value: &str) -> Result<Vec<ShapeCount>, CliError> {
    value
        .split(',')
        .map(|item| {
            let bad = || {
                CliError::usage(format!(
                    "bench: bad case '{item}' in --cases (expected MxN:COUNT, e.g. 3x3:16777216)"
                ))
            };
            let (shape, count) = item.trim().split_once(':').ok_or_else(bad)?;
            let shape = parse_shapes(shape).map_err(|_| bad())?;
            let count = parse_count(count).map_err(|_| bad())?;
            match shape[..] {
                [one] => Ok((one, count)),
                _ => Err(bad()),
            }
        })
        .collect()
}

/// A comma-separated list of element types (`float32`, `float64`, `complex64`, `complex128`;
/// duplicates dropped).
fn parse_dtypes(value: &str) -> Result<Vec<Dtype>, CliError> {
    let mut dtypes = Vec::new();
    for item in value.split(',').map(str::trim) {
        let dtype = Dtype::parse(item).ok_or_else(|| {
            CliError::usage(format!(
                "bench: bad dtype '{item}' in --dtype (expected float32, float64, complex64 or \
                 complex128, comma-separated)"
            ))
        })?;
        if !dtypes.contains(&dtype) {
            dtypes.push(dtype);
        }
    }
    Ok(dtypes)
}

/// A comma-separated list of [`ROW_GROUPS`].
fn parse_only(value: &str) -> Result<Vec<String>, CliError> {
    let groups: Vec<String> = value.split(',').map(|g| g.trim().to_string()).collect();
    for g in &groups {
        if !ROW_GROUPS.contains(&g.as_str()) {
            return Err(CliError::usage(format!(
                "bench: bad row group '{g}' in --only (expected a list of {})",
                ROW_GROUPS.join(", ")
            )));
        }
    }
    Ok(groups)
}

/// The value as UTF-8 text.
fn utf8(name: &str, value: &OsString) -> Result<String, CliError> {
    value.to_str().map(str::to_string).ok_or_else(|| {
        CliError::usage(format!(
            "bench: bad value for {name}: '{}'",
            value.to_string_lossy()
        ))
    })
}

/// `MxN[,MxN…]` (`x`, `X` or `×`), each dimension from 1 to [`MAX_DIM`]; duplicates dropped.
fn parse_shapes(value: &str) -> Result<Vec<(usize, usize)>, CliError> {
    let mut shapes = Vec::new();
    for item in value.split(',').map(str::trim) {
        let bad = || {
            CliError::usage(format!(
                "bench: bad shape '{item}' in --shapes (expected MxN with 1 <= M, N <= {MAX_DIM}, e.g. 3x3,64x8)"
            ))
        };
        let (m, n) = item.split_once(['x', 'X', '×']).ok_or_else(bad)?;
        let dim = |s: &str| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|d| (1..=MAX_DIM).contains(d))
        };
        let shape = (dim(m).ok_or_else(bad)?, dim(n).ok_or_else(bad)?);
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    Ok(shapes)
}

/// A batch count from 1 to [`MAX_COUNT`].
fn parse_count(value: &str) -> Result<usize, CliError> {
    match value.trim().parse::<usize>() {
        Ok(count) if (1..=MAX_COUNT).contains(&count) => Ok(count),
        _ => Err(CliError::usage(format!(
            "bench: --count must be an integer from 1 to {MAX_COUNT}, got '{value}'"
        ))),
    }
}

/// A positive, finite number.
fn parse_peak(value: &str) -> Result<f64, CliError> {
    match value.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(CliError::usage(format!(
            "bench: --peak-gflops must be a positive number, got '{value}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn parse_args(args: &[&str]) -> Result<Parsed, CliError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args)
    }

    #[test]
    fn mistakes_are_errors() {
        for bad in [
            &["--bogus"][..],
            &["extra"],
            &["--json"],
            &["--json", ""],
            &["--numpy"],
            &["--shapes"],
            &["--shapes", ""],
            &["--shapes", "3"],
            &["--shapes", "3x"],
            &["--shapes", "0x3"],
            &["--shapes", "3x3,"],
            &["--shapes", "axb"],
            &["--shapes", "9000x2"],
            &["--shapes", "-3x3"],
            &["--peak-gflops", "0"],
            &["--peak-gflops", "-1"],
            &["--peak-gflops", "inf"],
            &["--peak-gflops", "fast"],
            &["--quick=yes"],
            &["--large=1"],
            &["--only", "gpu,tpu"],
            &["--cases", "3x3"],
            &["--cases", "3x3:0"],
            &["--cases", "3x3:10,axb:5"],
            &["--only"],
            &["--dtype"],
            &["--dtype", "float16"],
            &["--dtype", "float32,"],
            &["--count", "0"],
            &["--count", "-5"],
            &["--count", "1e3"],
            &["--count", "99999999999"],
        ] {
            let err = parse_args(bad).expect_err(&format!("{bad:?} should fail"));
            assert!(err.to_string().starts_with("bench: "), "{err}");
        }
    }
}
