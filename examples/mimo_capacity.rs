//! The capacity of a MIMO-OFDM link, one complex SVD per subcarrier.
//!
//! A 4×4 MIMO channel (4 transmit, 4 receive antennas) over 256 OFDM subcarriers and 64
//! channel realisations (frames): 16 384 complex64 matrices. Each frame's channel is a
//! multipath one, `H(f) = Σ_l g_l·H_l·e^{−2πi·f·τ_l}` with 6 taps of i.i.d. complex Gaussian
//! 4×4 matrices `H_l` on an exponential power-delay profile, so the channel varies along the
//! band; the receive side is correlated (Kronecker model, correlation 0.6 between neighbouring
//! antennas). The singular values of `H(f)` are the gains of its parallel eigenmodes, and the
//! capacity of subcarrier `f` with water-filling over them at total SNR ρ is
//! `C(f) = Σ_j log₂(1 + p_j·σ_j²)` with `p_j = max(0, μ − 1/σ_j²)` and `Σ p_j = ρ`.
//!
//! The example decomposes the whole batch in one call (values only), prints the mean capacity
//! with equal power and with water-filling at 0, 10 and 20 dB, the share of subcarriers whose
//! water-filling leaves eigenmodes unused, and checks the equal-power capacity against
//! `log₂ det(I + ρ/4·H·Hᴴ)` computed independently (nalgebra's complex LU in f64). It draws
//! `mimo_capacity.png`: the four eigenmode gains σ_j² (dB) along the band of one frame, and the
//! water-filling capacity per subcarrier.
//!
//! ```text
//! cargo run --release --example mimo_capacity                 # → target/examples-output/mimo_capacity/
//! cargo run --release --example mimo_capacity -- OUTDIR [--cpu]
//! ```

mod support;

use batched_svd::{Complex, MatrixBatch, SvdOptions, Vectors};
use bench_support::rng::Rng;
use nalgebra::DMatrix;
use support::{Canvas, Rgb};

const ANTENNAS: usize = 4;
const SUBCARRIERS: usize = 256;
const FRAMES: usize = 64;
const TAPS: usize = 6;
/// Tap delays in samples (of a 256-point FFT) and the decay of the power-delay profile.
const DELAYS: [f64; TAPS] = [0.0, 1.0, 2.5, 4.0, 7.0, 11.0];
const DECAY: f64 = 3.0;
/// Receive correlation between neighbouring antennas.
const CORRELATION: f64 = 0.6;
const COLORS: [Rgb; 4] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40]];

type C64 = Complex<f64>;

fn main() {
    if let Err(e) = run() {
        eprintln!("mimo_capacity: error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = support::output_dir(&args, "mimo_capacity")?;
    let solver = support::solver(&args)?;

    // 1. The channels, frame by frame and subcarrier by subcarrier, row-major 4×4 complex64.
    let mut rng = Rng::new(11);
    let channels = channels(&mut rng);
    let data: Vec<Complex<f32>> = channels
        .iter()
        .flat_map(|h| {
            (0..ANTENNAS).flat_map(move |i| {
                (0..ANTENNAS).map(move |j| Complex::new(h[(i, j)].re as f32, h[(i, j)].im as f32))
            })
        })
        .collect();
    let count = FRAMES * SUBCARRIERS;
    let batch = MatrixBatch::row_major(&data, count, ANTENNAS, ANTENNAS)?;
    println!(
        "channels: {FRAMES} frames × {SUBCARRIERS} subcarriers of {ANTENNAS}×{ANTENNAS} complex64 \
         ({count} matrices)"
    );

    // 2. Every singular value in one call.
    let t = std::time::Instant::now();
    let svd = solver.svd(&batch, &SvdOptions::default().with_vectors(Vectors::None))?;
    println!(
        "svd:      {:.1} ms on {}",
        1e3 * t.elapsed().as_secs_f64(),
        support::engine_line(&svd, &solver)
    );
    let gains: Vec<[f64; ANTENNAS]> = (0..count)
        .map(|i| {
            let s = svd.singular_values(i);
            std::array::from_fn(|j| f64::from(s[j]) * f64::from(s[j]))
        })
        .collect();

    // 3. Capacities.
    println!();
    println!("SNR     equal power   water-filling   subcarriers with unused modes");
    for snr_db in [0.0, 10.0, 20.0] {
        let rho = 10f64.powf(snr_db / 10.0);
        let equal: f64 = gains.iter().map(|g| equal_power(g, rho)).sum::<f64>() / count as f64;
        let (filled, unused) = gains.iter().fold((0.0, 0usize), |(c, u), g| {
            let (cap, active) = water_filling(g, rho);
            (c + cap, u + usize::from(active < ANTENNAS))
        });
        println!(
            "{snr_db:>2} dB   {equal:>7.3} b/s/Hz   {:>9.3} b/s/Hz   {:>5.1} %",
            filled / count as f64,
            100.0 * unused as f64 / count as f64
        );
    }

    // 4. The check: log₂ det(I + ρ/4·H·Hᴴ) from the matrices themselves (complex64 as stored).
    let rho = 10.0;
    let worst = (0..count)
        .map(|i| {
            let h = DMatrix::from_fn(ANTENNAS, ANTENNAS, |r, c| {
                let z = data[i * ANTENNAS * ANTENNAS + r * ANTENNAS + c];
                C64::new(f64::from(z.re), f64::from(z.im))
            });
            let gram = DMatrix::identity(ANTENNAS, ANTENNAS)
                + (&h * h.adjoint()) * C64::new(rho / ANTENNAS as f64, 0.0);
            let direct = gram.determinant().re.log2();
            (direct - equal_power(&gains[i], rho)).abs()
        })
        .fold(0.0f64, f64::max);
    println!();
    println!(
        "equal-power capacity vs log2 det(I + SNR/4·H·Hᴴ) at 10 dB: max |Δ| = {worst:.1e} b/s/Hz"
    );

    // 5. The picture: frame 0 along the band.
    let path = dir.join("mimo_capacity.png");
    picture(&gains[..SUBCARRIERS]).save_png(&path)?;
    println!("wrote    {}", path.display());
    Ok(())
}

/// The channel matrices of every frame and subcarrier (frame-major).
fn channels(rng: &mut Rng) -> Vec<DMatrix<C64>> {
    // Receive correlation R = [ρ^|i−j|] and its Cholesky factor: H = R^{1/2}·H_w.
    let r = DMatrix::from_fn(ANTENNAS, ANTENNAS, |i, j| {
        C64::new(CORRELATION.powi((i as i32 - j as i32).abs()), 0.0)
    });
    let root = r.cholesky().expect("R is positive definite").l();
    let powers: Vec<f64> = DELAYS.iter().map(|d| (-d / DECAY).exp()).collect();
    let total: f64 = powers.iter().sum();
    let mut out = Vec::with_capacity(FRAMES * SUBCARRIERS);
    for _ in 0..FRAMES {
        let taps: Vec<DMatrix<C64>> = powers
            .iter()
            .map(|p| {
                let scale = (p / total / 2.0).sqrt();
                &root
                    * DMatrix::from_fn(ANTENNAS, ANTENNAS, |_, _| {
                        C64::new(scale * rng.normal(), scale * rng.normal())
                    })
            })
            .collect();
        for f in 0..SUBCARRIERS {
            let mut h = DMatrix::zeros(ANTENNAS, ANTENNAS);
            for (tap, delay) in taps.iter().zip(DELAYS) {
                let phase = -2.0 * std::f64::consts::PI * f as f64 * delay / SUBCARRIERS as f64;
                h += tap * C64::new(phase.cos(), phase.sin());
            }
            out.push(h);
        }
    }
    out
}

/// `Σ log₂(1 + ρ/N·σ_j²)`: the capacity with the power split equally over the antennas.
fn equal_power(gains: &[f64; ANTENNAS], rho: f64) -> f64 {
    gains
        .iter()
        .map(|g| (1.0 + rho / ANTENNAS as f64 * g).log2())
        .sum()
}

/// The water-filling capacity `Σ log₂(1 + p_j·σ_j²)`, `p_j = max(0, μ − 1/σ_j²)`, `Σ p_j = ρ`,
/// and the number of eigenmodes it uses (`gains` descending).
fn water_filling(gains: &[f64; ANTENNAS], rho: f64) -> (f64, usize) {
    for active in (1..=ANTENNAS).rev() {
        let inv: f64 = gains[..active].iter().map(|g| 1.0 / g).sum();
        let mu = (rho + inv) / active as f64;
        if mu > 1.0 / gains[active - 1] {
            let c = gains[..active].iter().map(|g| (mu * g).log2()).sum();
            return (c, active);
        }
    }
    (0.0, 0)
}

/// Eigenmode gains (dB) and the water-filling capacity at 10 dB along the band.
fn picture(gains: &[[f64; ANTENNAS]]) -> Canvas {
    let (w, h) = (820i64, 560i64);
    let (left, right) = (80i64, 30i64);
    let mut c = Canvas::new(w as usize, h as usize, [255, 255, 255]);
    let title = "4x4 mimo-ofdm: eigenmode gains and capacity per subcarrier";
    c.text(
        (w - Canvas::text_width(title, 2)) / 2,
        14,
        title,
        2,
        [20, 20, 30],
    );
    let x_of =
        |f: usize| left as f64 + (w - left - right) as f64 * f as f64 / (gains.len() - 1) as f64;
    // Upper panel: σ_j² in dB, −40 … +20.
    let panel = |c: &mut Canvas, top: f64, height: f64, lo: f64, hi: f64, step: f64, unit: &str| {
        let y_of = move |v: f64| top + height * (1.0 - (v - lo) / (hi - lo));
        let mut v = lo;
        while v <= hi + 1e-9 {
            let y = y_of(v);
            c.line(left as f64, y, (w - right) as f64, y, 1.0, [228, 228, 228]);
            let label = format!("{v}{unit}");
            c.text(
                left - 8 - Canvas::text_width(&label, 1),
                y as i64 - 3,
                &label,
                1,
                [70, 70, 70],
            );
            v += step;
        }
        y_of
    };
    let y_gain = panel(&mut c, 50.0, 280.0, -40.0, 20.0, 10.0, " db");
    for j in 0..ANTENNAS {
        for f in 1..gains.len() {
            let db = |g: f64| (10.0 * g.log10()).clamp(-40.0, 20.0);
            c.line(
                x_of(f - 1),
                y_gain(db(gains[f - 1][j])),
                x_of(f),
                y_gain(db(gains[f][j])),
                2.0,
                COLORS[j],
            );
        }
        let label = format!("mode {} gain", j + 1);
        c.text(left + 10 + 90 * j as i64, 340, &label, 1, COLORS[j]);
    }
    // Lower panel: capacity at 10 dB, 0 … 16 b/s/Hz.
    let y_cap = panel(&mut c, 370.0, 150.0, 0.0, 16.0, 4.0, "");
    let capacity: Vec<f64> = gains.iter().map(|g| water_filling(g, 10.0).0).collect();
    for f in 1..capacity.len() {
        c.line(
            x_of(f - 1),
            y_cap(capacity[f - 1]),
            x_of(f),
            y_cap(capacity[f]),
            2.0,
            [60, 60, 60],
        );
    }
    c.text(
        left + 10,
        530,
        "water-filling capacity at 10 db (b/s/hz)",
        1,
        [60, 60, 60],
    );
    let axis = "subcarrier 0 ... 255";
    c.text(
        w - right - Canvas::text_width(axis, 1),
        545,
        axis,
        1,
        [70, 70, 70],
    );
    c
}
