//! WGSL source for your own shaders.
//!
//! [`SMALL_SVD`] defines `svd2`, `svd3`, `svd2_rotation`, `svd3_rotation`, `polar2`, `polar3`,
//! `polar2_rotation` and `polar3_rotation` on WGSL's `mat2x2<f32>` / `mat3x3<f32>`, and the
//! result structs `Svd2`, `Svd3`, `Polar2`, `Polar3`. It is self-contained (no bindings, no
//! entry point; helper names start with `bsvd_`): prepend it to a shader that calls them.
//!
//! ```wgsl
//! // let d = svd3(a);          // a == d.u * diag(d.s) * transpose(d.v), d.s ≥ 0 descending
//! // let d = svd3_rotation(a); // det d.u == det d.v == +1, d.s.z carries the sign of det a
//! // let p = polar3(a);        // a == p.r * p.s, det p.r == +1, p.s symmetric
//! // let r = polar3_rotation(a);
//! ```
//!
//! Accuracy (tested against nalgebra in f64, ε = 2⁻²³): singular values within 16·n·ε·σ₁,
//! u and v orthogonal within 16·n·ε, reconstruction within 16·n·ε·‖a‖_F, for random,
//! rotation, reflection, near-identity, nearly and exactly singular and inverted matrices.
//! The full contract is in the comment at the top of the source.

/// The 2×2 / 3×3 SVD and polar decomposition functions (see the module docs): the scalar
/// lane types, the core that the library's batched kernel also runs, and the API on WGSL
/// matrices.
pub const SMALL_SVD: &str = concat!(
    include_str!("../shaders/small_lanes_scalar.wgsl"),
    "\n",
    include_str!("../shaders/small_scalar_f32.wgsl"),
    "\n",
    include_str!("../shaders/small_svd.wgsl"),
    "\n",
    include_str!("../shaders/small_svd_api.wgsl"),
);

/// [`SMALL_SVD`] on f64 matrices: the same functions and structs on `mat2x2<f64>` /
/// `mat3x3<f64>` (same names, so a shader includes one of the two), for devices with
/// `wgpu::Features::SHADER_F64`. It uses only + − × ÷, `sqrt`, `abs`, `min`/`max`/`select` and
/// comparisons on f64 (f64 transcendentals are unreliable across drivers). Accuracy as
/// [`SMALL_SVD`]'s with ε = 2⁻⁵².
pub const SMALL_SVD_F64: &str = concat!(
    include_str!("../shaders/small_lanes_scalar.wgsl"),
    "\n",
    include_str!("../shaders/small_scalar_f64.wgsl"),
    "\n",
    include_str!("../shaders/small_svd.wgsl"),
    "\n",
    include_str!("../shaders/small_svd_api.wgsl"),
);
