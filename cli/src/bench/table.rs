//! The bench's text table.

use super::measure::{Backend, Row};
use super::plan::Dtype;

/// The table header (two lines).
pub(crate) fn table_header() -> String {
    let mut s = format!(
        "{:<8} {:>8} {:<5} {:<7} {:<19} {:>11} {:>8} {:>8} {:>7} {:>11} {:>5} {:>5} {:>9}\n",
        "shape",
        "count",
        "dtype",
        "vectors",
        "backend",
        "matrices/s",
        "speedup",
        "GFLOP/s",
        "of peak",
        "sweeps",
        "trips",
        "disp.",
        "MiB/call"
    );
    s.push_str(&"-".repeat(s.trim_end().chars().count()));
    s.push('\n');
    s
}

/// One table line.
pub(crate) fn table_line(row: &Row) -> String {
    let c = row.case;
    let dash = || "-".to_string();
    let backend = match row.backend {
        Backend::Gpu => "gpu".to_string(),
        Backend::GpuResident => "gpu, data resident".to_string(),
        Backend::Cpu => format!("cpu engine, {} thr.", row.threads),
        Backend::Auto => format!(
            "auto ({})",
            row.engine.map_or("?", batched_svd::Engine::name)
        ),
        Backend::NalgebraOne => "nalgebra 1 thread".to_string(),
        Backend::NalgebraAll => format!("nalgebra {} threads", row.threads),
        Backend::Numpy => "numpy".to_string(),
    };
    let facts = row.gpu;
    format!(
        "{:<8} {:>8} {:<5} {:<7} {:<19} {:>11} {:>8} {:>8} {:>7} {:>11} {:>5} {:>5} {:>9}\n",
        format!("{}x{}", c.m, c.n),
        c.count,
        match c.dtype {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
            Dtype::C64 => "c64",
            Dtype::C128 => "c128",
        },
        c.mode(),
        backend,
        si(row.rate()),
        row.speedup.map_or_else(dash, |s| format!("{s:.2}x")),
        row.gflops.map_or_else(dash, |g| format!("{g:.2}")),
        row.peak_fraction
            .map_or_else(|| "n/a".to_string(), |p| format!("{:.1}%", 100.0 * p)),
        facts.map_or_else(dash, |f| format!("{}/{:.2}", f.sweeps_max, f.sweeps_mean)),
        facts.map_or_else(dash, |f| f.work.host_round_trips.to_string()),
        facts.map_or_else(dash, |f| f.work.dispatches.to_string()),
        facts.map_or_else(dash, |f| format!(
            "{:.1}",
            (f.work.bytes_uploaded + f.work.bytes_downloaded) as f64 / (1u64 << 20) as f64
        )),
    )
}

/// `x` with three significant digits and an SI suffix (`1.23M`).
pub(crate) fn si(x: f64) -> String {
    if !x.is_finite() {
        return "inf".to_string();
    }
    let (value, suffix) = if x >= 1e9 {
        (x / 1e9, "G")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}{suffix}")
}

/// Bytes in MiB, one decimal.
pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(si(1_234_567.0), "1.23M");
        assert_eq!(si(512.0), "512");
        assert_eq!(si(45_600.0), "45.6k");
        assert_eq!(table_header().lines().count(), 2);
    }
}
