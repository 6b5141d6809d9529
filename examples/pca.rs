//! Principal component analysis with `batched_svd::ops::Pca`.
//!
//! A generated data set: 1000 samples in 10 dimensions from three Gaussian clusters whose
//! centres lie in a plane, with a smaller spread along a third direction and a little noise
//! in the other seven — all rotated by a random orthonormal basis, so no coordinate shows the
//! structure by itself. PCA (centring, then the SVD of the centred 1000×10 matrix) finds it:
//! the example prints the explained variance and its ratio per component, checks the plane
//! the first two components span against the true one, compares the GPU and CPU fits, and
//! draws two PNGs: the explained variance ratios as a bar chart and the samples projected on
//! the first two components.
//!
//! ```text
//! cargo run --release --example pca                 # → target/examples-output/pca/
//! cargo run --release --example pca -- OUTDIR [--cpu]
//! ```

mod support;

use batched_svd::MatrixBatch;
use batched_svd::Solver;
use bench_support::rng::Rng;
use support::{Canvas, Rgb};

/// Samples, features, clusters.
const SAMPLES: usize = 1000;
const FEATURES: usize = 10;
/// The cluster centres in the plane of the first two latent directions.
const CENTRES: [[f64; 2]; 3] = [[0.0, 4.0], [-5.0, -1.0], [5.0, -1.0]];
/// Standard deviations along the latent directions: within-cluster spread in the plane, a
/// third direction, then noise.
const SPREAD: [f64; FEATURES] = [0.8, 0.8, 1.0, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25];
/// Cluster colours.
const COLORS: [Rgb; 3] = [[31, 119, 180], [214, 39, 40], [44, 160, 44]];

fn main() {
    if let Err(e) = run() {
        eprintln!("pca: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = support::output_dir(&args, "pca")?;
    let solver = support::solver(&args)?;

    // 1. The data: one data matrix of SAMPLES×FEATURES (a batch of one), row-major.
    let mut rng = Rng::new(2024);
    let basis = rng.orthonormal(FEATURES, FEATURES); // columns: the latent directions
    let offset: Vec<f64> = (0..FEATURES).map(|j| 3.0 + 0.5 * j as f64).collect();
    let mut labels = Vec::with_capacity(SAMPLES);
    let mut data = Vec::with_capacity(SAMPLES * FEATURES);
    for i in 0..SAMPLES {
        let cluster = i % 3;
        labels.push(cluster);
        let mut z = [0.0f64; FEATURES];
        for (j, zj) in z.iter_mut().enumerate() {
            *zj = SPREAD[j] * rng.normal() + if j < 2 { CENTRES[cluster][j] } else { 0.0 };
        }
        for (f, off) in offset.iter().enumerate() {
            let x: f64 = (0..FEATURES).map(|j| basis[(f, j)] * z[j]).sum::<f64>() + off;
            data.push(x as f32);
        }
    }
    let batch = MatrixBatch::row_major(&data, 1, SAMPLES, FEATURES)?;
    println!("data:     {SAMPLES} samples × {FEATURES} features, 3 clusters");

    // 2. PCA: centre, decompose on the chosen engine, keep all components.
    let pca = solver.pca(&batch, None)?;
    println!(
        "pca:      fitted ({:?}) on {}",
        pca.status(0),
        support::engine_line(&pca, &solver)
    );
    let ratio = pca.explained_variance_ratio(0).to_vec();
    let variance = pca.explained_variance(0);
    println!();
    println!("component   variance   ratio    cumulative");
    let mut cumulative = 0.0;
    for (j, (&v, &r)) in variance.iter().zip(&ratio).enumerate() {
        cumulative += r;
        println!(
            "{:>9}   {v:>8.4}   {:>5.2}%   {:>8.2}%",
            j + 1,
            100.0 * r,
            100.0 * cumulative
        );
    }
    println!("total variance {:.4}", pca.total_variance(0));

    // 3. The known structure: the plane of the cluster centres is spanned by the first two
    //    latent directions. The cosines of the principal angles between it and the plane of
    //    the first two components are the singular values of Q₂ᵀ·C₂ᵀ.
    let q2 = basis.columns(0, 2).into_owned();
    let c2 = pca.components(0).rows(0, 2).map(f64::from);
    let cosines = (q2.transpose() * c2.transpose()).singular_values();
    println!();
    println!(
        "plane of components 1–2 vs the plane of the cluster centres: cos of the principal \
         angles = {:.6}, {:.6}",
        cosines[0], cosines[1]
    );

    // 4. The other path gives the same fit (signs of components are normalised).
    if pca.engine().kind == batched_svd::Engine::Gpu {
        let cpu = Solver::cpu().pca(&batch, None)?;
        let diff_ratio = ratio
            .iter()
            .zip(cpu.explained_variance_ratio(0))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let diff_comp = pca
            .components(0)
            .rows(0, 3)
            .iter()
            .zip(cpu.components(0).rows(0, 3).iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        println!(
            "gpu vs cpu engine: max |Δ ratio| = {diff_ratio:.1e}, max |Δ| over components \
             1–3 = {diff_comp:.1e}"
        );
    }

    // 5. The projection on the first two components.
    let scores = pca.transform(&batch)?; // 1×SAMPLES×FEATURES scores
    let points: Vec<(f64, f64)> = (0..SAMPLES)
        .map(|i| {
            (
                f64::from(scores.get(0, i, 0)),
                f64::from(scores.get(0, i, 1)),
            )
        })
        .collect();
    // Round trip: all components reproduce the data.
    let back = pca.inverse_transform(&scores)?;
    let err = back
        .as_slice()
        .iter()
        .zip(&data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("inverse_transform(transform(X)) − X: max |Δ| = {err:.1e}");

    let bars = dir.join("pca_variance.png");
    bar_chart(&ratio).save_png(&bars)?;
    let scatter_path = dir.join("pca_scatter.png");
    scatter(&points, &labels, &ratio).save_png(&scatter_path)?;
    println!();
    println!("wrote    {}", bars.display());
    println!("wrote    {}", scatter_path.display());
    Ok(())
}

/// Bars of the explained variance ratio per component, with the cumulative ratio as a line.
fn bar_chart(ratio: &[f64]) -> Canvas {
    let (w, h) = (720i64, 440i64);
    let (left, right, top, bottom) = (70i64, 20i64, 60i64, 60i64);
    let mut c = Canvas::new(w as usize, h as usize, [255, 255, 255]);
    let title = "explained variance ratio per component";
    c.text(
        (w - Canvas::text_width(title, 2)) / 2,
        16,
        title,
        2,
        [20, 20, 30],
    );
    let plot_h = (h - top - bottom) as f64;
    let y_of = |r: f64| top as f64 + plot_h * (1.0 - r);
    // Grid and y labels at 0, 25, 50, 75, 100 %.
    for q in 0..=4 {
        let r = q as f64 / 4.0;
        let y = y_of(r);
        c.line(left as f64, y, (w - right) as f64, y, 1.0, [225, 225, 225]);
        let label = format!("{}%", q * 25);
        c.text(
            left - 10 - Canvas::text_width(&label, 1),
            y as i64 - 3,
            &label,
            1,
            [60, 60, 60],
        );
    }
    let n = ratio.len() as i64;
    let slot = (w - left - right) / n;
    let bar_w = slot * 3 / 5;
    let mut cumulative = 0.0;
    let mut previous: Option<(f64, f64)> = None;
    for (j, &r) in ratio.iter().enumerate() {
        let x = left + j as i64 * slot + (slot - bar_w) / 2;
        let y = y_of(r);
        c.fill_rect(
            x,
            y as i64,
            bar_w,
            (y_of(0.0) - y).round() as i64,
            [70, 110, 180],
        );
        // The value: inside a tall bar (white), above a short one.
        let pct = format!("{:.1}%", 100.0 * r);
        let tx = x + (bar_w - Canvas::text_width(&pct, 1)) / 2;
        if y_of(0.0) - y > 40.0 {
            c.text(tx, y as i64 + 14, &pct, 1, [255, 255, 255]);
        } else {
            c.text(tx, y as i64 - 11, &pct, 1, [20, 20, 30]);
        }
        let idx = format!("{}", j + 1);
        let ix = x + (bar_w - Canvas::text_width(&idx, 2)) / 2;
        c.text(ix, h - bottom + 8, &idx, 2, [20, 20, 30]);
        cumulative += r;
        let point = ((x + bar_w / 2) as f64, y_of(cumulative));
        if let Some((px, py)) = previous {
            c.line(px, py, point.0, point.1, 2.0, [240, 140, 30]);
        }
        c.disc(point.0, point.1, 3.5, [240, 140, 30]);
        previous = Some(point);
    }
    let axis = "component (orange: cumulative)";
    c.text(
        (w - Canvas::text_width(axis, 2)) / 2,
        h - 26,
        axis,
        2,
        [60, 60, 60],
    );
    c
}

/// The samples on the plane of the first two components, coloured by cluster.
fn scatter(points: &[(f64, f64)], labels: &[usize], ratio: &[f64]) -> Canvas {
    let (w, h) = (640i64, 640i64);
    let margin = 60.0;
    let mut c = Canvas::new(w as usize, h as usize, [255, 255, 255]);
    let title = "samples on the first two components";
    c.text(
        (w - Canvas::text_width(title, 2)) / 2,
        16,
        title,
        2,
        [20, 20, 30],
    );
    let max_x = points.iter().map(|p| p.0.abs()).fold(0.0, f64::max) * 1.05;
    let max_y = points.iter().map(|p| p.1.abs()).fold(0.0, f64::max) * 1.05;
    let span = max_x.max(max_y); // same scale on both axes
    let size = (w as f64 - 2.0 * margin).min(h as f64 - 2.0 * margin);
    let to_px = |(x, y): (f64, f64)| {
        (
            w as f64 / 2.0 + x / span * size / 2.0,
            h as f64 / 2.0 + 10.0 - y / span * size / 2.0,
        )
    };
    let (x0, y0) = to_px((-span, 0.0));
    let (x1, _) = to_px((span, 0.0));
    c.line(x0, y0, x1, y0, 1.0, [200, 200, 200]);
    let (cx, ya) = to_px((0.0, span));
    let (_, yb) = to_px((0.0, -span));
    c.line(cx, ya, cx, yb, 1.0, [200, 200, 200]);
    for (&p, &label) in points.iter().zip(labels) {
        let (x, y) = to_px(p);
        c.disc(x, y, 2.5, COLORS[label]);
    }
    let pc1 = format!("pc1 ({:.1}%)", 100.0 * ratio[0]);
    c.text(
        w - 20 - Canvas::text_width(&pc1, 2),
        h - 30,
        &pc1,
        2,
        [60, 60, 60],
    );
    let pc2 = format!("pc2 ({:.1}%)", 100.0 * ratio[1]);
    c.text(cx as i64 + 10, ya as i64, &pc2, 2, [60, 60, 60]);
    for (k, color) in COLORS.iter().enumerate() {
        let y = h - 30;
        let x = 24 + k as i64 * 140;
        c.disc(x as f64, y as f64 + 6.0, 5.0, *color);
        c.text(x + 12, y, &format!("cluster {}", k + 1), 2, [60, 60, 60]);
    }
    c
}
