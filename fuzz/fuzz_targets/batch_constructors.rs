//! The library's batch constructors, options and engine entry points on arbitrary sizes and
//! data: `MatrixBatch::row_major/col_major/with_layout/from_vec/from_shape`, `SvdOptions`
//! (builders, `validate`, `validate_for`, the tolerances), `Cutoff`, `PolarOptions`,
//! `RightHandSides::vectors/matrices`, and the CPU engine (`batched_svd::cpu`, one thread)
//! with the operations built on it (truncate, pinv, lstsq, low rank, polar, norms) on the
//! batches the constructors accept: small ones with arbitrary values (NaN, ±∞, subnormals,
//! the largest floats), and empty ones of any dimensions (up to `usize::MAX`).
//!
//! Nothing may panic, hang or allocate more than the request needs; a constructor that
//! accepts must describe its data exactly; the engine must report every matrix's status
//! (non-finite input gives `NonFinite`, finite input valid singular values).

#![no_main]

use arbitrary::Arbitrary;
use batched_svd::ops::{self, Cutoff, RightHandSides};
use batched_svd::tuning::{KernelFamily, SweepPairs};
use batched_svd::{
    Layout, MatrixBatch, PolarOptions, Real, SignConvention, Status, SvdOptions, SvdOutput,
    Vectors, cpu,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    /// Any sizes, with data of `len` elements (the constructors' validation).
    count: usize,
    m: usize,
    n: usize,
    shape: Vec<usize>,
    len: u16,
    col_major: bool,
    /// A small batch the engine decomposes.
    small: Small,
    opts: Opts,
    cutoff: CutoffSpec,
    rcond: Option<f64>,
    rhs: (usize, usize, usize, u16),
    rotation_only: bool,
    n_components: Option<u8>,
    values: Vec<f64>,
}

#[derive(Arbitrary, Debug)]
struct Small {
    lead: Vec<u8>,
    m: u8,
    n: u8,
    f64: bool,
    /// Scale the values by 2^scale (towards overflow and underflow).
    scale: i16,
    /// Make a column a copy (or negation) of another, a column zero.
    duplicate: Option<(u8, u8, bool)>,
    zero_column: Option<u8>,
}

#[derive(Arbitrary, Debug)]
struct Opts {
    vectors: u8,
    tolerance: Option<f32>,
    max_sweeps: u32,
    sort: bool,
    kernel: u8,
    rotation_signs: bool,
    qr: bool,
    pairs: u8,
}

#[derive(Arbitrary, Debug)]
enum CutoffSpec {
    Rank(usize),
    Relative(f64),
    Absolute(f64),
}

impl CutoffSpec {
    fn cutoff(&self) -> Cutoff {
        match *self {
            CutoffSpec::Rank(k) => Cutoff::Rank(k),
            CutoffSpec::Relative(x) => Cutoff::Relative(x),
            CutoffSpec::Absolute(x) => Cutoff::Absolute(x),
        }
    }
}

impl Opts {
    fn build(&self) -> SvdOptions {
        let vectors = [Vectors::None, Vectors::Thin, Vectors::Full][usize::from(self.vectors % 3)];
        let kernel = [
            KernelFamily::Auto,
            KernelFamily::PerInvocation,
            KernelFamily::Workgroup,
            KernelFamily::MultiDispatch,
            KernelFamily::Small,
        ][usize::from(self.kernel % 5)];
        let pairs = [SweepPairs::Auto, SweepPairs::Columns, SweepPairs::Blocks]
            [usize::from(self.pairs % 3)];
        let signs = if self.rotation_signs {
            SignConvention::Rotation
        } else {
            SignConvention::NonNegative
        };
        let mut opts = SvdOptions::default()
            .with_vectors(vectors)
            .with_max_sweeps(self.max_sweeps)
            .with_sort(self.sort)
            .with_kernel(kernel)
            .with_signs(signs)
            .with_qr_preconditioning(self.qr)
            .with_sweep_pairs(pairs);
        if let Some(tol) = self.tolerance {
            opts = opts.with_tolerance(tol);
        }
        opts
    }
}

fuzz_target!(|case: Case| {
    options(&case);
    constructors(&case);
    rhs_constructors(&case);
    if case.small.f64 {
        small_batch::<f64>(&case);
    } else {
        small_batch::<f32>(&case);
    }
});

/// Options and cutoffs on their own, for any shape.
fn options(case: &Case) {
    let opts = case.opts.build();
    let valid = opts.validate().is_ok();
    let tol_ok = case
        .opts
        .tolerance
        .is_none_or(|t| t.is_finite() && t > 0.0 && t < 1.0);
    assert_eq!(valid, tol_ok && case.opts.max_sweeps >= 1);
    let for_shape = opts.validate_for(case.m, case.n);
    assert!(valid || for_shape.is_err());
    if valid && opts.signs == SignConvention::NonNegative {
        assert!(for_shape.is_ok());
    }
    let t32 = opts.effective_tolerance_for::<f32>(case.m, case.n);
    let t64 = opts.effective_tolerance_for::<f64>(case.m, case.n);
    if opts.tolerance.is_none() {
        // 4·√max(m, n)·ε: zero for 0×0, above 1 past 2⁴⁴ rows in f32 (never used there).
        assert!(t32.is_finite() && t32 >= 0.0 && t64.is_finite() && t64 >= 0.0);
    }
    let _ = batched_svd::default_tolerance(case.m, case.n);
    let r = ops::default_rcond_for::<f64>(case.m, case.n);
    assert!(r >= 0.0);

    let cutoff = case.cutoff.cutoff();
    let cutoff_ok = cutoff.validate().is_ok();
    let k = case.m.min(case.n);
    assert!(cutoff.width(k) <= k);
    let sigma: Vec<f64> = case.values.iter().copied().take(64).collect();
    let kept = cutoff.kept(&sigma);
    assert!(kept <= sigma.len());
    if cutoff_ok && let Cutoff::Rank(r) = cutoff {
        if sigma.iter().all(|s| s.is_finite()) {
            assert_eq!(kept, r.min(sigma.len()));
        }
    }

    let polar = if case.rotation_only {
        PolarOptions::rotation_only()
    } else {
        PolarOptions::default()
    };
    assert_eq!(polar.rotation_only, case.rotation_only);
    let _ = Status::from_code(case.count as i32);
}

/// The constructors with any sizes: they accept exactly the data length the shape needs.
fn constructors(case: &Case) {
    let len = usize::from(case.len) % 4097;
    let data: Vec<f32> = (0..len).map(|i| i as f32).collect();
    let (count, m, n) = (case.count, case.m, case.n);
    let needed = count.checked_mul(m).and_then(|x| x.checked_mul(n));
    let layout = if case.col_major {
        Layout::ColMajor
    } else {
        Layout::RowMajor
    };
    let built = [
        MatrixBatch::row_major(&data, count, m, n),
        MatrixBatch::col_major(&data, count, m, n),
        MatrixBatch::with_layout(&data, count, m, n, layout),
        MatrixBatch::from_vec(data.clone(), count, m, n, layout),
    ];
    for b in &built {
        assert_eq!(b.is_ok(), needed == Some(len), "{count}x{m}x{n} over {len}");
        if let Ok(b) = b {
            check_batch(b, count, m, n);
            engine_on_empty(case, b);
        }
    }

    let shape: Vec<usize> = case.shape.iter().copied().take(8).collect();
    let from_shape = MatrixBatch::from_shape(&data, &shape, layout);
    let product = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let ok = shape.len() >= 2 && product == Some(len);
    assert_eq!(from_shape.is_ok(), ok, "shape {shape:?} over {len}");
    if let Ok(b) = from_shape {
        let [lead @ .., m, n] = &shape[..] else {
            unreachable!()
        };
        assert_eq!(b.batch_shape(), lead);
        let count = lead.iter().product();
        check_batch(&b, count, *m, *n);
        engine_on_empty(case, &b);
    }
}

fn check_batch(b: &MatrixBatch<'_, f32>, count: usize, m: usize, n: usize) {
    assert_eq!(
        (b.count(), b.rows(), b.cols(), b.k()),
        (count, m, n, m.min(n))
    );
    assert_eq!(b.as_slice().len(), count * m * n);
    assert_eq!(b.batch_shape().iter().product::<usize>(), count);
    let t = b.transpose();
    assert_eq!((t.count(), t.rows(), t.cols()), (count, n, m));
    if count > 0 && m * n > 0 {
        let last = count - 1;
        assert_eq!(b.matrix_slice(last).len(), m * n);
        let x = b.get(last, m - 1, n - 1);
        assert_eq!(x, t.get(last, n - 1, m - 1));
        if m * n <= 4096 {
            let d = b.to_dmatrix_f64(last);
            assert_eq!(d.shape(), (m, n));
        }
    }
}

/// Elements a CPU SVD of `b` writes with `vectors` (None: overflows `usize`).
fn output_elements(count: usize, m: usize, n: usize, vectors: Vectors) -> Option<usize> {
    let k = m.min(n);
    let (uc, vr) = (vectors.u_cols(m, n), vectors.vt_rows(m, n));
    let u = count.checked_mul(m)?.checked_mul(uc)?;
    let vt = count.checked_mul(vr)?.checked_mul(n)?;
    count.checked_mul(k)?.checked_add(u)?.checked_add(vt)
}

/// A batch of no elements (count, m or n zero, the others anything): the engine answers,
/// with outputs or an error, without panicking or allocating beyond the outputs.
fn engine_on_empty(case: &Case, b: &MatrixBatch<'_, f32>) {
    let (count, m, n) = (b.count(), b.rows(), b.cols());
    if !b.as_slice().is_empty() || count > 1 << 16 {
        return;
    }
    let opts = case.opts.build();
    match output_elements(count, m, n, opts.vectors) {
        // Output of a legitimate but huge size: the engine would allocate it.
        Some(e) if e > 1 << 20 => return,
        _ => {}
    }
    // Per-matrix reports: `count` entries.
    let result = cpu::svd_with_threads(b, &opts, 1);
    if let Ok(out) = &result {
        assert_eq!(out.count(), count);
        assert!(out.all_singular_values().is_empty());
        let _ = ops::truncate(out, case.cutoff.cutoff());
        let _ = ops::pinv(out, case.rcond);
        let _ = ops::low_rank(out, case.cutoff.cutoff());
        let _ = ops::norms::ranks(out, Some(case.cutoff.cutoff()));
    }
    if m == n {
        let _ = batched_svd::Cpu::with_threads(1).polar(b, &PolarOptions::default());
    }
}

fn rhs_constructors(case: &Case) {
    let (count, m, r, len) = case.rhs;
    let len = usize::from(len) % 4097;
    let data = vec![0.5f64; len];
    let v = RightHandSides::vectors(&data, count, m);
    assert_eq!(
        v.is_ok(),
        count.checked_mul(m) == Some(len),
        "vectors {count}x{m} over {len}"
    );
    if let Ok(v) = v {
        assert_eq!(
            (v.count(), v.rows(), v.cols(), v.is_vectors()),
            (count, m, 1, true)
        );
    }
    let mats = RightHandSides::matrices(&data, count, m, r);
    assert_eq!(
        mats.is_ok(),
        count.checked_mul(m).and_then(|x| x.checked_mul(r)) == Some(len)
    );
    if let Ok(b) = mats {
        assert_eq!((b.count(), b.rows(), b.cols()), (count, m, r));
    }
}

/// The small batch, element type `T`: built from the fuzz values, decomposed by the CPU
/// engine with the fuzz options, then truncated, inverted, solved against and polar-factored.
fn small_batch<T: Real>(case: &Case) {
    let s = &case.small;
    let lead: Vec<usize> = s.lead.iter().take(2).map(|&d| usize::from(d % 4)).collect();
    let (m, n) = (usize::from(s.m % 13), usize::from(s.n % 13));
    let count: usize = lead.iter().product();
    let len = count * m * n;
    let scale = 2f64.powi(i32::from(s.scale % 1100));
    let mut data: Vec<T> = (0..len)
        .map(|i| {
            let x = case.values.get(i % case.values.len().max(1)).copied();
            let x = x.unwrap_or(i as f64 * 0.37 - 1.0) * scale;
            // Vary the values when few were given.
            let x = if i >= case.values.len() {
                x * (1.0 + i as f64)
            } else {
                x
            };
            T::from_f64(x)
        })
        .collect();
    // Structure: a duplicated (or negated) column, a zero column; row-major per matrix.
    if m > 0 && n > 0 {
        for b in 0..count {
            let at = |i: usize, j: usize| b * m * n + i * n + j;
            if let Some((p, q, negate)) = s.duplicate {
                let (p, q) = (usize::from(p) % n, usize::from(q) % n);
                for i in 0..m {
                    let x = data[at(i, p)];
                    data[at(i, q)] = if negate { -x } else { x };
                }
            }
            if let Some(z) = s.zero_column {
                let z = usize::from(z) % n;
                for i in 0..m {
                    data[at(i, z)] = T::default();
                }
            }
        }
    }
    let mut shape = lead.clone();
    shape.extend([m, n]);
    let layout = if case.col_major {
        Layout::ColMajor
    } else {
        Layout::RowMajor
    };
    let batch = MatrixBatch::from_shape(&data, &shape, layout).expect("exact length");
    let opts = case.opts.build();
    let result = cpu::svd_with_threads(&batch, &opts, 1);
    assert_eq!(
        result.is_ok(),
        opts.validate_for(m, n).is_ok(),
        "{:?}",
        result.as_ref().err()
    );
    let Ok(out) = result else {
        return;
    };
    check_svd(&batch, &opts, &out);

    let cutoff = case.cutoff.cutoff();
    let truncated = ops::truncate(&out, cutoff);
    if cutoff.validate().is_err() {
        assert!(truncated.is_err());
    }
    if let Ok(t) = &truncated {
        for i in 0..count {
            assert!(t.rank(i) <= t.width());
        }
    }
    let _ = ops::low_rank(&out, cutoff);
    let _ = ops::norms::ranks(&out, Some(cutoff));
    let _ = ops::norms::condition_numbers(&out);
    let _ = ops::norms::nuclear_norms(&out);
    if let Ok(p) = ops::pinv(&out, case.rcond) {
        assert_eq!(p.matrix_shape(), (n, m));
        assert_eq!(p.as_slice().len(), count * m * n);
    }
    // Right-hand sides: `(count, m)` vectors and `(count, m, 2)` matrices.
    let rhs: Vec<T> = (0..count * m * 2)
        .map(|i| T::from_f64(case.values.get(i).copied().unwrap_or(1.0)))
        .collect();
    if let Ok(b) = RightHandSides::vectors(&rhs[..count * m], count, m) {
        let _ = ops::lstsq(&batch, &out, &b, case.rcond);
    }
    if let Ok(b) = RightHandSides::matrices(&rhs, count, m, 2) {
        if let Ok(x) = ops::lstsq(&batch, &out, &b, case.rcond) {
            assert_eq!(x.all_solutions().len(), count * n * 2);
        }
    }
    if m == n {
        let opts = if case.rotation_only {
            PolarOptions::rotation_only()
        } else {
            PolarOptions::default()
        };
        if let Ok(p) = batched_svd::Cpu::with_threads(1).polar(&batch, &opts) {
            assert_eq!(p.all_r().len(), count * n * n);
        }
    }
    if m >= 2
        && let Ok(c) = ops::center(&batch)
    {
        // Pca::fit, on one thread (Solver::cpu() would start threads on all cores, whose
        // thread-local destructors LeakSanitizer reports as 32-byte leaks).
        let n_components = case.n_components.map(usize::from);
        if let Ok(svd) = cpu::svd_with_threads(c.batch(), &SvdOptions::default(), 1)
            && let Ok(pca) = ops::Pca::from_svd(&c, &svd, n_components)
            && let Ok(scores) = pca.transform(&batch)
        {
            assert_eq!((scores.count(), scores.rows()), (count, m));
            let back = pca.inverse_transform(&scores).unwrap();
            assert_eq!((back.count(), back.rows(), back.cols()), (count, m, n));
        }
    }
}

/// The engine's output for `batch`: the right sizes, a status per matrix, NonFinite exactly
/// for the matrices holding a NaN or ±∞, and for the others non-negative singular values,
/// sorted when asked, whose squares add up to ‖A‖²_F.
fn check_svd<T: Real>(batch: &MatrixBatch<'_, T>, opts: &SvdOptions, out: &SvdOutput<T>) {
    let (count, m, n, k) = (batch.count(), batch.rows(), batch.cols(), batch.k());
    assert_eq!(out.count(), count);
    assert_eq!(out.shape(), (m, n));
    assert_eq!(out.all_singular_values().len(), count * k);
    assert_eq!(out.all_u().len(), count * m * opts.vectors.u_cols(m, n));
    assert_eq!(out.all_vt().len(), count * opts.vectors.vt_rows(m, n) * n);
    for i in 0..count {
        let a = batch.matrix_slice(i);
        let finite = a.iter().all(|x| x.is_finite());
        let sigma = out.singular_values(i);
        let status = out.status(i);
        if !finite {
            assert_eq!(status, Status::NonFinite, "matrix {i}");
            continue;
        }
        assert_ne!(status, Status::NonFinite, "matrix {i} is finite");
        // Finite where representable: a finite f32 matrix whose norm exceeds f32's range
        // (entries near 3.4e38) has σ₁ = +inf, the only possible rounding of it.
        let frob2: f64 = a.iter().map(|x| x.to_f64() * x.to_f64()).sum();
        if !T::from_f64(frob2.sqrt()).is_finite() {
            continue;
        }
        assert!(
            sigma.iter().all(|s| s.is_finite()),
            "{status:?} {sigma:?} of {m}×{n} {:?} {:?}",
            batch.layout(),
            a.iter().map(|x| x.to_f64()).collect::<Vec<_>>()
        );
        // Non-negative, except the smallest under the rotation convention (det A's sign).
        let signed = opts.signs == SignConvention::Rotation;
        let last = sigma.len().saturating_sub(1);
        for (j, s) in sigma.iter().enumerate() {
            assert!(s.to_f64() >= 0.0 || (signed && j == last), "{sigma:?}");
        }
        if opts.sort {
            let abs = |s: &T| s.to_f64().abs();
            assert!(
                sigma.windows(2).all(|w| abs(&w[0]) >= abs(&w[1])),
                "unsorted {sigma:?}"
            );
        }
        // Σ σ² = ‖A‖²_F, where neither side over- or underflows.
        if frob2.is_normal() && frob2 > 1e-200 && frob2 < 1e200 && status == Status::Converged {
            let s2: f64 = sigma.iter().map(|s| s.to_f64() * s.to_f64()).sum();
            let eps = T::EPSILON.to_f64();
            // Plus the rounding of each σ to T where it is subnormal (absolute, the smallest
            // subnormal of T): f32 inputs near 1e-45 have σ with a few significant bits.
            let tiny = if eps > 1e-10 { 1.4e-45 } else { 4.9e-324 };
            let bound =
                64.0 * (m.max(n) as f64) * eps * frob2 + 4.0 * (k as f64) * frob2.sqrt() * tiny;
            assert!(
                (s2 - frob2).abs() <= bound.max(1e-300),
                "Σσ² {s2} vs ‖A‖² {frob2}"
            );
        }
    }
}
