//! Image compression by rank-k truncation of the SVD, one colour channel per batch entry.
//!
//! A procedurally generated 256×256 RGB image (gradients, discs, a ring, a checkerboard and
//! rows of text-like bars) is decomposed as a batch of three 256×256 matrices (R, G, B), and
//! each channel is replaced by its best rank-k approximation `A_k` for k = 1, 5, 20, 50
//! (`batched_svd::ops::low_rank`). Storing `A_k` takes `(m + n + 1)·k` numbers instead of
//! `m·n`. The example prints, for each k, that ratio and the PSNR of the reconstruction, and
//! writes the original and the reconstructions side by side as a PNG.
//!
//! ```text
//! cargo run --release --example image_compression                # → target/examples-output/image_compression/
//! cargo run --release --example image_compression -- OUTDIR --size=512 --gpu
//! ```
//!
//! Engine: the GPU when there is an adapter. On a software adapter (Mesa lavapipe), 256×256
//! matrices run through the multi-dispatch kernels and take about 35 s for the three channels
//! on 2 cores, so there the example uses nalgebra (`cpu::svd`, the same output type) unless
//! `--gpu` is given; `--cpu` forces nalgebra everywhere.

mod support;

use std::time::Instant;

use batched_svd::ops::{self, Cutoff};
use batched_svd::{MatrixBatch, SvdOptions};
use support::Canvas;

/// The ranks shown.
const RANKS: [usize; 4] = [1, 5, 20, 50];

fn main() {
    if let Err(e) = run() {
        eprintln!("image_compression: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = match args.iter().find_map(|a| a.strip_prefix("--size=")) {
        Some(s) => s.parse::<usize>().map_err(|_| format!("bad --size={s}"))?,
        None => 256,
    };
    if !(16..=2048).contains(&size) {
        return Err(format!("--size must be between 16 and 2048, got {size}").into());
    }
    let dir = support::output_dir(&args, "image_compression")?;
    let solver = support::solver(&args)?;

    // 1. The image: three planes (R, G, B) of size×size values in [0, 1], each row-major —
    //    one after another, that is a (3, size, size) batch of matrices.
    let (h, w) = (size, size);
    let planes = generate_image(h, w);
    let batch = MatrixBatch::row_major(&planes, 3, h, w)?;
    println!("image:    {w}×{h} RGB, decomposed as a batch of 3 matrices of {h}×{w}");

    // 2. One batched SVD for the three channels (thin U and Vᵀ, singular values sorted).
    let start = Instant::now();
    let svd = solver.svd(&batch, &SvdOptions::default())?;
    println!(
        "svd:      {:.2} s, {} of 3 converged, σ₁ (R, G, B) = {:.1}, {:.1}, {:.1}\nengine:   {}",
        start.elapsed().as_secs_f64(),
        svd.count_status(batched_svd::Status::Converged),
        svd.singular_values(0)[0],
        svd.singular_values(1)[0],
        svd.singular_values(2)[0],
        support::engine_line(&svd, &solver),
    );

    // 3. Rank-k approximations, their size and quality.
    println!();
    println!("     k   stored values   of m·n   energy kept   predicted ‖A−A_k‖_F   PSNR");
    let mut panels: Vec<(Vec<f32>, [String; 3])> = vec![(
        planes.clone(),
        [
            "original".to_string(),
            format!("{w}x{h} rgb"),
            "100% of values".to_string(),
        ],
    )];
    let total_energy: f64 = svd
        .all_singular_values()
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum();
    for k in RANKS.into_iter().filter(|&k| k <= h.min(w)) {
        let approx = ops::low_rank(&svd, Cutoff::Rank(k))?;
        // Only the pixel values in [0, 1] can be shown: clamp, then measure.
        let shown: Vec<f32> = approx
            .as_slice()
            .iter()
            .map(|x| x.clamp(0.0, 1.0))
            .collect();
        let mse = shown
            .iter()
            .zip(&planes)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum::<f64>()
            / planes.len() as f64;
        let psnr = 10.0 * (1.0 / mse).log10();
        let stored = (h + w + 1) * k;
        let ratio = stored as f64 / (h * w) as f64;
        let kept: f64 = (0..3)
            .map(|c| {
                svd.singular_values(c)[..k]
                    .iter()
                    .map(|&s| f64::from(s) * f64::from(s))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / total_energy;
        let predicted: f64 = approx
            .all_errors_frobenius()
            .iter()
            .map(|e| e * e)
            .sum::<f64>()
            .sqrt();
        println!(
            "{k:>6}   {:>13}   {:>6.1}%   {:>10.4}%   {predicted:>19.3}   {psnr:>5.1} dB",
            format!("3×{stored}"),
            100.0 * ratio,
            100.0 * kept,
        );
        panels.push((
            shown,
            [
                format!("rank {k}"),
                format!("psnr {psnr:.1} db"),
                format!("{:.1}% of values", 100.0 * ratio),
            ],
        ));
    }

    // 4. The picture: the original and the reconstructions side by side, labelled.
    let (gap, label) = (8i64, 58i64);
    let width = panels.len() as i64 * (w as i64 + gap) + gap;
    let height = gap + label + h as i64 + gap;
    let mut canvas = Canvas::new(width as usize, height as usize, [250, 250, 250]);
    for (i, (pixels, lines)) in panels.iter().enumerate() {
        let x = gap + i as i64 * (w as i64 + gap);
        for (l, line) in lines.iter().enumerate() {
            canvas.text(x, gap + l as i64 * 18, line, 2, [30, 30, 40]);
        }
        let plane = |c: usize| &pixels[c * h * w..(c + 1) * h * w];
        canvas.blit(x, gap + label, w, h, &[plane(0), plane(1), plane(2)]);
    }
    let path = dir.join("image_compression.png");
    canvas.save_png(&path)?;
    println!();
    println!("wrote    {}", path.display());
    Ok(())
}

/// A `3×h×w` RGB image in [0, 1] with structure at several scales: smooth gradients (low
/// rank), discs and a ring (curved edges, medium rank), a checkerboard and rows of text-like
/// bars (sharp edges, high rank).
fn generate_image(h: usize, w: usize) -> Vec<f32> {
    let mut img = vec![0.0f32; 3 * h * w];
    let (hf, wf) = (h as f64, w as f64);
    // Widths of the "words" in the bar rows, from a small deterministic generator.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows = 5;
    let words: Vec<Vec<(f64, f64)>> = (0..rows)
        .map(|_| {
            let mut x = 0.08 + 0.05 * next();
            let mut line = Vec::new();
            while x < 0.9 {
                let len = 0.04 + 0.12 * next();
                line.push((x, (x + len).min(0.92)));
                x += len + 0.025;
            }
            line
        })
        .collect();
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f64 / (wf - 1.0), y as f64 / (hf - 1.0));
            // Sky-like gradient.
            let mut c = [0.15 + 0.55 * u, 0.25 + 0.45 * v, 0.85 - 0.45 * u * v];
            // A sun with a soft edge.
            let d = ((u - 0.74).powi(2) + (v - 0.26).powi(2)).sqrt();
            let sun = (1.0 - ((d - 0.13) / 0.015).clamp(0.0, 1.0)).max(0.0);
            c = mix(c, [1.0, 0.86, 0.32], sun);
            // A red ring.
            let r = ((u - 0.3).powi(2) + (v - 0.55).powi(2)).sqrt();
            if (0.14..0.19).contains(&r) {
                c = [0.86, 0.18, 0.24];
            }
            // A checkerboard patch.
            if (0.06..0.34).contains(&u) && (0.06..0.3).contains(&v) {
                let (cx, cy) = ((u * 32.0) as i64, (v * 32.0) as i64);
                c = if (cx + cy) % 2 == 0 {
                    [0.95, 0.95, 0.95]
                } else {
                    [0.1, 0.2, 0.45]
                };
            }
            // Rows of text-like bars on a light strip.
            if (0.74..0.97).contains(&v) {
                c = mix(c, [0.96, 0.94, 0.88], 0.85);
                for (row, line) in words.iter().enumerate() {
                    let top = 0.76 + row as f64 * 0.042;
                    if (top..top + 0.022).contains(&v)
                        && line.iter().any(|&(a, b)| (a..b).contains(&u))
                    {
                        c = [0.08, 0.08, 0.12];
                    }
                }
            }
            for (ch, value) in c.iter().enumerate() {
                img[ch * h * w + y * w + x] = value.clamp(0.0, 1.0) as f32;
            }
        }
    }
    img
}

/// `(1 − t)·a + t·b`.
fn mix(a: [f64; 3], b: [f64; 3], t: f64) -> [f64; 3] {
    [0, 1, 2].map(|i| (1.0 - t) * a[i] + t * b[i])
}
