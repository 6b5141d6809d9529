// Storage back-end "workgroup": the working matrix W (column-major, leading dimension LDW),
// V and the finalize scratch live in workgroup memory; one workgroup owns one matrix for the
// whole solve, so global memory is touched once to load A and once to write the results.
// W and V hold elements (`elem`: real or complex), σ is real.
//
// LDW is M rounded up to an odd number: with T = 1 thread per column pair, the threads of a
// round read row i of different columns, at addresses j·LDW + i; an odd stride spreads them
// over the banks of a real GPU's shared memory instead of piling them on one bank.

var<workgroup> w_sh: array<elem, LDW * N>;
var<workgroup> v_sh: array<elem, V_LEN>;
var<workgroup> sig_sh: array<real, N>;
var<workgroup> perm_sh: array<u32, N>;

fn bind_matrix(mat: u32) {}

fn w_get(j: u32, i: u32) -> elem { return w_sh[j * LDW + i]; }
fn w_set(j: u32, i: u32, x: elem) { w_sh[j * LDW + i] = x; }
// Left vectors before normalisation: the columns of W.
fn u_get(j: u32, i: u32) -> elem { return w_get(j, i); }
fn v_get(j: u32, i: u32) -> elem { return v_sh[j * N + i]; }
fn v_set(j: u32, i: u32, x: elem) { v_sh[j * N + i] = x; }
fn sig_get(j: u32) -> real { return sig_sh[j]; }
fn sig_set(j: u32, x: real) { sig_sh[j] = x; }
fn perm_get(r: u32) -> u32 { return perm_sh[r]; }
fn perm_set(r: u32, j: u32) { perm_sh[r] = j; }

// Make this workgroup's writes to W, V and the scratch visible to all its invocations.
fn sync() { workgroupBarrier(); }
