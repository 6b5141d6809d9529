//! Finalize on the host: record the kernels' per-matrix reports, complete the singular
//! vectors of matrices that need it, and apply the rotation sign convention where the kernel
//! did not.

use super::buffers::RawInfo;
use crate::basis::{complete_vectors, to_rotation_convention};
use crate::element::Element;
use crate::factors::Factors;
use crate::options::Vectors;
use crate::report::{MatrixInfo, Status};

/// Records the kernel's per-matrix reports and completes the singular vectors of matrices
/// that need it (negligible singular values, or full vectors of a non-square matrix).
pub(crate) fn finalize<T: Element>(
    out: &mut Factors<T>,
    first: usize,
    raw: impl Iterator<Item = RawInfo>,
    fix_signs: bool,
) {
    let (m, n) = out.shape();
    let vectors = out.vectors;
    let full_extra = vectors == Vectors::Full && m != n;
    let (ul, vl) = (m * out.u_cols(), out.vt_rows() * n);
    for (local, r) in raw.enumerate() {
        let b = first + local;
        let status = match r.status {
            0 => Status::Converged,
            1 => Status::NotConverged,
            _ => Status::NonFinite,
        };
        out.report.info[b] = MatrixInfo {
            status,
            sweeps: r.sweeps,
            off_diagonal: r.off,
        };
        if status != Status::NonFinite && vectors.wanted() && (r.negligible > 0 || full_extra) {
            complete_vectors(
                &mut out.first[b * ul..(b + 1) * ul],
                &mut out.second[b * vl..(b + 1) * vl],
                m,
                n,
                vectors,
            );
        }
        if fix_signs && status != Status::NonFinite {
            // Real types only: the options refuse the convention for complex ones.
            let k = m.min(n);
            if let Some((s, u, vt)) = T::real_slices(
                &mut out.sigma[b * k..(b + 1) * k],
                &mut out.first[b * ul..(b + 1) * ul],
                &mut out.second[b * vl..(b + 1) * vl],
            ) {
                to_rotation_convention(s, u, vt, n);
            }
        }
    }
}
