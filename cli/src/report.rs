//! `report.json`: what was computed, on which engine and why, how long it took and how it
//! went.

use batched_svd::{Backend, Report, Status, Vectors};
use serde_json::{Value, json};

use crate::npy::Input;

/// Wall-clock seconds of the phases of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seconds {
    /// Reading and validating the input file.
    pub read_input: f64,
    /// Choosing the engine and creating the GPU device (0 on the CPU engine).
    pub setup: f64,
    /// Writing the `.npy` outputs.
    pub write_output: f64,
    /// The whole run up to writing the report.
    pub total: f64,
}

/// Everything the common part of the report describes.
#[derive(Debug)]
pub struct Run<'a> {
    /// `svd`, `pinv`, `lstsq` or `polar`.
    pub command: &'static str,
    /// The input as read.
    pub input: &'a Input,
    /// The element type computed in and written: `"float32"` or `"float64"`.
    pub dtype: &'static str,
    /// The input path as given.
    pub input_path: String,
    /// The result's report (statuses, engine, timings).
    pub report: &'a Report,
    /// The backend asked for on the command line.
    pub requested: Backend,
    /// Adapter name, or `"cpu"`.
    pub adapter: String,
    /// The vectors computed.
    pub vectors: Vectors,
    /// The effective rotation threshold.
    pub tolerance: f32,
    /// The sweep cap.
    pub max_sweeps: u32,
    /// Output files written (final names) with their shapes.
    pub files: Vec<(String, Vec<usize>)>,
    /// Phase timings not in the report's own [`batched_svd::Timings`].
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

/// The meaning of each status code.
pub fn status_codes() -> Value {
    json!({
        "0": "converged",
        "1": "not converged within max_sweeps",
        "2": "non-finite input",
    })
}

/// The report as a JSON value, for commands that add keys before [`to_text`].
pub fn value(run: &Run<'_>) -> Value {
    let r = run.report;
    let (m, n) = r.shape();
    let timings = r.timings();
    let files: serde_json::Map<String, Value> = run
        .files
        .iter()
        .map(|(name, shape)| (name.clone(), json!(shape)))
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "command": run.command,
        "input": {
            "path": run.input_path,
            "shape": run.input.shape,
            "dtype": run.input.descr,
            "fortran_order": run.input.fortran_order,
        },
        "dtype": run.dtype,
        "batch_shape": r.batch_shape(),
        "backend": r.engine().kind.name(),
        "backend_requested": run.requested.name(),
        "engine_reason": r.engine().reason.to_string(),
        "adapter": run.adapter,
        "count": r.count(),
        "m": m,
        "n": n,
        "k": r.k(),
        "vectors": vectors_name(run.vectors),
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
        "converged": r.count_status(Status::Converged),
        "not_converged": r.count_status(Status::NotConverged),
        "non_finite": r.count_status(Status::NonFinite),
        "max_sweeps_used": r.max_sweeps_used(),
        "status_codes": status_codes(),
        "files": files,
    })
}

/// A report value as pretty-printed JSON text (with a final newline).
pub fn to_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
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
