//! Optimizers, schedules, clipping and penalties against small scalar reference
//! implementations written here from the formulas of `tests/golden/cases/README.md`, and against
//! hand-derived numbers. The PyTorch golden `mlp` cases (five steps of every optimizer,
//! clipping and schedule) are checked by the golden harness (`cargo test -p constnet-golden`).

use constnet::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, Adamax, AdamaxConfig, CosineAnnealingLr,
    ExponentialLr, FixedLr, LinearWarmup, LrSchedule, NAdam, NAdamConfig, Optimizer, RmsProp,
    RmsPropConfig, Sgd, SgdConfig, StepLr, clip_grad_norm, clip_grad_value, l1_penalty, l2_penalty,
};
use constnet::{Dense, Identity, Params, Zeros};

type Net = Dense<1, 1, Identity, f64>;

/// Starting weight and bias of the one-parameter-pair model.
const W0: f64 = 0.8;
const B0: f64 = -0.3;
/// Hand-set gradients of the three steps, for the weight and the bias.
const GRAD_W: [f64; 3] = [0.5, -1.25, 2.0];
const GRAD_B: [f64; 3] = [-3.0, 0.75, 0.1];
/// The learning rate of each step (set with `set_lr` before the step).
const LRS: [f64; 3] = [0.1, 0.05, 0.02];

/// Runs three steps of `optimizer` on `Net` from `(W0, B0)` with the hand-set gradients and
/// learning rates; returns the (weight, bias) after each step.
fn run<O: Optimizer<Net> + ?Sized>(optimizer: &mut O) -> Vec<(f64, f64)> {
    let mut net = Net::from_rows([[W0]], [B0]);
    let mut out = Vec::new();
    for k in 0..3 {
        let mut grads = Net::zeros();
        grads.set_weight(0, 0, GRAD_W[k]);
        grads.bias_mut()[0] = GRAD_B[k];
        optimizer.set_lr(LRS[k]);
        assert_eq!(optimizer.lr(), LRS[k]);
        optimizer.step(&mut net, &grads);
        out.push((net.weight(0, 0), net.bias()[0]));
    }
    out
}

/// Compares `run(optimizer)` with a scalar reference applied to the weight and the bias
/// separately (the updates are elementwise).
#[track_caller]
fn check<O: Optimizer<Net>>(
    what: &str,
    mut optimizer: O,
    reference: impl Fn(f64, &[f64]) -> Vec<f64>,
) {
    let got = run(&mut optimizer);
    let want_w = reference(W0, &GRAD_W);
    let want_b = reference(B0, &GRAD_B);
    for k in 0..3 {
        for (name, g, w) in [
            ("weight", got[k].0, want_w[k]),
            ("bias", got[k].1, want_b[k]),
        ] {
            assert!(
                (g - w).abs() <= 1e-13 * w.abs().max(1.0),
                "{what}: step {} {name}: got {g:e}, want {w:e}",
                k + 1
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar reference implementations (README "Optimizers"), one parameter, lr per step = LRS.

fn sgd_reference(
    theta: f64,
    grads: &[f64],
    momentum: f64,
    dampening: f64,
    wd: f64,
    nesterov: bool,
) -> Vec<f64> {
    let mut theta = theta;
    let mut buffer: Option<f64> = None;
    let mut out = Vec::new();
    for (t, &grad) in grads.iter().enumerate() {
        let mut d = grad + wd * theta;
        if momentum != 0.0 {
            let b = match buffer {
                None => d,
                Some(b) => momentum * b + (1.0 - dampening) * d,
            };
            buffer = Some(b);
            d = if nesterov { d + momentum * b } else { b };
        }
        theta -= LRS[t] * d;
        out.push(theta);
    }
    out
}

fn adagrad_reference(
    theta: f64,
    grads: &[f64],
    lr_decay: f64,
    wd: f64,
    initial: f64,
    eps: f64,
) -> Vec<f64> {
    let mut theta = theta;
    let mut squares = initial;
    let mut out = Vec::new();
    for (i, &grad) in grads.iter().enumerate() {
        let step = (i + 1) as f64;
        let d = grad + wd * theta;
        squares += d * d;
        let rate = LRS[i] / (1.0 + (step - 1.0) * lr_decay);
        theta -= rate * d / (squares.sqrt() + eps);
        out.push(theta);
    }
    out
}

fn rmsprop_reference(
    theta: f64,
    grads: &[f64],
    alpha: f64,
    eps: f64,
    wd: f64,
    momentum: f64,
    centered: bool,
) -> Vec<f64> {
    let (mut theta, mut square_avg, mut grad_avg, mut buffer) = (theta, 0.0, 0.0, 0.0);
    let mut out = Vec::new();
    for (i, &grad) in grads.iter().enumerate() {
        let d = grad + wd * theta;
        square_avg = alpha * square_avg + (1.0 - alpha) * d * d;
        let mut variance = square_avg;
        if centered {
            grad_avg = alpha * grad_avg + (1.0 - alpha) * d;
            variance -= grad_avg * grad_avg;
        }
        let avg = variance.sqrt() + eps;
        if momentum > 0.0 {
            buffer = momentum * buffer + d / avg;
            theta -= LRS[i] * buffer;
        } else {
            theta -= LRS[i] * d / avg;
        }
        out.push(theta);
    }
    out
}

/// Adam written in the textbook form (bias-corrected moments), with both kinds of weight
/// decay: `l2` is added to the gradient, `decoupled` scales θ by `1 − lr·decoupled` first.
#[allow(clippy::too_many_arguments)]
fn adam_reference(
    theta: f64,
    grads: &[f64],
    beta1: f64,
    beta2: f64,
    eps: f64,
    l2: f64,
    decoupled: f64,
    amsgrad: bool,
) -> Vec<f64> {
    let (mut theta, mut m, mut v, mut v_max) = (theta, 0.0, 0.0, 0.0f64);
    let mut out = Vec::new();
    for (i, &grad) in grads.iter().enumerate() {
        let t = (i + 1) as i32;
        theta *= 1.0 - LRS[i] * decoupled;
        let d = grad + l2 * theta;
        m = beta1 * m + (1.0 - beta1) * d;
        v = beta2 * v + (1.0 - beta2) * d * d;
        v_max = v_max.max(v);
        let m_hat = m / (1.0 - beta1.powi(t));
        let v_hat = if amsgrad { v_max } else { v } / (1.0 - beta2.powi(t));
        theta -= LRS[i] * m_hat / (v_hat.sqrt() + eps);
        out.push(theta);
    }
    out
}

fn adamax_reference(
    theta: f64,
    grads: &[f64],
    beta1: f64,
    beta2: f64,
    eps: f64,
    wd: f64,
) -> Vec<f64> {
    let (mut theta, mut m, mut u) = (theta, 0.0, 0.0f64);
    let mut out = Vec::new();
    for (i, &grad) in grads.iter().enumerate() {
        let d = grad + wd * theta;
        m = beta1 * m + (1.0 - beta1) * d;
        u = (beta2 * u).max(d.abs() + eps);
        theta -= LRS[i] / (1.0 - beta1.powi(i as i32 + 1)) * m / u;
        out.push(theta);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn nadam_reference(
    theta: f64,
    grads: &[f64],
    beta1: f64,
    beta2: f64,
    eps: f64,
    wd: f64,
    momentum_decay: f64,
    decoupled: bool,
) -> Vec<f64> {
    let mu = |t: f64| beta1 * (1.0 - 0.5 * 0.96f64.powf(t * momentum_decay));
    let (mut theta, mut m, mut v) = (theta, 0.0, 0.0);
    let mut out = Vec::new();
    for (i, &grad) in grads.iter().enumerate() {
        let t = (i + 1) as f64;
        let lr = LRS[i];
        let mut d = grad;
        if decoupled {
            theta *= 1.0 - lr * wd;
        } else {
            d += wd * theta;
        }
        // The product of μ_1..μ_t, recomputed from scratch each step.
        let product: f64 = (1..=i + 1).map(|s| mu(s as f64)).product();
        let (mu_t, mu_next) = (mu(t), mu(t + 1.0));
        m = beta1 * m + (1.0 - beta1) * d;
        v = beta2 * v + (1.0 - beta2) * d * d;
        let denom = (v / (1.0 - beta2.powi(i as i32 + 1))).sqrt() + eps;
        theta -= lr * (1.0 - mu_t) / (1.0 - product) * d / denom
            + lr * mu_next / (1.0 - product * mu_next) * m / denom;
        out.push(theta);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Every optimizer and option against the references.

#[test]
fn sgd_options_match_reference() {
    check("sgd", Sgd::<Net>::new(SgdConfig::new().lr(1.0)), |t, g| {
        sgd_reference(t, g, 0.0, 0.0, 0.0, false)
    });
    check(
        "sgd momentum",
        Sgd::<Net>::new(SgdConfig::new().lr(1.0).momentum(0.9)),
        |t, g| sgd_reference(t, g, 0.9, 0.0, 0.0, false),
    );
    check(
        "sgd momentum dampening",
        Sgd::<Net>::new(SgdConfig::new().lr(1.0).momentum(0.8).dampening(0.3)),
        |t, g| sgd_reference(t, g, 0.8, 0.3, 0.0, false),
    );
    check(
        "sgd nesterov weight decay",
        Sgd::<Net>::new(
            SgdConfig::new()
                .lr(1.0)
                .momentum(0.7)
                .nesterov(true)
                .weight_decay(0.2),
        ),
        |t, g| sgd_reference(t, g, 0.7, 0.0, 0.2, true),
    );
}

#[test]
fn adagrad_options_match_reference() {
    check(
        "adagrad",
        Adagrad::<Net>::new(AdagradConfig::new()),
        |t, g| adagrad_reference(t, g, 0.0, 0.0, 0.0, 1e-10),
    );
    let config = AdagradConfig::new()
        .lr_decay(0.25)
        .weight_decay(0.3)
        .initial_accumulator_value(0.7)
        .eps(0.05);
    assert_eq!(
        (
            config.lr_decay,
            config.weight_decay,
            config.initial_accumulator_value,
            config.eps
        ),
        (0.25, 0.3, 0.7, 0.05)
    );
    check(
        "adagrad all options",
        Adagrad::<Net>::new(config),
        |t, g| adagrad_reference(t, g, 0.25, 0.3, 0.7, 0.05),
    );
}

#[test]
fn rmsprop_options_match_reference() {
    check(
        "rmsprop",
        RmsProp::<Net>::new(RmsPropConfig::new()),
        |t, g| rmsprop_reference(t, g, 0.99, 1e-8, 0.0, 0.0, false),
    );
    let base = RmsPropConfig::new().alpha(0.8).eps(0.05).weight_decay(0.1);
    check("rmsprop eps, wd", RmsProp::<Net>::new(base), |t, g| {
        rmsprop_reference(t, g, 0.8, 0.05, 0.1, 0.0, false)
    });
    check(
        "rmsprop centered",
        RmsProp::<Net>::new(base.centered(true)),
        |t, g| rmsprop_reference(t, g, 0.8, 0.05, 0.1, 0.0, true),
    );
    check(
        "rmsprop momentum",
        RmsProp::<Net>::new(base.momentum(0.6)),
        |t, g| rmsprop_reference(t, g, 0.8, 0.05, 0.1, 0.6, false),
    );
    check(
        "rmsprop centered momentum",
        RmsProp::<Net>::new(base.momentum(0.6).centered(true)),
        |t, g| rmsprop_reference(t, g, 0.8, 0.05, 0.1, 0.6, true),
    );
}

#[test]
fn adam_options_match_reference() {
    check("adam", Adam::<Net>::new(AdamConfig::new()), |t, g| {
        adam_reference(t, g, 0.9, 0.999, 1e-8, 0.0, 0.0, false)
    });
    let base = AdamConfig::new().betas(0.8, 0.6).eps(0.05);
    check("adam betas eps", Adam::<Net>::new(base), |t, g| {
        adam_reference(t, g, 0.8, 0.6, 0.05, 0.0, 0.0, false)
    });
    check(
        "adam weight decay",
        Adam::<Net>::new(base.weight_decay(0.4)),
        |t, g| adam_reference(t, g, 0.8, 0.6, 0.05, 0.4, 0.0, false),
    );
    check(
        "adam amsgrad",
        Adam::<Net>::amsgrad(base.weight_decay(0.4)),
        |t, g| adam_reference(t, g, 0.8, 0.6, 0.05, 0.4, 0.0, true),
    );
    // The gradients are chosen so that v falls on the bias: amsgrad must change the result.
    let plain = run(&mut Adam::<Net>::new(base));
    let amsgrad = run(&mut Adam::<Net>::amsgrad(base));
    assert_ne!(plain[2].1, amsgrad[2].1);
}

#[test]
fn adamw_options_match_reference() {
    check("adamw", AdamW::<Net>::new(AdamConfig::adamw()), |t, g| {
        adam_reference(t, g, 0.9, 0.999, 1e-8, 0.0, 0.01, false)
    });
    let base = AdamConfig::adamw()
        .betas(0.8, 0.6)
        .eps(0.05)
        .weight_decay(0.9);
    check("adamw decay", AdamW::<Net>::new(base), |t, g| {
        adam_reference(t, g, 0.8, 0.6, 0.05, 0.0, 0.9, false)
    });
    check("adamw amsgrad", AdamW::<Net>::amsgrad(base), |t, g| {
        adam_reference(t, g, 0.8, 0.6, 0.05, 0.0, 0.9, true)
    });
    // Decoupled is not coupled.
    let coupled = run(&mut Adam::<Net>::new(
        AdamConfig::new()
            .betas(0.8, 0.6)
            .eps(0.05)
            .weight_decay(0.9),
    ));
    let decoupled = run(&mut AdamW::<Net>::new(base));
    assert_ne!(coupled[2], decoupled[2]);
}

#[test]
fn adamax_options_match_reference() {
    check("adamax", Adamax::<Net>::new(AdamaxConfig::new()), |t, g| {
        adamax_reference(t, g, 0.9, 0.999, 1e-8, 0.0)
    });
    let config = AdamaxConfig::new()
        .betas(0.7, 0.95)
        .eps(0.05)
        .weight_decay(0.3);
    check("adamax options", Adamax::<Net>::new(config), |t, g| {
        adamax_reference(t, g, 0.7, 0.95, 0.05, 0.3)
    });
}

#[test]
fn nadam_options_match_reference() {
    check("nadam", NAdam::<Net>::new(NAdamConfig::new()), |t, g| {
        nadam_reference(t, g, 0.9, 0.999, 1e-8, 0.0, 4e-3, false)
    });
    // A fast momentum schedule, so that μ changes visibly from step to step.
    let base = NAdamConfig::new()
        .betas(0.8, 0.6)
        .eps(0.05)
        .momentum_decay(0.5);
    check("nadam options", NAdam::<Net>::new(base), |t, g| {
        nadam_reference(t, g, 0.8, 0.6, 0.05, 0.0, 0.5, false)
    });
    check(
        "nadam coupled decay",
        NAdam::<Net>::new(base.weight_decay(0.4)),
        |t, g| nadam_reference(t, g, 0.8, 0.6, 0.05, 0.4, 0.5, false),
    );
    check(
        "nadam decoupled decay",
        NAdam::<Net>::new(base.weight_decay(0.4).decoupled_weight_decay(true)),
        |t, g| nadam_reference(t, g, 0.8, 0.6, 0.05, 0.4, 0.5, true),
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-derived first steps (numbers worked out on paper, no reference code).

fn first_step<O: Optimizer<Net>>(mut optimizer: O, theta: f64, grad: f64) -> f64 {
    let mut net = Net::from_rows([[0.0]], [theta]);
    let mut grads = Net::zeros();
    grads.bias_mut()[0] = grad;
    optimizer.step(&mut net, &grads);
    net.bias()[0]
}

#[test]
fn first_steps_by_hand() {
    let close = |got: f64, want: f64| assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
    // Adagrad: sum = 1 + 3² = 10 → θ = 1 − 0.1·3/(√10 + 0.5).
    close(
        first_step(
            Adagrad::<Net>::new(
                AdagradConfig::new()
                    .lr(0.1)
                    .initial_accumulator_value(1.0)
                    .eps(0.5),
            ),
            1.0,
            3.0,
        ),
        1.0 - 0.3 / (10f64.sqrt() + 0.5),
    );
    // RMSprop α = 0.5: v = 0.5·4 = 2 → θ = 1 − 0.1·2/(√2 + 0.25).
    close(
        first_step(
            RmsProp::<Net>::new(RmsPropConfig::new().lr(0.1).alpha(0.5).eps(0.25)),
            1.0,
            2.0,
        ),
        1.0 - 0.2 / (2f64.sqrt() + 0.25),
    );
    // Centered: ḡ = 1, v − ḡ² = 1 → θ = 1 − 0.1·2/(1 + 0.25).
    close(
        first_step(
            RmsProp::<Net>::new(
                RmsPropConfig::new()
                    .lr(0.1)
                    .alpha(0.5)
                    .eps(0.25)
                    .centered(true),
            ),
            1.0,
            2.0,
        ),
        1.0 - 0.16,
    );
    // Adam: m̂ = g, √v̂ = |g| → θ = 1 − 0.1·4/(4 + 1).
    close(
        first_step(
            Adam::<Net>::new(AdamConfig::new().lr(0.1).eps(1.0)),
            1.0,
            4.0,
        ),
        0.92,
    );
    // Adam L2: g = 4 + 0.5·2 = 5 → θ = 2 − 0.1·5/(5 + 1).
    close(
        first_step(
            Adam::<Net>::new(AdamConfig::new().lr(0.1).eps(1.0).weight_decay(0.5)),
            2.0,
            4.0,
        ),
        2.0 - 0.5 / 6.0,
    );
    // AdamW: θ = 2·(1 − 0.05) = 1.9, then 1.9 − 0.1·4/(4 + 1).
    close(
        first_step(
            AdamW::<Net>::new(AdamConfig::adamw().lr(0.1).eps(1.0).weight_decay(0.5)),
            2.0,
            4.0,
        ),
        1.9 - 0.08,
    );
    // Adamax: m/(1 − β1) = g, u = |g| + eps → θ = 1 + 0.1·2/(2 + 0.5).
    close(
        first_step(
            Adamax::<Net>::new(AdamaxConfig::new().lr(0.1).eps(0.5)),
            1.0,
            -2.0,
        ),
        1.08,
    );
    // NAdam with momentum_decay 0: μ = β1/2 = 0.45 every step, Π1 = 0.45; m = 0.1·g,
    // denom = |g|: θ = −0.1·(0.55/0.55) − 0.1·0.45/(1 − 0.2025)·0.1.
    close(
        first_step(
            NAdam::<Net>::new(NAdamConfig::new().lr(0.1).eps(0.0).momentum_decay(0.0)),
            0.0,
            2.0,
        ),
        -0.1 - 0.0045 / 0.7975,
    );
}

// ---------------------------------------------------------------------------------------------
// State per instance, boxed construction.

/// Two instances stepped alternately each follow the solo trajectory: step counts (bias
/// corrections, Adagrad's decay, NAdam's μ product) are per instance.
#[test]
fn step_counts_are_per_instance() {
    fn alternate<O: Optimizer<Net>>(what: &str, make: impl Fn() -> O) {
        let solo = run(&mut make());
        let (mut a, mut b) = (make(), make());
        let mut nets = [Net::from_rows([[W0]], [B0]); 2];
        for k in 0..3 {
            let mut grads = Net::zeros();
            grads.set_weight(0, 0, GRAD_W[k]);
            grads.bias_mut()[0] = GRAD_B[k];
            a.set_lr(LRS[k]);
            b.set_lr(LRS[k]);
            a.step(&mut nets[0], &grads);
            b.step(&mut nets[1], &grads);
            for net in &nets {
                assert_eq!(
                    (net.weight(0, 0), net.bias()[0]),
                    solo[k],
                    "{what} step {}",
                    k + 1
                );
            }
        }
        // A third instance made after the others have stepped starts at t = 1.
        assert_eq!(run(&mut make()), solo, "{what}");
    }
    alternate("sgd", || {
        Sgd::<Net>::new(SgdConfig::new().lr(0.1).momentum(0.9).dampening(0.5))
    });
    alternate("adagrad", || {
        Adagrad::<Net>::new(AdagradConfig::new().lr_decay(0.5))
    });
    alternate("rmsprop", || {
        RmsProp::<Net>::new(RmsPropConfig::new().momentum(0.5))
    });
    alternate("adam", || {
        Adam::<Net>::new(AdamConfig::new().betas(0.8, 0.6))
    });
    alternate("adamw", || {
        AdamW::<Net>::new(AdamConfig::adamw().betas(0.8, 0.6))
    });
    alternate("adamax", || {
        Adamax::<Net>::new(AdamaxConfig::new().betas(0.8, 0.6))
    });
    alternate("nadam", || {
        NAdam::<Net>::new(NAdamConfig::new().momentum_decay(0.5))
    });
}

/// `boxed` and `new` give the same trajectory, bit for bit, including state that does not
/// start at zero (Adagrad's sum, NAdam's μ product).
#[test]
fn boxed_equals_new() {
    fn same<O: Optimizer<Net>>(what: &str, new: O, boxed: Box<O>) {
        let mut new = new;
        let mut boxed = boxed;
        let a = run(&mut new);
        let b = run(&mut *boxed);
        assert_eq!(a, b, "{what}");
    }
    let sgd = SgdConfig::new().lr(0.1).momentum(0.9).dampening(0.1);
    same("sgd", Sgd::new(sgd), Sgd::boxed(sgd));
    let adagrad = AdagradConfig::new()
        .initial_accumulator_value(0.5)
        .lr_decay(0.1);
    same("adagrad", Adagrad::new(adagrad), Adagrad::boxed(adagrad));
    assert_eq!(Adagrad::<Net>::boxed(adagrad).config(), &adagrad);
    let rmsprop = RmsPropConfig::new().centered(true).momentum(0.5);
    same("rmsprop", RmsProp::new(rmsprop), RmsProp::boxed(rmsprop));
    let adam = AdamConfig::new().weight_decay(0.1);
    same("adam", Adam::new(adam), Adam::boxed(adam));
    same(
        "adam amsgrad",
        Adam::amsgrad(adam),
        Adam::boxed_amsgrad(adam),
    );
    let adamw = AdamConfig::adamw();
    same("adamw", AdamW::new(adamw), AdamW::boxed(adamw));
    same(
        "adamw amsgrad",
        AdamW::amsgrad(adamw),
        AdamW::boxed_amsgrad(adamw),
    );
    let adamax = AdamaxConfig::new().weight_decay(0.1);
    same("adamax", Adamax::new(adamax), Adamax::boxed(adamax));
    let nadam = NAdamConfig::new().weight_decay(0.1);
    same("nadam", NAdam::new(nadam), NAdam::boxed(nadam));
    assert_eq!(NAdam::<Net>::boxed(nadam).config(), &nadam);
}

#[test]
fn defaults_are_torch_defaults() {
    let c = AdagradConfig::default();
    assert_eq!(
        (
            c.lr,
            c.lr_decay,
            c.weight_decay,
            c.initial_accumulator_value,
            c.eps
        ),
        (0.01, 0.0, 0.0, 0.0, 1e-10)
    );
    let c = RmsPropConfig::default();
    assert_eq!(
        (c.lr, c.alpha, c.eps, c.weight_decay, c.momentum, c.centered),
        (0.01, 0.99, 1e-8, 0.0, 0.0, false)
    );
    let c = AdamConfig::default();
    assert_eq!(
        (c.lr, c.beta1, c.beta2, c.eps, c.weight_decay),
        (1e-3, 0.9, 0.999, 1e-8, 0.0)
    );
    let c = AdamConfig::adamw();
    assert_eq!(
        (c.lr, c.beta1, c.beta2, c.eps, c.weight_decay),
        (1e-3, 0.9, 0.999, 1e-8, 0.01)
    );
    let c = AdamaxConfig::default();
    assert_eq!(
        (c.lr, c.beta1, c.beta2, c.eps, c.weight_decay),
        (2e-3, 0.9, 0.999, 1e-8, 0.0)
    );
    let c = NAdamConfig::default();
    assert_eq!(
        (
            c.lr,
            c.beta1,
            c.beta2,
            c.eps,
            c.weight_decay,
            c.momentum_decay,
            c.decoupled_weight_decay
        ),
        (2e-3, 0.9, 0.999, 1e-8, 0.0, 4e-3, false)
    );
}

/// The generic code runs in f32 too (coefficients rounded once from f64).
#[test]
fn f32_models_follow_the_f64_reference() {
    type Net32 = Dense<1, 1, Identity, f32>;
    let mut net = Net32::from_rows([[W0 as f32]], [B0 as f32]);
    let mut adam = Adam::<Net32>::amsgrad(AdamConfig::new().betas(0.8, 0.6).eps(0.05));
    for k in 0..3 {
        let mut grads = Net32::zeros();
        grads.set_weight(0, 0, GRAD_W[k] as f32);
        grads.bias_mut()[0] = GRAD_B[k] as f32;
        adam.set_lr(LRS[k]);
        adam.step(&mut net, &grads);
    }
    let want = adam_reference(B0, &GRAD_B, 0.8, 0.6, 0.05, 0.0, 0.0, true)[2];
    assert!((net.bias()[0] as f64 - want).abs() < 1e-6);
    let want = adam_reference(W0, &GRAD_W, 0.8, 0.6, 0.05, 0.0, 0.0, true)[2];
    assert!((net.weight(0, 0) as f64 - want).abs() < 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Clipping and penalties.

type Pair = Dense<2, 3, Identity, f64>;

fn pair_grads(values: [f64; 9]) -> Pair {
    let mut grads = Pair::zeros();
    for (t, v) in grads.tensors_mut().flat_map(|t| t.iter_mut()).zip(values) {
        *t = v;
    }
    grads
}

fn flat(model: &Pair) -> Vec<f64> {
    model.tensors().flat_map(|t| t.iter().copied()).collect()
}

#[test]
fn clip_grad_norm_returns_the_norm_before_clipping() {
    let values = [1.0, -2.0, 0.5, 3.0, 0.0, -1.5, 2.5, -0.25, 1.0];
    let total = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut grads = pair_grads(values);
    let max_norm = 1.5;
    let returned = clip_grad_norm(&mut grads, max_norm);
    assert_eq!(returned, total);
    let clipped = flat(&grads);
    let norm_after = clipped.iter().map(|v| v * v).sum::<f64>().sqrt();
    let want = max_norm * total / (total + 1e-6);
    assert!((norm_after - want).abs() < 1e-14, "{norm_after} vs {want}");
    assert!(norm_after < max_norm);
    // Direction kept: every element scaled by the same factor.
    for (c, v) in clipped.iter().zip(values) {
        assert!((c - v * max_norm / (total + 1e-6)).abs() < 1e-15);
    }
}

#[test]
fn clip_grad_norm_leaves_small_gradients_alone() {
    let values = [0.1, -0.2, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0];
    let total = (0.01f64 + 0.04 + 0.09).sqrt();
    let mut grads = pair_grads(values);
    // max_norm just above the norm: coef = max/(total + 1e-6) ≥ 1, nothing changes.
    let returned = clip_grad_norm(&mut grads, total + 2e-6);
    assert_eq!(returned, total);
    assert_eq!(flat(&grads), values);
    // max_norm equal to the norm: coef < 1 because of the +1e-6, a tiny scaling.
    clip_grad_norm(&mut grads, total);
    assert!(flat(&grads)[2].abs() < 1e-300 && flat(&grads)[4] < 0.3);
}

#[test]
fn clip_grad_norm_with_non_finite_gradients_changes_nothing() {
    let mut values = [1.0; 9];
    values[4] = f64::INFINITY;
    let mut grads = pair_grads(values);
    assert_eq!(clip_grad_norm(&mut grads, 1.0), f64::INFINITY);
    assert_eq!(flat(&grads), values);
    values[4] = f64::NAN;
    let mut grads = pair_grads(values);
    assert!(clip_grad_norm(&mut grads, 1.0).is_nan());
    assert_eq!(flat(&grads)[0], 1.0);
}

#[test]
fn clip_grad_value_clamps_each_element() {
    let mut grads = pair_grads([1.0, -2.0, 0.5, 3.0, 0.0, -1.5, 0.75, -0.75, f64::NAN]);
    clip_grad_value(&mut grads, 0.75);
    let got = flat(&grads);
    assert_eq!(
        &got[..8],
        &[0.75, -0.75, 0.5, 0.75, 0.0, -0.75, 0.75, -0.75]
    );
    assert!(got[8].is_nan());
}

#[test]
fn penalties_return_their_value_and_add_their_gradient() {
    let params = [1.0, -2.0, 0.0, 3.0, 0.25, -1.5, 2.5, -0.5, 1.0];
    let model = pair_grads(params);
    let existing = [0.5; 9];
    let lambda = 0.3;

    let mut grads = pair_grads(existing);
    let l1 = l1_penalty(&model, &mut grads, lambda);
    assert!((l1 - 0.3 * 11.75).abs() < 1e-14);
    let want: Vec<f64> = params
        .iter()
        .map(|&p| {
            0.5 + if p > 0.0 {
                0.3
            } else if p < 0.0 {
                -0.3
            } else {
                0.0
            }
        })
        .collect();
    assert_eq!(flat(&grads), want);

    let mut grads = pair_grads(existing);
    let l2 = l2_penalty(&model, &mut grads, lambda);
    let sum_sq: f64 = params.iter().map(|p| p * p).sum();
    assert!((l2 - 0.15 * sum_sq).abs() < 1e-14);
    // The added gradient is the derivative of the returned value (central differences).
    let added: Vec<f64> = flat(&grads).iter().map(|g| g - 0.5).collect();
    for i in 0..9 {
        let h = 1e-6;
        let mut shifted = params;
        shifted[i] += h;
        let up = l2_penalty(&pair_grads(shifted), &mut Pair::zeros(), lambda);
        shifted[i] -= 2.0 * h;
        let down = l2_penalty(&pair_grads(shifted), &mut Pair::zeros(), lambda);
        assert!(
            (added[i] - (up - down) / (2.0 * h)).abs() < 1e-8,
            "l2 element {i}"
        );
        if params[i] != 0.0 {
            let mut shifted = params;
            shifted[i] += h;
            let up = l1_penalty(&pair_grads(shifted), &mut Pair::zeros(), lambda);
            shifted[i] -= 2.0 * h;
            let down = l1_penalty(&pair_grads(shifted), &mut Pair::zeros(), lambda);
            assert!(
                (want[i] - 0.5 - (up - down) / (2.0 * h)).abs() < 1e-8,
                "l1 element {i}"
            );
        }
    }
}

/// L2 with λ is SGD's `weight_decay = λ`.
#[test]
fn l2_penalty_gradient_is_sgd_weight_decay() {
    let mut a = Net::from_rows([[W0]], [B0]);
    let mut b = a;
    let mut grads = Net::zeros();
    grads.bias_mut()[0] = 0.5;
    let mut with_penalty = grads;
    l2_penalty(&a, &mut with_penalty, 0.2);
    Sgd::<Net>::new(SgdConfig::new().lr(0.1)).step(&mut a, &with_penalty);
    Sgd::<Net>::new(SgdConfig::new().lr(0.1).weight_decay(0.2)).step(&mut b, &grads);
    assert_eq!(a, b);
}

// ---------------------------------------------------------------------------------------------
// Schedules.

/// The learning rates of `steps` optimizer steps: `start`, then `step` after each.
fn rates<S: LrSchedule>(mut schedule: S, base: f64, steps: usize) -> Vec<f64> {
    let mut lr = schedule.start(base);
    let mut out = Vec::new();
    for _ in 0..steps {
        out.push(lr);
        lr = schedule.step(lr);
    }
    out
}

#[test]
fn step_lr_matches_golden_mlp_30() {
    // mlp_30_sgd_step_lr_mse: lr 0.1, step_size 2, gamma 0.5.
    assert_eq!(
        rates(StepLr::new(2, 0.5), 0.1, 5),
        [0.1, 0.1, 0.05, 0.05, 0.025]
    );
    // mlp_33_adamw_clip_norm_step_lr_mse: lr 0.01, step_size 1, gamma 0.7 (recursive rounding).
    assert_eq!(
        rates(StepLr::new(1, 0.7), 0.01, 5),
        [
            0.01,
            0.006999999999999999,
            0.004899999999999999,
            0.003429999999999999,
            0.002400999999999999
        ]
    );
}

#[test]
fn exponential_lr_matches_golden_mlp_31() {
    assert_eq!(
        rates(ExponentialLr::new(0.8), 0.01, 5),
        [0.01, 0.008, 0.0064, 0.00512, 0.004096000000000001]
    );
}

#[test]
fn cosine_annealing_lr_matches_golden_mlp_32() {
    let want = [
        0.1,
        0.0905463412215599,
        0.06579634122155989,
        0.035203658778440096,
        0.010453658778440105,
    ];
    let got = rates(CosineAnnealingLr::new(5, 0.001), 0.1, 5);
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-15 * w, "{got:?}");
    }
}

#[test]
fn cosine_annealing_lr_past_t_max_follows_the_closed_form() {
    let (base, eta_min, t_max) = (0.1, 0.001, 3u64);
    let got = rates(CosineAnnealingLr::new(t_max, eta_min), base, 8);
    for (e, g) in got.iter().enumerate() {
        let closed = eta_min
            + (base - eta_min) * (1.0 + (std::f64::consts::PI * e as f64 / t_max as f64).cos())
                / 2.0;
        assert!((g - closed).abs() < 1e-12, "epoch {e}: {g} vs {closed}");
    }
    // It does rise again after t_max.
    assert!(got[4] > got[3] && got[6] > got[5]);
}

#[test]
fn schedules_start_implicitly_on_the_first_step() {
    let mut schedule = CosineAnnealingLr::new(4, 0.0);
    let mut lr = 0.2;
    let mut implicit = vec![lr];
    for _ in 0..6 {
        lr = schedule.step(lr);
        implicit.push(lr);
    }
    assert_eq!(implicit, rates(CosineAnnealingLr::new(4, 0.0), 0.2, 7));
    // start() restarts.
    let mut schedule = StepLr::new(1, 0.5);
    schedule.start(1.0);
    schedule.step(1.0);
    assert_eq!(schedule.start(1.0), 1.0);
    assert_eq!(schedule.step(1.0), 0.5);
}

#[test]
fn linear_warmup_rises_then_hands_over() {
    // Constant after the warmup by default.
    let got = rates(LinearWarmup::new(0.2, 4), 0.5, 7);
    let want = [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{got:?}");
    }
    assert_eq!(
        got[4], 0.5,
        "exactly the base rate at the end of the warmup"
    );
    // From zero.
    let got = rates(LinearWarmup::new(0.0, 2), 1.0, 3);
    assert_eq!(got, [0.0, 0.5, 1.0]);
    // No warmup: the inner schedule from the start.
    assert_eq!(
        rates(
            LinearWarmup::new(0.5, 0).followed_by(StepLr::new(1, 0.5)),
            1.0,
            3
        ),
        [1.0, 0.5, 0.25]
    );
    // Handing over to a cosine: its epoch 0 is the warmup's last epoch.
    let warm = rates(
        LinearWarmup::new(0.5, 2).followed_by(CosineAnnealingLr::new(4, 0.0)),
        1.0,
        8,
    );
    let cosine = rates(CosineAnnealingLr::new(4, 0.0), 1.0, 6);
    assert_eq!(&warm[..2], &[0.5, 0.75]);
    assert_eq!(&warm[2..], &cosine[..]);
    let _: LinearWarmup<FixedLr> = LinearWarmup::new(0.5, 2);
}

#[test]
fn schedule_drives_an_optimizer() {
    let mut sgd = Sgd::<Net>::new(SgdConfig::new().lr(0.1));
    let mut schedule = ExponentialLr::new(0.5);
    sgd.set_lr(schedule.start(sgd.lr()));
    let mut net = Net::zeros();
    let mut grads = Net::zeros();
    grads.bias_mut()[0] = 1.0;
    for _ in 0..3 {
        sgd.step(&mut net, &grads);
        sgd.set_lr(schedule.step(sgd.lr()));
    }
    assert!((net.bias()[0] + (0.1 + 0.05 + 0.025)).abs() < 1e-15);
}
