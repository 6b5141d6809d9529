//! `report.json`: what was computed, on what, how long it took and how it went.

use batched_svd::{Status, SvdOutput, Vectors};
use serde_json::{Value, json};

use crate::npy::Input;

/// Wall-clock seconds of the phases of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seconds {
    /// Reading and validating the input file.
    pub read_input: f64,
    /// Creating the GPU device (0 on the CPU path).
    pub setup: f64,
    /// Writing the `.npy` outputs.
    pub write_output: f64,
    /// The whole run up to writing the report.
    pub total: f64,
}

/// Everything the report describes.
#[derive(Debug)]
pub struct Run<'a> {
    /// The input as read.
    pub input: &'a Input,
    /// The input path as given.
    pub input_path: String,
    /// The decomposition.
    pub output: &'a SvdOutput,
    /// `"gpu"` or `"cpu"`.
    pub backend: &'static str,
    /// Adapter name, or `"cpu (nalgebra)"`.
    pub adapter: String,
    /// The effective rotation threshold.
    pub tolerance: f32,
    /// The sweep cap.
    pub max_sweeps: u32,
    /// Output files written (final names) with their shapes.
    pub files: Vec<(String, Vec<usize>)>,
    /// Phase timings not in the output's own [`batched_svd::Timings`].
    pub seconds: Seconds,
}

/// The name of a [`Vectors`] mode as the command line spells it.
pub fn vectors_name(vectors: Vectors) -> &'static str {
    match vectors {
        Vectors::None => "none",
        Vectors::Thin => "thin",
        Vectors::Full => "full",
    }
}

/// The report as a JSON value, for commands that add or override keys before
/// [`to_text`].
pub fn value(run: &Run<'_>) -> Value {
    build(run)
}

/// A report value as pretty-printed JSON text (with a final newline).
pub fn to_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Builds the report.
fn build(run: &Run<'_>) -> Value {
    let out = run.output;
    let (m, n) = out.shape();
    let timings = out.timings();
    let files: serde_json::Map<String, Value> = run
        .files
        .iter()
        .map(|(name, shape)| (name.clone(), json!(shape)))
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "input": {
            "path": run.input_path,
            "shape": run.input.shape,
            "dtype": run.input.descr,
            "fortran_order": run.input.fortran_order,
        },
        "backend": run.backend,
        "adapter": run.adapter,
        "count": out.count(),
        "m": m,
        "n": n,
        "k": out.k(),
        "vectors": vectors_name(out.vectors()),
        "tolerance": f32_to_json(run.tolerance),
        "max_sweeps": run.max_sweeps,
        "seconds": {
            "read_input": run.seconds.read_input,
            "setup": run.seconds.setup,
            "upload": timings.upload,
            "compute": timings.compute,
            "download": timings.download,
            "write_output": run.seconds.write_output,
            "total": run.seconds.total,
        },
        "converged": out.count_status(Status::Converged),
        "not_converged": out.count_status(Status::NotConverged),
        "non_finite": out.count_status(Status::NonFinite),
        "max_sweeps_used": out.max_sweeps_used(),
        "status_codes": {
            "0": "converged",
            "1": "not converged within max_sweeps",
            "2": "non-finite input",
        },
        "files": files,
    })
}

/// An f32 as the shortest decimal that reads back to it (`2.8421709e-6`, not the f64 digits
/// of the widened value).
fn f32_to_json(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .map_or(Value::Null, |v| json!(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_prints_short() {
        assert_eq!(f32_to_json(0.1).to_string(), "0.1");
    }
}
