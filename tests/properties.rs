//! Property tests (proptest): random shapes (1–40 × 1–40), layouts, vector modes, options,
//! batch sizes and element types, with random special structure (zero columns, duplicated
//! columns, scaling by powers of two, NaN and ±∞ placed anywhere). For every case the GPU
//! and the CPU engine both
//!
//! * meet the documented bounds (`common::accuracy`: σ, ‖UᵀU − I‖, ‖VᵀV − I‖, reconstruction)
//!   on every finite matrix,
//! * agree on σ within them (each is within the bound of the f64 reference),
//! * report the same status per matrix (`NonFinite` exactly for the matrices holding NaN or
//!   ±∞, with NaN outputs; `Converged` for the rest),
//! * and give every matrix of the batch bit for bit the result it gets alone.
//!
//! `PROPTEST_CASES` sets the number of cases (default 24, about 100 s on lavapipe, where
//! every new shape compiles its pipelines), `PROPTEST_RNG_SEED` the seed (default fixed, so
//! that CI replays the same cases; `PROPTEST_RNG_SEED=$RANDOM` explores new ones).

mod common;

use batched_svd::{Cpu, Gpu, Layout, MatrixBatch, Real, Status, SvdOptions, SvdOutput, Vectors};
use common::matrices::{Class, batch_row_major_as, to_col_major};
use proptest::prelude::*;

/// Special structure given to one matrix of the batch.
#[derive(Clone, Copy, Debug)]
enum Structure {
    Plain,
    /// Column `c % n` set to zero.
    ZeroColumn(usize),
    /// Column `a % n` copied into column `b % n`.
    DuplicateColumn(usize, usize),
    /// The whole matrix times 2^k (exact).
    PowerOfTwo(i32),
    /// Entry `e % (m·n)` replaced by NaN, +∞ or −∞ (`kind` 0, 1, 2).
    NonFinite(usize, u8),
}

#[derive(Clone, Copy, Debug)]
struct Case {
    m: usize,
    n: usize,
    count: usize,
    col_major: bool,
    vectors: Vectors,
    f64: bool,
    half_tolerance: bool,
    qr: bool,
    seed: u64,
    /// Which matrix gets the structure, and which.
    target: usize,
    structure: Structure,
}

fn structure() -> impl Strategy<Value = Structure> {
    prop_oneof![
        Just(Structure::Plain),
        any::<usize>().prop_map(Structure::ZeroColumn),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Structure::DuplicateColumn(a, b)),
        (-90i32..90).prop_map(Structure::PowerOfTwo),
        (any::<usize>(), 0u8..3).prop_map(|(e, k)| Structure::NonFinite(e, k)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        (1usize..=40, 1usize..=40, 1usize..=4, any::<bool>()),
        (0usize..3, any::<bool>(), any::<bool>(), any::<bool>()),
        (any::<u64>(), any::<usize>(), structure()),
    )
        .prop_map(
            |(
                (m, n, count, col_major),
                (v, f64, half_tolerance, qr),
                (seed, target, structure),
            )| {
                Case {
                    m,
                    n,
                    count,
                    col_major,
                    vectors: [Vectors::None, Vectors::Thin, Vectors::Full][v],
                    f64,
                    half_tolerance,
                    qr,
                    seed,
                    target: target % count,
                    structure,
                }
            },
        )
}

/// The case's batch, row-major, in `T`; and whether each matrix holds a non-finite entry.
fn data<T: Real>(c: &Case) -> (Vec<T>, Vec<bool>) {
    let (m, n) = (c.m, c.n);
    let mut data = batch_row_major_as::<T>(Class::Gaussian, c.count, m, n, c.seed);
    let mut non_finite = vec![false; c.count];
    let a = &mut data[c.target * m * n..(c.target + 1) * m * n];
    match c.structure {
        Structure::Plain => {}
        Structure::ZeroColumn(col) => {
            for r in 0..m {
                a[r * n + col % n] = T::from_f64(0.0);
            }
        }
        Structure::DuplicateColumn(from, to) => {
            for r in 0..m {
                a[r * n + to % n] = a[r * n + from % n];
            }
        }
        Structure::PowerOfTwo(k) => {
            // f32 keeps 2^±90 times N(0, 1) entries normal; f64 takes 2^±450.
            let k = if T::BYTES == 8 { 5 * k } else { k };
            let scale = 2f64.powi(k);
            for x in a.iter_mut() {
                *x = T::from_f64(x.to_f64() * scale);
            }
        }
        Structure::NonFinite(e, kind) => {
            a[e % (m * n)] =
                T::from_f64([f64::NAN, f64::INFINITY, f64::NEG_INFINITY][kind as usize]);
            non_finite[c.target] = true;
        }
    }
    (data, non_finite)
}

/// Every output of matrix `i` as bits (σ, U, Vᵀ, status, sweeps).
fn bits<T: Real>(out: &SvdOutput<T>, i: usize) -> Vec<u64> {
    let mut v: Vec<u64> = out
        .singular_values(i)
        .iter()
        .map(|x| x.to_f64().to_bits())
        .collect();
    for m in [out.u(i), out.vt(i)].into_iter().flatten() {
        v.extend(m.iter().map(|x| x.to_f64().to_bits()));
    }
    v.push(out.status(i) as u64);
    v.push(u64::from(out.info(i).sweeps));
    v
}

/// The batch of `data` in the case's layout.
fn batch_of<'a, T: Real>(c: &Case, data: &'a [T], count: usize) -> MatrixBatch<'a, T> {
    let layout = if c.col_major {
        Layout::ColMajor
    } else {
        Layout::RowMajor
    };
    MatrixBatch::with_layout(data, count, c.m, c.n, layout).unwrap()
}

fn check_as<T: Real>(c: &Case, gpu: Option<&Gpu>) -> Result<(), TestCaseError> {
    let (m, n) = (c.m, c.n);
    let (row, non_finite) = data::<T>(c);
    let stored = if c.col_major {
        to_col_major(&row, c.count, m, n)
    } else {
        row.clone()
    };
    let batch = batch_of(c, &stored, c.count);
    let mut opts = SvdOptions::default()
        .with_vectors(c.vectors)
        .with_qr_preconditioning(c.qr);
    if c.half_tolerance {
        opts = opts.with_tolerance(0.5 * batched_svd::default_tolerance_for::<T>(m, n));
    }
    let cpu = Cpu::new().svd(&batch, &opts).unwrap();
    let mut outs: Vec<(&str, SvdOutput<T>)> = vec![("cpu", cpu)];
    if let Some(gpu) = gpu {
        outs.push(("gpu", gpu.svd(&batch, &opts).unwrap()));
    }
    for (engine, out) in &outs {
        for (i, &bad) in non_finite.iter().enumerate() {
            let a = batch.to_dmatrix_f64(i);
            if bad {
                prop_assert_eq!(out.status(i), Status::NonFinite, "{} matrix {}", engine, i);
                prop_assert!(
                    out.singular_values(i).iter().all(|x| x.to_f64().is_nan()),
                    "{} matrix {}: σ not NaN",
                    engine,
                    i
                );
                continue;
            }
            prop_assert_eq!(out.status(i), Status::Converged, "{} matrix {}", engine, i);
            let acc = common::accuracy(out, i, &a);
            prop_assert!(
                acc.worst() <= 1.0,
                "{} matrix {} exceeds a bound: {:?}",
                engine,
                i,
                acc
            );
        }
        // Each matrix alone: bit for bit the same (first and last of the batch).
        for i in [0, c.count - 1] {
            let (m, n) = (c.m, c.n);
            let one = &stored[i * m * n..(i + 1) * m * n];
            let alone_batch = batch_of(c, one, 1);
            let alone = if *engine == "cpu" {
                Cpu::new().svd(&alone_batch, &opts).unwrap()
            } else {
                gpu.expect("gpu row").svd(&alone_batch, &opts).unwrap()
            };
            prop_assert_eq!(
                bits(out, i),
                bits(&alone, 0),
                "{} matrix {} alone",
                engine,
                i
            );
        }
    }
    if let [(_, cpu), (_, gpu)] = &outs[..] {
        // Same status everywhere (checked above against the expectation); σ agree within the
        // bound (both are within it of the reference).
        let eps = T::EPSILON.to_f64();
        for i in (0..c.count).filter(|&i| !non_finite[i]) {
            let s1 = cpu.singular_values(i).first().map_or(0.0, |x| x.to_f64());
            for (g, p) in gpu.singular_values(i).iter().zip(cpu.singular_values(i)) {
                let d = (g.to_f64() - p.to_f64()).abs();
                prop_assert!(
                    d <= 2.0 * 16.0 * m.max(n) as f64 * eps * s1,
                    "matrix {}: gpu σ {} vs cpu σ {}",
                    i,
                    g.to_f64(),
                    p.to_f64()
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        // Shrinking re-runs GPU calls on new shapes; a failure prints the case itself.
        max_shrink_iters: 16,
        // A fixed seed unless PROPTEST_RNG_SEED is set: CI replays the same cases (a new
        // finding must not decide whether a submission lands); explore with a new seed by hand.
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            ProptestConfig::default().rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(0x5EED_0FBA_7C4E_D5A1)
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn both_engines_meet_the_bounds_agree_and_isolate(c in case()) {
        if c.f64 {
            check_as::<f64>(&c, common::gpu_f64())?;
        } else {
            check_as::<f32>(&c, common::gpu())?;
        }
    }
}
