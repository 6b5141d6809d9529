// Bindings of the Jacobi kernel families (the dedicated 2×2 / 3×3 kernel generates its own,
// see src/gpu/small_code.rs). Params and MatrixInfo are in jacobi_common.wgsl. `elem` is
// `real`, or a complex `vec2<real>` (complex.wgsl); σ is always real.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a_in: array<elem>;
@group(0) @binding(2) var<storage, read_write> s_out: array<real>;
@group(0) @binding(3) var<storage, read_write> u_out: array<elem>;
@group(0) @binding(4) var<storage, read_write> vt_out: array<elem>;
@group(0) @binding(5) var<storage, read_write> info_out: array<MatrixInfo>;
