// batched-svd: SVD and polar decomposition of one 2×2 or 3×3 f32 matrix, as WGSL functions
// for your own shaders (exported by `batched_svd::wgsl::SMALL_SVD`; `SMALL_SVD_F64` is the
// same API on f64 matrices, with f64 in place of f32 below, for devices with SHADER_F64).
// Self-contained: paste or include this source before code that calls it. Every name it defines besides the public
// functions and structs listed below starts with `bsvd_` (or `Bsvd`).
//
// Public API (matrices are WGSL's column-major mat2x2/mat3x3):
//
//   struct Svd2 { u: mat2x2<f32>, s: vec2<f32>, v: mat2x2<f32>, sweeps: u32, converged: bool }
//   struct Svd3 { u: mat3x3<f32>, s: vec3<f32>, v: mat3x3<f32>, sweeps: u32, converged: bool }
//       (sweeps: Jacobi sweeps used; converged: false only if BSVD_MAX_SWEEPS did not suffice,
//       never observed in f32, or for non-finite input)
//   fn svd2(a: mat2x2<f32>) -> Svd2            a = u · diag(s) · transpose(v)
//   fn svd3(a: mat3x3<f32>) -> Svd3
//       NonNegative convention (LAPACK, numpy): s ≥ 0, descending; u, v orthogonal.
//   fn svd2_rotation(a: mat2x2<f32>) -> Svd2
//   fn svd3_rotation(a: mat3x3<f32>) -> Svd3
//       Rotation convention (NVIDIA Warp, Unreal Chaos): det u = det v = +1, |s| descending,
//       and the last singular value carries the sign of det a (negative for reflections and
//       inverted elements).
//   struct Polar2 { r: mat2x2<f32>, s: mat2x2<f32> }
//   struct Polar3 { r: mat3x3<f32>, s: mat3x3<f32> }
//   fn polar2(a: mat2x2<f32>) -> Polar2        a = r · s, r the closest proper rotation
//   fn polar3(a: mat3x3<f32>) -> Polar3        (det r = +1), s symmetric
//   fn polar2_rotation(a: mat2x2<f32>) -> mat2x2<f32>   r only
//   fn polar3_rotation(a: mat3x3<f32>) -> mat3x3<f32>
//
// Accuracy (tested against nalgebra in f64, ε = 2⁻²³ for f32, 2⁻⁵² for f64): |σ − σ̂| ≤ 48ε·σ₁,
// orthogonality and reconstruction within 48ε. Non-finite input gives NaN. The method is described below.

// One matrix per call: the lane types of the core are scalars.
alias bsvd_f = bsvd_s;
alias bsvd_u = u32;
alias bsvd_i = i32;
alias bsvd_b = bool;
