//! GRU and LSTM: finite-difference checks of the sequence layers (last state and every
//! state, zero and given initial state, single-sample and batched), streaming equals the
//! sequence layer, flushed state during silence, independent voices, and a GRU + Dense model
//! trained by backpropagation through time.

use constnet::Named;
use constnet::init::{self, Init};
use constnet::io::{self, rust_source::to_rust};
use constnet::layers::{
    AllStates, Gru, GruSequence, GruState, LastState, Lstm, LstmSequence, LstmState, RecurrentCell,
    Sequence, SequenceCache,
};
use constnet::loss::{Loss, Mse};
use constnet::optim::{Adam, AdamConfig, Optimizer};
use constnet::testing::{GradCheckConfig, Scalars, grad_check, grad_check_batch};
use constnet::{Dense, Layer, Params, TrainCtx, Zeros, seq};

/// Deterministic inputs in about [-1.5, 1.5].
fn inputs<const IN: usize, const S: usize>(seed: usize) -> [[f64; IN]; S] {
    core::array::from_fn(|t| {
        core::array::from_fn(|i| ((seed * 7 + t * 5 + i * 3) % 11) as f64 * 0.3 - 1.5)
    })
}

fn config() -> GradCheckConfig {
    GradCheckConfig {
        step: 1e-6,
        atol: 1e-7,
        rtol: 1e-5,
    }
}

#[test]
fn gru_sequences_pass_grad_check() {
    let last: GruSequence<3, 4, 5, LastState, f64> = init::seeded(Init::PyTorchDefault, 1);
    grad_check(&last, &inputs::<3, 5>(0), config()).unwrap();
    let all: GruSequence<3, 4, 5, AllStates, f64> = init::seeded(Init::PyTorchDefault, 2);
    grad_check(&all, &inputs::<3, 5>(1), config()).unwrap();
    grad_check_batch(&all, &[inputs::<3, 5>(2), inputs::<3, 5>(3)], config()).unwrap();
    // One step: the cell alone.
    let one: GruSequence<2, 3, 1, LastState, f64> = init::seeded(Init::PyTorchDefault, 3);
    grad_check(&one, &inputs::<2, 1>(4), config()).unwrap();
}

#[test]
fn lstm_sequences_pass_grad_check() {
    let last: LstmSequence<3, 4, 5, LastState, f64> = init::seeded(Init::PyTorchDefault, 1);
    grad_check(&last, &inputs::<3, 5>(0), config()).unwrap();
    let all: LstmSequence<2, 3, 6, AllStates, f64> = init::seeded(Init::PyTorchDefault, 2);
    grad_check(&all, &inputs::<2, 6>(1), config()).unwrap();
    grad_check_batch(&all, &[inputs::<2, 6>(2), inputs::<2, 6>(3)], config()).unwrap();
    let one: LstmSequence<2, 3, 1, LastState, f64> = init::seeded(Init::PyTorchDefault, 3);
    grad_check(&one, &inputs::<2, 1>(4), config()).unwrap();
}

#[test]
fn a_gru_before_a_dense_head_passes_grad_check() {
    type Net = seq![GruSequence<1, 8, 6, LastState, f64>, Dense<8, 1, constnet::Identity, f64>];
    let net: Net = init::seeded(Init::PyTorchDefault, 5);
    grad_check(&net, &inputs::<1, 6>(6), config()).unwrap();
}

/// `L = Σ p·y + Σ q·(final state)` for fixed projections, from a given initial state.
fn objective<C, const S: usize>(
    layer: &Sequence<C, S, AllStates>,
    s0: &C::State,
    x: &[C::Input; S],
    flat_state: impl Fn(&C::State) -> Vec<f64>,
    flat_h: impl Fn(&C::Hidden) -> Vec<f64>,
) -> f64
where
    C: RecurrentCell<Scalar = f64>,
{
    let (y, last) = layer.forward_from(s0, x);
    let mut l = 0.0;
    let mut k = 0;
    for h in y.iter() {
        for v in flat_h(h) {
            l += weight(k) * v;
            k += 1;
        }
    }
    for v in flat_state(&last) {
        l += weight(k) * v;
        k += 1;
    }
    l
}

fn weight(k: usize) -> f64 {
    ((k as f64 + 1.0) * 0.618_033_988_749_895).fract() - 0.45
}

/// Checks `backward_from`'s initial-state, input and parameter gradients of the objective
/// against central differences.
fn check_given_state<C, const S: usize>(
    layer: &Sequence<C, S, AllStates>,
    s0: C::State,
    x: &[C::Input; S],
    state_values: fn(&mut C::State) -> Vec<&mut f64>,
    hidden_values: fn(&mut C::Hidden) -> Vec<&mut f64>,
    input_values: fn(&mut C::Input) -> Vec<&mut f64>,
) where
    C: RecurrentCell<Scalar = f64>,
{
    let flat_state = |s: &C::State| -> Vec<f64> {
        let mut s = *s;
        state_values(&mut s).into_iter().map(|v| *v).collect()
    };
    let flat_h = |h: &C::Hidden| -> Vec<f64> {
        let mut h = *h;
        hidden_values(&mut h).into_iter().map(|v| *v).collect()
    };
    // The gradients the objective hands to backward.
    let mut dy = <[C::Hidden; S]>::zeros();
    let mut k = 0;
    for d in dy.iter_mut() {
        for v in hidden_values(d) {
            *v = weight(k);
            k += 1;
        }
    }
    let mut d_final = C::State::zeros();
    for v in state_values(&mut d_final) {
        *v = weight(k);
        k += 1;
    }
    let mut y = <[C::Hidden; S]>::zeros();
    let mut cache = SequenceCache::<C, S>::zeros();
    layer.forward_train_from(&s0, x, &mut y, &mut cache);
    let mut grads = Sequence::<C, S, AllStates>::zeros();
    let mut dx = <[C::Input; S]>::zeros();
    let mut ds0 = layer.backward_from(&cache, &dy, &d_final, &mut grads, Some(&mut dx));
    let h = 1e-6;
    let close = |analytic: f64, numeric: f64, what: &str| {
        assert!(
            (analytic - numeric).abs() <= 1e-7 + 1e-5 * numeric.abs(),
            "{what}: analytic {analytic:e}, numeric {numeric:e}"
        );
    };
    let analytic: Vec<f64> = state_values(&mut ds0).into_iter().map(|v| *v).collect();
    for (i, &a) in analytic.iter().enumerate() {
        let (mut plus, mut minus) = (s0, s0);
        *state_values(&mut plus)[i] += h;
        *state_values(&mut minus)[i] -= h;
        let numeric = (objective(layer, &plus, x, flat_state, flat_h)
            - objective(layer, &minus, x, flat_state, flat_h))
            / (2.0 * h);
        close(a, numeric, &format!("initial state [{i}]"));
    }
    for t in 0..S {
        let analytic: Vec<f64> = input_values(&mut dx[t]).into_iter().map(|v| *v).collect();
        for (i, &a) in analytic.iter().enumerate() {
            let (mut plus, mut minus) = (*x, *x);
            *input_values(&mut plus[t])[i] += h;
            *input_values(&mut minus[t])[i] -= h;
            let numeric = (objective(layer, &s0, &plus, flat_state, flat_h)
                - objective(layer, &s0, &minus, flat_state, flat_h))
                / (2.0 * h);
            close(a, numeric, &format!("input [{t}][{i}]"));
        }
    }
    for (n, g) in grads.tensors().enumerate() {
        for (i, &a) in g.iter().enumerate() {
            let (mut plus, mut minus) = (*layer, *layer);
            plus.tensors_mut().nth(n).unwrap()[i] += h;
            minus.tensors_mut().nth(n).unwrap()[i] -= h;
            let numeric = (objective(&plus, &s0, x, flat_state, flat_h)
                - objective(&minus, &s0, x, flat_state, flat_h))
                / (2.0 * h);
            close(a, numeric, &format!("parameter tensor {n} [{i}]"));
        }
    }
}

#[test]
fn a_given_initial_state_gets_its_gradient() {
    let gru: GruSequence<2, 3, 4, AllStates, f64> = init::seeded(Init::PyTorchDefault, 11);
    check_given_state(
        &gru,
        GruState {
            h: [0.3, -0.7, 0.9],
        },
        &inputs::<2, 4>(1),
        |s| s.h.iter_mut().collect(),
        |h| h.iter_mut().collect(),
        |x| x.iter_mut().collect(),
    );
    let lstm: LstmSequence<2, 3, 4, AllStates, f64> = init::seeded(Init::PyTorchDefault, 12);
    check_given_state(
        &lstm,
        LstmState {
            h: [0.3, -0.7, 0.9],
            c: [1.2, -0.4, 0.1],
        },
        &inputs::<2, 4>(2),
        |s| s.h.iter_mut().chain(s.c.iter_mut()).collect(),
        |h| h.iter_mut().collect(),
        |x| x.iter_mut().collect(),
    );
}

#[test]
fn streaming_equals_the_sequence_layer() {
    let gru: GruSequence<2, 5, 16, AllStates> = init::seeded(Init::PyTorchDefault, 21);
    let xs: [[f32; 2]; 16] =
        core::array::from_fn(|t| [(t as f32 * 0.37).sin(), (t as f32 * 0.11).cos()]);
    let ys = gru.forward(&xs);
    let mut state = GruState::zeros();
    let stepped: Vec<[f32; 5]> = xs.iter().map(|x| gru.cell.step(&mut state, x)).collect();
    assert_eq!(stepped, ys);
    let mut block = GruState::zeros();
    let mut hs = [[0.0; 5]; 16];
    gru.cell.process(&mut block, &xs, &mut hs);
    assert_eq!(hs, ys);
    assert_eq!(block, state);
    // The last-state layer gives the last of them.
    let last = GruSequence::<2, 5, 16, LastState>::new(gru.cell);
    assert_eq!(last.forward(&xs), ys[15]);

    let lstm: LstmSequence<2, 5, 16, AllStates> = init::seeded(Init::PyTorchDefault, 22);
    let ys = lstm.forward(&xs);
    let mut state = LstmState::zeros();
    let mut hs = [[0.0; 5]; 16];
    lstm.cell.process(&mut state, &xs, &mut hs);
    assert_eq!(hs, ys);
    assert_eq!(lstm.forward_from(&LstmState::zeros(), &xs).1, state);
}

/// Cells wide enough for the AVX-512 streaming task (16 and 32 units) stream the bits the
/// sequence layer (dispatched kernels) computes.
#[test]
fn wide_cells_stream_what_the_sequence_layer_computes() {
    let xs: [[f32; 3]; 24] = core::array::from_fn(|t| {
        [
            (t as f32 * 0.37).sin(),
            (t as f32 * 0.11).cos(),
            0.5 - t as f32 * 0.04,
        ]
    });
    let gru: GruSequence<3, 16, 24, AllStates> = init::seeded(Init::PyTorchDefault, 23);
    let mut state = GruState::zeros();
    let mut hs = [[0.0; 16]; 24];
    gru.cell.process(&mut state, &xs, &mut hs);
    assert_eq!(hs, gru.forward(&xs));
    let lstm: LstmSequence<3, 32, 24, AllStates> = init::seeded(Init::PyTorchDefault, 24);
    let mut state = LstmState::zeros();
    let mut hs = [[0.0; 32]; 24];
    lstm.cell.process(&mut state, &xs, &mut hs);
    assert_eq!(hs, lstm.forward(&xs));
    let lstm: LstmSequence<3, 16, 24, AllStates> = init::seeded(Init::PyTorchDefault, 25);
    let mut state = LstmState::zeros();
    let mut hs = [[0.0; 16]; 24];
    lstm.cell.process(&mut state, &xs, &mut hs);
    assert_eq!(hs, lstm.forward(&xs));
}

#[test]
fn voices_have_independent_states() {
    let gru: Gru<1, 8> = init::seeded(Init::PyTorchDefault, 31);
    let a: Vec<[f32; 1]> = (0..64).map(|t| [(t as f32 * 0.2).sin()]).collect();
    let b: Vec<[f32; 1]> = (0..64).map(|t| [(t as f32 * 0.05).cos() * 0.5]).collect();
    // Interleaved, one model, two states.
    let (mut sa, mut sb) = (GruState::zeros(), GruState::zeros());
    let mut ya = Vec::new();
    let mut yb = Vec::new();
    for (xa, xb) in a.iter().zip(&b) {
        ya.push(gru.step(&mut sa, xa));
        yb.push(gru.step(&mut sb, xb));
    }
    // Each alone.
    let mut alone = GruState::zeros();
    let mut ha = vec![[0.0; 8]; 64];
    gru.process(&mut alone, &a, &mut ha);
    assert_eq!(ha, ya);
    let mut alone = GruState::zeros();
    let mut hb = vec![[0.0; 8]; 64];
    gru.process(&mut alone, &b, &mut hb);
    assert_eq!(hb, yb);
    assert_ne!(ya, yb);

    let lstm: Lstm<1, 4> = init::seeded(Init::PyTorchDefault, 32);
    let (mut sa, mut sb) = (LstmState::zeros(), LstmState::zeros());
    for (xa, xb) in a.iter().zip(&b) {
        lstm.step(&mut sa, xa);
        lstm.step(&mut sb, xb);
    }
    let mut alone = LstmState::zeros();
    let mut h = vec![[0.0; 4]; 64];
    lstm.process(&mut alone, &a, &mut h);
    assert_eq!(alone, sa);
}

/// A cell whose state decays to zero in silence (zero biases, small weights): without the
/// flush its state would pass through every subnormal value on the way.
fn decaying<C: Params<Scalar = f32>>(seed: u64) -> C {
    let mut cell: C = init::seeded(Init::PyTorchDefault, seed);
    let n = cell.tensors().count();
    for (k, t) in cell.tensors_mut().enumerate() {
        for v in t.iter_mut() {
            *v = if k + 2 >= n { 0.0 } else { *v * 0.3 };
        }
    }
    cell
}

#[test]
fn silence_flushes_the_state_instead_of_going_subnormal() {
    let threshold = f32::MIN_POSITIVE.sqrt();
    let gru: Gru<1, 8> = decaying(41);
    let mut state = GruState::zeros();
    gru.step(&mut state, &[1.0]);
    assert!(state.h.iter().any(|&v| v != 0.0));
    let mut steps_to_zero = None;
    for n in 0..100_000 {
        let h = gru.step(&mut state, &[0.0]);
        for v in h {
            assert!(
                !v.is_subnormal() && (v == 0.0 || v.abs() >= threshold),
                "{v:e}"
            );
        }
        if steps_to_zero.is_none() && h.iter().all(|&v| v == 0.0) {
            steps_to_zero = Some(n);
        }
    }
    assert!(steps_to_zero.is_some(), "the state reached exactly zero");

    let lstm: Lstm<1, 8> = decaying(42);
    let mut state = LstmState::zeros();
    lstm.step(&mut state, &[1.0]);
    assert!(state.c.iter().any(|&v| v != 0.0));
    for _ in 0..100_000 {
        lstm.step(&mut state, &[0.0]);
        for v in state.h.iter().chain(&state.c) {
            assert!(
                !v.is_subnormal() && (*v == 0.0 || v.abs() >= threshold),
                "{v:e}"
            );
        }
    }
    assert_eq!(state, LstmState::zeros());
}

#[test]
fn a_gru_with_a_dense_head_learns_a_sequence_task_by_bptt() {
    // Predict the mean of the last 8 of 32 samples of a noisy sine.
    type Net = seq![GruSequence<1, 8, 32, LastState>, Dense<8, 1>];
    const B: usize = 16;
    let mut net: Net = init::seeded(Init::PyTorchDefault, 7);
    let mut grads = Net::zeros();
    let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.01));
    let batch = |step: usize| -> ([[[f32; 1]; 32]; B], [[f32; 1]; B]) {
        let mut x = [[[0.0f32; 1]; 32]; B];
        let mut y = [[0.0f32; 1]; B];
        for b in 0..B {
            let phase = ((step * B + b) as f32 * 0.731).fract() * core::f32::consts::TAU;
            let freq = 0.1 + ((step * B + b) as f32 * 0.377).fract() * 0.3;
            for (t, xt) in x[b].iter_mut().enumerate() {
                xt[0] = (phase + freq * t as f32).sin();
            }
            y[b][0] = x[b][24..].iter().map(|v| v[0]).sum::<f32>() / 8.0;
        }
        (x, y)
    };
    let mut cache = Box::new(<Net as Layer>::BatchCache::<B>::zeros());
    let mut ctx = TrainCtx::new(0);
    let (mut out, mut dout) = ([[0.0f32; 1]; B], [[0.0f32; 1]; B]);
    let eval = |net: &Net| -> f32 {
        (1000..1004)
            .map(|s| {
                let (x, y) = batch(s);
                let p: [[f32; 1]; B] = core::array::from_fn(|b| net.forward(&x[b]));
                Mse.value(&p, &y)
            })
            .sum::<f32>()
            / 4.0
    };
    let before = eval(&net);
    for step in 0..300 {
        let (x, y) = batch(step % 50);
        grads.fill_zero();
        net.forward_train_batch(&x, &mut out, &mut cache, &mut ctx);
        Mse.loss_batch(&out, &y, &mut dout);
        net.backward_batch_params(&x, &out, &mut cache, &dout, &mut grads);
        adam.step(&mut net, &grads);
    }
    let after = eval(&net);
    assert!(
        after < before * 0.2,
        "held-out loss {before} -> {after} after 300 BPTT steps"
    );
}

/// Two stacked layers: a GRU giving every state, an LSTM reading them.
type Baked = seq![GruSequence<1, 2, 3, AllStates>, LstmSequence<2, 1, 3>];

/// Builds the tokens into a `static` and also returns them as text.
macro_rules! baked {
    ($($expr:tt)*) => {{
        static BAKED: Baked = $($expr)*;
        (stringify!($($expr)*), &BAKED)
    }};
}

#[test]
fn recurrent_layers_round_trip_through_the_own_format_and_rust_source() {
    let (text, baked) = baked!(constnet::Chain::new(
        constnet::layers::Sequence::new(constnet::Gru::new(
            [[[0.5], [-0.25],], [[1.5], [2.0],], [[-1.0], [0.125],],],
            [
                [[0.1, 0.2], [0.3, 0.4],],
                [[0.5, 0.6], [0.7, 0.8],],
                [[0.9, -0.1], [-0.2, -0.3],],
            ],
            [[0.01, 0.02], [0.03, 0.04], [0.05, 0.06],],
            [[-0.01, -0.02], [-0.03, -0.04], [-0.05, -0.06],],
        ),),
        constnet::layers::Sequence::new(constnet::Lstm::new(
            [
                [[0.5, 1.0],],
                [[-0.5, 0.25],],
                [[0.75, -1.0],],
                [[2.0, 0.1],],
            ],
            [[[0.3],], [[-0.3],], [[0.6],], [[-0.6],],],
            [[0.1], [0.2], [0.3], [0.4],],
            [[-0.1], [-0.2], [-0.3], [-0.4],],
        ),),
    ));
    let net: Baked = *baked;
    // PyTorch's layout through the getters: row k·H + j of gate block k.
    assert_eq!(net.first.cell.weight_ih(3, 0), 2.0);
    assert_eq!(net.first.cell.weight_hh(5, 0), -0.2);
    assert_eq!(net.second.cell.weight_ih(2, 1), -1.0);
    let source = to_rust(&net, "NET", "Baked");
    let strip = |s: &str| s.split_whitespace().collect::<String>();
    assert!(
        strip(&source).ends_with(&format!("pubstaticNET:Baked={};", strip(text))),
        "{source}"
    );
    // The own format: PyTorch's names and shapes, module 0 then 1.
    let bytes = io::to_bytes(&net).unwrap();
    let mut back = Baked::zeros();
    io::read_from(&mut back, &bytes).unwrap();
    assert_eq!(back, net);
    let mut names = Vec::new();
    net.visit_tensors(0, &mut |info, data| {
        names.push(format!(
            "{}.{} {} {}",
            info.module,
            info.name,
            info.shape,
            data.len()
        ))
    });
    assert_eq!(
        names,
        [
            "0.weight_ih_l0 [6, 1] 6",
            "0.weight_hh_l0 [6, 2] 12",
            "0.bias_ih_l0 [6] 6",
            "0.bias_hh_l0 [6] 6",
            "1.weight_ih_l0 [4, 2] 8",
            "1.weight_hh_l0 [4, 1] 4",
            "1.bias_ih_l0 [4] 4",
            "1.bias_hh_l0 [4] 4",
        ]
    );
    // A file of another hidden size is refused, naming the tensor.
    let other: seq![GruSequence<1, 3, 3, AllStates>, LstmSequence<3, 1, 3>] =
        init::seeded(Init::PyTorchDefault, 0);
    let err = io::read_from(&mut back, &io::to_bytes(&other).unwrap()).unwrap_err();
    assert!(err.to_string().starts_with("0.weight_ih_l0"), "{err}");
    assert_eq!(back, net);
}

#[test]
fn pytorch_initialization_is_uniform_in_one_over_root_h() {
    let gru: Gru<3, 16, f64> = init::seeded(Init::PyTorchDefault, 9);
    let bound = 0.25;
    for t in gru.tensors() {
        assert!(t.iter().all(|v| v.abs() <= bound));
        assert!(t.iter().any(|v| v.abs() > 0.8 * bound));
    }
}

/// The batched training (every sample one step at a time, the weight gradients summed over
/// all steps at once) computes what the per-sample path computes: outputs, parameter and
/// input gradients, for both cells and both outputs, at a batch that is not a multiple of
/// the reduction's 16 lanes and sizes that are not multiples of its 8 rows.
fn batched_equals_per_sample<T, C, O, const S: usize, const B: usize, const IN: usize>(
    seed: u64,
    tolerance: f64,
) where
    T: constnet::Scalar,
    C: RecurrentCell<Input = [T; IN]> + Params<Scalar = T> + Named + Zeros,
    O: constnet::layers::SequenceOutput<C::Hidden, S>,
    Sequence<C, S, O>: Layer<Input = [[T; IN]; S], Output = O::Output> + Params<Scalar = T> + Zeros,
    O::Output: Scalars<T>,
{
    let mut layer: Sequence<C, S, O> = init::seeded(Init::PyTorchDefault, seed);
    let x: Box<[[[T; IN]; S]; B]> = Box::new(core::array::from_fn(|b| {
        core::array::from_fn(|t| {
            core::array::from_fn(|i| {
                T::from_f64(((b * 13 + t * 5 + i * 3) % 17) as f64 * 0.17 - 1.4)
            })
        })
    }));
    let mut dy: Box<[O::Output; B]> = Box::new(core::array::from_fn(|_| O::Output::zeros()));
    for (b, dyb) in dy.iter_mut().enumerate() {
        for (k, v) in dyb.scalars_mut().iter_mut().enumerate() {
            *v = T::from_f64(((b * 7 + k * 3) % 11) as f64 * 0.1 - 0.5);
        }
    }
    // Per sample.
    let mut ys: Box<[O::Output; B]> = Box::new(core::array::from_fn(|_| O::Output::zeros()));
    let mut grads = Sequence::<C, S, O>::zeros();
    let mut dxs = Box::new([[[T::zero(); IN]; S]; B]);
    for b in 0..B {
        let mut cache = SequenceCache::<C, S>::zeros();
        layer.forward_train_from(&C::State::zeros(), &x[b], &mut ys[b], &mut cache);
        layer.backward_from(
            &cache,
            &dy[b],
            &C::State::zeros(),
            &mut grads,
            Some(&mut dxs[b]),
        );
    }
    // Batched.
    let mut cache = Box::new(<Sequence<C, S, O> as Layer>::BatchCache::<B>::zeros());
    let mut y: Box<[O::Output; B]> = Box::new(core::array::from_fn(|_| O::Output::zeros()));
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    let mut batch_grads = Sequence::<C, S, O>::zeros();
    let mut dx = Box::new([[[T::zero(); IN]; S]; B]);
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut batch_grads);
    let mut params_only = Sequence::<C, S, O>::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    layer.backward_batch_params(&x, &y, &mut cache, &dy, &mut params_only);

    let close = |what: &str, a: &[T], b: &[T]| {
        assert_eq!(a.len(), b.len());
        let mut changed = 0;
        for (k, (&p, &q)) in a.iter().zip(b.iter()).enumerate() {
            let (p, q) = (p.to_f64(), q.to_f64());
            assert!(
                (p - q).abs() <= tolerance * (1.0 + q.abs()),
                "{what}[{k}]: batched {p} against per sample {q}"
            );
            changed += usize::from(q != 0.0);
        }
        assert!(
            changed > a.len() / 2,
            "{what}: mostly zeros, the check has no teeth"
        );
    };
    let flat = |v: &[O::Output]| -> Vec<T> {
        v.iter().flat_map(|o| o.scalars().iter().copied()).collect()
    };
    close("output", &flat(&y[..]), &flat(&ys[..]));
    let g =
        |n: &Sequence<C, S, O>| -> Vec<T> { n.tensors().flat_map(|t| t.iter().copied()).collect() };
    close("parameter gradients", &g(&batch_grads), &g(&grads));
    close(
        "parameter gradients (params only)",
        &g(&params_only),
        &g(&grads),
    );
    close(
        "input gradients",
        dx.as_flattened().as_flattened(),
        dxs.as_flattened().as_flattened(),
    );
}

#[test]
fn batched_bptt_equals_the_per_sample_path() {
    batched_equals_per_sample::<f64, Gru<9, 10, f64>, LastState, 4, 20, 9>(1, 1e-12);
    batched_equals_per_sample::<f64, Gru<9, 10, f64>, AllStates, 4, 20, 9>(2, 1e-12);
    batched_equals_per_sample::<f64, Lstm<9, 10, f64>, LastState, 4, 20, 9>(3, 1e-12);
    batched_equals_per_sample::<f64, Lstm<9, 10, f64>, AllStates, 4, 3, 9>(4, 1e-12);
    batched_equals_per_sample::<f64, Gru<1, 8, f64>, LastState, 32, 16, 1>(5, 1e-12);
    // f32: the task's activations and fused multiply-adds on both sides.
    batched_equals_per_sample::<f32, Gru<1, 8, f32>, LastState, 32, 16, 1>(6, 2e-5);
    batched_equals_per_sample::<f32, Gru<3, 16, f32>, AllStates, 6, 5, 3>(7, 2e-5);
    batched_equals_per_sample::<f32, Lstm<2, 16, f32>, AllStates, 6, 33, 2>(8, 2e-5);
}
