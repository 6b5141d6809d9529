//! Shared support of the command-line tests: the tool runner and checks, and the generators
//! and oracle of `bench-support`.
#![allow(dead_code, unused_imports)]

pub mod cli;

/// The generator and the matrix classes.
pub mod matrices {
    pub use bench_support::matrices::*;
    pub use bench_support::rng::*;
}

pub use bench_support::oracle::*;
pub mod svd;
