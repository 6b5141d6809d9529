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
pub(crate) struct ErrorCatcher {
    oom: wgpu::ErrorScopeGuard,
    validation: wgpu::ErrorScopeGuard,
    internal: wgpu::ErrorScopeGuard,
}

impl ErrorCatcher {
    pub(crate) fn push(device: &wgpu::Device) -> Self {
        Self {
            oom: device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            validation: device.push_error_scope(wgpu::ErrorFilter::Validation),
            internal: device.push_error_scope(wgpu::ErrorFilter::Internal),
        }
    }

    /// Pops the scopes (now) and reports the first error they caught.
    pub(crate) fn check(self) -> impl Future<Output = Result<()>> + Send {
        let internal = self.internal.pop();
        let validation = self.validation.pop();
        let oom = self.oom.pop();
        async move {
            if let Some(e) = oom.await {
                return Err(Error::OutOfMemory(e.to_string()));
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
