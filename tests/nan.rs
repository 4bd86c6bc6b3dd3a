//! NaN is never laundered: a NaN input gives NaN where PyTorch gives NaN, and leaves every
//! other position's value as it was (to the bit).
//!
//! - Every activation, through `ActivationLayer<A, N, T>` (forward, training forward and
//!   backward) and fused into `Dense` (single-sample, batched and wide forward, inside a
//!   chain's task, and backward), in `f32` and `f64`: the output at a NaN input is NaN
//!   (`Softmax`: the whole vector, as PyTorch's). The input gradient there is NaN, except
//!   where PyTorch's backward chooses a branch by comparing the NaN: `Identity` and `Relu`
//!   pass `dy` (`threshold_backward(dy, y, 0)` is `y <= 0 ? 0 : dy`), `LeakyRelu` gives
//!   `slope·dy` (`x > 0 ? dy : slope·dy`).
//! - Every loss of `constnet::loss`, with a NaN prediction or target: the value is NaN, the
//!   gradient is NaN at that position (in its whole row for the softmax losses, as PyTorch's)
//!   and unchanged elsewhere.
//! - The vectorized slice functions (`Scalar::tanh_slice` and friends) on slices of every
//!   length from 1 to 40, so that the 16-wide blocks, the 8-wide block and the padded tail
//!   all meet a NaN.
//! - A GRU and an LSTM step (the gates' own sigmoid), narrow and wide (AVX-512 task).
//!
//! CI runs it on every kernel path (`CONSTNET_PORTABLE=1`, `CONSTNET_AVX2=1`, detected).

use constnet::init::{self, Init};
use constnet::loss::{
    Bce, BceWithLogits, CrossEntropy, CrossEntropyProbs, Huber, L1, Loss, Mse, SmoothL1,
};
use constnet::{
    ActivationFn, ActivationLayer, Dense, Elu, Gelu, GeluTanh, Gru, GruState, Identity, Layer,
    LeakyRelu, Lstm, LstmState, Relu, Relu6, Scalar, Sigmoid, Silu, Softmax, Softplus, Tanh,
    TrainCtx, Zeros, seq,
};

/// Deterministic finite values in `[lo, hi)`, different for each `seed` (a golden-ratio walk).
fn values<T: Scalar, const N: usize>(seed: u64, lo: f64, hi: f64) -> [T; N] {
    core::array::from_fn(|i| {
        let v = (i as f64 * 0.754_877_666_246_692_7 + seed as f64 * 0.569_840_290_998_053_3 + 0.1)
            .fract();
        T::from_f64(lo + (hi - lo) * v)
    })
}

/// Both NaNs a computation may produce (the default quiet NaN, and with the sign bit set).
fn nans<T: Scalar>() -> [T; 2] {
    [T::nan(), -T::nan()]
}

/// The same bits (`f32` widens to `f64` exactly, so its bits are compared too).
fn same<T: Scalar>(a: T, b: T) -> bool {
    a.to_f64().to_bits() == b.to_f64().to_bits()
}

/// Positions to put a NaN at in a vector of `n`: the ends, the middle, and inside each block
/// of the vector kernels.
fn positions(n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = [0, 1, 7, 8, 15, 16, 17, 24, n / 2, n - 1]
        .into_iter()
        .filter(|&p| p < n)
        .collect();
    p.dedup();
    p
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

/// What an activation's input gradient is at a NaN input, as PyTorch computes it.
#[derive(Clone, Copy, Debug)]
enum AtNan {
    /// NaN.
    Nan,
    /// `dy` times this factor (PyTorch's backward compares the NaN and takes a branch).
    Times(f64),
    /// The whole vector is NaN, forward and backward (Softmax).
    WholeVector,
}

/// `ActivationLayer<A, N, T>`: forward, training forward and backward with one NaN input.
fn check_activation_layer<A: ActivationFn<T>, T: Scalar, const N: usize>(
    name: &str,
    activation: A,
    at_nan: AtNan,
) {
    let layer = ActivationLayer::<A, N, T>::with_activation(activation);
    let mut ctx = TrainCtx::new(0);
    let clean: [T; N] = values(1, -4.0, 4.0);
    let dy: [T; N] = values(2, 0.25, 1.5);
    let y_clean = layer.forward(&clean);
    let (_, clean_cache) = layer.forward_train(&clean, &mut ctx);
    let dx_clean = layer.backward(&clean_cache, &dy, &mut ActivationLayer::zeros());
    for p in positions(N) {
        for nan in nans::<T>() {
            let at = format!("{name} {} N={N}, NaN at {p}", T::NAME);
            let mut x = clean;
            x[p] = nan;
            let y = layer.forward(&x);
            let (y_train, cache) = layer.forward_train(&x, &mut ctx);
            let dx = layer.backward(&cache, &dy, &mut ActivationLayer::zeros());
            for o in 0..N {
                assert!(
                    y_train[o].is_nan() == y[o].is_nan()
                        && (y[o].is_nan() || same(y_train[o], y[o])),
                    "{at}: training forward differs at {o}"
                );
                let (want_y, want_dx) = match at_nan {
                    AtNan::WholeVector => (None, None),
                    _ if o != p => (Some(y_clean[o]), Some(dx_clean[o])),
                    AtNan::Nan => (None, None),
                    AtNan::Times(f) => (None, Some(dy[o] * T::from_f64(f))),
                };
                match want_y {
                    None => assert!(y[o].is_nan(), "{at}: y[{o}] = {:?}, not NaN", y[o]),
                    Some(w) => assert!(same(y[o], w), "{at}: y[{o}] {:?} was {w:?}", y[o]),
                }
                match want_dx {
                    None => assert!(dx[o].is_nan(), "{at}: dx[{o}] = {:?}, not NaN", dx[o]),
                    Some(w) => assert!(same(dx[o], w), "{at}: dx[{o}] {:?}, want {w:?}", dx[o]),
                }
            }
        }
    }
}

/// `Dense<.., A>` with a NaN input: every output is NaN (each mixes every input), on the
/// single-sample, batched, wide (64 outputs: the AVX-512 row kernel) and chained paths; the
/// other samples of a batch are unchanged; the weight gradients of the NaN input are NaN and
/// the bias gradient follows the activation's derivative at NaN.
fn check_dense<A: ActivationFn<T>, T: Scalar>(name: &str, activation: A, at_nan: AtNan) {
    const IN: usize = 5;
    const OUT: usize = 19;
    const B: usize = 3;
    let weights: [[T; IN]; OUT] = core::array::from_fn(|o| values(10 + o as u64, -1.0, 1.0));
    let dense = Dense::<IN, OUT, A, T>::from_rows(weights, values(3, -0.5, 0.5))
        .with_activation(activation);
    let wide_weights: [[T; IN]; 64] = core::array::from_fn(|o| values(40 + o as u64, -1.0, 1.0));
    let wide = Dense::<IN, 64, A, T>::from_rows(wide_weights, values(4, -0.5, 0.5))
        .with_activation(activation);
    let mut chain: seq![Dense<IN, OUT, A, T>, Dense<OUT, 2, Identity, T>] =
        init::seeded(Init::PyTorchDefault, 5);
    chain.first = dense;

    let clean: [[T; IN]; B] = core::array::from_fn(|b| values(20 + b as u64, -2.0, 2.0));
    let dy: [[T; OUT]; B] = core::array::from_fn(|b| values(30 + b as u64, 0.25, 1.5));
    let mut ctx = TrainCtx::new(0);
    let mut y_clean = [[T::zero(); OUT]; B];
    let mut cache = <Dense<IN, OUT, A, T> as Layer>::BatchCache::<B>::zeros();
    let mut train = dense;
    train.forward_train_batch(&clean, &mut y_clean, &mut cache, &mut ctx);
    let mut dx_clean = [[T::zero(); IN]; B];
    let mut grads = Dense::<IN, OUT, A, T>::zeros();
    dense.backward_batch(&clean, &y_clean, &mut cache, &dy, &mut dx_clean, &mut grads);

    for p in 0..IN {
        for nan in nans::<T>() {
            let at = format!("Dense<{name}> {}, NaN at input {p}", T::NAME);
            let mut x = clean;
            x[1][p] = nan;
            // Single sample, wide, chained.
            assert!(
                dense.forward(&x[1]).iter().all(|v| v.is_nan()),
                "{at}: forward"
            );
            assert!(
                wide.forward(&x[1]).iter().all(|v| v.is_nan()),
                "{at}: 64 outputs"
            );
            assert!(
                chain.forward(&x[1]).iter().all(|v| v.is_nan()),
                "{at}: in a chain"
            );
            // Batched: row 1 NaN, rows 0 and 2 as they were.
            let mut y = [[T::zero(); OUT]; B];
            dense.forward_batch(&x, &mut y, &mut Zeros::zeros());
            let mut y_train = [[T::zero(); OUT]; B];
            train.forward_train_batch(&x, &mut y_train, &mut cache, &mut ctx);
            for (b, (row, train_row)) in y.iter().zip(&y_train).enumerate() {
                for o in 0..OUT {
                    if b == 1 {
                        assert!(row[o].is_nan() && train_row[o].is_nan(), "{at}: y[1][{o}]");
                    } else {
                        assert!(same(row[o], y_clean[b][o]), "{at}: y[{b}][{o}] changed");
                        assert!(
                            same(train_row[o], y_clean[b][o]),
                            "{at}: y[{b}][{o}] (train)"
                        );
                    }
                }
            }
            let mut dx = [[T::zero(); IN]; B];
            let mut grads = Dense::<IN, OUT, A, T>::zeros();
            dense.backward_batch(&x, &y_train, &mut cache, &dy, &mut dx, &mut grads);
            for b in [0, 2] {
                for i in 0..IN {
                    assert!(same(dx[b][i], dx_clean[b][i]), "{at}: dx[{b}][{i}] changed");
                }
            }
            for o in 0..OUT {
                assert!(
                    grads.weight(o, p).is_nan(),
                    "{at}: weight gradient [{o}][{p}]"
                );
                let bias_nan = grads.bias()[o].is_nan();
                match at_nan {
                    AtNan::Times(_) => assert!(!bias_nan, "{at}: bias gradient [{o}] NaN"),
                    _ => assert!(bias_nan, "{at}: bias gradient [{o}] not NaN"),
                }
            }
        }
    }
}

fn check_activation<A: ActivationFn<f32> + ActivationFn<f64>>(
    name: &str,
    activation: A,
    at_nan: AtNan,
) {
    // 37: two 16-wide blocks, no 8-wide one, a padded tail of 5; 11: an 8-wide block and a
    // tail of 3; 1: the tail alone.
    check_activation_layer::<A, f32, 37>(name, activation, at_nan);
    check_activation_layer::<A, f32, 11>(name, activation, at_nan);
    check_activation_layer::<A, f32, 1>(name, activation, at_nan);
    check_activation_layer::<A, f64, 37>(name, activation, at_nan);
    check_activation_layer::<A, f64, 1>(name, activation, at_nan);
    check_dense::<A, f32>(name, activation, at_nan);
    check_dense::<A, f64>(name, activation, at_nan);
}

#[test]
fn every_activation_keeps_nan_forward_and_backward() {
    check_activation("Identity", Identity, AtNan::Times(1.0));
    check_activation("Relu", Relu, AtNan::Times(1.0));
    // PyTorch's hardtanh backward: dy·(0 < x < 6), so 0 at NaN.
    check_activation("Relu6", Relu6, AtNan::Times(0.0));
    let slope = 0.03;
    check_activation(
        "LeakyRelu",
        LeakyRelu {
            negative_slope: slope,
        },
        AtNan::Times(slope),
    );
    check_activation("Elu", Elu { alpha: 1.5 }, AtNan::Nan);
    check_activation("Sigmoid", Sigmoid, AtNan::Nan);
    check_activation("Tanh", Tanh, AtNan::Nan);
    check_activation("Softplus", Softplus::default(), AtNan::Nan);
    check_activation("Gelu", Gelu, AtNan::Nan);
    check_activation("GeluTanh", GeluTanh, AtNan::Nan);
    check_activation("Silu", Silu, AtNan::Nan);
    check_activation("Softmax", Softmax, AtNan::WholeVector);
}

/// `Relu` is PyTorch's CPU `relu` (`clamp_min(x, 0)`) to the bit: `x` itself unless `x < 0`,
/// so a NaN keeps its payload and `-0.0` its sign; the derivative is 0 at both zeros.
#[test]
fn relu_is_clamp_min_to_the_bit() {
    let payload = f32::from_bits(0x7fc0_1234);
    let x = [
        -0.0f32,
        0.0,
        -1.5,
        2.5,
        payload,
        -payload,
        f32::NEG_INFINITY,
        1e-40,
    ];
    let want = [-0.0f32, 0.0, 0.0, 2.5, payload, -payload, 0.0, 1e-40];
    let layer = ActivationLayer::<Relu, 8, f32>::new();
    let (y, cache) = layer.forward_train(&x, &mut TrainCtx::new(0));
    for (k, (got, want)) in y.iter().zip(&want).enumerate() {
        assert_eq!(got.to_bits(), want.to_bits(), "relu({:e}) = {got:e}", x[k]);
    }
    let dx = layer.backward(&cache, &[1.0; 8], &mut ActivationLayer::zeros());
    assert_eq!(dx[..4], [0.0, 0.0, 0.0, 1.0]);
    let y64 = ActivationLayer::<Relu, 3, f64>::new().forward(&[-0.0, f64::NAN, -2.0]);
    assert!(y64[0].is_sign_negative() && y64[0] == 0.0 && y64[1].is_nan());
    assert!(y64[2] == 0.0 && y64[2].is_sign_positive());
}

// ---------------------------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------------------------

/// A loss whose target is `[T; N]`, with a NaN put into the prediction, then into the target,
/// of row 1: the value is NaN, the gradient is NaN at that position (the whole row when
/// `whole_row`), and every other gradient is unchanged.
fn check_loss<T: Scalar, Lo, const N: usize>(name: &str, loss: &Lo, whole_row: bool, lo: f64)
where
    Lo: Loss<T, Target<N> = [T; N]>,
{
    const B: usize = 3;
    let prediction: [[T; N]; B] = core::array::from_fn(|b| values(50 + b as u64, lo, 0.95));
    let target: [[T; N]; B] = core::array::from_fn(|b| values(60 + b as u64, 0.0, 1.0));
    let mut clean_grad = [[T::zero(); N]; B];
    let clean_value = loss.loss_batch(&prediction, &target, &mut clean_grad);
    assert!(
        clean_value.is_finite(),
        "{name}: the clean loss is {clean_value:?}"
    );
    for p in positions(N) {
        for nan in nans::<T>() {
            for in_target in [false, true] {
                let what = if in_target { "target" } else { "prediction" };
                let at = format!("{name} {} N={N}, NaN {what} at [1][{p}]", T::NAME);
                let (mut pred, mut tgt) = (prediction, target);
                if in_target {
                    tgt[1][p] = nan;
                } else {
                    pred[1][p] = nan;
                }
                let mut grad = [[T::zero(); N]; B];
                let value = loss.loss_batch(&pred, &tgt, &mut grad);
                assert!(value.is_nan(), "{at}: loss {value:?}");
                assert!(loss.value(&pred, &tgt).is_nan(), "{at}: Loss::value");
                for b in 0..B {
                    for o in 0..N {
                        if b == 1 && (o == p || whole_row) {
                            assert!(grad[b][o].is_nan(), "{at}: grad[{b}][{o}] not NaN");
                        } else {
                            let (g, w) = (grad[b][o], clean_grad[b][o]);
                            assert!(same(g, w), "{at}: grad[{b}][{o}] {g:?} was {w:?}");
                        }
                    }
                }
            }
        }
    }
}

/// `CrossEntropy` (class-index target) with a NaN logit in row 1: NaN value, row 1's
/// gradient NaN, the other rows' unchanged.
fn check_cross_entropy<T: Scalar, const N: usize>() {
    const B: usize = 3;
    let prediction: [[T; N]; B] = core::array::from_fn(|b| values(70 + b as u64, -5.0, 5.0));
    let target: [usize; B] = [0, N / 2, N - 1];
    let mut clean_grad = [[T::zero(); N]; B];
    assert!(
        CrossEntropy
            .loss_batch(&prediction, &target, &mut clean_grad)
            .is_finite()
    );
    for p in positions(N) {
        for nan in nans::<T>() {
            let at = format!("CrossEntropy {} N={N}, NaN at [1][{p}]", T::NAME);
            let mut pred = prediction;
            pred[1][p] = nan;
            let mut grad = [[T::zero(); N]; B];
            let value = CrossEntropy.loss_batch(&pred, &target, &mut grad);
            assert!(value.is_nan(), "{at}: loss {value:?}");
            for b in 0..B {
                for o in 0..N {
                    if b == 1 {
                        assert!(grad[b][o].is_nan(), "{at}: grad[1][{o}] not NaN");
                    } else {
                        assert!(same(grad[b][o], clean_grad[b][o]), "{at}: grad[{b}][{o}]");
                    }
                }
            }
        }
    }
}

fn check_losses<T: Scalar>() {
    check_loss::<T, _, 5>("Mse", &Mse, false, -2.0);
    check_loss::<T, _, 5>("L1", &L1, false, -2.0);
    check_loss::<T, _, 5>("Huber", &Huber { delta: 0.5 }, false, -2.0);
    check_loss::<T, _, 5>("SmoothL1", &SmoothL1 { beta: 0.5 }, false, -2.0);
    check_loss::<T, _, 5>("SmoothL1 beta 0", &SmoothL1 { beta: 0.0 }, false, -2.0);
    check_loss::<T, _, 5>("Bce", &Bce, false, 0.05);
    check_loss::<T, _, 5>("BceWithLogits", &BceWithLogits, false, -3.0);
    check_loss::<T, _, 5>("CrossEntropyProbs", &CrossEntropyProbs, true, -3.0);
    // More logits than the softmax losses stage for one call of the vector exponential (256).
    check_loss::<T, _, 300>("CrossEntropyProbs", &CrossEntropyProbs, true, -3.0);
    check_cross_entropy::<T, 5>();
    check_cross_entropy::<T, 300>();
}

#[test]
fn every_loss_is_nan_when_an_input_is_nan() {
    check_losses::<f32>();
    check_losses::<f64>();
}

// ---------------------------------------------------------------------------------------------
// Vectorized slice functions
// ---------------------------------------------------------------------------------------------

type SliceFn<T> = fn(&[T], &mut [T]);

/// Every slice function on slices of every length from 1 to 40 with a NaN at every
/// position: NaN there, every other element as without the NaN (to the bit).
fn check_slice_functions<T: Scalar>() {
    let functions: [(&str, SliceFn<T>, f64, f64); 6] = [
        ("tanh_slice", T::tanh_slice, -12.0, 12.0),
        ("sigmoid_slice", T::sigmoid_slice, -30.0, 30.0),
        ("erf_slice", T::erf_slice, -5.0, 5.0),
        ("exp_slice", T::exp_slice, -100.0, 90.0),
        ("exp_m1_slice", T::exp_m1_slice, -20.0, 20.0),
        ("ln_1p_slice", T::ln_1p_slice, 0.0, 50.0),
    ];
    for (name, f, lo, hi) in functions {
        let clean: [T; 40] = values(80, lo, hi);
        for n in 1..=40 {
            let mut y_clean = [T::zero(); 40];
            f(&clean[..n], &mut y_clean[..n]);
            for p in 0..n {
                for nan in nans::<T>() {
                    let mut x = clean;
                    x[p] = nan;
                    let mut y = [T::zero(); 40];
                    f(&x[..n], &mut y[..n]);
                    for o in 0..n {
                        let at = format!("{} {name}, length {n}, NaN at {p}", T::NAME);
                        if o == p {
                            assert!(y[o].is_nan(), "{at}: y[{o}] = {:?}", y[o]);
                        } else {
                            assert!(same(y[o], y_clean[o]), "{at}: y[{o}] changed");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn vectorized_slice_functions_keep_nan_in_place() {
    check_slice_functions::<f32>();
    check_slice_functions::<f64>();
}

// ---------------------------------------------------------------------------------------------
// Recurrent cells (the gates' sigmoid)
// ---------------------------------------------------------------------------------------------

fn check_recurrent<const H: usize>() {
    let gru: Gru<3, H> = init::seeded(Init::PyTorchDefault, 90);
    let lstm: Lstm<3, H> = init::seeded(Init::PyTorchDefault, 91);
    for nan in nans::<f32>() {
        let x = [0.5, nan, -0.25];
        let mut state = GruState::zeros();
        let h = gru.step(&mut state, &x);
        assert!(h.iter().all(|v| v.is_nan()), "Gru<3, {H}>: {h:?}");
        let mut state = LstmState::zeros();
        let h = lstm.step(&mut state, &x);
        assert!(h.iter().all(|v| v.is_nan()), "Lstm<3, {H}>: {h:?}");
        assert!(
            state.c.iter().all(|v| v.is_nan()),
            "Lstm<3, {H}> cell: {:?}",
            state.c
        );
    }
    // A NaN that reaches one gate of one unit only (its input bias), where only the gates'
    // sigmoid sees it: the GRU's update gate `z`, the LSTM's forget gate `f`. That unit's
    // state is NaN, the others' are unchanged.
    let x = [0.5, 1.0, -0.25];
    let h_clean = gru.step(&mut GruState::zeros(), &x);
    let mut lstm_clean = LstmState::zeros();
    lstm.step(&mut lstm_clean, &x);
    for k in [0, H - 1] {
        for nan in nans::<f32>() {
            let mut gru_nan = gru;
            gru_nan.bias_ih_mut()[1][k] = nan;
            let h = gru_nan.step(&mut GruState::zeros(), &x);
            let mut lstm_nan = lstm;
            lstm_nan.bias_ih_mut()[1][k] = nan;
            let mut state = LstmState::zeros();
            lstm_nan.step(&mut state, &x);
            for o in 0..H {
                let at = format!("H={H}, NaN gate bias at {k}, unit {o}");
                if o == k {
                    assert!(h[o].is_nan(), "Gru {at}: {}", h[o]);
                    assert!(state.c[o].is_nan(), "Lstm {at}: cell {}", state.c[o]);
                    assert!(state.h[o].is_nan(), "Lstm {at}: {}", state.h[o]);
                } else {
                    assert!(same(h[o], h_clean[o]), "Gru {at} changed");
                    assert!(same(state.c[o], lstm_clean.c[o]), "Lstm {at}: cell changed");
                    assert!(same(state.h[o], lstm_clean.h[o]), "Lstm {at} changed");
                }
            }
        }
    }
}

#[test]
fn recurrent_steps_keep_nan() {
    check_recurrent::<5>();
    // A state of 16 f32 fills a 64-byte vector: the AVX-512 task where the CPU has it.
    check_recurrent::<16>();
}
