//! The JSON document of `batched-svd bench --json FILE` (schema in the README).

use batched_svd::Gpu;
use serde_json::{Value, json};

use super::Startup;
use super::args::BenchArgs;
use super::measure::{Backend, Row};
use super::plan::STARTUP_CASE;

/// A finite number, or null.
fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// The JSON document `--json` writes (schema in the README).
#[allow(clippy::too_many_arguments)]
pub(crate) fn to_json(
    args: &BenchArgs,
    runs: usize,
    threads: usize,
    gpu: Option<&Gpu>,
    startup: Option<&Startup>,
    rows: &[Row],
    peak_rss: Option<u64>,
    largest_io_bytes: u64,
    total: f64,
) -> Value {
    let adapter = gpu.map_or(Value::Null, |g| {
        let info = g.adapter_info();
        json!({
            "name": info.name,
            "backend": format!("{:?}", info.backend).to_lowercase(),
            "device_type": format!("{:?}", info.device_type),
            "driver": info.driver,
            "driver_info": info.driver_info,
        })
    });
    let startup = startup.map_or(Value::Null, |s| {
        json!({
            "count": STARTUP_CASE.0,
            "m": STARTUP_CASE.1,
            "n": STARTUP_CASE.2,
            "context_seconds": s.context_seconds,
            "first_result_seconds": s.first_result_seconds,
            "disk_pipeline_cache": s.disk_cache,
        })
    });
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let c = r.case;
            let f = r.gpu;
            json!({
                "shape": format!("{}x{}", c.m, c.n),
                "m": c.m,
                "n": c.n,
                "count": c.count,
                "count_planned": c.planned,
                "vectors": c.mode(),
                "dtype": c.dtype.name(),
                "backend": r.backend.name(),
                "threads": if matches!(r.backend, Backend::Gpu | Backend::GpuResident | Backend::Auto | Backend::Numpy) { Value::Null } else { json!(r.threads) },
                "engine": r.engine.map(batched_svd::Engine::name),
                "runs": r.seconds.len(),
                "seconds": r.seconds,
                "median_seconds": num(r.median()),
                "matrices_per_second": num(r.rate()),
                "speedup": r.speedup.map_or(Value::Null, num),
                "gflops": r.gflops.map_or(Value::Null, num),
                "peak_fraction": r.peak_fraction.map_or(Value::Null, num),
                "warmup_seconds": r.warmup.map_or(Value::Null, num),
                "sweeps_max": f.map(|f| f.sweeps_max),
                "sweeps_mean": f.map_or(Value::Null, |f| num(f.sweeps_mean)),
                "converged": r.converged.or(f.map(|f| f.converged)),
                "vs_numpy": r.vs_numpy.map_or(Value::Null, num),
                "host_round_trips": f.map(|f| f.work.host_round_trips),
                "dispatches": f.map(|f| f.work.dispatches),
                "submissions": f.map(|f| f.work.submissions),
                "chunks": f.map(|f| f.work.chunks),
                "bytes_uploaded": f.map(|f| f.work.bytes_uploaded),
                "bytes_downloaded": f.map(|f| f.work.bytes_downloaded),
                "statically_sized": r.statically_sized,
                "sigma_sum": num(r.sigma_sum),
            })
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "quick": args.quick,
        "runs": runs,
        "cpu_threads": threads,
        "adapter": adapter,
        "peak_gflops": args.peak_gflops,
        "flops_formula": "sweeps_mean * N*(N-1)/2 * (12*M + 6*N) per matrix, M = max(m, n), N = min(m, n); 12*M only for vectors none",
        "startup": startup,
        "peak_rss_bytes": peak_rss,
        "largest_case_io_bytes": largest_io_bytes,
        "total_seconds": total,
        "rows": rows,
    })
}

/// The process's peak resident set size (`VmHWM` of `/proc/self/status`), where available.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
