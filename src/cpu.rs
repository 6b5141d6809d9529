//! The CPU path: nalgebra's SVD in f64, with the same inputs and outputs as the GPU path.
//!
//! It is the reference the tests hold the GPU kernels against (tests use their own f64
//! nalgebra oracle as well) and the fallback when no GPU adapter exists. Each matrix is
//! converted to `DMatrix<f64>` (dynamic dimensions bypass nalgebra's special 2×2 and 3×3 code,
//! whose 3×3 path forms AᵀA), decomposed by Golub–Kahan bidiagonalisation with implicit-shift
//! QR, rounded to f32 and completed to full U/V where asked. The batch is split over the
//! available cores with scoped threads.
//!
//! The rotation sign convention is applied after the fact (determinants of U and V in f64).
//!
//! nalgebra 0.35's SVD can return wrong singular values when vectors are requested, for
//! some rank-deficient inputs (dimforge/nalgebra#1172: an all-ones 3×5 matrix gets σ₁ = 4.54
//! instead of √15). Every result is therefore checked (reconstruction and orthogonality in
//! f64) and, when it fails, recomputed by a one-sided Jacobi SVD in f64.
//!
//! Differences from the GPU path: [`SvdOptions::tolerance`] and [`SvdOptions::max_sweeps`]
//! do not apply (nalgebra iterates to f64 precision; a matrix it cannot decompose within its
//! iteration cap is reported [`Status::NotConverged`] with NaN outputs), [`SvdOptions::sort`]
//! is ignored (values always descend), and the reported sweeps and off-diagonal measure are 0.

use std::time::Instant;

use nalgebra::{DMatrix, SVD};

use crate::basis::{complete_vectors, to_rotation_convention};
use crate::batch::MatrixBatch;
use crate::error::Result;
use crate::options::{SignConvention, SvdOptions};
use crate::output::{Engine, MatrixInfo, Status, SvdOutput};

/// Relative residual above which a nalgebra result is rejected: a correct f64 SVD has
/// residuals near 1e-15, the known bug's are of order 1.
const NALGEBRA_CHECK: f64 = 1e-9;

/// σ (descending), U (`m×k`) and Vᵀ (`k×n`) of one matrix in f64.
struct Factors {
    singular_values: Vec<f64>,
    u: Option<DMatrix<f64>>,
    v_t: Option<DMatrix<f64>>,
}

/// The SVD of `a` by nalgebra, verified, with a one-sided Jacobi fallback; `None` if neither
/// converges.
fn decompose(a: DMatrix<f64>, want: bool, max_iterations: usize) -> Option<Factors> {
    let nalgebra =
        SVD::try_new(a.clone(), want, want, f64::EPSILON, max_iterations).map(|svd| Factors {
            singular_values: svd.singular_values.iter().copied().collect(),
            u: svd.u,
            v_t: svd.v_t,
        });
    match nalgebra {
        Some(f) if verified(&a, &f) => Some(f),
        _ => jacobi_f64(&a, want),
    }
}

/// Whether `f` is an SVD of `a` to f64 accuracy: Σσ² = ‖A‖²_F and, with vectors, A = UΣVᵀ
/// with orthonormal U and V.
fn verified(a: &DMatrix<f64>, f: &Factors) -> bool {
    let norm_sq = a.norm_squared();
    let sum_sq: f64 = f.singular_values.iter().map(|s| s * s).sum();
    if (sum_sq - norm_sq).abs() > NALGEBRA_CHECK * norm_sq {
        return false;
    }
    let (Some(u), Some(v_t)) = (&f.u, &f.v_t) else {
        return true;
    };
    let k = f.singular_values.len();
    let sigma = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&f.singular_values));
    let residual = (a - u * sigma * v_t).norm();
    let identity = DMatrix::<f64>::identity(k, k);
    residual <= NALGEBRA_CHECK * norm_sq.sqrt()
        && (u.transpose() * u - &identity).amax() <= NALGEBRA_CHECK
        && (v_t * v_t.transpose() - identity).amax() <= NALGEBRA_CHECK
}

/// One-sided (Hestenes) Jacobi SVD in f64: slow but dependable. Columns with zero norm get
/// zero singular vectors, which the caller completes to an orthonormal basis.
fn jacobi_f64(a: &DMatrix<f64>, want: bool) -> Option<Factors> {
    let (m, n) = a.shape();
    let transposed = m < n;
    let mut w = if transposed { a.transpose() } else { a.clone() };
    let k = w.ncols();
    let mut v = DMatrix::<f64>::identity(k, k);
    let mut converged = false;
    for _ in 0..JACOBI_F64_MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..k {
            for q in p + 1..k {
                let alpha = w.column(p).norm_squared();
                let beta = w.column(q).norm_squared();
                let gamma = w.column(p).dot(&w.column(q));
                if alpha == 0.0 || beta == 0.0 || gamma.abs() <= 1e-15 * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for mat in [&mut w, &mut v] {
                    for i in 0..mat.nrows() {
                        let (x, y) = (mat[(i, p)], mat[(i, q)]);
                        mat[(i, p)] = c * x - s * y;
                        mat[(i, q)] = s * x + c * y;
                    }
                }
            }
        }
        if !rotated {
            converged = true;
            break;
        }
    }
    if !converged {
        return None;
    }
    let norms: Vec<f64> = (0..k).map(|j| w.column(j).norm()).collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
    let singular_values = order.iter().map(|&j| norms[j]).collect();
    if !want {
        return Some(Factors {
            singular_values,
            u: None,
            v_t: None,
        });
    }
    let uw = DMatrix::from_fn(w.nrows(), k, |i, r| {
        let j = order[r];
        if norms[j] > 0.0 {
            w[(i, j)] / norms[j]
        } else {
            0.0
        }
    });
    let vw = DMatrix::from_fn(k, k, |i, r| v[(i, order[r])]);
    // A = U_W Σ V_Wᵀ, or for a wide A (W = Aᵀ): A = V_W Σ U_Wᵀ.
    let (u, v_t) = if transposed {
        (vw, uw.transpose())
    } else {
        (uw, vw.transpose())
    };
    Some(Factors {
        singular_values,
        u: Some(u),
        v_t: Some(v_t),
    })
}

/// Sweeps the f64 fallback may use (it converges in about 10 on anything finite).
const JACOBI_F64_MAX_SWEEPS: usize = 100;

/// nalgebra's implicit-QR iteration cap per matrix, per unit of `m + n`.
const NALGEBRA_ITERATIONS_PER_DIM: usize = 1000;

/// Decomposes every matrix of `batch` on the CPU with nalgebra (f64 internally), on all cores.
///
/// Output shapes, layouts and status codes are those of [`SvdOutput`].
///
/// # Errors
/// [`Error::InvalidOption`](crate::Error::InvalidOption) for invalid options. Numerical
/// trouble is reported per matrix, not as an error.
pub fn svd(batch: &MatrixBatch<'_>, opts: &SvdOptions) -> Result<SvdOutput> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    svd_with_threads(batch, opts, threads)
}

/// As [`svd`], on at most `threads` threads (`1` runs on the calling thread).
///
/// # Errors
/// As [`svd`].
pub fn svd_with_threads(
    batch: &MatrixBatch<'_>,
    opts: &SvdOptions,
    threads: usize,
) -> Result<SvdOutput> {
    opts.validate_for(batch.rows(), batch.cols())?;
    let start = Instant::now();
    let (count, m, n) = (batch.count(), batch.rows(), batch.cols());
    let mut out = SvdOutput::allocate(count, m, n, opts.vectors, Engine::Cpu);
    let k = out.k();
    let (uc, vr) = (out.u_cols(), out.vt_rows());
    let per_thread = count.div_ceil(threads.max(1));
    {
        let s_parts = out.singular_values.chunks_mut(per_thread * k);
        let info_parts = out.info.chunks_mut(per_thread);
        // Values-only output has empty U and Vᵀ: give each thread an empty slice.
        let mut u_parts = split_or_empty(&mut out.u, per_thread * m * uc);
        let mut vt_parts = split_or_empty(&mut out.vt, per_thread * vr * n);
        std::thread::scope(|scope| {
            for (t, (s, info)) in s_parts.zip(info_parts).enumerate() {
                let u = u_parts.next().unwrap_or_default();
                let vt = vt_parts.next().unwrap_or_default();
                let first = t * per_thread;
                if threads <= 1 {
                    solve_range(batch, opts, first, s, u, vt, info);
                } else {
                    scope.spawn(move || solve_range(batch, opts, first, s, u, vt, info));
                }
            }
        });
    }
    out.timings.compute = start.elapsed().as_secs_f64();
    Ok(out)
}

fn split_or_empty(data: &mut [f32], chunk: usize) -> Box<dyn Iterator<Item = &mut [f32]> + '_> {
    if chunk == 0 || data.is_empty() {
        Box::new(std::iter::empty())
    } else {
        Box::new(data.chunks_mut(chunk))
    }
}

/// Decomposes matrices `first..first + info.len()` into the given output slices.
fn solve_range(
    batch: &MatrixBatch<'_>,
    opts: &SvdOptions,
    first: usize,
    s: &mut [f32],
    u: &mut [f32],
    vt: &mut [f32],
    info: &mut [MatrixInfo],
) {
    let (m, n) = (batch.rows(), batch.cols());
    let k = m.min(n);
    let vectors = opts.vectors;
    let (uc, vr) = (vectors.u_cols(m, n), vectors.vt_rows(m, n));
    let want = vectors.wanted();
    for (local, info) in info.iter_mut().enumerate() {
        let b = first + local;
        let s = &mut s[local * k..(local + 1) * k];
        let (u, vt) = if want {
            (
                &mut u[local * m * uc..(local + 1) * m * uc],
                &mut vt[local * vr * n..(local + 1) * vr * n],
            )
        } else {
            (&mut [][..], &mut [][..])
        };
        let a = batch.to_dmatrix_f64(b);
        let decomposed = if a.iter().all(|x| x.is_finite()) {
            decompose(a, want, NALGEBRA_ITERATIONS_PER_DIM * (m + n)).ok_or(Status::NotConverged)
        } else {
            Err(Status::NonFinite)
        };
        match decomposed {
            Ok(svd) => {
                for (dst, src) in s.iter_mut().zip(svd.singular_values.iter()) {
                    *dst = *src as f32;
                }
                if let (Some(su), Some(svt)) = (&svd.u, &svd.v_t) {
                    u.fill(0.0);
                    vt.fill(0.0);
                    for i in 0..m {
                        for j in 0..k {
                            u[i * uc + j] = su[(i, j)] as f32;
                        }
                    }
                    for j in 0..k {
                        for c in 0..n {
                            vt[j * n + c] = svt[(j, c)] as f32;
                        }
                    }
                    complete_vectors(u, vt, m, n, vectors);
                    if opts.signs == SignConvention::Rotation {
                        to_rotation_convention(s, u, vt, n);
                    }
                }
                *info = MatrixInfo {
                    status: Status::Converged,
                    sweeps: 0,
                    off_diagonal: 0.0,
                };
            }
            Err(status) => {
                s.fill(f32::NAN);
                u.fill(f32::NAN);
                vt.fill(f32::NAN);
                *info = MatrixInfo {
                    status,
                    sweeps: 0,
                    off_diagonal: if status == Status::NonFinite {
                        f32::NAN
                    } else {
                        0.0
                    },
                };
            }
        }
    }
}
