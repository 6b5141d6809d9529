//! Shared test support, from the `bench-support` workspace crate: the generators and the f64
//! nalgebra oracle with the accuracy bounds.
#![allow(dead_code, unused_imports)]

/// The generator and the matrix classes.
pub mod matrices {
    pub use bench_support::matrices::*;
    pub use bench_support::rng::*;
}

pub use bench_support::dd;
pub use bench_support::oracle::*;
pub mod ops;
