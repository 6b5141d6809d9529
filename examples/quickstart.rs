//! Quick start: the main job of batched-svd on the default device.
//!
//! Decomposes a batch of random Gaussian matrices through the engine interface
//! (`Solver`, `Backend::Auto`), times it against each engine on its own, and checks the
//! results against nalgebra in f64.
//!
//! ```text
//! cargo run --release --example quickstart               # 100000 matrices of 8×8
//! cargo run --release --example quickstart -- 20000 16 16   # COUNT M N
//! ```
//!
//! Without a GPU, install Mesa's software Vulkan driver (`apt-get install mesa-vulkan-drivers
//! libvulkan1`); if no adapter is found at all the CPU engine runs.

use std::time::Instant;

use batched_svd::{Backend, MatrixBatch, Solver, Status, SvdOptions, SvdOutput};
use nalgebra::DMatrix;

/// Default batch: `COUNT` matrices of `M×N`.
const DEFAULT_SHAPE: (usize, usize, usize) = (100_000, 8, 8);
/// Matrices checked against the f64 reference.
const SAMPLE: usize = 200;
/// Unit roundoff of f32, 2⁻²³, the unit errors are reported in.
const EPS: f64 = f32::EPSILON as f64;

fn main() {
    if let Err(e) = run() {
        eprintln!("quickstart: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The batch shape: optional `COUNT M N` on the command line (N defaults to M).
    let (count, m, n) = parse_args()?;

    // 2. A batch of `count` Gaussian m×n matrices, one after another, each row-major
    //    (numpy's C order, the layout of a `(count, m, n)` array). `MatrixBatch` only borrows
    //    the data and checks that its length is count·m·n.
    let len = count
        .checked_mul(m)
        .and_then(|x| x.checked_mul(n))
        .ok_or("COUNT·M·N overflows")?;
    let data = gaussian(len, 42);
    let batch = MatrixBatch::row_major(&data, count, m, n)?;
    println!("batch:    {count} matrices of {m}×{n} (f32, row-major)");

    // 3. The engine interface. `Backend::Auto` (the default) runs each call on the GPU of the
    //    best adapter (`WGPU_BACKEND` / `WGPU_ADAPTER_NAME` choose another); on a software
    //    adapter, on whichever engine is faster for the shape; without an adapter, on the CPU.
    //    Create it once and reuse it: it keeps the device and the compiled pipelines.
    let solver = Solver::auto();
    match solver.adapter_info() {
        Ok(info) => {
            println!("adapter:  {} ({:?})", info.name, info.backend);
            if info.device_type == batched_svd::wgpu::DeviceType::Cpu {
                println!("          (a software adapter, on the same CPU cores as the CPU engine)");
            }
        }
        Err(e) => {
            println!("adapter:  none: {e}");
            println!(
                "          hint: without a GPU, Mesa's software Vulkan driver gives one \
                 (apt-get install mesa-vulkan-drivers libvulkan1)"
            );
        }
    }

    // Default options: thin U and Vᵀ, the default tolerance and sweep cap, sorted σ.
    let opts = SvdOptions::default();

    // 4. The decomposition. The first call on a shape sets the device up, compiles the GPU
    //    pipelines and sizes the buffer pools, so a warm-up call comes first, then the timed
    //    one.
    let start = Instant::now();
    solver.svd(&batch, &opts)?;
    println!(
        "warm-up:  {:.3} s (device set-up, pipeline compile and buffers for this shape)",
        start.elapsed().as_secs_f64()
    );
    let (out, secs) = timed(&solver, &batch, &opts)?;
    println!("engine:   {}", out.engine());
    let t = out.timings();
    println!(
        "auto:     {secs:.3} s, {:.0} matrices/s (upload {:.3} s, compute {:.3} s, read-back \
         and finish {:.3} s)",
        count as f64 / secs,
        t.upload,
        t.compute,
        t.download
    );

    // 5. Each engine on its own, same batch, same output type: the GPU engine (when there
    //    is an adapter) and the CPU engine (f64 Jacobi, nalgebra or faer by shape, all cores).
    if let Some(gpu) = solver.gpu() {
        let gpu = Solver::with_gpu(gpu.clone(), Backend::Gpu);
        let (_, gpu_secs) = timed(&gpu, &batch, &opts)?;
        println!(
            "gpu:      {gpu_secs:.3} s, {:.0} matrices/s",
            count as f64 / gpu_secs
        );
    }
    let (_, cpu_secs) = timed(&Solver::cpu(), &batch, &opts)?;
    println!(
        "cpu:      {cpu_secs:.3} s, {:.0} matrices/s ({} threads)",
        count as f64 / cpu_secs,
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // 6. Convergence: every matrix has a status (converged, not converged within the sweep
    //    cap, non-finite input) and the number of Jacobi sweeps it took.
    println!(
        "sweeps:   at most {}; {} of {count} converged",
        out.max_sweeps_used(),
        out.count_status(Status::Converged)
    );

    // 7. Accuracy of the auto results against nalgebra in f64 on a sample of the batch.
    report_accuracy(&batch, &out);
    Ok(())
}

/// One call of `solver` on `batch`, and its wall-clock seconds.
fn timed(
    solver: &Solver,
    batch: &MatrixBatch<'_>,
    opts: &SvdOptions,
) -> batched_svd::Result<(SvdOutput, f64)> {
    let start = Instant::now();
    let out = solver.svd(batch, opts)?;
    Ok((out, start.elapsed().as_secs_f64()))
}

/// Worst errors over a sample of `SAMPLE` matrices spread over the batch, against the f64
/// singular values of the f32 input, in absolute terms and in units of ε.
fn report_accuracy(batch: &MatrixBatch<'_>, out: &SvdOutput) {
    let count = batch.count();
    let sample = count.min(SAMPLE);
    let (mut sigma, mut u_orth, mut v_orth, mut recon) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for j in 0..sample {
        let i = j * count / sample;
        let a = batch.to_dmatrix_f64(i);

        // Singular values: max |σ − σ_f64| / σ₁.
        let mut reference: Vec<f64> = a.clone().singular_values().iter().copied().collect();
        reference.sort_by(|x, y| y.total_cmp(x));
        if reference[0] > 0.0 {
            for (&s, r) in out.singular_values(i).iter().zip(&reference) {
                sigma = sigma.max((f64::from(s) - r).abs() / reference[0]);
            }
        }

        // Orthonormality of the columns of U and V: max |UᵀU − I|, max |VᵀV − I|.
        if let (Some(u), Some(vt)) = (out.u(i), out.vt(i)) {
            u_orth = u_orth.max(orthogonality_error(&u.map(f64::from)));
            v_orth = v_orth.max(orthogonality_error(&vt.transpose().map(f64::from)));

            // Reconstruction: ‖A − UΣVᵀ‖F / ‖A‖F.
            if let Some(usv) = out.reconstruct(i) {
                let norm = a.norm();
                if norm > 0.0 {
                    recon = recon.max((&a - usv).norm() / norm);
                }
            }
        }
    }
    println!(
        "accuracy: {} results, worst over {sample} matrices, against nalgebra f64 \
         (ε = 2^-23):",
        out.engine().kind.name()
    );
    for (what, value) in [
        ("max|σ − σ_f64| / σ₁", sigma),
        ("max|UᵀU − I|", u_orth),
        ("max|VᵀV − I|", v_orth),
        ("‖A − UΣVᵀ‖F / ‖A‖F", recon),
    ] {
        println!("  {what:<22} {value:.3e} = {:6.2} ε", value / EPS);
    }
}

/// max |GᵀG − I| over the entries, for a matrix whose columns should be orthonormal.
fn orthogonality_error(g: &DMatrix<f64>) -> f64 {
    let k = g.ncols();
    (g.transpose() * g - DMatrix::<f64>::identity(k, k)).amax()
}

/// `COUNT [M [N]]` from the command line; `N` defaults to `M`.
fn parse_args() -> Result<(usize, usize, usize), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut values = Vec::new();
    for arg in &args {
        let v: usize = arg
            .parse()
            .map_err(|_| format!("expected COUNT [M [N]] as integers, got '{arg}'"))?;
        values.push(v);
    }
    let (count, m, n) = DEFAULT_SHAPE;
    match values[..] {
        [] => Ok((count, m, n)),
        [count] => Ok((count, m, n)),
        [count, m] => Ok((count, m, m)),
        [count, m, n] => Ok((count, m, n)),
        _ => Err("usage: quickstart [COUNT [M [N]]]".to_string()),
    }
}

/// `len` standard normal f32 values from a fixed seed: SplitMix64 for uniform bits and the
/// Box–Muller transform for the normal distribution. Small, fast and reproducible.
fn gaussian(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    let mut next_u64 = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    // Uniform in (0, 1]: never 0, so the logarithm below is finite.
    let mut uniform = move || ((next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let (u1, u2) = (uniform(), uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        // Box–Muller gives two independent normals per pair of uniforms.
        out.push((r * theta.cos()) as f32);
        if out.len() < len {
            out.push((r * theta.sin()) as f32);
        }
    }
    out
}
