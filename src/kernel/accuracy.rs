//! The error of the vectorized `f32` transcendentals against the correctly rounded value
//! (computed in `f64`), over every finite `f32` input taken with a stride, on the portable
//! path and (where the CPU has it) the AVX2+FMA path. `CONSTNET_MATH_SWEEP=full` takes every
//! finite `f32` (4.3·10⁹ inputs: run it with `--release`):
//! `CONSTNET_MATH_SWEEP=full cargo test --release --lib accuracy -- --nocapture`.

use super::math::{self, MulAdd, Separate, ULP_BOUNDS};

/// Error of `got` against the exact `want`, in ulps of the correctly rounded result for
/// normal results, and in units of the smallest subnormal (2⁻¹⁴⁹) below the normal range.
fn error_in_ulps(got: f32, want: f64) -> f64 {
    if got.is_nan() {
        return f64::INFINITY;
    }
    let rounded = want as f32;
    let magnitude = (rounded.abs() as f64).max(want.abs());
    let ulp = if magnitude >= f32::MIN_POSITIVE as f64 {
        let exponent = magnitude.log2().floor().min(127.0);
        (exponent - 23.0).exp2()
    } else {
        (-149.0f64).exp2()
    };
    let got = if got.is_infinite() {
        got.signum() as f64 * 128.0f64.exp2()
    } else {
        got as f64
    };
    let want = if want.is_infinite() || rounded.is_infinite() {
        want.signum() * 128.0f64.exp2()
    } else {
        want
    };
    (got - want).abs() / ulp
}

fn sigmoid_f64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

struct Sweep {
    name: &'static str,
    f: fn(f32) -> f32,
    reference: fn(f64) -> f64,
    domain: fn(f32) -> bool,
}

fn stride() -> usize {
    match std::env::var("CONSTNET_MATH_SWEEP").as_deref() {
        Ok("full") => 1,
        _ => 4099,
    }
}

/// The worst error and its input, over finite inputs in the domain.
fn worst(s: &Sweep) -> (f64, f32) {
    let mut worst = (0.0f64, 0.0f32);
    for bits in (0..=u32::MAX).step_by(stride()) {
        let x = f32::from_bits(bits);
        if !x.is_finite() || !(s.domain)(x) {
            continue;
        }
        let e = error_in_ulps((s.f)(x), (s.reference)(x as f64));
        if e > worst.0 || e.is_nan() {
            worst = (e, x);
        }
    }
    // Inputs a stride can miss: zeros, the smallest values, the kinks of the reductions.
    for x in [
        0.0f32, -0.0, 1e-45, -1e-45, 1e-30, 0.34657, 9.01, 88.72, -87.33, -103.9,
    ] {
        if (s.domain)(x) {
            let e = error_in_ulps((s.f)(x), (s.reference)(x as f64));
            if e > worst.0 || e.is_nan() {
                worst = (e, x);
            }
        }
    }
    worst
}

fn erf_f64(x: f64) -> f64 {
    libm_crate::erf(x)
}

fn sweeps<M: MulAdd>() -> [Sweep; 6] {
    [
        Sweep {
            name: "erf",
            f: math::erf::<M>,
            reference: erf_f64,
            domain: |_| true,
        },
        Sweep {
            name: "exp",
            f: math::exp::<M>,
            reference: f64::exp,
            domain: |_| true,
        },
        Sweep {
            name: "expm1",
            f: math::expm1::<M>,
            reference: f64::exp_m1,
            domain: |_| true,
        },
        Sweep {
            name: "tanh",
            f: math::tanh::<M>,
            reference: f64::tanh,
            domain: |_| true,
        },
        Sweep {
            name: "sigmoid",
            f: math::sigmoid::<M>,
            reference: sigmoid_f64,
            domain: |_| true,
        },
        Sweep {
            name: "ln_1p",
            f: math::ln_1p::<M>,
            reference: f64::ln_1p,
            domain: |x| x >= 0.0,
        },
    ]
}

fn check(path: &str, sweeps: [Sweep; 6]) {
    let mut failures = Vec::new();
    for s in &sweeps {
        let (error, at) = worst(s);
        let bound = ULP_BOUNDS.iter().find(|(n, _)| *n == s.name).unwrap().1;
        println!(
            "{path} {}: max error {error:.3} ulp at x = {at:e} (bound {bound})",
            s.name
        );
        if error > bound as f64 || error.is_nan() {
            failures.push(format!("{} {error} ulp at {at:e}", s.name));
        }
    }
    assert!(failures.is_empty(), "{path}: {failures:?}");
}

#[test]
fn portable_transcendentals_are_within_their_ulp_bounds() {
    check("portable", sweeps::<Separate>());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn fused_transcendentals_are_within_their_ulp_bounds() {
    // The Fused bodies are correct on any CPU (without FMA hardware `mul_add` is a libm call);
    // the dispatcher only picks them where the CPU has FMA.
    check("fused", sweeps::<math::Fused>());
}

/// `gate_sigmoid` is exactly `½ + ½·tanh(x/2)` as `tanh` computes it (its coefficients are
/// `tanh`'s rescaled by powers of two), and within its absolute bound of the true logistic
/// function, over a strided sweep of every finite `f32`, on both evaluation paths.
fn check_gate_sigmoid<M: MulAdd>(path: &str) {
    let mut worst = (0.0f64, 0.0f32);
    for bits in (0..=u32::MAX).step_by(stride()).chain([
        0,
        0x8000_0000,
        1,
        0x8000_0001,
        0x1000_0000,
        0x2b7f_ffff,
        0x2b80_0000,
        0x2b80_0001,
    ]) {
        let x = f32::from_bits(bits);
        if !x.is_finite() {
            continue;
        }
        let got = math::gate_sigmoid::<M>(x);
        let via_tanh = M::mul_add::<f32>(0.5, math::tanh::<M>(0.5 * x), 0.5);
        assert_eq!(got.to_bits(), via_tanh.to_bits(), "{path}: x = {x:e}");
        let error = (got as f64 - sigmoid_f64(x as f64)).abs();
        if error > worst.0 {
            worst = (error, x);
        }
    }
    println!(
        "{path} gate_sigmoid: max absolute error {:.3e} at x = {:e} (bound {:e})",
        worst.0,
        worst.1,
        math::GATE_SIGMOID_ABS_BOUND
    );
    assert!(worst.0 <= math::GATE_SIGMOID_ABS_BOUND, "{path}: {worst:?}");
    assert!(math::gate_sigmoid::<M>(f32::NAN).is_nan());
    assert_eq!(math::gate_sigmoid::<M>(f32::INFINITY), 1.0);
    assert_eq!(math::gate_sigmoid::<M>(f32::NEG_INFINITY), 0.0);
}

#[test]
fn gate_sigmoid_is_half_a_tanh_and_within_its_absolute_bound() {
    check_gate_sigmoid::<Separate>("portable");
    #[cfg(target_arch = "x86_64")]
    check_gate_sigmoid::<math::Fused>("fused");
}

/// NaN stays NaN and the infinities map to the limits.
#[test]
fn special_values() {
    let m = |f: fn(f32) -> f32, x: f32| f(x);
    assert!(m(math::exp::<Separate>, f32::NAN).is_nan());
    assert!(m(math::erf::<Separate>, f32::NAN).is_nan());
    assert_eq!(m(math::erf::<Separate>, f32::INFINITY), 1.0);
    assert_eq!(m(math::erf::<Separate>, f32::NEG_INFINITY), -1.0);
    assert!(m(math::erf::<Separate>, -0.0).is_sign_negative());
    assert!(m(math::tanh::<Separate>, f32::NAN).is_nan());
    assert!(m(math::sigmoid::<Separate>, f32::NAN).is_nan());
    assert!(m(math::expm1::<Separate>, f32::NAN).is_nan());
    assert!(m(math::ln_1p::<Separate>, f32::NAN).is_nan());
    assert_eq!(m(math::exp::<Separate>, f32::INFINITY), f32::INFINITY);
    assert_eq!(m(math::exp::<Separate>, f32::NEG_INFINITY), 0.0);
    assert_eq!(m(math::tanh::<Separate>, f32::INFINITY), 1.0);
    assert_eq!(m(math::tanh::<Separate>, f32::NEG_INFINITY), -1.0);
    assert!(m(math::tanh::<Separate>, -0.0).is_sign_negative());
    assert_eq!(m(math::sigmoid::<Separate>, f32::INFINITY), 1.0);
    assert_eq!(m(math::sigmoid::<Separate>, f32::NEG_INFINITY), 0.0);
    assert_eq!(m(math::expm1::<Separate>, f32::INFINITY), f32::INFINITY);
    assert_eq!(m(math::expm1::<Separate>, f32::NEG_INFINITY), -1.0);
    assert_eq!(m(math::ln_1p::<Separate>, f32::INFINITY), f32::INFINITY);
}

/// Each AVX2+FMA kernel against its portable twin on slices of every length up to 70 (odd
/// lengths and tails included): within their ulp bounds of each other, NaN where NaN.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_kernels_match_their_portable_twins() {
    if !(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")) {
        println!("no AVX2+FMA on this CPU: nothing to compare");
        return;
    }
    type Kernel = fn(&[f32], &mut [f32]);
    type Twin = (&'static str, Kernel, fn(f32) -> f32, f32);
    let pairs: [Twin; 6] = [
        (
            "erf",
            |x, y| unsafe_call(super::x86::erf, x, y),
            math::erf::<Separate>,
            10.0,
        ),
        (
            "tanh",
            |x, y| unsafe_call(super::x86::tanh, x, y),
            math::tanh::<Separate>,
            8.0,
        ),
        (
            "sigmoid",
            |x, y| unsafe_call(super::x86::sigmoid, x, y),
            math::sigmoid::<Separate>,
            6.0,
        ),
        (
            "exp",
            |x, y| unsafe_call(super::x86::exp, x, y),
            math::exp::<Separate>,
            4.0,
        ),
        (
            "expm1",
            |x, y| unsafe_call(super::x86::expm1, x, y),
            math::expm1::<Separate>,
            6.0,
        ),
        (
            "ln_1p",
            |x, y| unsafe_call(super::x86::ln_1p, x, y),
            math::ln_1p::<Separate>,
            6.0,
        ),
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 60.0 - 30.0
    };
    for (name, fast, portable, ulps) in pairs {
        for len in 0..=70 {
            let mut x: Vec<f32> = (0..len).map(|_| next()).collect();
            if name == "ln_1p" {
                x.iter_mut().for_each(|v| *v = v.abs());
            }
            let mut y = vec![0.0; len];
            fast(&x, &mut y);
            for (i, (&xi, &yi)) in x.iter().zip(&y).enumerate() {
                let want = portable(xi);
                let tolerance = ulps * want.abs().max(f32::MIN_POSITIVE) * f32::EPSILON;
                assert!(
                    (yi - want).abs() <= tolerance,
                    "{name} at len {len} [{i}]: x = {xi:e}: avx2 {yi:e}, portable {want:e}"
                );
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn unsafe_call(kernel: unsafe fn(&[f32], &mut [f32]), x: &[f32], y: &mut [f32]) {
    // SAFETY: the caller checked that this CPU has AVX2 and FMA.
    unsafe { kernel(x, y) }
}
