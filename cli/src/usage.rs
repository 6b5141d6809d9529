//! The usage texts of the tool (`--help` of each command).

/// The overall usage text (`--help`).
pub const USAGE: &str = "\
batched-svd: singular value decomposition of a batch of matrices on the GPU (wgpu) or CPU

Usage:
  batched-svd svd INPUT.npy -o OUTDIR [--vectors none|thin|full] [--backend auto|gpu|cpu]
                  [--tol X] [--max-sweeps N] [--rank K | --rtol X]
  batched-svd pinv A.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
  batched-svd lstsq A.npy B.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
  batched-svd polar INPUT.npy -o OUTDIR [--backend auto|gpu|cpu] [--rotation-only]
                    [--tol X] [--max-sweeps N]
  batched-svd info
  batched-svd bench [--quick] [--json FILE] [--shapes LIST] [--count N]
                    [--peak-gflops X]
  batched-svd --help | --version

Commands:
  svd    Decompose every matrix of a float32 .npy array of shape (m, n) or (count, m, n)
         (C or Fortran order, either byte order). Writes to OUTDIR, as numpy.linalg.svd
         returns them: s.npy, u.npy and vh.npy (unless --vectors none), status.npy
         (int32 per matrix: 0 converged, 1 not converged within max_sweeps,
         2 non-finite input) and report.json. Files appear only once all were written.
  pinv   Pseudoinverse of every matrix (singular values <= rcond * s_max treated as
         zero; default rcond max(m, n) * 2^-23): pinv.npy (count, n, m), rank.npy,
         status.npy, report.json (see batched-svd pinv --help).
  lstsq  Minimum-norm least squares min ||A x - b|| for B of shape (count, m) or
         (count, m, r), same cutoff: x.npy, residuals.npy, rank.npy, status.npy,
         report.json (see batched-svd lstsq --help).
  polar  Polar decomposition A = R·S of every square matrix: r.npy and s.npy shaped like
         the input (R the closest rotation, det +1; S symmetric), status.npy, report.json
         (see batched-svd polar --help).
  info   List the GPU adapters, the one chosen, and its limits and features.
  bench  Time the GPU and CPU engines, auto, and nalgebra (f32) on 1 thread and on all
         cores on random batches of each shape; prints a table (see batched-svd bench
         --help).

Options of svd:
  -o, --output DIR     Output directory (created if missing).
  --vectors MODE       none, thin (default) or full (square U and Vh).
  --backend MODE       auto (default), gpu or cpu. auto picks per shape: the GPU on a
                       hardware adapter, the faster engine on a software one, the CPU
                       without an adapter or beyond a device limit (with a warning);
                       report.json says which ran and why.
  --tol X              Jacobi rotation threshold in (0, 1); default 4*sqrt(max(m, n))*2^-23.
                       GPU only, like --max-sweeps.
  --max-sweeps N       Sweep cap per matrix, at least 1 (default 30).
  --rank K             Keep the top K singular triplets: s (count, K), u (count, m, K),
                       vh (count, K, n) (K capped at min(m, n)), plus rank.npy.
  --rtol X             Keep the triplets with s > X * s_max; shapes stay thin, dropped
                       triplets are zero, rank.npy (int32, (count,)) has the rank kept.

Exit status: 0 all converged; 1 outputs written but some matrix did not converge or had
non-finite input; 2 usage, input, output or device error (one line on stderr).

Environment: WGPU_BACKEND (e.g. vulkan, gl) restricts the backends searched;
WGPU_ADAPTER_NAME picks an adapter by name.
";

/// `batched-svd svd --help`.
pub const SVD: &str = "\
Usage: batched-svd svd INPUT.npy -o OUTDIR [--vectors none|thin|full] [--backend auto|gpu|cpu]
                       [--tol X] [--max-sweeps N] [--rank K | --rtol X]

INPUT.npy is float32 (either byte order), shape (m, n) or (count, m, n), C or Fortran order.
Writes s.npy, u.npy, vh.npy (not with --vectors none), status.npy and report.json to OUTDIR.
For a 2-D input s, u and vh have no leading batch axis (as numpy.linalg.svd) and status.npy
has shape (1,).

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --vectors MODE       none, thin (default) or full.
  --backend MODE       auto (default), gpu or cpu.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
  --rank K             Keep the K largest singular triplets (K >= 1; w = min(K, k)):
                       s (count, w), u (count, m, w), vh (count, w, n), and rank.npy.
  --rtol X             Keep the triplets with s > X * s_max (X finite, >= 0): s, u and vh keep
                       their thin shapes with the dropped triplets zeroed; rank.npy (int32,
                       (count,)) gives the number kept per matrix. Not with --vectors full.
";

/// `batched-svd pinv --help`.
pub const PINV: &str = "\
Usage: batched-svd pinv A.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu] [--tol X]
                        [--max-sweeps N]

The Moore-Penrose pseudoinverse A+ = V diag(1/s) U^T of every matrix of A.npy (float32,
shape (m, n) or (count, m, n), C or Fortran order, either byte order), from its SVD.
Singular values s <= rcond * s_max are treated as zero, as numpy.linalg.pinv does.

Writes to OUTDIR (all files or none):
  pinv.npy     float32 (count, n, m), or (n, m) for 2-D input
  rank.npy     int32 (count,): singular values inverted per matrix
  status.npy   int32 (count,): 0 converged, 1 SVD not converged, 2 non-finite input
  report.json

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --rcond X            Relative cutoff, finite and >= 0; default max(m, n) * 2^-23 (the
                       Array API default; numpy.linalg.pinv's own default is 1e-15).
  --backend MODE       auto (default), gpu or cpu: where the SVD runs.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
";

/// `batched-svd lstsq --help`.
pub const LSTSQ: &str = "\
Usage: batched-svd lstsq A.npy B.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
                         [--tol X] [--max-sweeps N]

Minimum-norm least squares min ||A x - b|| for every matrix of A.npy (float32, (count, m, n)
or (m, n)) and its right-hand sides in B.npy (float32): B of shape (count, m) gives one
solution per matrix, (count, m, r) gives r (the columns of B[i]); for a 2-D A, B is (m,) or
(m, r), as numpy.linalg.lstsq takes it. x = A+ b with the cutoff of pinv (singular values
s <= rcond * s_max treated as zero), as numpy.linalg.lstsq(a, b, rcond) computes it.

Writes to OUTDIR (all files or none):
  x.npy          float32: (count, n) for B (count, m); (count, n, r) for B (count, m, r);
                 (n,) or (n, r) for a 2-D A
  residuals.npy  float32 ||b - A x||^2 per right-hand side: (count,), (count, r), (1,), (r,)
                 (for every matrix; numpy returns them only when rank = n < m)
  rank.npy       int32 (count,)
  status.npy     int32 (count,): 0 converged, 1 SVD not converged, 2 non-finite A or B
  report.json

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --rcond X            Relative cutoff, finite and >= 0; default max(m, n) * 2^-23
                       (numpy.linalg.lstsq's default is max(m, n) * 2^-52, float64 eps).
  --backend MODE       auto (default), gpu or cpu: where the SVD runs.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
";

/// `batched-svd polar --help`.
pub const POLAR: &str = "\
Usage: batched-svd polar INPUT.npy -o OUTDIR [--backend auto|gpu|cpu] [--rotation-only]
                          [--tol X] [--max-sweeps N]

Polar decomposition A = R·S of every square matrix of a float32 .npy array of shape (n, n)
or (count, n, n): R is the closest proper rotation (det R = +1), S = Rᵀ·A is symmetric
(indefinite when det A < 0). Writes r.npy and s.npy (same shape as the input; s.npy is
skipped with --rotation-only), status.npy (count,) int32 (0 converged, 1 not converged,
2 non-finite input) and report.json. Exit status as for svd.
";
