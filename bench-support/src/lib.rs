//! Support shared by batched-svd's benchmarks, tests and examples; not part of the library
//! (`publish = false`).
//!
//! * [`rng`]: the one deterministic generator (SplitMix64, Box–Muller), so "same seed, same
//!   matrices" holds in `batched-svd bench`, `cargo bench`, the tests and the examples;
//! * [`matrices`]: the matrix classes of the accuracy tests;
//! * [`cases`]: the benchmark table;
//! * [`peers`]: nalgebra's SVD looped over a batch on one thread or all cores, the CPU peer the
//!   bench measures the engines against;
//! * [`flops`]: the nominal Jacobi flop count;
//! * [`oracle`]: the f64 nalgebra reference, the accuracy bounds and the test suite's GPU;
//! * [`dd`]: double-double residuals for checking f64 results.

pub mod cases;
pub mod complex;
pub mod dd;
pub mod flops;
pub mod matrices;
pub mod oracle;
pub mod peers;
pub mod rng;
