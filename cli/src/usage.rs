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
  svd    Decompose every matrix of a .npy array of shape (..., m, n): any number of
         leading batch dimensions (none included, zero sizes allowed), C or Fortran order,
         either byte order. float32, float64, complex64 and complex128 compute in and
         write their own dtype (s real: float32 for complex64, float64 for complex128);
         integer and bool in float64. Writes to OUTDIR, shaped as numpy.linalg.svd
         returns them: s.npy (..., k), u.npy and vh.npy (unless --vectors none),
         status.npy (int32, shape (...): 0 converged, 1 not converged within max_sweeps,
         2 non-finite input) and report.json. Files appear only once all were written.
  pinv   Pseudoinverse of every matrix (singular values <= rcond * s_max treated as
         zero; default rcond max(m, n) * eps of the dtype): pinv.npy (..., n, m),
         rank.npy, status.npy, report.json (see batched-svd pinv --help).
  lstsq  Minimum-norm least squares min ||A x - b|| for B of shape (..., m) or
         (..., m, r), same cutoff: x.npy, residuals.npy, rank.npy, status.npy,
         report.json (see batched-svd lstsq --help).
  polar  Polar decomposition A = R·S of every square matrix: r.npy and s.npy shaped like
         the input (R the closest rotation, det +1; S symmetric; complex: R unitary, S
         Hermitian positive semi-definite), status.npy, report.json (see batched-svd polar
         --help).
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
  --tol X              Jacobi rotation threshold in (0, 1); default 4*sqrt(max(m, n))*eps
                       (eps = 2^-23 for float32, 2^-52 for float64). GPU only, like
                       --max-sweeps.
  --max-sweeps N       Sweep cap per matrix, at least 1 (default 30).
  --rank K             Keep the top K singular triplets: s (..., K), u (..., m, K),
                       vh (..., K, n) (K capped at min(m, n)), plus rank.npy.
  --rtol X             Keep the triplets with s > X * s_max; shapes stay thin, dropped
                       triplets are zero, rank.npy (int32, (...)) has the rank kept.

Other dtypes (float16, longdouble, clongdouble, strings, objects, structured) are refused
with exit 2. Complex input runs on either engine, chosen as for real input.

Exit status: 0 all converged; 1 outputs written but some matrix did not converge or had
non-finite input; 2 usage, input, output or device error (one line on stderr).

Environment: WGPU_BACKEND (e.g. vulkan, gl) restricts the backends searched;
WGPU_ADAPTER_NAME picks an adapter by name.
";

/// `batched-svd svd --help`.
pub const SVD: &str = "\
Usage: batched-svd svd INPUT.npy -o OUTDIR [--vectors none|thin|full] [--backend auto|gpu|cpu]
                       [--tol X] [--max-sweeps N] [--rank K | --rtol X]

INPUT.npy has shape (..., m, n): any number of leading batch dimensions, zero sizes
allowed; C or Fortran order, either byte order. float32, float64, complex64 and complex128
are computed in and written as themselves, except s, which is real (float32 for complex64,
float64 for complex128); integer and bool as float64. For complex input vh holds V^H.
Writes s.npy (..., k), u.npy (..., m, k|m), vh.npy (..., k|n, n) (not with --vectors none),
status.npy (int32, shape (...)) and report.json to OUTDIR, shaped and typed as
numpy.linalg.svd(a, full_matrices) returns them; for an (m, 0) matrix, full U is the
identity.

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --vectors MODE       none, thin (default) or full.
  --backend MODE       auto (default), gpu or cpu.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
  --rank K             Keep the K largest singular triplets (K >= 1; w = min(K, k)):
                       s (..., w), u (..., m, w), vh (..., w, n), and rank.npy.
  --rtol X             Keep the triplets with s > X * s_max (X finite, >= 0): s, u and vh keep
                       their thin shapes with the dropped triplets zeroed; rank.npy (int32,
                       (...)) gives the number kept per matrix. Not with --vectors full.
";

/// `batched-svd pinv --help`.
pub const PINV: &str = "\
Usage: batched-svd pinv A.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu] [--tol X]
                        [--max-sweeps N]

The Moore-Penrose pseudoinverse A+ = V diag(1/s) U^H of every matrix of A.npy (shape
(..., m, n), dtypes as for svd), from its SVD. Singular values s <= rcond * s_max are
treated as zero, as numpy.linalg.pinv does.

Writes to OUTDIR (all files or none):
  pinv.npy     (..., n, m), in the dtype computed in (float32, float64, complex64 or
               complex128)
  rank.npy     int32 (...): singular values inverted per matrix
  status.npy   int32 (...): 0 converged, 1 SVD not converged, 2 non-finite input
  report.json

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --rcond X            Relative cutoff, finite and >= 0; default max(m, n) * eps (2^-23
                       for float32 and complex64, 2^-52 for float64 and complex128: the
                       Array API default;
                       numpy.linalg.pinv's own default is 1e-15).
  --backend MODE       auto (default), gpu or cpu: where the SVD runs.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
";

/// `batched-svd lstsq --help`.
pub const LSTSQ: &str = "\
Usage: batched-svd lstsq A.npy B.npy -o OUTDIR [--rcond X] [--backend auto|gpu|cpu]
                         [--tol X] [--max-sweeps N]

Minimum-norm least squares min ||A x - b|| for every matrix of A.npy (shape (..., m, n))
and its right-hand sides in B.npy: B of shape (..., m) gives one solution per matrix,
(..., m, r) gives r (the columns of B[i]); for a 2-D A, B is (m,) or (m, r), as
numpy.linalg.lstsq takes it. x = A+ b with the cutoff of pinv (singular values
s <= rcond * s_max treated as zero), as numpy.linalg.lstsq(a, b, rcond) computes it.
Computed in numpy's common type of A and B (integer and bool read as float64): float32 if
both are float32, float64 with float64, complex when either is complex (complex64 with
float32 or complex64, else complex128).

Writes to OUTDIR (all files or none), x in the dtype computed in, residuals in its real
dtype:
  x.npy          (..., n) for B (..., m); (..., n, r) for B (..., m, r)
  residuals.npy  ||b - A x||^2 per right-hand side: (...) for B (..., m) ((1,) for one
                 vector), (..., r) for B (..., m, r) (for every matrix; numpy returns
                 them only when rank = n < m)
  rank.npy       int32 (...)
  status.npy     int32 (...): 0 converged, 1 SVD not converged, 2 non-finite A or B
  report.json

Options (in any order; --opt=value also accepted):
  -o, --output DIR     Output directory (created if missing).
  --rcond X            Relative cutoff, finite and >= 0; default max(m, n) * eps of the
                       dtype (numpy.linalg.lstsq's default is max(m, n) * 2^-52, float64
                       eps, also for float32 input).
  --backend MODE       auto (default), gpu or cpu: where the SVD runs.
  --tol X              Jacobi rotation threshold in (0, 1) (GPU only).
  --max-sweeps N       Sweep cap per matrix, at least 1 (GPU only; default 30).
";

/// `batched-svd polar --help`.
pub const POLAR: &str = "\
Usage: batched-svd polar INPUT.npy -o OUTDIR [--backend auto|gpu|cpu] [--rotation-only]
                          [--tol X] [--max-sweeps N]

Polar decomposition A = R·S of every square matrix of a .npy array of shape (..., n, n)
(dtypes as for svd): R is the closest proper rotation (det R = +1), S = Rᵀ·A is symmetric
(indefinite when det A < 0). Complex input: R = U·V^H unitary and S = V·diag(s)·V^H
Hermitian positive semi-definite (--rotation-only is then an error: there is no rotation
convention for complex matrices). Writes r.npy and s.npy (same shape and dtype as computed in;
s.npy is skipped with --rotation-only), status.npy (...) int32 (0 converged, 1 not
converged, 2 non-finite input) and report.json. Exit status as for svd.
";
