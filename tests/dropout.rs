//! Dropout: the keep rate, PyTorch's scaling, the identity in inference, gradients through the
//! kept elements only, masks fixed by the seed, the edge probabilities 0 and 1, its settings
//! bookkeeping, and a network with Dropout that trains in batches.

use constnet::Named;
use constnet::init::{self, Init};
use constnet::loss::{Loss, Mse};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::testing::{GradCheckConfig, grad_check, grad_check_batch};
use constnet::{
    Dense, Dropout, DropoutCache, Identity, Layer, Params, Relu, Scalar, Setting, SettingMut, Tanh,
    TrainCtx, Zeros, seq,
};
use rand::Rng;

/// Deterministic values in `[-scale, scale)`, none of them near zero (a golden-ratio walk).
fn values<T: Scalar, const N: usize>(seed: u64, scale: f64) -> [T; N] {
    core::array::from_fn(|i| {
        let v = (i as f64 * 0.754_877_666_246_692_7 + seed as f64 * 0.569_840_290_998_053_3 + 0.1)
            .fract();
        let v = (2.0 * v - 1.0) * scale;
        T::from_f64(if v.abs() < 0.05 * scale {
            v + 0.1 * scale
        } else {
            v
        })
    })
}

fn kept_count<T: Scalar, const N: usize>(cache: &DropoutCache<N, T>) -> usize {
    cache.mask.iter().filter(|&&m| m != T::zero()).count()
}

// ---------------------------------------------------------------------------------------------
// Training mode: keep rate, scaling, unbiasedness
// ---------------------------------------------------------------------------------------------

/// The kept fraction over `n` elements is within 5 standard deviations of `1 − p`.
fn check_keep_rate(p: f64) {
    const N: usize = 1000;
    const SAMPLES: usize = 200;
    let layer = Dropout::<N, f64>::new(p);
    let mut ctx = TrainCtx::new(11);
    let x = [1.0; N];
    let mut kept = 0usize;
    for _ in 0..SAMPLES {
        let (y, cache) = layer.forward_train(&x, &mut ctx);
        kept += y.iter().filter(|&&v| v != 0.0).count();
        assert_eq!(kept_count(&cache), y.iter().filter(|&&v| v != 0.0).count());
    }
    let n = (N * SAMPLES) as f64;
    let fraction = kept as f64 / n;
    let sigma = (p * (1.0 - p) / n).sqrt();
    assert!(
        (fraction - (1.0 - p)).abs() <= 5.0 * sigma,
        "p = {p}: kept {fraction} of {n} elements, expected {} ± 5·{sigma:e}",
        1.0 - p
    );
}

#[test]
fn keep_rate_is_one_minus_p() {
    check_keep_rate(0.3);
    check_keep_rate(0.05);
    check_keep_rate(0.5);
    check_keep_rate(0.9);
}

/// Every output is exactly `0` or exactly `x·(1/(1 − p))` with the reciprocal taken in `T`
/// (PyTorch's CPU scaling), within an ulp or two of `x/(1 − p)`, and both occur.
fn check_scaling<T: Scalar>() {
    const N: usize = 64;
    let x: [T; N] = values(3, 3.0);
    // For f32, 0.025 and 0.15 are values where 1/(1 − p) rounded once from f64 differs from
    // the reciprocal of 1 − p rounded to f32 (the one PyTorch's CPU dropout uses).
    for p in [0.025, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.95] {
        let layer = Dropout::<N, T>::new(p);
        let scale = T::one() / T::from_f64(1.0 - p);
        let mut ctx = TrainCtx::new(5);
        let (mut zeros, mut scaled) = (0, 0);
        for _ in 0..50 {
            let (y, cache) = layer.forward_train(&x, &mut ctx);
            for i in 0..N {
                if y[i] == T::zero() {
                    assert_eq!(cache.mask[i], T::zero(), "{} p = {p}: mask", T::NAME);
                    zeros += 1;
                } else {
                    // Widening to f64 is exact: equal bits there are equal bits in T.
                    assert_eq!(
                        y[i].to_f64().to_bits(),
                        (x[i] * scale).to_f64().to_bits(),
                        "{} p = {p}: y[{i}] = {:?}, x = {:?}",
                        T::NAME,
                        y[i],
                        x[i]
                    );
                    assert_eq!(cache.mask[i], scale);
                    let exact = x[i].to_f64() / (1.0 - p);
                    let rel = (y[i].to_f64() - exact).abs() / exact.abs();
                    assert!(
                        rel <= 2.0 * T::epsilon().to_f64(),
                        "{} p = {p}: {rel:e} from x/(1 − p)",
                        T::NAME
                    );
                    scaled += 1;
                }
            }
        }
        assert!(
            zeros > 0 && scaled > 0,
            "{} p = {p}: {zeros} zeros, {scaled} kept",
            T::NAME
        );
    }
}

#[test]
fn outputs_are_zero_or_x_scaled_by_one_over_one_minus_p() {
    check_scaling::<f32>();
    check_scaling::<f64>();
    // Where 1 − p is a power of two the scaling is exactly x/(1 − p).
    let (y, _) =
        Dropout::<32, f32>::new(0.75).forward_train(&values(1, 2.0), &mut TrainCtx::new(1));
    let x: [f32; 32] = values(1, 2.0);
    for i in 0..32 {
        assert!(y[i] == 0.0 || y[i] == x[i] / 0.25);
    }
}

#[test]
fn the_mean_output_is_the_input() {
    const N: usize = 16;
    const DRAWS: usize = 20_000;
    let p = 0.3;
    let layer = Dropout::<N, f64>::new(p);
    let x: [f64; N] = values(7, 2.0);
    let mut ctx = TrainCtx::new(3);
    let mut sum = [0.0; N];
    for _ in 0..DRAWS {
        let (y, _) = layer.forward_train(&x, &mut ctx);
        for i in 0..N {
            sum[i] += y[i];
        }
    }
    for i in 0..N {
        let mean = sum[i] / DRAWS as f64;
        // y = x/(1 − p) with probability 1 − p, else 0: standard deviation |x|·sqrt(p/(1 − p)).
        let sigma = x[i].abs() * (p / (1.0 - p) / DRAWS as f64).sqrt();
        assert!(
            (mean - x[i]).abs() <= 5.0 * sigma,
            "element {i}: mean {mean}, input {}, 5σ = {}",
            x[i],
            5.0 * sigma
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Inference mode
// ---------------------------------------------------------------------------------------------

#[test]
fn inference_is_the_identity_bit_for_bit() {
    let x = [
        1.5f32,
        -0.0,
        0.0,
        f32::MIN_POSITIVE / 4.0,
        -3.25e30,
        f32::INFINITY,
        7.0,
        -1e-3,
    ];
    for p in [0.0, 0.3, 0.5, 1.0] {
        let layer = Dropout::<8>::new(p);
        let y = layer.forward(&x);
        assert_eq!(y.map(f32::to_bits), x.map(f32::to_bits), "p = {p}");
        assert_eq!(layer.forward(&x).map(f32::to_bits), y.map(f32::to_bits));
        // Batched, with any scratch.
        let batch = [x, x.map(|v| -v), [2.0; 8]];
        let mut out = [[9.0f32; 8]; 3];
        let mut scratch = <Dropout<8> as Layer>::BatchCache::<3>::zeros();
        layer.forward_batch(&batch, &mut out, &mut scratch);
        for (o, b) in out.iter().zip(&batch) {
            assert_eq!(o.map(f32::to_bits), b.map(f32::to_bits), "p = {p}: batch");
        }
    }
    // In a network: the dropout changes nothing at inference.
    type Net = seq![Dense<4, 8, Relu>, Dropout<8>, Dense<8, 2>];
    type Plain = seq![Dense<4, 8, Relu>, Dense<8, 2>];
    let net: Net = init::seeded(Init::HeUniform, 3);
    let plain: Plain = constnet::Chain::new(net.first, net.second.second);
    let x = [0.5, -1.0, 2.0, 0.25];
    assert_eq!(net.forward(&x), plain.forward(&x));
}

// ---------------------------------------------------------------------------------------------
// Gradients
// ---------------------------------------------------------------------------------------------

#[test]
fn backward_passes_the_gradient_through_kept_elements_only() {
    const N: usize = 32;
    let layer = Dropout::<N, f64>::new(0.4);
    let x: [f64; N] = values(2, 1.5);
    let dy: [f64; N] = values(9, 1.0);
    let (y, cache) = layer.forward_train(&x, &mut TrainCtx::new(4));
    let mut grads = Dropout::zeros();
    let dx = layer.backward(&cache, &dy, &mut grads);
    let (mut dropped, mut kept) = (0, 0);
    for i in 0..N {
        if y[i] == 0.0 {
            assert_eq!(dx[i], 0.0, "dropped element {i} passed a gradient");
            dropped += 1;
        } else {
            assert_eq!(dx[i], dy[i] * (1.0 / 0.6), "kept element {i}");
            assert_eq!(dx[i], dy[i] * cache.mask[i]);
            kept += 1;
        }
    }
    assert!(dropped > 0 && kept > 0);
    // No parameters: the gradient value is left as it was.
    assert_eq!(grads, Dropout::zeros());
    layer.backward_params(&cache, &dy, &mut grads);
    assert_eq!(grads, Dropout::zeros());
}

#[test]
fn finite_differences_with_the_mask_fixed_by_the_seed() {
    let layer = Dropout::<12, f64>::new(0.4);
    let x: [f64; 12] = values(5, 2.0);
    // `grad_check` runs every forward with `TrainCtx::new(0)`: one mask throughout, with
    // both kept and dropped elements.
    let (_, cache) = layer.forward_train(&x, &mut TrainCtx::new(0));
    let kept = kept_count(&cache);
    assert!(kept > 0 && kept < 12, "{kept} kept");
    grad_check(&layer, &x, GradCheckConfig::default()).unwrap();
    grad_check_batch(
        &layer,
        &[x, values(6, 2.0), values(7, 2.0)],
        GradCheckConfig::default(),
    )
    .unwrap();

    // The same by hand, with a context cloned from one seed for every forward.
    let ctx = TrainCtx::new(42);
    let r: [f64; 12] = values(8, 1.0);
    let loss = |x: &[f64; 12]| -> f64 {
        let (y, _) = layer.forward_train(x, &mut ctx.clone());
        y.iter().zip(&r).map(|(y, r)| y * r).sum()
    };
    let (_, cache) = layer.forward_train(&x, &mut ctx.clone());
    let dx = layer.backward(&cache, &r, &mut Dropout::zeros());
    let h = 1e-6;
    for i in 0..12 {
        let (mut plus, mut minus) = (x, x);
        plus[i] += h;
        minus[i] -= h;
        let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
        assert!(
            (numeric - dx[i]).abs() <= 1e-8 * (1.0 + dx[i].abs()),
            "element {i}: analytic {}, numeric {numeric}",
            dx[i]
        );
    }
}

#[test]
fn a_chain_with_dropout_passes_the_gradient_checks() {
    type Net = seq![
        Dense<3, 6, Tanh, f64>,
        Dropout<6, f64>,
        Dense<6, 2, Identity, f64>
    ];
    let mut net: Net = init::seeded(Init::XavierNormal, 8);
    net.second.first = Dropout::new(0.3);
    // The checks run with `TrainCtx::new(0)`: its first mask drops some hidden units.
    let mask = mask_of(&Dropout::<6, f64>::new(0.3), &mut TrainCtx::new(0));
    assert!(
        mask.contains(&0.0) && mask.iter().any(|&m| m != 0.0),
        "{mask:?}"
    );
    let batch: [[f64; 3]; 4] = core::array::from_fn(|b| values(10 + b as u64, 1.5));
    grad_check_batch(&net, &batch, GradCheckConfig::default()).unwrap();
    grad_check(&net, &batch[0], GradCheckConfig::default()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Draws and determinism
// ---------------------------------------------------------------------------------------------

fn mask_of<const N: usize>(layer: &Dropout<N, f64>, ctx: &mut TrainCtx) -> [f64; N] {
    layer.forward_train(&[1.0; N], ctx).1.mask
}

#[test]
fn the_seed_fixes_the_masks() {
    let layer = Dropout::<64, f64>::new(0.5);
    let (mut a, mut b) = (TrainCtx::new(17), TrainCtx::new(17));
    for _ in 0..5 {
        assert_eq!(mask_of(&layer, &mut a), mask_of(&layer, &mut b));
    }
    // Another seed, or the next draw of the same context, gives another mask (two equal
    // masks of 64 fair draws have probability 2⁻⁶⁴).
    let first = mask_of(&layer, &mut TrainCtx::new(17));
    assert_ne!(first, mask_of(&layer, &mut TrainCtx::new(18)));
    let mut ctx = TrainCtx::new(17);
    let _ = mask_of(&layer, &mut ctx);
    assert_ne!(first, mask_of(&layer, &mut ctx));
}

#[test]
fn one_draw_per_element_in_element_order_and_batches_sample_by_sample() {
    const N: usize = 10;
    let p = 0.3;
    let layer = Dropout::<N, f64>::new(p);
    // Element i is kept when the i-th u64 of the stream is at least p·2⁶⁴ (exact here).
    let mut ctx = TrainCtx::new(23);
    let mut reference = ctx.clone();
    let threshold = (p * 18_446_744_073_709_551_616.0) as u64;
    for _ in 0..20 {
        let mask = mask_of(&layer, &mut ctx);
        for m in mask {
            let kept = reference.rng().next_u64() >= threshold;
            assert_eq!(m != 0.0, kept);
        }
    }
    assert_eq!(ctx.rng_state(), reference.rng_state());
    // A batch draws sample after sample, as single-sample calls with one context do.
    let x: [[f64; N]; 3] = core::array::from_fn(|b| values(b as u64, 1.0));
    let mut batch_ctx = TrainCtx::new(29);
    let mut single_ctx = batch_ctx.clone();
    let mut y = [[0.0; N]; 3];
    let mut cache = <Dropout<N, f64> as Layer>::BatchCache::<3>::zeros();
    let mut batch_layer = layer;
    batch_layer.forward_train_batch(&x, &mut y, &mut cache, &mut batch_ctx);
    for b in 0..3 {
        let (yb, cb) = layer.forward_train(&x[b], &mut single_ctx);
        assert_eq!(y[b], yb);
        assert_eq!(cache[b], cb);
    }
    assert_eq!(batch_ctx, single_ctx);
    // The batched backward is the per-sample one.
    let dy: [[f64; N]; 3] = core::array::from_fn(|b| values(5 + b as u64, 1.0));
    let mut dx = [[0.0; N]; 3];
    let mut grads = Dropout::zeros();
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    for b in 0..3 {
        assert_eq!(
            dx[b],
            layer.backward(&cache[b], &dy[b], &mut Dropout::zeros())
        );
    }
}

// ---------------------------------------------------------------------------------------------
// p = 0 and p = 1
// ---------------------------------------------------------------------------------------------

#[test]
fn p_zero_is_the_identity_in_training_and_draws_nothing() {
    let layer = Dropout::<16, f32>::new(0.0);
    let x: [f32; 16] = values(4, 3.0);
    let mut ctx = TrainCtx::new(1);
    let before = ctx.rng_state();
    let (y, cache) = layer.forward_train(&x, &mut ctx);
    assert_eq!(y.map(f32::to_bits), x.map(f32::to_bits));
    assert_eq!(cache.mask, [1.0; 16]);
    assert_eq!(ctx.rng_state(), before, "p = 0 drew from the generator");
    let dy: [f32; 16] = values(2, 1.0);
    assert_eq!(layer.backward(&cache, &dy, &mut Dropout::zeros()), dy);
}

#[test]
fn p_one_gives_zeros_and_zero_gradients_without_nan() {
    let layer = Dropout::<16, f64>::new(1.0);
    let x: [f64; 16] = values(4, 1e300);
    let mut ctx = TrainCtx::new(1);
    let before = ctx.rng_state();
    let (y, cache) = layer.forward_train(&x, &mut ctx);
    assert!(y.iter().all(|&v| v == 0.0), "{y:?}");
    assert_eq!(cache.mask, [0.0; 16]);
    assert_eq!(ctx.rng_state(), before, "p = 1 drew from the generator");
    let dx = layer.backward(&cache, &values(2, 1e300), &mut Dropout::zeros());
    assert!(dx.iter().all(|&v| v == 0.0), "{dx:?}");
    grad_check(
        &layer,
        &values::<f64, 16>(4, 2.0),
        GradCheckConfig::default(),
    )
    .unwrap();
    // f32 too, where 1/(1 − p) would overflow if it were computed.
    let (y, cache) = Dropout::<4, f32>::new(1.0).forward_train(&[1.0, -2.0, 3e38, -0.5], &mut ctx);
    assert!(
        y.iter()
            .chain(&cache.mask)
            .all(|&v| v == 0.0 && !v.is_nan())
    );
}

// ---------------------------------------------------------------------------------------------
// Construction and bookkeeping
// ---------------------------------------------------------------------------------------------

#[test]
fn construction_checks_p() {
    assert_eq!(Dropout::<3>::default().p, 0.5);
    assert_eq!(Dropout::<3>::zeros().p, 0.5);
    assert_eq!(Dropout::<3>::new(0.2).p, 0.2);
    for p in [0.0, 1.0, 0.999, 1e-300] {
        assert_eq!(Dropout::<3>::try_new(p).map(|d| d.p), Some(p));
    }
    for p in [-0.1, 1.0 + 1e-15, f64::NAN, f64::INFINITY, -f64::INFINITY] {
        assert!(Dropout::<3>::try_new(p).is_none(), "p = {p}");
        let result = std::panic::catch_unwind(|| Dropout::<3>::new(p));
        let message = *result.unwrap_err().downcast::<&str>().unwrap();
        assert_eq!(
            message,
            "Dropout::new: p must be a probability in [0, 1] (and not NaN)"
        );
    }
    // In a const context the check runs at compile time.
    const BAKED: Dropout<3> = Dropout::new(0.25);
    assert_eq!(BAKED.p, 0.25);
}

#[test]
#[should_panic(expected = "Dropout: p = 1.5 is not a probability in [0, 1]")]
fn training_with_an_invalid_p_panics() {
    let mut layer = Dropout::<3, f64>::new(0.5);
    layer.p = 1.5; // the field is public (and files can set it)
    let _ = layer.forward_train(&[1.0; 3], &mut TrainCtx::new(0));
}

#[test]
fn settings_modules_and_defaults() {
    type L = Dropout<5, f64>;
    assert_eq!(L::PARAM_COUNT, 0);
    assert_eq!(L::MODULES, 1);
    assert_eq!(L::shapes().count(), 0);
    let mut layer = L::new(0.2);
    assert_eq!(layer.tensors().count(), 0);
    let mut seen = Vec::new();
    layer.visit_settings(7, &mut |module, name, value| {
        seen.push((module, name, value))
    });
    assert_eq!(seen, [(7, "p", Setting::Real(0.2))]);
    layer.visit_settings_mut(7, &mut |_, name, mut value| {
        assert_eq!(name, "p");
        assert!(value.set(Setting::Real(0.35)));
        assert!(matches!(value, SettingMut::Real(_)));
    });
    assert_eq!(layer.p, 0.35);
    // p is a setting, not a parameter: restore_defaults puts PyTorch's default back, and a
    // zeroed heap allocation (which reads p = 0) gets it too.
    layer.restore_defaults();
    assert_eq!(layer.p, 0.5);
    assert_eq!(*L::boxed_zeros(), L::zeros());

    // In a chain: one module of its own, so the next Linear is module 3.
    type Net = seq![Dense<4, 8, Relu>, Dropout<8>, Dense<8, 2>];
    assert_eq!(Net::MODULES, 4);
    assert_eq!(
        Net::PARAM_COUNT,
        <seq![Dense<4, 8, Relu>, Dense<8, 2>]>::PARAM_COUNT
    );
    let mut net: Net = init::seeded(Init::HeUniform, 0);
    net.second.first = Dropout::new(0.2);
    let mut keys = Vec::new();
    net.visit_tensors(0, &mut |info, _| {
        keys.push(format!("{}.{}", info.module, info.name))
    });
    net.visit_settings(0, &mut |module, name, _| {
        keys.push(format!("{module}.{name}"))
    });
    assert_eq!(keys, ["0.weight", "0.bias", "3.weight", "3.bias", "2.p"]);
    let mut boxed = Net::boxed_zeros();
    assert_eq!(boxed.second.first.p, 0.5);
    boxed.fill_zero();
    assert_eq!(boxed.second.first.p, 0.5);
}

// ---------------------------------------------------------------------------------------------
// Training a network with Dropout
// ---------------------------------------------------------------------------------------------

#[test]
fn a_network_with_dropout_trains_in_batches() {
    type Net = seq![Dense<4, 8, Relu>, Dropout<8>, Dense<8, 2>];
    const B: usize = 32;
    let inputs: [[f32; 4]; B] = core::array::from_fn(|b| values(b as u64, 1.0));
    let targets: [[f32; 2]; B] =
        inputs.map(|x| [0.5 * x[0] - x[1] + 0.25 * x[2], x[3] - 0.5 * x[0] + 0.1]);
    let mut net: Net = init::seeded(Init::HeUniform, 5);
    net.second.first = Dropout::new(0.2);
    let eval_loss = |net: &Net| -> f32 {
        let mut y = [[0.0; 2]; B];
        let mut scratch = <Net as Layer>::BatchCache::<B>::zeros();
        net.forward_batch(&inputs, &mut y, &mut scratch);
        Mse.loss_batch(&y, &targets, &mut [[0.0; 2]; B])
    };
    let initial = eval_loss(&net);
    let mut grads = Net::zeros();
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.01));
    let mut cache = <Net as Layer>::BatchCache::<B>::zeros();
    let (mut y, mut dy) = ([[0.0; 2]; B], [[0.0; 2]; B]);
    let mut ctx = TrainCtx::new(9);
    let mut dropped = 0;
    for _ in 0..400 {
        grads.fill_zero();
        net.forward_train_batch(&inputs, &mut y, &mut cache, &mut ctx);
        dropped += cache
            .second
            .first
            .iter()
            .map(|c| c.mask.iter().filter(|&&m| m == 0.0).count())
            .sum::<usize>();
        Mse.loss_batch(&y, &targets, &mut dy);
        net.backward_batch_params(&inputs, &y, &mut cache, &dy, &mut grads);
        adam.step(&mut net, &grads);
    }
    let last = eval_loss(&net);
    // The dropout was active (about p of 400·32·8 elements) and the network learned anyway.
    let total = 400 * B * 8;
    assert!(
        (dropped as f64 / total as f64 - 0.2).abs() < 0.01,
        "{dropped} of {total} dropped"
    );
    assert!(
        last < 0.1 * initial,
        "loss {initial} -> {last}: did not train"
    );
    assert_eq!(net.second.first.p, 0.2, "training changed p");
}
