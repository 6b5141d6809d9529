//! numpy rows: the JSON that `benches/numpy_peer.py --json FILE` writes (in the same session,
//! just before the bench), merged into the table case by case.

use std::path::Path;

use serde_json::Value;

use super::measure::{Backend, Row};
use super::plan::{Case, Dtype};
use crate::error::CliError;

/// numpy's measurements, keyed by shape, mode and kind.
#[derive(Debug, Default)]
pub(crate) struct NumpyRows {
    /// The numpy version.
    pub version: String,
    rows: Vec<(usize, usize, String, bool, usize, f64)>,
}

impl NumpyRows {
    /// Reads `path`.
    ///
    /// # Errors
    /// A file that cannot be read or is not the script's JSON.
    pub(crate) fn read(path: &Path) -> Result<Self, CliError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| CliError::io("cannot read", path, &e))?;
        let bad = || {
            CliError::other(format!(
                "'{}' is not the JSON of benches/numpy_peer.py",
                path.display()
            ))
        };
        let doc: Value = serde_json::from_str(&text).map_err(|_| bad())?;
        let rows = doc["rows"].as_array().ok_or_else(bad)?;
        let mut out = Self {
            version: doc["numpy"].as_str().unwrap_or("?").to_string(),
            rows: Vec::new(),
        };
        for r in rows {
            let get = |k: &str| r[k].as_u64().map(|x| x as usize);
            let (Some(m), Some(n), Some(count), Some(seconds), Some(vectors)) = (
                get("m"),
                get("n"),
                get("count"),
                r["median_seconds"].as_f64(),
                r["vectors"].as_str(),
            ) else {
                return Err(bad());
            };
            let single = r["kind"].as_str() == Some("single");
            out.rows
                .push((m, n, vectors.to_string(), single, count, seconds));
        }
        Ok(out)
    }

    /// The numpy row of `case`, if the file has one: its rate (measured on numpy's own count)
    /// expressed as seconds for `case.count` matrices.
    pub(crate) fn row(&self, case: &Case) -> Option<Row> {
        if case.polar || case.dtype != Dtype::F32 {
            return None;
        }
        let single = case.planned == 1;
        let &(_, _, _, _, count, seconds) = self.rows.iter().find(|(m, n, v, s, _, _)| {
            (*m, *n) == (case.m, case.n) && v == case.mode() && *s == single
        })?;
        let mut row = Row::new(*case, Backend::Numpy, 0);
        row.seconds = vec![seconds * case.count as f64 / count as f64];
        Some(row)
    }
}
