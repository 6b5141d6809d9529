//! Matrix completion by iterative SVD imputation (hard-impute).
//!
//! A 200×100 matrix of rank 5 is observed on a random half of its entries. Hard-impute fills
//! the missing entries with zeros, then repeats: decompose the current matrix, replace it by
//! its best rank-5 approximation (`batched_svd::ops::low_rank`), and put the observed entries
//! back. The example prints the RMSE on the missing entries after every iteration — it falls
//! by orders of magnitude, down to the f32 precision of the SVD (about 1e-7 with nalgebra,
//! whose f64 results are rounded to f32; about 1e-5 with the GPU's f32 Jacobi kernels, whose
//! rotation threshold is 4·√200·2⁻²³ ≈ 7e-6), where the iterations stop — and draws the true,
//! observed and completed matrices and the RMSE curve into a PNG.
//!
//! ```text
//! cargo run --release --example matrix_completion            # → target/examples-output/matrix_completion/
//! cargo run --release --example matrix_completion -- OUTDIR [--gpu | --cpu] [--count=N]
//! ```
//!
//! `--count=N` completes N independent matrices (each with its own mask) as one batch per
//! iteration and reports the worst RMSE. Engine: the GPU when there is an adapter, except on
//! a software adapter (Mesa lavapipe), where a 200×100 solve takes about a second, so 60
//! iterations would take a minute: there the example uses nalgebra unless `--gpu` is given.

mod support;

use std::time::Instant;

use batched_svd::ops::{self, Cutoff};
use batched_svd::{MatrixBatch, Status, SvdOptions};
use bench_support::rng::Rng;
use support::{Canvas, Rgb};

/// Shape, rank and the fraction of entries observed.
const M: usize = 200;
const N: usize = 100;
const RANK: usize = 5;
const OBSERVED: f64 = 0.5;
/// Iteration cap, and the relative RMSE improvement below which the iterations stop.
const MAX_ITERATIONS: usize = 200;
const STALL: f64 = 0.02;

fn main() {
    if let Err(e) = run() {
        eprintln!("matrix_completion: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = match args.iter().find_map(|a| a.strip_prefix("--count=")) {
        Some(c) => c.parse::<usize>().map_err(|_| format!("bad --count={c}"))?,
        None => 1,
    };
    if !(1..=64).contains(&count) {
        return Err(format!("--count must be between 1 and 64, got {count}").into());
    }
    let dir = support::output_dir(&args, "matrix_completion")?;
    let solver = support::solver(&args)?;
    let mut engine_line = String::new();

    // 1. `count` true matrices M = U·Vᵀ/√r (entries of unit variance), and their masks.
    let mut rng = Rng::new(7);
    let mut truth = Vec::with_capacity(count * M * N);
    let mut mask = Vec::with_capacity(count * M * N);
    for _ in 0..count {
        let u = rng.gaussian(M, RANK);
        let v = rng.gaussian(N, RANK);
        let m = u * v.transpose() / (RANK as f64).sqrt();
        for i in 0..M {
            for j in 0..N {
                truth.push(m[(i, j)] as f32);
                mask.push(rng.uniform() < OBSERVED);
            }
        }
    }
    let missing = mask.iter().filter(|&&o| !o).count();
    println!(
        "problem:  {count} matrix(es) of {M}×{N}, rank {RANK}, {:.1}% of the entries missing",
        100.0 * missing as f64 / mask.len() as f64
    );
    println!(
        "method:   hard-impute: X ← observed entries + missing entries of the rank-{RANK} SVD truncation of X"
    );
    println!();
    println!(
        "iteration   RMSE on missing entries   σ_{}/σ_{RANK}",
        RANK + 1
    );

    // 2. Start with zeros in the missing entries.
    let mut x: Vec<f32> = truth
        .iter()
        .zip(&mask)
        .map(|(&t, &o)| if o { t } else { 0.0 })
        .collect();
    let start_rmse = rmse_missing(&x, &truth, &mask, count);
    println!("{:>9}   {:>23.3e}", 0, start_rmse);
    let mut history = vec![start_rmse];
    let start = Instant::now();
    for it in 1..=MAX_ITERATIONS {
        let batch = MatrixBatch::row_major(&x, count, M, N)?;
        let svd = solver.svd(&batch, &SvdOptions::default())?;
        engine_line = support::engine_line(&svd, &solver);
        if svd.count_status(Status::Converged) != count {
            println!("(an SVD did not converge at iteration {it})");
        }
        let approx = ops::low_rank(&svd, Cutoff::Rank(RANK))?;
        let estimate = approx.as_slice();
        let rmse = rmse_missing(estimate, &truth, &mask, count);
        // How far from rank 5 the current iterate still is.
        let gap = (0..count)
            .map(|b| {
                let s = svd.singular_values(b);
                f64::from(s[RANK]) / f64::from(s[RANK - 1])
            })
            .fold(0.0, f64::max);
        println!("{it:>9}   {rmse:>23.3e}   {gap:>9.2e}");
        for ((xi, &e), &o) in x.iter_mut().zip(estimate).zip(&mask) {
            if !o {
                *xi = e;
            }
        }
        let previous = *history.last().unwrap_or(&f64::INFINITY);
        history.push(rmse);
        if rmse > previous * (1.0 - STALL) && it > 5 {
            break;
        }
    }
    let last = *history.last().unwrap_or(&start_rmse);
    println!();
    println!(
        "RMSE {start_rmse:.3e} → {last:.3e} ({:.1} orders of magnitude) in {} iterations, {:.2} s\nengine:   {}",
        (start_rmse / last).log10(),
        history.len() - 1,
        start.elapsed().as_secs_f64(),
        engine_line
    );

    // 3. The picture: true, observed and completed matrix 0, and the RMSE curve.
    let completed = &x[..M * N];
    let path = dir.join("matrix_completion.png");
    picture(&truth[..M * N], &mask[..M * N], completed, &history).save_png(&path)?;
    println!("wrote    {}", path.display());
    Ok(())
}

/// Root mean square error of `estimate` against `truth` on the entries not observed.
fn rmse_missing(estimate: &[f32], truth: &[f32], mask: &[bool], count: usize) -> f64 {
    // The worst matrix of the batch.
    (0..count)
        .map(|b| {
            let range = b * M * N..(b + 1) * M * N;
            let (sum, n) = estimate[range.clone()]
                .iter()
                .zip(&truth[range.clone()])
                .zip(&mask[range])
                .filter(|(_, o)| !**o)
                .fold((0.0f64, 0usize), |(s, n), ((&e, &t), _)| {
                    (s + (f64::from(e) - f64::from(t)).powi(2), n + 1)
                });
            (sum / n.max(1) as f64).sqrt()
        })
        .fold(0.0, f64::max)
}

/// Blue–white–red for values in [−2.5, 2.5].
fn diverging(v: f32) -> Rgb {
    let t = (f64::from(v) / 2.5).clamp(-1.0, 1.0);
    let (r, g, b) = if t < 0.0 {
        (1.0 + t, 1.0 + 0.6 * t, 1.0)
    } else {
        (1.0, 1.0 - 0.75 * t, 1.0 - t)
    };
    [(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8]
}

/// Three heat maps (transposed: N rows × M columns, 2 pixels per entry) and the RMSE curve.
fn picture(truth: &[f32], mask: &[bool], completed: &[f32], history: &[f64]) -> Canvas {
    let (scale, gap) = (2i64, 16i64);
    let (map_w, map_h) = (M as i64 * scale, N as i64 * scale);
    let width = 3 * map_w + 4 * gap;
    let plot_h = 260i64;
    let height = gap + 24 + map_h + gap + plot_h + gap;
    let mut c = Canvas::new(width as usize, height as usize, [255, 255, 255]);
    let titles = [
        "true matrix (rank 5)",
        "observed (50%, gray: missing)",
        "completed",
    ];
    let color = |panel: usize, k: usize| match panel {
        0 => diverging(truth[k]),
        1 if mask[k] => diverging(truth[k]),
        1 => [150, 150, 150],
        _ => diverging(completed[k]),
    };
    for (p, title) in titles.iter().enumerate() {
        let x0 = gap + p as i64 * (map_w + gap);
        c.text(x0, gap, title, 2, [30, 30, 40]);
        for i in 0..M {
            for j in 0..N {
                let rgb = color(p, i * N + j);
                c.fill_rect(
                    x0 + i as i64 * scale,
                    gap + 24 + j as i64 * scale,
                    scale,
                    scale,
                    rgb,
                );
            }
        }
    }
    // RMSE on a log scale.
    let top = gap + 24 + map_h + gap;
    let (left, right) = (90i64, width - gap);
    let lo = history
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = history.iter().copied().fold(0.0, f64::max).log10().ceil();
    let y_of =
        |v: f64| top as f64 + 30.0 + (plot_h - 60) as f64 * (hi - v.log10()) / (hi - lo).max(1.0);
    let x_of = |i: usize| {
        left as f64 + (right - left) as f64 * i as f64 / (history.len() - 1).max(1) as f64
    };
    c.text(
        left,
        top,
        "rmse on the missing entries per iteration (log scale)",
        2,
        [30, 30, 40],
    );
    let mut e = lo as i32;
    while e <= hi as i32 {
        let y = y_of(10f64.powi(e));
        c.line(left as f64, y, right as f64, y, 1.0, [225, 225, 225]);
        let label = format!("1e{e}");
        c.text(
            left - 10 - Canvas::text_width(&label, 2),
            y as i64 - 7,
            &label,
            2,
            [60, 60, 60],
        );
        e += 1;
    }
    for (i, w) in history.windows(2).enumerate() {
        c.line(
            x_of(i),
            y_of(w[0]),
            x_of(i + 1),
            y_of(w[1]),
            2.0,
            [200, 60, 40],
        );
    }
    for (i, &v) in history.iter().enumerate() {
        c.disc(x_of(i), y_of(v), 2.5, [200, 60, 40]);
    }
    let last = format!("{} iterations", history.len() - 1);
    c.text(
        right - Canvas::text_width(&last, 2),
        top + plot_h - 20,
        &last,
        2,
        [60, 60, 60],
    );
    c
}
