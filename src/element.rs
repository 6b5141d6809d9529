//! The element types of a batch, as one sealed parameter.
//!
//! [`Element`] is implemented for `f32` and `f64` (numpy's float32 and float64). Each element
//! type names the real type of its singular values ([`Element::Real`]): itself for the real
//! types (a complex type will pair with its real part's type). [`Real`] is the subset of
//! element types that are real numbers, on which every operation of this version works.
//!
//! The trait is sealed: the kernels, tolerances and tests exist for these types only.

use std::fmt::Debug;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type of a batch: `f32` or `f64`.
pub trait Element:
    sealed::Sealed
    + Copy
    + Debug
    + Default
    + PartialEq
    + Send
    + Sync
    + 'static
    + bytemuck::Pod
    + nalgebra::Scalar
{
    /// The type of the singular values (the element type itself for real types).
    type Real: Real;

    /// numpy's name of the type: `"float32"`, `"float64"`.
    const NAME: &'static str;

    /// Bytes per element.
    const BYTES: usize = std::mem::size_of::<Self>();
}

/// A real element type, `f32` or `f64`: conversions to and from the f64 the host computes in,
/// its unit roundoff, NaN.
pub trait Real: Element<Real = Self> + PartialOrd + std::ops::Neg<Output = Self> {
    /// Unit roundoff: 2⁻²³ for f32, 2⁻⁵² for f64.
    const EPSILON: Self;

    /// The value in f64 (exact).
    fn to_f64(self) -> f64;

    /// `x` rounded to this type (round to nearest).
    fn from_f64(x: f64) -> Self;

    /// Not a number.
    fn nan() -> Self;

    /// Neither infinite nor NaN.
    fn is_finite(self) -> bool;
}

impl Element for f32 {
    type Real = f32;
    const NAME: &'static str = "float32";
}

impl Element for f64 {
    type Real = f64;
    const NAME: &'static str = "float64";
}

impl Real for f32 {
    const EPSILON: Self = f32::EPSILON;

    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }

    #[inline]
    fn nan() -> Self {
        f32::NAN
    }

    #[inline]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

impl Real for f64 {
    const EPSILON: Self = f64::EPSILON;

    #[inline]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }

    #[inline]
    fn nan() -> Self {
        f64::NAN
    }

    #[inline]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}
