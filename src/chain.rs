//! `Chain<A, B>`: two layers in sequence, and `seq![...]` to name a longer chain as a type.
//! (What makes a chain a layer, a model and a stream is in `chain_layer.rs` and `stream.rs`:
//! this module names nothing above it.)

/// `first` then `second`. It is a [`Layer`](crate::Layer) only when `second`'s input is `first`'s output,
/// so a network whose sizes do not meet does not compile.
///
/// ```
/// use constnet::{Dense, Layer, Zeros, seq, Tanh};
/// type Net = seq![Dense<2, 3, Tanh, f64>, Dense<3, 1, constnet::Identity, f64>];
/// let net = Net::zeros();
/// assert_eq!(net.forward(&[1.0, -1.0]), [0.0]);
/// ```
///
/// Neighbouring sizes that do not meet are a compile error:
/// ```compile_fail
/// use constnet::{Dense, Layer, Zeros, seq, Tanh};
/// type Net = seq![Dense<2, 3, Tanh, f64>, Dense<4, 1, constnet::Identity, f64>];
/// let net = Net::zeros();
/// let _ = net.forward(&[1.0, -1.0]);
/// ```
///
/// Such a chain is not a model at all: it cannot be initialized, given gradients or an
/// optimizer, or stepped, even without calling a [`Layer`](crate::Layer) method (see
/// [`shape_errors`](crate::shape_errors) for the passing twin of each case):
/// ```compile_fail
/// use constnet::init::{self, Init};
/// use constnet::{Dense, seq};
/// type Net = seq![Dense<4, 8>, Dense<9, 2>];
/// let _net: Net = init::seeded(Init::XavierUniform, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chain<A, B> {
    /// The first layer.
    pub first: A,
    /// The layer applied to the first one's output.
    pub second: B,
}

impl<A, B> Chain<A, B> {
    /// Composes two layers.
    pub const fn new(first: A, second: B) -> Self {
        Chain { first, second }
    }
}

/// Names a chain of layers as a type: `seq![L1, L2, L3]` is `Chain<L1, Chain<L2, L3>>`.
///
/// ```
/// use constnet::{Dense, Params, Relu, seq};
/// type Net = seq![Dense<4, 16, Relu>, Dense<16, 16, Relu>, Dense<16, 3>];
/// assert_eq!(Net::PARAM_COUNT, 4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3);
/// ```
#[macro_export]
macro_rules! seq {
    ($only:ty $(,)?) => { $only };
    ($first:ty, $($rest:ty),+ $(,)?) => { $crate::Chain<$first, $crate::seq![$($rest),+]> };
}
