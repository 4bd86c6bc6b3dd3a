//! Vectorizable `f32` transcendentals: `exp`, `expm1`, `tanh`, `erf`, `sigmoid`, `ln_1p`,
//! and `gate_sigmoid` (the recurrent cells' gates).
//!
//! Each function is branch-free arithmetic on one element (range reduction, a short
//! polynomial, a rescale by a power of two built from bits), so a loop over a slice
//! vectorizes: with SSE2 in a default build, with AVX2 and FMA where the dispatcher picks the
//! `x86.rs` wrappers. The exponential-family polynomials are Taylor series on small reduced
//! ranges (no fitted coefficients; truncation below a quarter ulp, so the error comes from
//! `f32` rounding in the evaluation); `tanh` and `erf` are rational approximations fitted to
//! the relative error (2.1e-8 and 1.9e-8 before rounding), chosen for their short dependency
//! chain. The unit tests in `src/kernel/accuracy.rs` measure the maximum error against the
//! correctly rounded value (computed in `f64`) over a strided sample of every finite `f32`,
//! or all of them with `CONSTNET_MATH_SWEEP=full`; the bounds they enforce are in
//! [`ULP_BOUNDS`] (and [`GATE_SIGMOID_ABS_BOUND`] for `gate_sigmoid`).
//!
//! `f64` never comes here: its activations use `libm`, exactly as PyTorch's reference does.

use crate::scalar::Scalar;

/// How `a·b + c` is evaluated: [`Separate`] rounds twice (every target), [`Fused`] once
/// (`vfmadd`, only inside functions compiled with the `fma` target feature).
pub(crate) trait MulAdd: Copy {
    /// `a·b + c`.
    fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T;
    /// Whether the function this is evaluated in has AVX-512's 32 vector registers of 16
    /// floats (kernels size their register blocks by it; the arithmetic is the same).
    const WIDE: bool = false;
    /// Whether [`MulAdd::mul_add`] rounds once (a fused multiply-add).
    const FUSED: bool = true;
}

/// `a·b + c` as a multiply then an add.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Separate;

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T {
        a * b + c
    }
    const FUSED: bool = false;
}

/// `a·b + c` with one rounding (a fused multiply-add instruction under `fma`).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fused;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T {
        num_traits::Float::mul_add(a, b, c)
    }
}

/// [`Fused`] inside a function compiled with AVX-512F as well: the same arithmetic, and
/// [`MulAdd::WIDE`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct FusedWide;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
impl MulAdd for FusedWide {
    #[inline(always)]
    fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T {
        num_traits::Float::mul_add(a, b, c)
    }
    const WIDE: bool = true;
}

/// Maximum error in ulps (units in the last place of the correctly rounded result) that
/// the tests in `src/kernel/accuracy.rs` allow for each function, on both evaluation paths
/// (`portable_transcendentals_are_within_their_ulp_bounds`,
/// `fused_transcendentals_are_within_their_ulp_bounds`), for results in the normal range.
/// Subnormal results are compared absolutely (error below `2⁻¹⁴⁹·ULP_BOUND`).
#[cfg(all(test, feature = "std"))]
pub(crate) const ULP_BOUNDS: [(&str, u32); 6] = [
    ("erf", 8),
    ("exp", 2),
    ("expm1", 3),
    ("tanh", 7),
    ("sigmoid", 3),
    ("ln_1p", 3),
];

const LOG2E: f32 = core::f32::consts::LOG2_E;
/// `ln 2` split so that `n·LN2_HI` is exact for `|n| < 2¹⁵` (Cody–Waite).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// `1.5·2²³`: adding it rounds an `f32` of magnitude below `2²²` to an integer.
const ROUND: f32 = 12_582_912.0;

/// `2ⁿ` for `-126 <= n <= 127`, from its bits.
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits(((n + 127) as u32) << 23)
}

/// The nearest integer to `x·log₂e` (as a float and as an integer) and the reduced argument
/// `r = x − n·ln 2`, `|r| <= ln 2 / 2` (slightly more when `x·log₂e` rounds before the
/// addition).
#[inline(always)]
fn reduce<M: MulAdd>(x: f32) -> (f32, i32) {
    let t = M::mul_add::<f32>(x, LOG2E, ROUND);
    let n = t - ROUND;
    let r = M::mul_add::<f32>(n, -LN2_HI, x);
    let r = M::mul_add::<f32>(n, -LN2_LO, r);
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    (r, ni)
}

/// `eʳ − 1` for `|r| <= 0.36`: Taylor to degree 7 (truncation below 2⁻²⁶ relative).
#[inline(always)]
fn expm1_reduced<M: MulAdd>(r: f32) -> f32 {
    let mut q = 1.0 / 5040.0;
    q = M::mul_add::<f32>(q, r, 1.0 / 720.0);
    q = M::mul_add::<f32>(q, r, 1.0 / 120.0);
    q = M::mul_add::<f32>(q, r, 1.0 / 24.0);
    q = M::mul_add::<f32>(q, r, 1.0 / 6.0);
    q = M::mul_add::<f32>(q, r, 0.5);
    // r + r²·q
    M::mul_add::<f32>(r * r, q, r)
}

/// `eˣ`. Overflows to `+∞` above `ln(f32::MAX)`, reaches subnormals and then `0` below
/// `-87.3`, and keeps NaN.
#[inline(always)]
pub(crate) fn exp<M: MulAdd>(x: f32) -> f32 {
    let x = x.clamp(-104.0, 89.0);
    let (r, n) = reduce::<M>(x);
    let p = expm1_reduced::<M>(r) + 1.0;
    // 2ⁿ as two factors so that both are normal for n in [-150, 128] and the product rounds
    // once, into the subnormal range or to infinity as the true value does.
    let n1 = n >> 1;
    p * pow2(n1) * pow2(n - n1)
}

/// `eˣ − 1` for `x <= 88`, accurate near 0; `-1` below `-17`.
#[inline(always)]
fn expm1_below_88<M: MulAdd>(x: f32) -> f32 {
    let (r, n) = reduce::<M>(x.clamp(-30.0, 88.0));
    let q = expm1_reduced::<M>(r);
    let s = pow2(n);
    M::mul_add::<f32>(s, q, s - 1.0)
}

/// `eˣ − 1`, accurate near 0; `eˣ` itself where the `− 1` no longer shows (`x > 80`, up to
/// `+∞`); `-1` below `-17`; keeps NaN.
#[inline(always)]
pub(crate) fn expm1<M: MulAdd>(x: f32) -> f32 {
    let small = expm1_below_88::<M>(x);
    if x > 80.0 { exp::<M>(x) } else { small }
}

/// [`tanh`]'s numerator coefficients (in `x²`, lowest degree first).
const TANH_P: [f32; 5] = [
    1.0,
    0.133_797_15,
    3.494_031_3e-3,
    2.058_34e-5,
    1.331_892_1e-8,
];
/// [`tanh`]'s denominator coefficients.
const TANH_Q: [f32; 5] = [1.0, 0.467_130_3, 2.587_106_3e-2, 3.283_086e-4, 7.761_965e-7];
/// Where [`tanh`] clamps its argument: the fit covers `|x| <= 9.02`, and at 9.1 the rational
/// as evaluated (Estrin's scheme) rounds to at least 1, so `tanh(±∞) = ±1` exactly (and the
/// gate sigmoid's ends are exactly 0 and 1).
const TANH_CLAMP: f32 = 9.1;

/// `tanh x ≈ x·P(x²)/Q(x²)` on `|x| <= 9.02` (a degree-4/4 rational in `x²` fitted to the
/// relative error, 2.1e-8 before `f32` rounding, by `tests/python/fit_rational.py tanh`),
/// `±1` beyond. Shorter dependency chain than the exponential form (no range reduction: one
/// square, two independent polynomials, one division), which is what a small tanh
/// network's latency is made of; the price is a few ulp more (`ULP_BOUNDS`). Keeps `-0.0`
/// and NaN.
///
/// No intermediate is subnormal for a normal input: below `2⁻⁴⁰`, where `tanh x` rounds to
/// `x`, the polynomial part sees zero (so `x²` and `x³` never underflow) and the result is
/// `x` itself. Subnormal arithmetic costs x86 CPUs a micro-code assist per operation; a
/// recurrent cell's decaying state feeds this function values that small during silence.
#[inline(always)]
pub(crate) fn tanh<M: MulAdd>(x: f32) -> f32 {
    // |x| clamped on its bits (a one-cycle integer minimum: the bits of non-negative floats
    // order as integers; NaN lands on the clamp and is replaced below).
    let a = f32::from_bits((x.to_bits() & 0x7fff_ffff).min(TANH_CLAMP.to_bits()));
    let a_poly = a.flush_below(TANH_POLY_FLOOR);
    let (numerator, denominator) = tanh_rational::<M>(&TANH_P, &TANH_Q, a_poly, a);
    let t = (numerator / denominator).min(1.0).copysign(x);
    if x.is_nan() { x } else { t }
}

/// The numerator `a·P(a²)` and the denominator `Q(a²)` of [`tanh`]'s rational (or of a
/// rescaled copy of it: `p`, `q` its coefficients, `a` the polynomials' argument, `a₀` the
/// numerator's lowest term over `p[0]`, which differs from `a` only below the polynomial
/// floor). Estrin's scheme: `u = a²`, `u²` and the pairs `(c₁ + c₂u)`, `(c₃ + c₄u)` side by
/// side, three multiply-adds deep after `u` where Horner's rule is four (a rational's
/// latency is what a tanh network and a recurrent step wait for). The numerator folds `a`
/// into its last step, `p₁'·(a·u) + p₀·a₀`, with `a·u` ready early.
#[inline(always)]
fn tanh_rational<M: MulAdd>(p: &[f32; 5], q: &[f32; 5], a: f32, a0: f32) -> (f32, f32) {
    let u = a * a;
    let u2 = u * u;
    let au = a * u;
    // p₁ + p₂u + p₃u² + p₄u³ = (p₁ + p₂u) + u²·(p₃ + p₄u)
    let p_low = M::mul_add::<f32>(p[2], u, p[1]);
    let p_high = M::mul_add::<f32>(p[4], u, p[3]);
    let p1 = M::mul_add::<f32>(p_high, u2, p_low);
    let numerator = M::mul_add::<f32>(p1, au, p[0] * a0);
    // q₀ + q₁u + q₂u² + q₃u³ + q₄u⁴ = (q₀ + q₁u) + u²·((q₂ + q₃u) + q₄u²)
    let q_low = M::mul_add::<f32>(q[1], u, q[0]);
    let q_mid = M::mul_add::<f32>(q[3], u, q[2]);
    let q_high = M::mul_add::<f32>(q[4], u2, q_mid);
    let denominator = M::mul_add::<f32>(q_high, u2, q_low);
    (numerator, denominator)
}

/// Below this `|x|` (`2⁻⁴⁰`) [`tanh`] returns `x` without evaluating its polynomials.
const TANH_POLY_FLOOR: f32 = 9.094_947e-13;

/// `erf x ≈ x·P(x²)/Q(x²)` on `|x| <= 3.92` (a degree-5/5 rational in `x²` fitted to the
/// relative error, 1.9e-8 before `f32` rounding, by `tests/python/fit_rational.py erf`), `±1`
/// beyond (where `erf` rounds to one). Keeps `-0.0` and NaN.
#[inline(always)]
pub(crate) fn erf<M: MulAdd>(x: f32) -> f32 {
    // P[0] is fitted, not 2/√π (1.128_379_2), which it happens to be close to.
    #[allow(clippy::approx_constant)]
    const P: [f32; 6] = [
        1.128_379_1,
        0.190_402_2,
        5.274_802e-2,
        3.765_400_3e-3,
        2.848_723_4e-4,
        2.050_046_8e-6,
    ];
    const Q: [f32; 6] = [
        1.0,
        0.502_072_3,
        0.114_107_22,
        1.496_878_2e-2,
        1.162_472_9e-3,
        3.809_075e-5,
    ];
    let a = x.abs().min(3.92);
    let u = a * a;
    let mut p = P[5];
    let mut q = Q[5];
    for k in (0..5).rev() {
        p = M::mul_add::<f32>(p, u, P[k]);
        q = M::mul_add::<f32>(q, u, Q[k]);
    }
    let e = ((a * p) / q).min(1.0).copysign(x);
    if x.is_nan() { x } else { e }
}

/// `1/(1 + e⁻ˣ)`, as `1/(1 + e)` for `x >= 0` and `e/(1 + e)` for `x < 0` with
/// `e = e^{-|x|}`, so that it keeps its relative accuracy (down to subnormals) for negative
/// `x`. Keeps NaN.
#[inline(always)]
pub(crate) fn sigmoid<M: MulAdd>(x: f32) -> f32 {
    let e = exp::<M>(-x.abs());
    let s = 1.0 / (1.0 + e);
    if x >= 0.0 { s } else { e * s }
}

/// `σ(x) = ½ + ½·tanh(x/2)` for the gates of recurrent cells, through [`tanh`]'s rational
/// approximation with its coefficients rescaled by powers of two (`P'ₖ = Pₖ/4ᵏ⁺¹`,
/// `Q'ₖ = Qₖ/4ᵏ`, exact), so that `|x|·P'(x²)/Q'(x²)` is exactly `½·tanh(x/2)` as [`tanh`]
/// computes it, without the two scalings on the dependency chain. About half the chain of
/// [`sigmoid`] (no range reduction, no rescale), at the price of an absolute rather than a
/// relative error bound: at most `2e-7` from the true value (about 3.4 ulp of 1; measured
/// 1.7e-7, checked by the tests over a sweep of every `f32`), so values below about `1e-6`
/// lose their relative accuracy, and `σ(x) = 0` for `x <= -18.2` (a gate that small
/// multiplies nothing an `f32` sum can show). Keeps NaN.
#[inline(always)]
pub(crate) fn gate_sigmoid<M: MulAdd>(x: f32) -> f32 {
    const P: [f32; 5] = [
        TANH_P[0] / 4.0,
        TANH_P[1] / 16.0,
        TANH_P[2] / 64.0,
        TANH_P[3] / 256.0,
        TANH_P[4] / 1024.0,
    ];
    const Q: [f32; 5] = [
        TANH_Q[0],
        TANH_Q[1] / 4.0,
        TANH_Q[2] / 16.0,
        TANH_Q[3] / 64.0,
        TANH_Q[4] / 256.0,
    ];
    // |x| clamped to [2⁻⁴⁰, 18.2] on its bits (a one-cycle integer clamp: the bits of
    // non-negative floats order as integers; NaN lands on the top and is replaced below).
    // The floor keeps `u = a²` out of the subnormal range for a tiny `x` (a decaying state
    // in silence), and changes no result: below it `½·tanh(x/2)` vanishes next to `½`.
    let bits =
        (x.to_bits() & 0x7fff_ffff).clamp(GATE_FLOOR.to_bits(), (2.0 * TANH_CLAMP).to_bits());
    let a = f32::from_bits(bits);
    let (numerator, denominator) = tanh_rational::<M>(&P, &Q, a, a);
    let s = (numerator / denominator).min(0.5).copysign(x) + 0.5;
    if x.is_nan() { x } else { s }
}

/// [`gate_sigmoid`]'s smallest `|x|`, `2⁻⁴⁰`.
const GATE_FLOOR: f32 = TANH_POLY_FLOOR;

/// The largest absolute error of [`gate_sigmoid`] the tests allow.
#[cfg(all(test, feature = "std"))]
pub(crate) const GATE_SIGMOID_ABS_BOUND: f64 = 2.0e-7;

/// `ln(1 + x)` for `x >= 0` (what softplus needs: `x = e^{βz}`), accurate for tiny `x`.
/// `+∞` stays `+∞`; keeps NaN.
#[inline(always)]
pub(crate) fn ln_1p<M: MulAdd>(x: f32) -> f32 {
    let u = 1.0 + x;
    // u = 2ᵏ·m with m in [√½, √2).
    let bits = u.to_bits() as i32;
    let k = bits.wrapping_sub(0x3f35_04f3) >> 23;
    let m = f32::from_bits(bits.wrapping_sub(k << 23) as u32);
    let f = m - 1.0;
    // ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| <= 0.1716: odd series to s⁹.
    let s = f / (2.0 + f);
    let z = s * s;
    let mut w = 1.0 / 9.0;
    w = M::mul_add::<f32>(w, z, 1.0 / 7.0);
    w = M::mul_add::<f32>(w, z, 1.0 / 5.0);
    w = M::mul_add::<f32>(w, z, 1.0 / 3.0);
    let ln_m = M::mul_add::<f32>(s * z, w + w, s + s);
    let kf = k as f32;
    // ln(1 + x) = ln u + ((1 + x) − u)/u, the rounding of u corrected to first order.
    let correction = (x - (u - 1.0)) / u;
    let ln_u = M::mul_add::<f32>(kf, LN2_HI, M::mul_add::<f32>(kf, LN2_LO, ln_m) + correction);
    if x == f32::INFINITY || x.is_nan() {
        x
    } else {
        ln_u
    }
}

/// [`map`] in place: `y[i] = f(y[i])`, by the same blocks (the same bits).
#[inline(always)]
pub(crate) fn map_in_place(y: &mut [f32], f: impl Fn(f32) -> f32) {
    let mut blocks = y.chunks_exact_mut(2 * MAP_BLOCK);
    for yb in &mut blocks {
        let mut block = [0.0f32; 2 * MAP_BLOCK];
        for k in 0..2 * MAP_BLOCK {
            block[k] = f(yb[k]);
        }
        yb.copy_from_slice(&block);
    }
    let mut y = blocks.into_remainder();
    if y.len() >= MAP_BLOCK {
        let mut block = [0.0f32; MAP_BLOCK];
        for k in 0..MAP_BLOCK {
            block[k] = f(y[k]);
        }
        y[..MAP_BLOCK].copy_from_slice(&block);
        y = &mut y[MAP_BLOCK..];
    }
    if !y.is_empty() {
        let mut padded = [0.0f32; MAP_BLOCK];
        padded[..y.len()].copy_from_slice(y);
        let mut block = [0.0f32; MAP_BLOCK];
        for k in 0..MAP_BLOCK {
            block[k] = f(padded[k]);
        }
        let n = y.len();
        y.copy_from_slice(&block[..n]);
    }
}

/// Elements per block of [`map`]: one AVX2 vector of `f32`.
const MAP_BLOCK: usize = 8;

/// Applies `f` to every element of `x`, writing `y`: in blocks of `2·MAP_BLOCK` elements
/// (one AVX-512 vector, two AVX2 ones), then at most one block of [`MAP_BLOCK`], then a last
/// block padded with zeros, each block vectorized when `f` is one of the branch-free
/// functions above. A plain loop over the slice would leave short arrays (a recurrent cell's
/// 8 or 16 gates) to the scalar remainder of a loop the compiler unrolls by 32; the results
/// are the same bits either way (the same operations per element).
#[inline(always)]
pub(crate) fn map(x: &[f32], y: &mut [f32], f: impl Fn(f32) -> f32) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    // Plain counted loops over fixed-size blocks (not `array::from_fn`, which the compiler
    // may leave out of line: compiled apart from an AVX2+FMA caller, `mul_add` then calls
    // the software `fmaf`).
    let mut x_blocks = x.chunks_exact(2 * MAP_BLOCK);
    let mut y_blocks = y.chunks_exact_mut(2 * MAP_BLOCK);
    for (xb, yb) in (&mut x_blocks).zip(&mut y_blocks) {
        let mut block = [0.0f32; 2 * MAP_BLOCK];
        for k in 0..2 * MAP_BLOCK {
            block[k] = f(xb[k]);
        }
        yb.copy_from_slice(&block);
    }
    let (mut x, mut y) = (x_blocks.remainder(), y_blocks.into_remainder());
    if x.len() >= MAP_BLOCK {
        let mut block = [0.0f32; MAP_BLOCK];
        for k in 0..MAP_BLOCK {
            block[k] = f(x[k]);
        }
        y[..MAP_BLOCK].copy_from_slice(&block);
        (x, y) = (&x[MAP_BLOCK..], &mut y[MAP_BLOCK..]);
    }
    if !x.is_empty() {
        let mut padded = [0.0f32; MAP_BLOCK];
        padded[..x.len()].copy_from_slice(x);
        let mut block = [0.0f32; MAP_BLOCK];
        for k in 0..MAP_BLOCK {
            block[k] = f(padded[k]);
        }
        y.copy_from_slice(&block[..y.len()]);
    }
}
