//! Fault injection for the reliability tests: with `BATCHED_SVD_FAULT_DESTROY_DEVICE_MS=N` set,
//! the GPU device is destroyed (`wgpu::Device::destroy`, what a driver reset looks like to
//! wgpu) N milliseconds after the engine is set up, in the middle of the computation. Only
//! where the engine has a device at that point (`--backend gpu`); without the variable
//! nothing happens. `cli/tests/cli_faults.rs` checks that the tool then exits 2 with one line
//! and writes nothing.

use batched_svd::Solver;

/// The variable's name.
pub const DESTROY_DEVICE_VAR: &str = "BATCHED_SVD_FAULT_DESTROY_DEVICE_MS";

/// Arms the device destruction if the variable asks for it.
pub(crate) fn arm(solver: &Solver) {
    let Some(ms) = std::env::var(DESTROY_DEVICE_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return;
    };
    let Some(gpu) = solver.gpu() else {
        return;
    };
    let device = gpu.device().clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        device.destroy();
    });
}
