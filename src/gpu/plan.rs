//! Splitting a batch into chunks that fit the device: a pure function of sizes and limits.

use crate::error::{Error, Result};

/// The device limits the scheduler plans chunks with.
///
/// [`Gpu`](crate::Gpu) takes them from the device; [`Gpu::with_plan_limits`](crate::Gpu::with_plan_limits)
/// can lower them (for tests, or to cap memory use). A chunk is the largest run of matrices
/// whose every buffer fits these limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimits {
    /// Largest storage buffer binding, bytes (`max_storage_buffer_binding_size`).
    pub max_binding_bytes: u64,
    /// Largest buffer, bytes (`max_buffer_size`).
    pub max_buffer_bytes: u64,
    /// Largest dispatch size per grid dimension (`max_compute_workgroups_per_dimension`).
    /// Chunks use a 2-D grid, so a chunk holds up to this squared.
    pub max_workgroups_per_dimension: u32,
    /// Soft cap on the bytes of any one buffer of a chunk, to bound memory use; chunks are
    /// made smaller rather than allocating more than this per buffer.
    pub max_chunk_bytes: u64,
}

/// Default soft cap per buffer: 16 MiB keeps peak device memory moderate while chunks stay
/// large enough (millions of small matrices) that per-chunk overhead is negligible.
pub const DEFAULT_MAX_CHUNK_BYTES: u64 = 16 << 20;

impl PlanLimits {
    /// The limits of a device.
    #[must_use]
    pub fn from_device_limits(limits: &wgpu::Limits) -> Self {
        Self {
            max_binding_bytes: limits.max_storage_buffer_binding_size,
            max_buffer_bytes: limits.max_buffer_size,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
        }
    }

    /// Each field the smaller of `self` and `other`.
    #[must_use]
    pub fn min(self, other: Self) -> Self {
        Self {
            max_binding_bytes: self.max_binding_bytes.min(other.max_binding_bytes),
            max_buffer_bytes: self.max_buffer_bytes.min(other.max_buffer_bytes),
            max_workgroups_per_dimension: self
                .max_workgroups_per_dimension
                .min(other.max_workgroups_per_dimension),
            max_chunk_bytes: self.max_chunk_bytes.min(other.max_chunk_bytes),
        }
    }
}

/// Bytes one matrix needs in each buffer of a chunk.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PerMatrixBytes {
    /// Storage bindings (input, σ, U, Vᵀ, info, work, state), each bound whole.
    pub bindings: [u64; 7],
    /// The read-back buffer holding all outputs.
    pub staging: u64,
}

/// How a batch is cut into chunks and each chunk's dispatch grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkPlan {
    /// Matrices per chunk (the last chunk may hold fewer).
    pub per_chunk: usize,
    /// Number of chunks.
    pub chunks: usize,
}

impl ChunkPlan {
    /// Plans `count` matrices, at most `max_per_chunk` per chunk (what the dispatch grid of
    /// the kernel family can address). Chunks hold a multiple of `group` matrices where the
    /// limits allow more than `group`, so that a chunk's buffers rounded up to whole groups
    /// (the dedicated kernel's vector stores) stay within the limits.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when a single matrix does not fit.
    pub(crate) fn new(
        count: usize,
        per: &PerMatrixBytes,
        limits: &PlanLimits,
        max_per_chunk: u64,
        group: u64,
    ) -> Result<Self> {
        let binding_cap = limits
            .max_binding_bytes
            .min(limits.max_buffer_bytes)
            .min(limits.max_chunk_bytes);
        let mut per_chunk = u64::MAX;
        for &b in per.bindings.iter().filter(|&&b| b > 0) {
            if b > limits.max_binding_bytes.min(limits.max_buffer_bytes) {
                return Err(Error::LimitExceeded {
                    limit: "max_storage_buffer_binding_size",
                    required: b,
                    available: limits.max_binding_bytes.min(limits.max_buffer_bytes),
                });
            }
            // One matrix always fits the soft cap; only real limits can refuse a matrix.
            per_chunk = per_chunk.min((binding_cap / b).max(1));
        }
        if per.staging > limits.max_buffer_bytes {
            return Err(Error::LimitExceeded {
                limit: "max_buffer_size",
                required: per.staging,
                available: limits.max_buffer_bytes,
            });
        }
        per_chunk = per_chunk
            .min((limits.max_buffer_bytes.min(limits.max_chunk_bytes) / per.staging.max(1)).max(1));
        per_chunk = per_chunk.min(max_per_chunk);
        if per_chunk >= group {
            per_chunk -= per_chunk % group;
        }
        per_chunk = per_chunk.min(count as u64).max(1);
        let per_chunk = per_chunk as usize;
        Ok(Self {
            per_chunk,
            chunks: count.div_ceil(per_chunk),
        })
    }

    /// Range of matrices of chunk `c`.
    pub(crate) fn range(&self, c: usize, count: usize) -> std::ops::Range<usize> {
        let start = c * self.per_chunk;
        start..(start + self.per_chunk).min(count)
    }
}

/// `(x, y)` workgroups for `count` matrices, one workgroup each, with `x ≤ max_dim`.
pub(crate) fn grid_2d(count: usize, max_dim: u32) -> (u32, u32) {
    let x = count.min(max_dim as usize).max(1);
    let y = count.div_ceil(x);
    (x as u32, y as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(binding: u64, buffer: u64, grid: u32) -> PlanLimits {
        PlanLimits {
            max_binding_bytes: binding,
            max_buffer_bytes: buffer,
            max_workgroups_per_dimension: grid,
            max_chunk_bytes: u64::MAX,
        }
    }

    #[test]
    fn splits_by_the_tightest_limit() {
        let per = PerMatrixBytes {
            bindings: [64, 16, 64, 64, 16, 0, 0],
            staging: 160,
        };
        let p = ChunkPlan::new(1000, &per, &limits(6400, 1 << 30, 65535), 1 << 32, 1).unwrap();
        assert_eq!(
            p,
            ChunkPlan {
                per_chunk: 100,
                chunks: 10
            }
        );
        let p = ChunkPlan::new(1000, &per, &limits(1 << 30, 1600, 65535), 1 << 32, 1).unwrap();
        assert_eq!(p.per_chunk, 10);
        let p = ChunkPlan::new(1000, &per, &limits(1 << 30, 1 << 30, 7), 49, 1).unwrap();
        assert_eq!(
            p,
            ChunkPlan {
                per_chunk: 49,
                chunks: 21
            }
        );
        assert_eq!(p.range(20, 1000), 980..1000);
        // Groups of four: 49 → 48 per chunk; a batch under the limit is one chunk.
        let p = ChunkPlan::new(1000, &per, &limits(1 << 30, 1 << 30, 7), 49, 4).unwrap();
        assert_eq!(p.per_chunk, 48);
        let p = ChunkPlan::new(47, &per, &limits(1 << 30, 1 << 30, 7), 49, 4).unwrap();
        assert_eq!(p.per_chunk, 47);
    }

    #[test]
    fn refuses_a_matrix_that_cannot_fit() {
        let per = PerMatrixBytes {
            bindings: [4096, 16, 0, 0, 16, 0, 0],
            staging: 32,
        };
        assert!(matches!(
            ChunkPlan::new(3, &per, &limits(1024, 1 << 30, 65535), 1 << 32, 1),
            Err(Error::LimitExceeded { required: 4096, .. })
        ));
    }

    #[test]
    fn grid_covers_the_chunk() {
        assert_eq!(grid_2d(1, 65535), (1, 1));
        assert_eq!(grid_2d(65536, 65535), (65535, 2));
        let (x, y) = grid_2d(1000, 7);
        assert!(x as usize * y as usize >= 1000 && x <= 7);
    }
}
