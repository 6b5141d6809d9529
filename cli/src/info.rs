//! `batched-svd info`: the adapters found, the one chosen, and what it offers.

use std::fmt::Write as _;
use std::io::Write as _;

use batched_svd::wgpu::{Features, Limits};
use batched_svd::{AdapterSummary, Gpu};

use crate::error::CliError;

/// Environment variables the adapter choice honours, with what they do.
const ENVIRONMENT: [(&str, &str); 2] = [
    (
        "WGPU_BACKEND",
        "backends searched, comma-separated: vulkan, metal, dx12, gl (default: all)",
    ),
    (
        "WGPU_ADAPTER_NAME",
        "use the adapter whose name contains this (case-insensitive)",
    ),
];

/// Device features that matter to the kernels, with why.
const FEATURES: [(&str, Features, &str); 4] = [
    (
        "SHADER_F64",
        Features::SHADER_F64,
        "f64 arithmetic in shaders",
    ),
    ("SUBGROUP", Features::SUBGROUP, "subgroup (warp) operations"),
    (
        "TIMESTAMP_QUERY",
        Features::TIMESTAMP_QUERY,
        "GPU-side timing",
    ),
    (
        "PIPELINE_CACHE",
        Features::PIPELINE_CACHE,
        "on-disk pipeline caches",
    ),
];

/// Prints the report; exit code 0 if an adapter was chosen.
///
/// # Errors
/// When no adapter is usable (after printing the adapters and environment).
pub fn run() -> Result<u8, CliError> {
    let adapters = pollster::block_on(batched_svd::list_adapters());
    let chosen = batched_svd::Gpu::new();
    let mut text = String::new();
    adapters_section(&mut text, &adapters);
    if let Ok(gpu) = &chosen {
        device_section(&mut text, gpu);
    }
    environment_section(&mut text);
    let _ = std::io::stdout().write_all(text.as_bytes());
    chosen.map(|_| 0).map_err(CliError::from)
}

/// The adapters found, one per line.
fn adapters_section(text: &mut String, adapters: &[AdapterSummary]) {
    let _ = writeln!(text, "Adapters found: {}", adapters.len());
    for (i, a) in adapters.iter().enumerate() {
        let _ = writeln!(
            text,
            "  [{i}] {} ({:?}, {:?}), driver: {}, compute shaders: {}",
            a.name,
            a.backend,
            a.device_type,
            if a.driver.is_empty() { "?" } else { &a.driver },
            yes_no(a.compute)
        );
    }
}

/// The chosen adapter, its limits, features and the chunk planning limits.
fn device_section(text: &mut String, gpu: &Gpu) {
    let info = gpu.adapter_info();
    let _ = writeln!(
        text,
        "\nChosen adapter: {} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    );
    let _ = writeln!(
        text,
        "\nDevice limits (the adapter's full limits are requested):"
    );
    for (name, value) in limits(&gpu.device().limits()) {
        let _ = writeln!(text, "  {name:<40} {value:>12}{}", human_bytes(name, value));
    }
    let _ = writeln!(
        text,
        "\nDevice features (only features enabled on the device are listed as yes; the library \
         requests none, so \"no\" does not mean the adapter lacks them):"
    );
    let enabled = gpu.device().features();
    for (name, flag, why) in FEATURES {
        let _ = writeln!(
            text,
            "  {name:<16} {:<4} {why}",
            yes_no(enabled.contains(flag))
        );
    }
    let plan = gpu.plan_limits();
    let _ = writeln!(
        text,
        "\nChunk planning: at most {} per buffer (soft cap), binding {}, buffer {}",
        bytes(plan.max_chunk_bytes),
        bytes(plan.max_binding_bytes),
        bytes(plan.max_buffer_bytes)
    );
}

/// The environment variables honoured and their current values.
fn environment_section(text: &mut String) {
    let _ = writeln!(text, "\nEnvironment:");
    for (name, what) in ENVIRONMENT {
        let value = std::env::var(name).unwrap_or_else(|_| "(unset)".to_string());
        let _ = writeln!(text, "  {name}={value}  ({what})");
    }
}

/// The limits that bound chunk sizes and kernel shapes.
fn limits(l: &Limits) -> [(&'static str, u64); 6] {
    [
        (
            "max_storage_buffer_binding_size",
            l.max_storage_buffer_binding_size,
        ),
        ("max_buffer_size", l.max_buffer_size),
        (
            "max_compute_workgroup_storage_size",
            u64::from(l.max_compute_workgroup_storage_size),
        ),
        (
            "max_compute_invocations_per_workgroup",
            u64::from(l.max_compute_invocations_per_workgroup),
        ),
        (
            "max_compute_workgroups_per_dimension",
            u64::from(l.max_compute_workgroups_per_dimension),
        ),
        (
            "max_storage_buffers_per_shader_stage",
            u64::from(l.max_storage_buffers_per_shader_stage),
        ),
    ]
}

/// `"  (128 MiB)"` for byte-sized limits, else nothing.
fn human_bytes(name: &str, value: u64) -> String {
    if name.ends_with("_size") {
        format!("  ({})", bytes(value))
    } else {
        String::new()
    }
}

/// A byte count in the largest binary unit that keeps it ≥ 1.
fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = value as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 || x.fract() == 0.0 {
        format!("{x} {}", UNITS[unit])
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// `"yes"` or `"no"`.
fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(128 << 20), "128 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
