//! `Conv1d` and its streaming form: gradients by finite differences in several
//! configurations, the forward pass against a direct transcription of PyTorch's formula,
//! streaming against the windowed layer, and weights through every file format.

use constnet::Named;
use constnet::init::{self, Init};
use constnet::io::{self, rust_source::to_rust};
use constnet::layers::conv1d_out_len;
use constnet::testing::{GradCheckConfig, grad_check, grad_check_batch};
use constnet::{
    ActivationFn, Conv1d, Conv1dStream, Dense, Identity, Layer, LeakyRelu, Params, Relu, Scalar,
    Tanh, Zeros, seq,
};

/// Deterministic values in (-1, 1).
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn window<const C: usize, const L: usize>(seed: u64) -> [[f64; C]; L] {
    let v = values(seed, C * L);
    core::array::from_fn(|t| core::array::from_fn(|c| v[t * C + c]))
}

/// A layer with every weight and bias drawn from `values(seed)`.
fn layer<
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const L: usize,
    const L_OUT: usize,
    A: ActivationFn<f64>,
    const S: usize,
    const P: usize,
    const D: usize,
    const G: usize,
    const CG: usize,
>(
    seed: u64,
) -> Conv1d<C_IN, C_OUT, K, L, L_OUT, A, f64, S, P, D, G, CG> {
    let v = values(seed, C_OUT * CG * K + C_OUT);
    let weight = core::array::from_fn(|o| {
        core::array::from_fn(|c| core::array::from_fn(|k| v[(o * CG + c) * K + k]))
    });
    let bias = core::array::from_fn(|o| v[C_OUT * CG * K + o] * 0.5);
    Conv1d::from_pytorch(weight, bias)
}

/// PyTorch's formula, written out directly (channel-first, no activation).
#[allow(clippy::too_many_arguments)]
fn reference(
    x: &[Vec<f64>],
    weight: &[Vec<Vec<f64>>],
    bias: &[f64],
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
) -> Vec<Vec<f64>> {
    let (l, c_out) = (x.len(), weight.len());
    let (cg, k) = (weight[0].len(), weight[0][0].len());
    let l_out = conv1d_out_len(l, k, stride, padding, dilation);
    let og = c_out / groups;
    (0..l_out)
        .map(|t| {
            (0..c_out)
                .map(|o| {
                    let q = o / og;
                    let mut z = bias[o];
                    for (c, wc) in weight[o].iter().enumerate() {
                        for (kk, &w) in wc.iter().enumerate() {
                            let j = (t * stride + kk * dilation) as isize - padding as isize;
                            if j >= 0 && (j as usize) < l {
                                z += w * x[j as usize][q * cg + c];
                            }
                        }
                    }
                    z
                })
                .collect()
        })
        .collect()
}

/// Forward against [`reference`], then the single-sample and batched gradient checks.
fn check<
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const L: usize,
    const L_OUT: usize,
    A: ActivationFn<f64>,
    const S: usize,
    const P: usize,
    const D: usize,
    const G: usize,
    const CG: usize,
>(
    seed: u64,
) {
    let conv = layer::<C_IN, C_OUT, K, L, L_OUT, A, S, P, D, G, CG>(seed);
    let x = window::<C_IN, L>(seed + 1);
    let weight: Vec<Vec<Vec<f64>>> = conv
        .weights()
        .iter()
        .map(|o| o.iter().map(|c| c.to_vec()).collect())
        .collect();
    let want = reference(
        &x.iter().map(|f| f.to_vec()).collect::<Vec<_>>(),
        &weight,
        conv.bias(),
        S,
        P,
        D,
        G,
    );
    let (y, cache) = conv.forward_train(&x, &mut constnet::TrainCtx::new(0));
    assert_eq!(want.len(), L_OUT);
    for (t, (zt, wt)) in cache.z.iter().zip(&want).enumerate() {
        for (o, (&z, &w)) in zt.iter().zip(wt).enumerate() {
            assert!(
                (z - w).abs() <= 1e-14 * w.abs().max(1.0),
                "z[{t}][{o}] = {z}, want {w}"
            );
        }
    }
    assert_eq!(conv.forward(&x), y);
    let config = GradCheckConfig::default();
    grad_check(&conv, &x, config).unwrap_or_else(|e| panic!("{e}"));
    let batch = [x, window::<C_IN, L>(seed + 2)];
    grad_check_batch(&conv, &batch, config).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn plain_kernel_3() {
    check::<3, 4, 3, 8, 6, Identity, 1, 0, 1, 1, 3>(1);
}

#[test]
fn stride_2_with_padding_and_tanh() {
    // (9 + 2 − 2 − 1) / 2 + 1 = 5; the last input frame is reached by no window.
    check::<2, 3, 3, 9, 5, Tanh, 2, 1, 1, 1, 2>(2);
}

#[test]
fn dilation_2_with_padding() {
    check::<2, 3, 3, 10, 8, Tanh, 1, 1, 2, 1, 2>(3);
}

#[test]
fn stride_2_dilation_2_leaves_gaps() {
    check::<2, 2, 2, 9, 4, Identity, 2, 0, 2, 1, 2>(4);
}

#[test]
fn two_groups() {
    // 4 input channels in 2 groups of 2, 6 outputs (3 per group).
    check::<4, 6, 3, 7, 5, Tanh, 1, 0, 1, 2, 2>(5);
}

#[test]
fn depthwise_and_depthwise_with_a_multiplier() {
    check::<3, 3, 3, 7, 7, Identity, 1, 1, 1, 3, 1>(6);
    // Each of the 2 input channels feeds 3 outputs.
    check::<2, 6, 2, 6, 5, Tanh, 1, 0, 1, 2, 1>(7);
}

#[test]
fn relu_and_kernel_1() {
    // ReLU away from its kink: the check's steps do not cross zero for these values.
    check::<4, 2, 1, 4, 4, Relu, 1, 0, 1, 1, 4>(8);
    check::<2, 3, 2, 5, 4, Relu, 1, 0, 1, 1, 2>(9);
}

#[test]
fn out_len_follows_pytorch() {
    assert_eq!(conv1d_out_len(8, 3, 1, 0, 1), 6);
    assert_eq!(conv1d_out_len(10, 3, 2, 0, 1), 4);
    assert_eq!(conv1d_out_len(10, 3, 1, 1, 2), 8);
    assert_eq!(conv1d_out_len(5, 3, 1, 2, 1), 7);
    assert_eq!(conv1d_out_len(2, 3, 1, 0, 1), 0); // the kernel does not fit
    type Strided = Conv1d<1, 1, 3, 16, { conv1d_out_len(16, 3, 2, 1, 1) }, Identity, f32, 2, 1>;
    assert_eq!(Strided::zeros().forward(&[[0.0]; 16]).len(), 8);
}

#[test]
fn weights_speak_pytorch_order_and_files_see_its_shape() {
    type Grouped = Conv1d<4, 6, 3, 7, 5, LeakyRelu, f64, 1, 0, 1, 2, 2>;
    let conv: Grouped = layer(11);
    let w = conv.weights();
    assert_eq!(conv.weight(5, 1, 2), w[5][1][2]);
    let mut copy = Grouped::zeros();
    copy.set_weights(&w);
    *copy.bias_mut() = *conv.bias();
    assert_eq!(copy, conv);
    copy.set_weight(0, 0, 0, 9.0);
    assert_eq!(copy.weight(0, 0, 0), 9.0);
    assert_eq!(Grouped::PARAM_COUNT, 6 * 2 * 3 + 6);
    assert_eq!(Grouped::MODULES, 2);
    assert_eq!(<Conv1d<4, 6, 3, 7, 5>>::MODULES, 1);
    let mut keys = Vec::new();
    conv.visit_tensors(0, &mut |info, data| {
        keys.push(format!("{}.{} {}", info.module, info.name, info.shape));
        if info.name == "weight" {
            // PyTorch's row-major position -> storage.
            for (o, wo) in w.iter().enumerate() {
                for (c, wc) in wo.iter().enumerate() {
                    for (k, &v) in wc.iter().enumerate() {
                        assert_eq!(data[info.storage_index((o * 2 + c) * 3 + k)], v);
                    }
                }
            }
        }
    });
    assert_eq!(keys, ["0.weight [6, 2, 3]", "0.bias [6]"]);
    // For a matrix, reversed axes are the transposed layout.
    let matrix = |layout| constnet::TensorInfo {
        module: 0,
        name: "weight",
        shape: constnet::Shape::matrix(3, 5),
        layout,
        trained: true,
    };
    for i in 0..15 {
        assert_eq!(
            matrix(constnet::Layout::Reversed).storage_index(i),
            matrix(constnet::Layout::Transposed).storage_index(i)
        );
    }
    let mut settings = Vec::new();
    conv.visit_settings(0, &mut |module, name, _| {
        settings.push(format!("{module}.{name}"))
    });
    assert_eq!(settings, ["1.negative_slope"]);
}

#[test]
fn pytorch_default_init_uses_the_convolution_fans() {
    // nn.Conv1d: U(±1/√(CG·K)) for the weight and the bias.
    let conv: Conv1d<8, 16, 5, 20, 16> = init::seeded(Init::PyTorchDefault, 3);
    let bound = 1.0 / ((8.0f32 * 5.0).sqrt());
    let all = conv.tensors().flatten().copied().collect::<Vec<f32>>();
    assert!(all.iter().all(|v| v.abs() <= bound));
    assert!(all.iter().any(|v| v.abs() > 0.9 * bound));
}

/// Streams `signal` through `conv` frame by frame, and compares with the windowed layer run
/// on `history` zero frames followed by the signal (`PADDING = 0`, `L = N + HISTORY`,
/// `L_OUT = N`): equal to the bit.
fn stream_equals_window<
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const L: usize,
    const N: usize,
    A: ActivationFn<f64>,
    const D: usize,
    const G: usize,
    const CG: usize,
    const H: usize,
>(
    seed: u64,
) {
    assert_eq!(L, N + H);
    let conv = layer::<C_IN, C_OUT, K, L, N, A, 1, 0, D, G, CG>(seed);
    let signal = window::<C_IN, N>(seed + 1);
    let mut padded = [[0.0; C_IN]; L];
    padded[H..].copy_from_slice(&signal);
    let want = conv.forward(&padded);
    let mut stream = Conv1dStream::<C_IN, H, f64>::new();
    let got: Vec<[f64; C_OUT]> = signal.iter().map(|x| conv.step(&mut stream, x)).collect();
    assert_eq!(got, want);
    // The block form, after a reset, gives the same frames; so does a second run of the
    // signal split in two blocks.
    stream.reset();
    let mut out = [[0.0; C_OUT]; N];
    conv.step_block(&mut stream, &signal, &mut out);
    assert_eq!(out, want);
    stream.reset();
    let (first, second) = out.split_at_mut(N / 2);
    conv.step_block(&mut stream, &signal[..N / 2], first);
    conv.step_block(&mut stream, &signal[N / 2..], second);
    assert_eq!(out, want);
}

#[test]
fn streaming_equals_the_window_with_causal_padding() {
    stream_equals_window::<2, 3, 3, 14, 12, Tanh, 1, 1, 2, 2>(21);
    stream_equals_window::<2, 3, 3, 16, 12, Identity, 2, 1, 2, 4>(22);
    stream_equals_window::<3, 3, 4, 19, 10, Relu, 3, 3, 1, 9>(23); // depthwise
    stream_equals_window::<4, 2, 1, 5, 5, Tanh, 1, 1, 4, 0>(24); // no history
}

#[test]
fn networks_of_convolutions_chain_and_train() {
    use constnet::loss::{Loss, Mse};
    use constnet::optim::{Adam, AdamConfig, Optimizer};
    use constnet::{Flatten, Params, TrainCtx};
    // 2 channels over 16 frames -> 4 channels over 7 (stride 2) -> 1 channel over 5, flattened
    // into a dense head: a classifier-shaped network that trains.
    type Convs = seq![
        Conv1d<2, 4, 3, 16, 7, Tanh, f64, 2>,
        Conv1d<4, 1, 3, 7, 5, Identity, f64>
    ];
    type Net = seq![Convs, Flatten<[[f64; 1]; 5], 5>, Dense<5, 1, Identity, f64>];
    let convs: Convs = init::seeded(Init::XavierUniform, 5);
    let x = [window::<2, 16>(30), window::<2, 16>(31)];
    grad_check_batch(&convs, &x, GradCheckConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(convs.forward(&x[0]).len(), 5);

    let mut net: Net = init::seeded(Init::XavierUniform, 5);
    grad_check_batch(&net, &x, GradCheckConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let targets = [[0.5], [-0.5]];
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.01));
    let mut grads = Net::zeros();
    let mut cache = <Net as Layer>::BatchCache::<2>::zeros();
    let (mut y, mut dy) = ([[0.0; 1]; 2], [[0.0; 1]; 2]);
    let mut ctx = TrainCtx::new(0);
    let mut losses = Vec::new();
    for _ in 0..100 {
        grads.fill_zero();
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        losses.push(Mse.loss_batch(&y, &targets, &mut dy));
        net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
        adam.step(&mut net, &grads);
    }
    assert!(
        losses[99] < 0.01 * losses[0],
        "the loss falls: {} -> {}",
        losses[0],
        losses[99]
    );
}

// ---- Files ----

type Saved = seq![
    Conv1d<3, 4, 3, 9, 4, LeakyRelu, f32, 2, 0, 1, 1, 3>,
    Conv1d<4, 4, 2, 4, 3, Identity, f32, 1, 0, 1, 4, 1>
];

fn saved() -> Saved {
    let mut net: Saved = init::seeded(Init::HeUniform, 8);
    net.first.activation.negative_slope = 0.25;
    net
}

#[test]
fn own_format_round_trip() {
    let net = saved();
    let bytes = io::to_bytes(&net).unwrap();
    let mut back = Saved::zeros();
    io::read_from(&mut back, &bytes).unwrap();
    assert_eq!(back, net);
    // Another kernel size is another shape, named in the error; the model is untouched.
    let mut other: seq![
        Conv1d<3, 4, 3, 9, 4, LeakyRelu, f32, 2, 0, 1, 1, 3>,
        Conv1d<4, 4, 1, 4, 4, Identity, f32, 1, 0, 1, 4, 1>
    ] = Zeros::zeros();
    let before = other;
    let err = io::read_from(&mut other, &bytes).unwrap_err().to_string();
    assert!(
        err.contains("2.weight") && err.contains("[4, 1, 1]"),
        "{err}"
    );
    assert_eq!(other, before);
}

/// Builds the tokens into a `static` and also returns them as text.
macro_rules! baked {
    ($($expr:tt)*) => {{
        static BAKED: Saved = $($expr)*;
        (stringify!($($expr)*), &BAKED)
    }};
}

#[test]
fn rust_source_builds_the_same_network() {
    let net: Saved = constnet::Chain::new(
        Conv1d::new(
            [
                [[0.5, -0.25, 1.0], [0.125, 0.0, -1.5], [2.0, 0.75, -0.5]],
                [[-1.0, 0.5, 0.25], [0.0, 1.25, -0.125], [0.5, 0.5, 0.5]],
                [[0.25, 0.25, -0.75], [1.5, -2.0, 0.0], [0.0, 0.0, 1.0]],
                [[-0.5, 1.0, 0.0], [0.0, 0.375, 0.5], [-0.25, 0.0, 0.125]],
            ],
            [0.5, -0.5, 0.0, 1e-7],
            LeakyRelu {
                negative_slope: 0.25,
            },
        ),
        Conv1d::new(
            [[[1.0, -1.0]], [[0.5, 0.5]], [[-0.25, 2.0]], [[0.0, 1.5]]],
            [0.0, 0.25, -0.25, 0.125],
            Identity,
        ),
    );
    let (text, baked) = baked!(constnet::Chain::new(
        constnet::Conv1d::new(
            [
                [[0.5, -0.25, 1.0], [0.125, 0.0, -1.5], [2.0, 0.75, -0.5]],
                [[-1.0, 0.5, 0.25], [0.0, 1.25, -0.125], [0.5, 0.5, 0.5]],
                [[0.25, 0.25, -0.75], [1.5, -2.0, 0.0], [0.0, 0.0, 1.0]],
                [[-0.5, 1.0, 0.0], [0.0, 0.375, 0.5], [-0.25, 0.0, 0.125]],
            ],
            [0.5, -0.5, 0.0, 1e-7],
            constnet::LeakyRelu {
                negative_slope: 0.25
            },
        ),
        constnet::Conv1d::new(
            [[[1.0, -1.0]], [[0.5, 0.5]], [[-0.25, 2.0]], [[0.0, 1.5]],],
            [0.0, 0.25, -0.25, 0.125],
            constnet::Identity,
        ),
    ));
    let source = to_rust(&net, "NET", "Saved");
    // The same tokens, up to white space and trailing commas (which rustfmt moves).
    let strip = |s: &str| {
        s.split_whitespace()
            .collect::<String>()
            .replace(",]", "]")
            .replace(",)", ")")
    };
    assert_eq!(
        strip(&source).split_once("pubstaticNET:Saved=").unwrap().1,
        strip(&format!("{text};")),
        "{source}"
    );
    assert_eq!(*baked, net);
    assert_eq!(to_rust(baked, "NET", "Saved"), source);
    // A trained network exports and parses back to the same floats.
    let trained = saved();
    let exported = to_rust(&trained, "NET", "Saved");
    assert!(
        exported.contains("constnet::Conv1d::new(\n[\n[["),
        "{exported}"
    );
}

#[cfg(feature = "safetensors")]
mod pytorch {
    use super::*;
    use constnet::safetensors as st;

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn file(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
        let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| f32_bytes(&t.2)).collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .zip(&bytes)
            .map(|((k, s, _), b)| {
                (
                    k.to_string(),
                    safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                        .unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    /// The state_dict of `nn.Sequential(nn.Conv1d(3, 4, 3, stride=2), nn.LeakyReLU(),
    /// nn.Conv1d(4, 4, 2, groups=4))`: keys `0.*` and `2.*`, weights `[C_out][C_in/groups][K]`.
    #[test]
    fn state_dict_loads_in_pytorch_order() {
        let w0: Vec<f32> = (0..36).map(|i| i as f32 / 8.0 - 2.0).collect();
        let b0 = vec![0.5, -0.5, 0.25, 0.0];
        let w2: Vec<f32> = (0..8).map(|i| 1.0 - i as f32 / 4.0).collect();
        let b2 = vec![0.125, 0.0, -0.125, 1.0];
        let bytes = file(&[
            ("0.weight", vec![4, 3, 3], w0.clone()),
            ("0.bias", vec![4], b0.clone()),
            ("2.weight", vec![4, 1, 2], w2.clone()),
            ("2.bias", vec![4], b2.clone()),
        ]);
        let mut net = Saved::zeros();
        st::load_into(&mut net, &bytes).unwrap();
        for o in 0..4 {
            for c in 0..3 {
                for k in 0..3 {
                    assert_eq!(net.first.weight(o, c, k), w0[(o * 3 + c) * 3 + k]);
                }
            }
            for k in 0..2 {
                assert_eq!(net.second.weight(o, 0, k), w2[o * 2 + k]);
            }
        }
        assert_eq!(net.first.bias().to_vec(), b0);
        assert_eq!(net.second.bias().to_vec(), b2);
        // Saved back, it is the same state_dict (the same keys, shapes and values).
        let again = st::to_bytes(&net).unwrap();
        let mut copy = Saved::zeros();
        st::load_into(&mut copy, &again).unwrap();
        assert_eq!(copy, net);
        let parsed = safetensors::SafeTensors::deserialize(&again).unwrap();
        assert_eq!(parsed.tensor("0.weight").unwrap().shape(), [4, 3, 3]);
        assert_eq!(parsed.tensor("2.weight").unwrap().data(), f32_bytes(&w2));

        // A wrong kernel size or group count names the key and both shapes.
        let before = net;
        let wrong = file(&[
            ("0.weight", vec![4, 3, 3], w0.clone()),
            ("0.bias", vec![4], b0.clone()),
            ("2.weight", vec![4, 4, 2], vec![0.0; 32]),
            ("2.bias", vec![4], b2.clone()),
        ]);
        let err = st::load_into(&mut net, &wrong).unwrap_err().to_string();
        assert_eq!(err, "2.weight: expected [4, 1, 2] f32, found [4, 4, 2] f32");
        let wrong = file(&[
            ("0.weight", vec![4, 3, 2], vec![0.0; 24]),
            ("0.bias", vec![4], b0),
            ("2.weight", vec![4, 1, 2], w2),
            ("2.bias", vec![4], b2),
        ]);
        let err = st::load_into(&mut net, &wrong).unwrap_err().to_string();
        assert_eq!(err, "0.weight: expected [4, 3, 3] f32, found [4, 3, 2] f32");
        assert_eq!(net, before);
    }
}

/// `f32` runs the same code: a quick check that a layer in `f32` agrees with `f64`.
#[test]
fn f32_agrees_with_f64() {
    let conv64 = layer::<2, 3, 3, 10, 8, Tanh, 1, 1, 2, 1, 2>(40);
    let conv32 = Conv1d::<2, 3, 3, 10, 8, Tanh, f32, 1, 1, 2>::from_pytorch(
        conv64.weights().map(|o| o.map(|c| c.map(|w| w as f32))),
        conv64.bias().map(|b| b as f32),
    );
    let x = window::<2, 10>(41);
    let y64 = conv64.forward(&x);
    let y32 = conv32.forward(&x.map(|f| f.map(|v| v as f32)));
    for (a, b) in y64.as_flattened().iter().zip(y32.as_flattened()) {
        assert!((a - b.to_f64()).abs() < 1e-5, "{a} vs {b}");
    }
}
