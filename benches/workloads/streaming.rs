//! The streaming sequence workloads of the sequence issue, each beside its naive reference
//! (`benches/naive/sequence.rs`) with the same weights: one sample in, one sample out.
//!
//! - **GRU8**: `Gru<1, 8>` then `Dense<8, 1>` on the hidden state;
//! - **LSTM16**, **LSTM32**: `Lstm<1, H>` then `Dense<H, 1>`;
//! - **CONV**: causal `Conv1d(1 → 8, k 3)` tanh, `Conv1d(8 → 8, k 3, dilation 2)` tanh,
//!   `Dense<8, 1>`.
//!
//! All start from PyTorch's default initialization (fixed seeds); the signal is seeded noise
//! plus two sines, one value per sample in about [−1, 1].

use constnet::init::{self, Init};
use constnet::{
    Chain, Conv1d, Conv1dStream, Dense, Gru, GruState, Lstm, LstmState, Stream, Tanh, Zeros, seq,
};
use rand::RngExt;

use crate::naive;
use crate::naive::sequence as naive_sequence;

/// Samples per timed pass over the signal.
pub const SIGNAL: usize = 4096;

/// A seeded test signal of [`SIGNAL`] samples.
pub fn signal() -> Vec<[f32; 1]> {
    let mut rng = init::rng_from_seed(21);
    (0..SIGNAL)
        .map(|n| {
            let t = n as f32 / 48_000.0;
            let tone = 0.5 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.3 * (2.0 * std::f32::consts::PI * 1234.0 * t).sin();
            [tone + 0.2 * (2.0 * rng.random::<f32>() - 1.0)]
        })
        .collect()
}

/// A naive `nn.Linear(IN, 1)` with constnet's head weights.
fn naive_head<const IN: usize>(head: &Dense<IN, 1>) -> naive::Dense<IN, 1, naive::Identity> {
    let mut naive = naive::Dense::zeros();
    for i in 0..IN {
        naive.w[0][i] = head.weight(0, i);
    }
    naive.b = *head.bias();
    naive
}

/// PyTorch-ordered rows `[G·H][IN]` of a gate-split weight.
fn stacked<const G: usize, const H: usize, const N: usize>(
    rows: [[[f32; N]; H]; G],
) -> Vec<[f32; N]> {
    rows.iter().flat_map(|gate| gate.iter().copied()).collect()
}

/// GRU 1 → H, then a linear head, constnet and naive.
pub struct GruStream<const H: usize> {
    pub gru: Gru<1, H>,
    pub head: Dense<H, 1>,
    pub state: GruState<H>,
    pub naive: naive_sequence::Gru<1, H>,
    pub naive_head: naive::Dense<H, 1, naive::Identity>,
    pub naive_h: [f32; H],
    /// The same cell and head as one network streamed through [`Stream`].
    pub chain: Chain<Gru<1, H>, Dense<H, 1>>,
    pub chain_state: <Chain<Gru<1, H>, Dense<H, 1>> as Stream>::State,
}

impl<const H: usize> GruStream<H> {
    pub fn new(seed: u64) -> Self {
        let gru: Gru<1, H> = init::seeded(Init::PyTorchDefault, seed);
        Self::from_cell(gru, seed)
    }

    /// A GRU whose state decays slowly in silence (zero biases but the update gate's, which is
    /// +9: `z ≈ 0.9999`), so a long silence drives an unflushed state through the subnormal
    /// range.
    pub fn slowly_decaying(seed: u64) -> Self {
        let mut gru: Gru<1, H> = init::seeded(Init::PyTorchDefault, seed);
        *gru.bias_ih_mut() = [[0.0; H]; 3];
        *gru.bias_hh_mut() = [[0.0; H]; 3];
        gru.bias_ih_mut()[1] = [9.0; H];
        Self::from_cell(gru, seed)
    }

    fn from_cell(gru: Gru<1, H>, seed: u64) -> Self {
        let head: Dense<H, 1> = init::seeded(Init::PyTorchDefault, seed + 100);
        let naive = naive_sequence::Gru {
            weight_ih: stacked(gru.weight_ih_rows()),
            weight_hh: stacked(gru.weight_hh_rows()),
            bias_ih: gru.bias_ih().as_flattened().to_vec(),
            bias_hh: gru.bias_hh().as_flattened().to_vec(),
        };
        GruStream {
            naive_head: naive_head(&head),
            chain: Chain::new(gru, head),
            chain_state: Zeros::zeros(),
            gru,
            head,
            state: GruState::zeros(),
            naive,
            naive_h: [0.0; H],
        }
    }

    #[inline]
    pub fn constnet(&mut self, x: &[f32; 1]) -> f32 {
        let h = self.gru.step(&mut self.state, x);
        constnet::Layer::forward(&self.head, &h)[0]
    }

    #[inline]
    pub fn naive(&mut self, x: &[f32; 1]) -> f32 {
        self.naive.step(&mut self.naive_h, x);
        self.naive_head.forward(&self.naive_h)[0]
    }

    /// The cell and the head as one chain: one `Stream::step` call per sample.
    #[inline]
    pub fn chained(&mut self, x: &[f32; 1]) -> f32 {
        self.chain.step(&mut self.chain_state, x)[0]
    }

    /// Subnormal values in the naive (unflushed) state.
    pub fn naive_subnormal(&self) -> usize {
        self.naive_h.iter().filter(|v| v.is_subnormal()).count()
    }
}

/// LSTM 1 → H, then a linear head, constnet and naive.
pub struct LstmStream<const H: usize> {
    pub lstm: Lstm<1, H>,
    pub head: Dense<H, 1>,
    pub state: LstmState<H>,
    pub naive: naive_sequence::Lstm<1, H>,
    pub naive_head: naive::Dense<H, 1, naive::Identity>,
    pub naive_h: [f32; H],
    pub naive_c: [f32; H],
}

impl<const H: usize> LstmStream<H> {
    pub fn new(seed: u64) -> Self {
        let lstm: Lstm<1, H> = init::seeded(Init::PyTorchDefault, seed);
        let head: Dense<H, 1> = init::seeded(Init::PyTorchDefault, seed + 100);
        let naive = naive_sequence::Lstm {
            weight_ih: stacked(lstm.weight_ih_rows()),
            weight_hh: stacked(lstm.weight_hh_rows()),
            bias_ih: lstm.bias_ih().as_flattened().to_vec(),
            bias_hh: lstm.bias_hh().as_flattened().to_vec(),
        };
        LstmStream {
            naive_head: naive_head(&head),
            lstm,
            head,
            state: LstmState::zeros(),
            naive,
            naive_h: [0.0; H],
            naive_c: [0.0; H],
        }
    }

    #[inline]
    pub fn constnet(&mut self, x: &[f32; 1]) -> f32 {
        let h = self.lstm.step(&mut self.state, x);
        constnet::Layer::forward(&self.head, &h)[0]
    }

    #[inline]
    pub fn naive(&mut self, x: &[f32; 1]) -> f32 {
        self.naive.step(&mut self.naive_h, &mut self.naive_c, x);
        self.naive_head.forward(&self.naive_h)[0]
    }
}

/// The first convolution: 1 → 8 channels, kernel 3 (its window sizes only matter for the
/// windowed form).
pub type Conv1 = Conv1d<1, 8, 3, 16, 14, Tanh>;
/// The second: 8 → 8 channels, kernel 3, dilation 2.
pub type Conv2 = Conv1d<8, 8, 3, 16, 12, Tanh, f32, 1, 0, 2>;

/// The dilated causal convolution stack, constnet and naive.
pub struct ConvStream {
    pub conv1: Conv1,
    pub conv2: Conv2,
    pub head: Dense<8, 1>,
    pub stream1: Conv1dStream<1, 2>,
    pub stream2: Conv1dStream<8, 4>,
    pub naive1: naive_sequence::CausalConvTanh<1, 8, 3, 1>,
    pub naive2: naive_sequence::CausalConvTanh<8, 8, 3, 2>,
    pub naive_head: naive::Dense<8, 1, naive::Identity>,
    pub history1: Vec<[f32; 1]>,
    pub history2: Vec<[f32; 8]>,
    /// The same stack as one network streamed through [`Stream`].
    pub chain: ConvNet,
    pub chain_state: <ConvNet as Stream>::State,
}

/// The convolution stack and its head as one network.
pub type ConvNet = seq![Conv1, Conv2, Dense<8, 1>];

impl ConvStream {
    pub fn new(seed: u64) -> Self {
        let conv1: Conv1 = init::seeded(Init::PyTorchDefault, seed);
        let conv2: Conv2 = init::seeded(Init::PyTorchDefault, seed + 1);
        let head: Dense<8, 1> = init::seeded(Init::PyTorchDefault, seed + 2);
        let naive1 = naive_sequence::CausalConvTanh {
            weight: conv1.weights().to_vec(),
            bias: conv1.bias().to_vec(),
        };
        let naive2 = naive_sequence::CausalConvTanh {
            weight: conv2.weights().to_vec(),
            bias: conv2.bias().to_vec(),
        };
        ConvStream {
            chain: Chain::new(conv1, Chain::new(conv2, head)),
            chain_state: Zeros::zeros(),
            history1: naive1.history(),
            history2: naive2.history(),
            naive_head: naive_head(&head),
            conv1,
            conv2,
            head,
            stream1: Conv1dStream::new(),
            stream2: Conv1dStream::new(),
            naive1,
            naive2,
        }
    }

    #[inline]
    pub fn constnet(&mut self, x: &[f32; 1]) -> f32 {
        let a = self.conv1.step(&mut self.stream1, x);
        let b = self.conv2.step(&mut self.stream2, &a);
        constnet::Layer::forward(&self.head, &b)[0]
    }

    /// The stack as one chain: one `Stream::step` call per sample.
    #[inline]
    pub fn chained(&mut self, x: &[f32; 1]) -> f32 {
        self.chain.step(&mut self.chain_state, x)[0]
    }

    #[inline]
    pub fn naive(&mut self, x: &[f32; 1]) -> f32 {
        let a = self.naive1.step(&mut self.history1, x);
        let b = self.naive2.step(&mut self.history2, &a);
        self.naive_head.forward(&b)[0]
    }
}
