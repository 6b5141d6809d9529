//! Turning wgpu's error scopes into [`Error`] values instead of panics.
//!
//! wgpu reports validation and out-of-memory errors asynchronously; uncaught, they reach the
//! device's uncaptured-error handler, which panics by default. Every group of device calls the
//! library makes is wrapped in an [`ErrorCatcher`], so nothing reaches the handler (which may
//! belong to the caller's engine when the device is theirs).

use crate::error::{Error, Result};

/// Error scopes for out-of-memory, validation and internal errors, pushed together.
///
/// Error scopes are per thread: push and [`ErrorCatcher::check`] must happen on the same
/// thread, with no `.await` in between (the guards are not `Send`).
///
/// The fields are declared in the reverse of their push order: a catcher dropped without
/// [`ErrorCatcher::check`] (an early return on another error) pops its scopes in field order,
/// which must be the reverse of the pushes, or wgpu panics ("Mismatched pop_error_scope").
pub(crate) struct ErrorCatcher {
    internal: wgpu::ErrorScopeGuard,
    validation: wgpu::ErrorScopeGuard,
    oom: wgpu::ErrorScopeGuard,
}

impl ErrorCatcher {
    pub(crate) fn push(device: &wgpu::Device) -> Self {
        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
        Self {
            internal,
            validation,
            oom,
        }
    }

    /// Pops the scopes (now) and reports the first error they caught.
    pub(crate) fn check(self) -> impl Future<Output = Result<()>> + Send {
        let internal = self.internal.pop();
        let validation = self.validation.pop();
        let oom = self.oom.pop();
        async move {
            if let Some(e) = oom.await {
                return Err(Error::OutOfMemory(format!("GPU: {e}")));
            }
            if let Some(e) = validation.await {
                return Err(Error::Gpu(e.to_string()));
            }
            if let Some(e) = internal.await {
                return Err(Error::Gpu(e.to_string()));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a catcher dropped without `check` (an early `?` return between push and
    /// check) popped its scopes in push order and wgpu panicked with "Mismatched
    /// pop_error_scope call" at the next pop of an enclosing scope.
    #[test]
    fn dropped_error_catcher_pops_in_reverse_order() {
        let gpu = match crate::Gpu::new() {
            Ok(gpu) => gpu,
            Err(e) => {
                assert!(
                    std::env::var("BATCHED_SVD_REQUIRE_GPU").is_err(),
                    "no adapter: {e}"
                );
                return;
            }
        };
        let device = gpu.device();
        let outer = ErrorCatcher::push(device);
        drop(ErrorCatcher::push(device));
        assert!(pollster::block_on(outer.check()).is_ok());
    }
}
