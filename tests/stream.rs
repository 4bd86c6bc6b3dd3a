//! `Stream`: a whole network streamed with one call gives the same bits as its parts wired
//! by hand, frame by frame and by buffers, and a sequence layer streamed over a window from
//! the zero state gives its windowed forward.

use constnet::init::{self, Init};
use constnet::layers::{GruState, LstmState};
use constnet::{
    ActivationLayer, BatchNorm, Conv1d, Conv1dStream, Dense, Dropout, GruSequence, Layer,
    LayerNorm, LstmSequence, Relu, Stream, Tanh, Zeros, seq,
};

/// A deterministic signal with loud parts and a silence.
fn signal(n: usize) -> Vec<[f32; 1]> {
    (0..n)
        .map(|i| {
            let t = i as f32 * 0.05;
            let loud = if (200..400).contains(&i) { 0.0 } else { 1.0 };
            [loud * ((t * 3.0).sin() + 0.3 * (t * 17.0).cos())]
        })
        .collect()
}

fn bits<const N: usize>(y: &[f32; N]) -> [u32; N] {
    y.map(f32::to_bits)
}

#[test]
fn a_gru_and_its_head_stream_as_their_hand_wiring() {
    type Net = seq![GruSequence<1, 8, 32>, Dense<8, 1>];
    let net: Net = init::seeded(Init::PyTorchDefault, 0);
    let xs = signal(600);
    let mut by_hand = GruState::zeros();
    let mut chained = <Net as Stream>::State::zeros();
    let mut want = Vec::new();
    for x in &xs {
        let h = net.first.cell.step(&mut by_hand, x);
        want.push(net.second.forward(&h));
        let y = net.step(&mut chained, x);
        assert_eq!(bits(&y), bits(want.last().unwrap()));
    }
    assert_eq!(
        chained.0, by_hand,
        "the chain's state is the pair of its parts' states"
    );
    // The block form, from the start again, in buffers of uneven sizes.
    let mut state = <Net as Stream>::State::zeros();
    let mut got = vec![[0.0f32; 1]; xs.len()];
    let (mut start, mut size) = (0, 1);
    while start < xs.len() {
        let end = (start + size).min(xs.len());
        net.process(&mut state, &xs[start..end], &mut got[start..end]);
        (start, size) = (end, size * 2 + 1);
    }
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(bits(g), bits(w));
    }
    assert!(
        want.iter().any(|y| y[0] != want[0][0]),
        "the test signal moves the output"
    );
}

#[test]
fn a_wide_lstm_chain_streams_as_its_hand_wiring() {
    // H = 32 fills AVX-512 vectors: the chain's task is compiled for it where the CPU has it.
    type Net = seq![LstmSequence<2, 32, 8>, Dense<32, 4, Tanh>, Dense<4, 1>];
    let net: Net = init::seeded(Init::PyTorchDefault, 7);
    let mut by_hand = LstmState::zeros();
    let mut chained = <Net as Stream>::State::zeros();
    for (i, x) in signal(300).iter().enumerate() {
        let frame = [x[0], (i as f32 * 0.01).cos()];
        let h = net.first.cell.step(&mut by_hand, &frame);
        let want = net.second.second.forward(&net.second.first.forward(&h));
        assert_eq!(bits(&net.step(&mut chained, &frame)), bits(&want));
    }
    assert_eq!(chained.0, by_hand);
}

#[test]
fn a_convolution_a_gru_and_a_head_stream_with_one_state() {
    // Trained on windows of 36 frames (the convolution's 32 outputs feed the GRU's 32 steps),
    // streamed causally: the convolution's history, the GRU's state and the (stateless)
    // head's unit, in one value.
    type Net =
        seq![Conv1d<1, 4, 3, 36, 32, Tanh, f32, 1, 0, 2>, GruSequence<4, 8, 32>, Dense<8, 1>];
    let net: Net = init::seeded(Init::PyTorchDefault, 3);
    let (conv, gru, head) = (&net.first, &net.second.first.cell, &net.second.second);
    let mut history = Conv1dStream::<1, 4>::new();
    let mut voice = GruState::zeros();
    let mut state = <Net as Stream>::State::zeros();
    for x in &signal(500) {
        let want = head.forward(&gru.step(&mut voice, &conv.step(&mut history, x)));
        assert_eq!(bits(&net.step(&mut state, x)), bits(&want));
    }
}

#[test]
fn a_sequence_layer_streamed_over_a_window_gives_its_forward() {
    type Gru = GruSequence<3, 5, 16>;
    let layer: Gru = init::seeded(Init::PyTorchDefault, 11);
    let window: [[f32; 3]; 16] =
        core::array::from_fn(|t| core::array::from_fn(|c| ((t * 3 + c) as f32 * 0.37).sin()));
    let mut state = <Gru as Stream>::State::zeros();
    let mut hs = [[0.0f32; 5]; 16];
    layer.process(&mut state, &window, &mut hs);
    assert_eq!(bits(&hs[15]), bits(&layer.forward(&window)));

    type Lstm = LstmSequence<3, 16, 16, constnet::AllStates>;
    let layer: Lstm = init::seeded(Init::PyTorchDefault, 12);
    let mut state = <Lstm as Stream>::State::zeros();
    let all = layer.forward(&window);
    for (t, x) in window.iter().enumerate() {
        assert_eq!(bits(&layer.step(&mut state, x)), bits(&all[t]));
    }
}

#[test]
fn stateless_layers_stream_as_their_inference_forward() {
    type Net = seq![
        Dense<3, 6>,
        BatchNorm<6>,
        ActivationLayer<Relu, 6>,
        Dropout<6>,
        LayerNorm<6>,
        Dense<6, 2, Tanh>
    ];
    let mut net: Net = init::seeded(Init::HeUniform, 5);
    // Running statistics away from their defaults, so BatchNorm's eval mode shows.
    let bn = &mut net.second.first;
    bn.set_running_mean(core::array::from_fn(|j| 0.1 * j as f32));
    bn.set_running_var(core::array::from_fn(|j| 0.5 + 0.2 * j as f32));
    let mut state = <Net as Stream>::State::zeros();
    for i in 0..50 {
        let x = [i as f32 * 0.1, -(i as f32 * 0.07).sin(), 0.5];
        assert_eq!(bits(&net.step(&mut state, &x)), bits(&net.forward(&x)));
    }
}

#[test]
fn a_causal_convolution_stack_streams_as_the_windowed_layers_step() {
    use constnet::{CausalConv1d, Conv1dStream, Params};
    type Net = seq![
        CausalConv1d<1, 8, 3, 1, Tanh>,
        CausalConv1d<8, 8, 3, 2, Tanh>,
        CausalConv1d<8, 1, 1>
    ];
    let net: Net = init::seeded(Init::PyTorchDefault, 21);
    // The same weights in windowed layers, streamed by hand with their own histories.
    let mut first = Conv1d::<1, 8, 3, 8, 6, Tanh>::zeros();
    let mut second = Conv1d::<8, 8, 3, 8, 4, Tanh, f32, 1, 0, 2>::zeros();
    let mut head = Conv1d::<8, 1, 1, 8, 8>::zeros();
    first.set_weights(&net.first.weights());
    *first.bias_mut() = *net.first.bias();
    second.set_weights(&net.second.first.weights());
    *second.bias_mut() = *net.second.first.bias();
    head.set_weights(&net.second.second.weights());
    *head.bias_mut() = *net.second.second.bias();
    assert_eq!(Net::PARAM_COUNT, 8 * 3 + 8 + 8 * 8 * 3 + 8 + 8 + 1);
    let (mut h1, mut h2, mut h3) = (
        Conv1dStream::<1, 2>::new(),
        Conv1dStream::<8, 4>::new(),
        Conv1dStream::<8, 0>::new(),
    );
    let mut state = <Net as Stream>::State::zeros();
    let xs = signal(400);
    let mut want = Vec::new();
    for x in &xs {
        let y = head.step(&mut h3, &second.step(&mut h2, &first.step(&mut h1, x)));
        assert_eq!(bits(&net.step(&mut state, x)), bits(&y));
        want.push(y);
    }
    let mut state = <Net as Stream>::State::zeros();
    let mut got = vec![[0.0f32; 1]; xs.len()];
    net.process(&mut state, &xs, &mut got);
    assert_eq!(got, want);
}
