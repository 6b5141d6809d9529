//! The element types of a batch, as one sealed parameter.
//!
//! [`Element`] is implemented for `f32`, `f64`, `Complex<f32>` and `Complex<f64>` (numpy's
//! float32, float64, complex64 and complex128). Each element type names the real type of its
//! singular values ([`Element::Real`]): itself for the real types, the type of the real and
//! imaginary parts for the complex ones. [`Real`] is the subset of element types that are real
//! numbers (σ's types; what each engine does with each type is the README's element-type
//! table).
//!
//! A complex element is `nalgebra::Complex<R>` (num-complex's `Complex`, `#[repr(C)]`
//! `{ re, im }`): the interleaved layout numpy and nalgebra store, so a complex64 `.npy` maps
//! byte for byte.
//!
//! The trait is sealed: the kernels, tolerances and tests exist for these types only.

// The sealed trait's items name crate-private types (the host scalar, the engines' factors):
// callers can reach them only as `Element`'s supertrait, and can neither name nor call them.
#![allow(private_interfaces, private_bounds)]

use std::fmt::Debug;

use nalgebra::Complex;

use crate::host::Host;

pub(crate) mod sealed {
    use super::Host;

    /// What the engines need of an element type, hidden from callers: the scalar the host
    /// computes in, and the identity casts that let a generic entry point take a real-only
    /// step (`real_slices`) without copying or `unsafe`.
    pub trait Sealed: Sized {
        /// The host's arithmetic type: `f64` for real elements, `Complex<f64>` for complex.
        type Host: Host;

        /// The value in the host type (exact).
        fn to_host(self) -> Self::Host;

        /// `x` rounded to this type (round to nearest, each part).
        fn from_host(x: Self::Host) -> Self;

        /// σ, U and Vᵀ slices of one matrix as the real type's, or `None` for complex types.
        #[allow(clippy::type_complexity)]
        fn real_slices<'r>(
            s: &'r mut [<Self as crate::Element>::Real],
            u: &'r mut [Self],
            vt: &'r mut [Self],
        ) -> Option<(
            &'r mut [<Self as crate::Element>::Real],
            &'r mut [<Self as crate::Element>::Real],
            &'r mut [<Self as crate::Element>::Real],
        )>
        where
            Self: crate::Element;

        /// Host values as [`Element::Wide`](crate::Element::Wide) values (the same type).
        fn wide_slice(x: &[Self::Host]) -> &[<Self as crate::Element>::Wide]
        where
            Self: crate::Element;
    }
}

/// An element type of a batch: `f32`, `f64`, `Complex<f32>` or `Complex<f64>`.
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
    /// The type of the singular values (the element type itself for real types, the type of
    /// the parts for complex ones).
    type Real: Real;

    /// The same kind of number in double precision: `f64` for the real types, `Complex<f64>`
    /// for the complex ones. Derived results that are not of the element type (PCA's means)
    /// are returned in it.
    type Wide: Copy + Debug + Default + PartialEq + Send + Sync + 'static + nalgebra::Scalar;

    /// numpy's name of the type: `"float32"`, `"float64"`, `"complex64"`, `"complex128"`.
    const NAME: &'static str;

    /// Whether the type is complex (U and V are then unitary, and the output holds Vᴴ).
    const IS_COMPLEX: bool;

    /// Bytes per element.
    const BYTES: usize = std::mem::size_of::<Self>();
}

/// A real element type, `f32` or `f64`: conversions to and from the f64 the host computes in,
/// its unit roundoff, NaN.
pub trait Real:
    Element<Real = Self, Wide = f64>
    + sealed::Sealed<Host = f64>
    + PartialOrd
    + std::ops::Neg<Output = Self>
{
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
    type Wide = f64;
    const NAME: &'static str = "float32";
    const IS_COMPLEX: bool = false;
}

impl Element for f64 {
    type Real = f64;
    type Wide = f64;
    const NAME: &'static str = "float64";
    const IS_COMPLEX: bool = false;
}

impl Element for Complex<f32> {
    type Real = f32;
    type Wide = Complex<f64>;
    const NAME: &'static str = "complex64";
    const IS_COMPLEX: bool = true;
}

impl Element for Complex<f64> {
    type Real = f64;
    type Wide = Complex<f64>;
    const NAME: &'static str = "complex128";
    const IS_COMPLEX: bool = true;
}

/// NaN of an element type, in every part.
pub(crate) fn nan<T: Element>() -> T {
    T::from_host(<T::Host as Host>::nan())
}

/// The sealed items of a real type: the host computes in f64, and the real path is its own.
macro_rules! sealed_real {
    ($t:ty) => {
        impl sealed::Sealed for $t {
            type Host = f64;

            #[inline]
            fn to_host(self) -> f64 {
                Real::to_f64(self)
            }

            #[inline]
            fn from_host(x: f64) -> Self {
                Real::from_f64(x)
            }

            #[inline]
            fn real_slices<'r>(
                s: &'r mut [Self],
                u: &'r mut [Self],
                vt: &'r mut [Self],
            ) -> Option<(&'r mut [Self], &'r mut [Self], &'r mut [Self])> {
                Some((s, u, vt))
            }

            #[inline]
            fn wide_slice(x: &[f64]) -> &[f64] {
                x
            }
        }
    };
}

/// The sealed items of a complex type: the host computes in `Complex<f64>`; no real path.
macro_rules! sealed_complex {
    ($r:ty) => {
        impl sealed::Sealed for Complex<$r> {
            type Host = Complex<f64>;

            #[inline]
            fn to_host(self) -> Complex<f64> {
                Complex::new(Real::to_f64(self.re), Real::to_f64(self.im))
            }

            #[inline]
            fn from_host(x: Complex<f64>) -> Self {
                Complex::new(<$r>::from_f64(x.re), <$r>::from_f64(x.im))
            }

            #[inline]
            fn real_slices<'r>(
                _: &'r mut [$r],
                _: &'r mut [Self],
                _: &'r mut [Self],
            ) -> Option<(&'r mut [$r], &'r mut [$r], &'r mut [$r])> {
                None
            }

            #[inline]
            fn wide_slice(x: &[Complex<f64>]) -> &[Complex<f64>] {
                x
            }
        }
    };
}

sealed_real!(f32);
sealed_real!(f64);
sealed_complex!(f32);
sealed_complex!(f64);

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
