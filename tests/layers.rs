//! The non-Dense layers (Activation, Softmax, LayerNorm, BatchNorm): gradient checks against
//! central differences and their parameter/settings bookkeeping. Their PyTorch golden cases
//! (`activation_*`, `layernorm_*`, `batchnorm1d_*`) are checked by the golden harness
//! (`cargo test -p constnet-golden`).

use constnet::testing::{GradCheckConfig, assert_close, grad_check, grad_check_batch};
use constnet::{
    ActivationFn, ActivationLayer, BatchNorm, BatchNormCache, Dense, Elu, Gelu, GeluTanh, Identity,
    Layer, LayerNorm, LeakyRelu, Params, Relu, Sigmoid, Silu, Softmax, Softplus, Tanh, TensorKind,
    TrainCtx, Zeros, seq,
};

/// Deterministic values in `[-scale, scale)`, different for each `seed` (a golden-ratio walk).
fn values<const N: usize>(seed: u64, scale: f64) -> [f64; N] {
    core::array::from_fn(|i| {
        let v = (i as f64 * 0.754_877_666_246_692_7 + seed as f64 * 0.569_840_290_998_053_3 + 0.1)
            .fract();
        (2.0 * v - 1.0) * scale
    })
}

fn batch_values<const B: usize, const N: usize>(seed: u64, scale: f64) -> [[f64; N]; B] {
    core::array::from_fn(|b| values(seed * 31 + b as u64, scale))
}

/// Moves every value at least `margin` away from zero (the kinks of ReLU, LeakyReLU, ELU).
fn away_from_zero<const N: usize>(mut x: [f64; N], margin: f64) -> [f64; N] {
    for v in x.iter_mut() {
        if v.abs() < margin {
            *v = if *v < 0.0 { *v - margin } else { *v + margin };
        }
    }
    x
}

fn config() -> GradCheckConfig {
    GradCheckConfig::default()
}

// ---------------------------------------------------------------------------------------------
// Gradient checks
// ---------------------------------------------------------------------------------------------

fn check_activation_layer<A: ActivationFn<f64>>(name: &str) {
    let layer = ActivationLayer::<A, 7, f64>::new();
    let x = away_from_zero(values::<7>(3, 2.5), 0.05);
    grad_check(&layer, &x, config()).unwrap_or_else(|e| panic!("ActivationLayer<{name}>: {e}"));
    let mut batch = batch_values::<3, 7>(4, 2.5);
    for row in batch.iter_mut() {
        *row = away_from_zero(*row, 0.05);
    }
    grad_check_batch(&layer, &batch, config())
        .unwrap_or_else(|e| panic!("ActivationLayer<{name}> batch: {e}"));
}

#[test]
fn activation_layer_gradients() {
    check_activation_layer::<Identity>("Identity");
    check_activation_layer::<Relu>("Relu");
    check_activation_layer::<LeakyRelu>("LeakyRelu");
    check_activation_layer::<Elu>("Elu");
    check_activation_layer::<Sigmoid>("Sigmoid");
    check_activation_layer::<Tanh>("Tanh");
    check_activation_layer::<Softplus>("Softplus");
    check_activation_layer::<Gelu>("Gelu");
    check_activation_layer::<GeluTanh>("GeluTanh");
    check_activation_layer::<Silu>("Silu");
    check_activation_layer::<Softmax>("Softmax");
}

#[test]
fn activation_layer_with_custom_settings_gradients() {
    let leaky = ActivationLayer::<LeakyRelu, 5, f64>::with_activation(LeakyRelu {
        negative_slope: 0.3,
    });
    let x = away_from_zero(values::<5>(8, 2.0), 0.05);
    grad_check(&leaky, &x, config()).unwrap();
    // The slope is used: a negative input gives slope·x.
    assert_eq!(leaky.forward(&[-2.0, 1.0, 0.0, 3.0, -1.0])[0], -0.6);
    let softplus = ActivationLayer::<Softplus, 5, f64>::with_activation(Softplus {
        beta: 2.0,
        threshold: 20.0,
    });
    grad_check(&softplus, &x, config()).unwrap();
}

fn check_dense<A: ActivationFn<f64>>(name: &str) {
    let weight: [[f64; 4]; 3] = batch_values(5, 0.8);
    let bias = values::<3>(6, 0.3);
    let batch: [[f64; 4]; 3] = batch_values(7, 1.5);
    // The pre-activations must stay away from the kinks at 0 for the check to mean anything.
    let linear = Dense::<4, 3, Identity, f64>::from_rows(weight, bias);
    for x in &batch {
        for z in linear.forward(x) {
            assert!(
                z.abs() > 1e-2,
                "{name}: pre-activation {z} too close to a kink"
            );
        }
    }
    let layer = Dense::<4, 3, A, f64>::from_rows(weight, bias);
    grad_check(&layer, &batch[0], config()).unwrap_or_else(|e| panic!("Dense<{name}>: {e}"));
    grad_check_batch(&layer, &batch, config())
        .unwrap_or_else(|e| panic!("Dense<{name}> batch: {e}"));
}

#[test]
fn dense_gradients_with_every_activation() {
    check_dense::<Identity>("Identity");
    check_dense::<Relu>("Relu");
    check_dense::<LeakyRelu>("LeakyRelu");
    check_dense::<Elu>("Elu");
    check_dense::<Sigmoid>("Sigmoid");
    check_dense::<Tanh>("Tanh");
    check_dense::<Softplus>("Softplus");
    check_dense::<Gelu>("Gelu");
    check_dense::<GeluTanh>("GeluTanh");
    check_dense::<Silu>("Silu");
    check_dense::<Softmax>("Softmax");
}

#[test]
fn layer_norm_gradients() {
    let layer = LayerNorm::<6, f64>::from_affine(values(1, 1.5), values(2, 0.5));
    grad_check(&layer, &values(3, 2.0), config()).unwrap();
    grad_check_batch(&layer, &batch_values::<3, 6>(4, 2.0), config()).unwrap();
    // A larger eps changes the function; the gradient still matches it.
    let wide = layer.with_eps(0.5);
    grad_check(&wide, &values(3, 2.0), config()).unwrap();
}

#[test]
fn batch_norm_gradients() {
    let layer = BatchNorm::<5, f64>::from_affine(values(1, 1.5), values(2, 0.5));
    grad_check_batch(&layer, &batch_values::<4, 5>(3, 2.0), config()).unwrap();
    grad_check_batch(&layer, &batch_values::<2, 5>(5, 2.0), config()).unwrap();
    let wide = layer.with_eps(0.3);
    grad_check_batch(&wide, &batch_values::<4, 5>(3, 2.0), config()).unwrap();
}

#[test]
fn chain_dense_layer_norm_dense_gradients() {
    type Net = seq![
        Dense<3, 5, Tanh, f64>,
        LayerNorm<5, f64>,
        Dense<5, 2, Sigmoid, f64>
    ];
    let net: Net = constnet::init::seeded(constnet::init::Init::XavierNormal, 21);
    let mut net = net;
    net.second.first = LayerNorm::from_affine(values(9, 1.2), values(10, 0.4));
    grad_check(&net, &values(11, 1.5), config()).unwrap();
    grad_check_batch(&net, &batch_values::<4, 3>(12, 1.5), config()).unwrap();
}

#[test]
fn chain_with_batch_norm_trains_on_batches() {
    // Only batched training is used, so the chain compiles even though BatchNorm rejects
    // single-sample training at compile time.
    type Net = seq![
        Dense<3, 4, Identity, f64>,
        BatchNorm<4, f64>,
        ActivationLayer<Tanh, 4, f64>,
        Dense<4, 2, Identity, f64>
    ];
    let mut net: Net = constnet::init::seeded(constnet::init::Init::HeUniform, 4);
    net.second.first = BatchNorm::from_affine(values(1, 1.5), values(2, 0.5));
    grad_check_batch(&net, &batch_values::<4, 3>(6, 1.5), config()).unwrap();
    // Inference works one sample at a time with the running statistics.
    let _ = net.forward(&[0.1, 0.2, 0.3]);
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping: zeros, defaults, shapes, batched twins
// ---------------------------------------------------------------------------------------------

#[test]
fn activation_layer_has_no_parameters() {
    type L = ActivationLayer<LeakyRelu, 4, f64>;
    assert_eq!(L::PARAM_COUNT, 0);
    assert_eq!(L::shapes().count(), 0);
    let mut layer = L::with_activation(LeakyRelu {
        negative_slope: 0.5,
    });
    assert_eq!(layer.tensors().count(), 0);
    layer.restore_defaults();
    assert_eq!(layer.activation.negative_slope, 0.01);
    let boxed = L::boxed_zeros();
    assert_eq!(boxed.activation.negative_slope, 0.01);
    // backward_params adds nothing (there is nothing to add) and backward returns f'(x)·dy.
    let (y, cache) = layer.forward_train(&[-2.0, 3.0, 1.0, -1.0], &mut TrainCtx::new(0));
    assert_eq!(y, [-0.02, 3.0, 1.0, -0.01]);
    let mut grads = L::zeros();
    let dx = layer.backward(&cache, &[1.0, 2.0, 3.0, 4.0], &mut grads);
    assert_eq!(dx, [0.01, 2.0, 3.0, 0.04]);
}

#[test]
fn softmax_layer_is_the_softmax_activation() {
    let layer = constnet::SoftmaxLayer::<3, f64>::new();
    let y = layer.forward(&[1.0, 2.0, 3.0]);
    let e = [1.0f64.exp(), 2.0f64.exp(), 3.0f64.exp()];
    let sum: f64 = e.iter().sum();
    assert_close(&y, &[e[0] / sum, e[1] / sum, e[2] / sum], 1e-15, "softmax");
    // Stable for large logits.
    assert_eq!(layer.forward(&[1000.0, 1000.0, -1000.0]), [0.5, 0.5, 0.0]);
}

#[test]
fn layer_norm_new_zeros_defaults_and_shapes() {
    type L = LayerNorm<3, f64>;
    assert_eq!(L::PARAM_COUNT, 6);
    let shapes: Vec<_> = L::shapes().collect();
    assert_eq!(shapes.len(), 2);
    assert_eq!(shapes[0].kind, TensorKind::Scale);
    assert_eq!(shapes[1].kind, TensorKind::Shift);
    assert_eq!((shapes[0].rows, shapes[0].cols), (3, 1));
    let new = L::new();
    assert_eq!((new.weight, new.bias, new.eps), ([1.0; 3], [0.0; 3], 1e-5));
    let zeros = L::zeros();
    assert_eq!(
        (zeros.weight, zeros.bias, zeros.eps),
        ([0.0; 3], [0.0; 3], 1e-5)
    );
    let boxed = L::boxed_zeros();
    assert_eq!(*boxed, zeros);
    // Tensor order: weight then bias.
    let layer = L::from_affine([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]);
    let flat: Vec<f64> = layer.tensors().flatten().copied().collect();
    assert_eq!(flat, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn layer_norm_forward_by_hand() {
    // x = [1, 2, 6]: mean 3, biased variance (4 + 1 + 9)/3 = 14/3.
    let layer = LayerNorm::<3, f64>::from_affine([2.0, 1.0, 0.5], [0.0, 1.0, -1.0]);
    let y = layer.forward(&[1.0, 2.0, 6.0]);
    let inv_std = 1.0 / (14.0f64 / 3.0 + 1e-5).sqrt();
    let want = [
        -2.0 * inv_std * 2.0,
        -inv_std + 1.0,
        3.0 * inv_std * 0.5 - 1.0,
    ];
    assert_close(&y, &want, 1e-15, "layernorm by hand");
    // Batched forward and training forward agree with the single-sample one.
    let mut ys = [[0.0; 3]; 2];
    let mut scratch = <LayerNorm<3, f64> as Layer>::BatchCache::<2>::zeros();
    layer.forward_batch(&[[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]], &mut ys, &mut scratch);
    assert_eq!(ys[0], y);
    let (yt, _) = layer.forward_train(&[1.0, 2.0, 6.0], &mut TrainCtx::new(0));
    assert_eq!(yt, y);
}

#[test]
fn layer_norm_batch_params_match_full_backward() {
    let mut layer = LayerNorm::<4, f64>::from_affine(values(1, 1.0), values(2, 1.0));
    let x = batch_values::<3, 4>(3, 2.0);
    let dy = batch_values::<3, 4>(4, 1.0);
    let mut y = [[0.0; 4]; 3];
    let mut cache = Zeros::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    let mut full = LayerNorm::zeros();
    let mut dx = [[0.0; 4]; 3];
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut full);
    let mut params_only = LayerNorm::zeros();
    layer.backward_batch_params(&x, &y, &mut cache, &dy, &mut params_only);
    assert_eq!(full, params_only);
    assert_ne!(full.weight, [0.0; 4]);
}

#[test]
fn batch_norm_new_zeros_defaults_and_shapes() {
    type L = BatchNorm<3, f64>;
    assert_eq!(L::PARAM_COUNT, 6);
    let kinds: Vec<_> = L::shapes().map(|s| s.kind).collect();
    assert_eq!(kinds, [TensorKind::Scale, TensorKind::Shift]);
    let new = L::new();
    assert_eq!((new.weight, new.bias), ([1.0; 3], [0.0; 3]));
    assert_eq!(
        (new.running_mean(), new.running_var()),
        (&[0.0; 3], &[1.0; 3])
    );
    assert_eq!((new.eps, new.momentum), (1e-5, 0.1));
    let zeros = L::zeros();
    assert_eq!((zeros.weight, zeros.bias), ([0.0; 3], [0.0; 3]));
    assert_eq!(
        (zeros.running_mean(), zeros.running_var()),
        (&[0.0; 3], &[1.0; 3])
    );
    // A zeroed heap allocation gets its settings and running statistics restored.
    assert_eq!(*L::boxed_zeros(), zeros);
    let mut changed = L::new().with_eps(0.5).with_momentum(0.7);
    changed.set_running_mean([1.0, 2.0, 3.0]);
    changed.set_running_var([4.0, 5.0, 6.0]);
    assert_eq!(changed.running_var(), &[4.0, 5.0, 6.0]);
    changed.restore_defaults();
    assert_eq!(changed, L::new());
    // Running statistics are not parameters.
    assert_eq!(new.tensors().map(|t| t.len()).sum::<usize>(), 6);
}

#[test]
fn batch_norm_eval_forward_by_hand() {
    let mut layer = BatchNorm::<2, f64>::from_affine([2.0, 0.5], [1.0, -1.0]);
    layer.set_running_mean([1.0, -2.0]);
    layer.set_running_var([4.0, 0.25]);
    let x = [3.0, 0.0];
    let want = [
        (3.0 - 1.0) / (4.0f64 + 1e-5).sqrt() * 2.0 + 1.0,
        (0.0 + 2.0) / (0.25f64 + 1e-5).sqrt() * 0.5 - 1.0,
    ];
    assert_close(&layer.forward(&x), &want, 1e-15, "batchnorm eval");
    let mut y = [[0.0; 2]; 2];
    let mut scratch = <BatchNorm<2, f64> as Layer>::BatchCache::<2>::zeros();
    layer.forward_batch(&[x, [1.0, -2.0]], &mut y, &mut scratch);
    assert_close(&y[0], &want, 1e-15, "batchnorm eval batch");
    assert_close(
        &y[1],
        &[1.0, -1.0],
        1e-15,
        "batchnorm eval at the running mean",
    );
}

#[test]
fn batch_norm_training_uses_batch_statistics_and_updates_running_ones() {
    let mut layer = BatchNorm::<1, f64>::new().with_momentum(0.25);
    let x = [[1.0], [2.0], [6.0]]; // mean 3, biased var 14/3, unbiased var 7
    let mut y = [[0.0]; 3];
    let mut cache: BatchNormCache<1, 3, f64> = Zeros::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    let inv_std = 1.0 / (14.0f64 / 3.0 + 1e-5).sqrt();
    assert_close(
        &[y[0][0], y[1][0], y[2][0]],
        &[-2.0 * inv_std, -inv_std, 3.0 * inv_std],
        1e-15,
        "training output",
    );
    assert_close(layer.running_mean(), &[0.25 * 3.0], 1e-15, "running mean");
    assert_close(
        layer.running_var(),
        &[0.75 + 0.25 * 7.0],
        1e-15,
        "running var",
    );
    // backward_batch_params adds the same parameter gradients as backward_batch.
    let dy = [[0.5], [-1.0], [2.0]];
    let mut full = BatchNorm::zeros();
    let mut dx = [[0.0]; 3];
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut full);
    let mut params_only = BatchNorm::zeros();
    layer.backward_batch_params(&x, &y, &mut cache, &dy, &mut params_only);
    assert_eq!(full, params_only);
    assert_close(&full.bias, &[1.5], 1e-15, "bias grad = Σ dy");
    // The input gradient of a batch norm sums to zero over the batch (the mean is removed).
    assert!((dx[0][0] + dx[1][0] + dx[2][0]).abs() < 1e-14);
}

#[test]
fn backward_adds_into_gradients() {
    let layer = LayerNorm::<3, f64>::from_affine([1.0, 2.0, 3.0], [0.0; 3]);
    let (_, cache) = layer.forward_train(&[0.5, -1.0, 2.0], &mut TrainCtx::new(0));
    let mut once = LayerNorm::zeros();
    layer.backward(&cache, &[1.0, 0.5, -0.5], &mut once);
    let mut twice = once;
    layer.backward(&cache, &[1.0, 0.5, -0.5], &mut twice);
    for (a, b) in once.weight.iter().zip(twice.weight.iter()) {
        assert_eq!(2.0 * a, *b);
    }
    assert_eq!(twice.bias, [2.0, 1.0, -1.0]);
}

#[test]
fn layer_norm_f32_matches_f64() {
    let x64 = values::<8>(2, 3.0);
    let layer64 = LayerNorm::<8, f64>::from_affine(values(3, 1.0), values(4, 1.0));
    let layer32 = LayerNorm::<8, f32>::from_affine(
        layer64.weight.map(|v| v as f32),
        layer64.bias.map(|v| v as f32),
    );
    let y32 = layer32.forward(&x64.map(|v| v as f32)).map(f64::from);
    assert_close(&y32, &layer64.forward(&x64), 1e-5, "f32 layernorm");
}
