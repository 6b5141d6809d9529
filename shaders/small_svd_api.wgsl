// The public WGSL API on WGSL matrices (one matrix per call: scalar lane types), of the
// scalar type bsvd_s (f32 or f64).

// Transposes, written out (f64 code keeps to arithmetic, select and comparisons).
fn bsvd_transpose2(m: mat2x2<bsvd_s>) -> mat2x2<bsvd_s> {
    return mat2x2<bsvd_s>(m[0].x, m[1].x, m[0].y, m[1].y);
}

fn bsvd_transpose3(m: mat3x3<bsvd_s>) -> mat3x3<bsvd_s> {
    return mat3x3<bsvd_s>(m[0].x, m[1].x, m[2].x, m[0].y, m[1].y, m[2].y, m[0].z, m[1].z, m[2].z);
}

struct Svd2 {
    u: mat2x2<bsvd_s>,
    s: vec2<bsvd_s>,
    v: mat2x2<bsvd_s>,
    sweeps: u32,
    converged: bool,
}

struct Svd3 {
    u: mat3x3<bsvd_s>,
    s: vec3<bsvd_s>,
    v: mat3x3<bsvd_s>,
    sweeps: u32,
    converged: bool,
}

struct Polar2 {
    r: mat2x2<bsvd_s>,
    s: mat2x2<bsvd_s>,
}

struct Polar3 {
    r: mat3x3<bsvd_s>,
    s: mat3x3<bsvd_s>,
}

fn bsvd_svd2_mat(a: mat2x2<bsvd_s>, rotation_convention: bool) -> Svd2 {
    let d = bsvd_svd2_lanes(BsvdCol2(a[0].x, a[0].y), BsvdCol2(a[1].x, a[1].y), rotation_convention);
    return Svd2(
        mat2x2<bsvd_s>(d.u0.x, d.u0.y, d.u1.x, d.u1.y),
        vec2<bsvd_s>(d.s0, d.s1),
        mat2x2<bsvd_s>(d.v0.x, d.v0.y, d.v1.x, d.v1.y),
        d.sweeps,
        d.converged,
    );
}

fn bsvd_svd3_mat(a: mat3x3<bsvd_s>, rotation_convention: bool) -> Svd3 {
    let d = bsvd_svd3_lanes(
        BsvdCol3(a[0].x, a[0].y, a[0].z),
        BsvdCol3(a[1].x, a[1].y, a[1].z),
        BsvdCol3(a[2].x, a[2].y, a[2].z),
        rotation_convention,
    );
    return Svd3(
        mat3x3<bsvd_s>(d.u0.x, d.u0.y, d.u0.z, d.u1.x, d.u1.y, d.u1.z, d.u2.x, d.u2.y, d.u2.z),
        vec3<bsvd_s>(d.s0, d.s1, d.s2),
        mat3x3<bsvd_s>(d.v0.x, d.v0.y, d.v0.z, d.v1.x, d.v1.y, d.v1.z, d.v2.x, d.v2.y, d.v2.z),
        d.sweeps,
        d.converged,
    );
}

fn svd2(a: mat2x2<bsvd_s>) -> Svd2 {
    return bsvd_svd2_mat(a, false);
}

fn svd2_rotation(a: mat2x2<bsvd_s>) -> Svd2 {
    return bsvd_svd2_mat(a, true);
}

fn svd3(a: mat3x3<bsvd_s>) -> Svd3 {
    return bsvd_svd3_mat(a, false);
}

fn svd3_rotation(a: mat3x3<bsvd_s>) -> Svd3 {
    return bsvd_svd3_mat(a, true);
}

fn polar2(a: mat2x2<bsvd_s>) -> Polar2 {
    let d = bsvd_svd2_mat(a, true);
    let vt = bsvd_transpose2(d.v);
    let s = d.v * mat2x2<bsvd_s>(vec2<bsvd_s>(d.s.x, 0.0), vec2<bsvd_s>(0.0, d.s.y)) * vt;
    return Polar2(d.u * vt, s);
}

fn polar2_rotation(a: mat2x2<bsvd_s>) -> mat2x2<bsvd_s> {
    let d = bsvd_svd2_mat(a, true);
    return d.u * bsvd_transpose2(d.v);
}

fn polar3(a: mat3x3<bsvd_s>) -> Polar3 {
    let d = bsvd_svd3_mat(a, true);
    let vt = bsvd_transpose3(d.v);
    let sd = mat3x3<bsvd_s>(
        vec3<bsvd_s>(d.s.x, 0.0, 0.0),
        vec3<bsvd_s>(0.0, d.s.y, 0.0),
        vec3<bsvd_s>(0.0, 0.0, d.s.z),
    );
    return Polar3(d.u * vt, d.v * sd * vt);
}

fn polar3_rotation(a: mat3x3<bsvd_s>) -> mat3x3<bsvd_s> {
    let d = bsvd_svd3_mat(a, true);
    return d.u * bsvd_transpose3(d.v);
}
