//! Shape errors are compile errors: a catalogue.
//!
//! Each `compile_fail` example below follows a passing twin that differs **only** in the
//! mismatched number, so the example fails for the reason it shows (rustdoc does not check
//! error codes). This module holds documentation only.
//!
//! # Two layers whose sizes do not meet
//! ```
//! use constnet::{Dense, Layer, Relu, Zeros, seq};
//! type Net = seq![Dense<4, 8, Relu>, Dense<8, 2>];
//! let net = Net::zeros();
//! let _ = net.forward(&[0.5; 4]);
//! ```
//! ```compile_fail
//! use constnet::{Dense, Layer, Relu, Zeros, seq};
//! type Net = seq![Dense<4, 8, Relu>, Dense<9, 2>];
//! let net = Net::zeros();
//! let _ = net.forward(&[0.5; 4]);
//! ```
//! Where a bound asks for `Layer` (`fn train<L: Layer>()`), the compiler says: ``the sizes of
//! neighbouring layers do not meet: one layer outputs `[f32; 8]`, the next takes `[f32; 9]` ``.
//!
//! # A parameter-free layer of the wrong width
//! A [`Dropout`](crate::Dropout) (or an [`Activation`](crate::Activation)) has a width too,
//! and it must be the width of the layer before it:
//! ```
//! use constnet::{Dense, Dropout, Layer, Relu, Zeros, seq};
//! type Net = seq![Dense<4, 8, Relu>, Dropout<8>, Dense<8, 2>];
//! let net = Net::zeros();
//! let _ = net.forward(&[0.5; 4]);
//! ```
//! ```compile_fail
//! use constnet::{Dense, Dropout, Layer, Relu, Zeros, seq};
//! type Net = seq![Dense<4, 8, Relu>, Dropout<7>, Dense<8, 2>];
//! let net = Net::zeros();
//! let _ = net.forward(&[0.5; 4]);
//! ```
//!
//! # A chain whose sizes do not meet is not a model
//! Without calling any `Layer` method, such a chain cannot be initialized, zeroed, given an
//! optimizer or stepped:
//! ```
//! use constnet::init::{self, Init};
//! use constnet::optim::{Optimizer, Sgd, SgdConfig};
//! use constnet::{Dense, Zeros, seq};
//! type Net = seq![Dense<4, 8>, Dense<8, 2>];
//! let mut net: Net = init::seeded(Init::XavierUniform, 0);
//! let grads = Net::zeros();
//! Sgd::<Net>::new(SgdConfig::new()).step(&mut net, &grads);
//! ```
//! ```compile_fail
//! use constnet::init::{self, Init};
//! use constnet::optim::{Optimizer, Sgd, SgdConfig};
//! use constnet::{Dense, Zeros, seq};
//! type Net = seq![Dense<4, 8>, Dense<9, 2>];
//! let mut net: Net = init::seeded(Init::XavierUniform, 0);
//! let grads = Net::zeros();
//! Sgd::<Net>::new(SgdConfig::new()).step(&mut net, &grads);
//! ```
//! Each of the three lines fails on its own; where a `Params` bound is asked for (as in
//! `init::seeded`), the compiler reports
//! ``the sizes of neighbouring layers do not meet: one layer outputs `[f32; 8]`, the next takes `[f32; 9]` ``.
//!
//! # An input of the wrong size
//! ```
//! use constnet::{Dense, Layer, Zeros};
//! let layer = Dense::<3, 1>::zeros();
//! let _ = layer.forward(&[1.0, 2.0, 3.0]);
//! ```
//! ```compile_fail
//! use constnet::{Dense, Layer, Zeros};
//! let layer = Dense::<3, 1>::zeros();
//! let _ = layer.forward(&[1.0, 2.0, 3.0, 4.0]);
//! ```
//!
//! # An optimizer built for another model
//! ```
//! use constnet::optim::{Optimizer, Sgd, SgdConfig};
//! use constnet::{Dense, Zeros};
//! let mut model = Dense::<2, 1>::zeros();
//! let grads = Dense::<2, 1>::zeros();
//! let mut sgd = Sgd::<Dense<2, 1>>::new(SgdConfig::new());
//! sgd.step(&mut model, &grads);
//! ```
//! ```compile_fail
//! use constnet::optim::{Optimizer, Sgd, SgdConfig};
//! use constnet::{Dense, Zeros};
//! let mut model = Dense::<2, 1>::zeros();
//! let grads = Dense::<2, 1>::zeros();
//! let mut sgd = Sgd::<Dense<3, 1>>::new(SgdConfig::new());
//! sgd.step(&mut model, &grads);
//! ```
//!
//! # A batch of the wrong size
//! Inputs, outputs and caches of one batched call share one compile-time batch size `B`:
//! ```
//! use constnet::{Dense, Layer, Zeros};
//! let layer = Dense::<4, 2>::zeros();
//! let x = [[0.0f32; 4]; 3];
//! let mut y = [[0.0f32; 2]; 3];
//! let mut scratch = <Dense<4, 2> as Layer>::BatchCache::<3>::zeros();
//! layer.forward_batch(&x, &mut y, &mut scratch);
//! ```
//! ```compile_fail
//! use constnet::{Dense, Layer, Zeros};
//! let layer = Dense::<4, 2>::zeros();
//! let x = [[0.0f32; 4]; 3];
//! let mut y = [[0.0f32; 2]; 5];
//! let mut scratch = <Dense<4, 2> as Layer>::BatchCache::<3>::zeros();
//! layer.forward_batch(&x, &mut y, &mut scratch);
//! ```
//! and a training cache made for another batch size:
//! ```
//! use constnet::{Dense, Layer, TrainCtx, Zeros};
//! let mut layer = Dense::<4, 2>::zeros();
//! let mut cache = <Dense<4, 2> as Layer>::BatchCache::<3>::zeros();
//! let mut y = [[0.0f32; 2]; 3];
//! layer.forward_train_batch(&[[0.0; 4]; 3], &mut y, &mut cache, &mut TrainCtx::new(0));
//! ```
//! ```compile_fail
//! use constnet::{Dense, Layer, TrainCtx, Zeros};
//! let mut layer = Dense::<4, 2>::zeros();
//! let mut cache = <Dense<4, 2> as Layer>::BatchCache::<8>::zeros();
//! let mut y = [[0.0f32; 2]; 3];
//! layer.forward_train_batch(&[[0.0; 4]; 3], &mut y, &mut cache, &mut TrainCtx::new(0));
//! ```
//!
//! # A loss target whose size differs from the output
//! ```
//! use constnet::loss::{Loss, Mse};
//! use constnet::{Dense, Layer, Zeros};
//! let layer = Dense::<4, 2>::zeros();
//! let y = layer.forward(&[0.0; 4]);
//! let mut grad = [0.0; 2];
//! let _ = Mse.loss(&y, &[1.0, 0.0], &mut grad);
//! ```
//! ```compile_fail
//! use constnet::loss::{Loss, Mse};
//! use constnet::{Dense, Layer, Zeros};
//! let layer = Dense::<4, 2>::zeros();
//! let y = layer.forward(&[0.0; 4]);
//! let mut grad = [0.0; 2];
//! let _ = Mse.loss(&y, &[1.0, 0.0, 0.0], &mut grad);
//! ```
//!
//! # Layers of different scalar types
//! ```
//! use constnet::{Dense, Identity, Layer, Zeros, seq};
//! type Net = seq![Dense<2, 2, Identity, f64>, Dense<2, 1, Identity, f64>];
//! let _ = Net::zeros().forward(&[1.0, 2.0]);
//! ```
//! ```compile_fail
//! use constnet::{Dense, Identity, Layer, Zeros, seq};
//! type Net = seq![Dense<2, 2, Identity, f64>, Dense<2, 1, Identity, f32>];
//! let _ = Net::zeros().forward(&[1.0, 2.0]);
//! ```
//!
//! # Training BatchNorm on fewer than two samples
//! Batch statistics need two samples; this one is a post-monomorphization error, so it appears
//! at `cargo build`, not `cargo check`:
//! ```
//! use constnet::{Layer, TrainCtx, Zeros, layers::BatchNorm};
//! let mut norm = BatchNorm::<3>::new();
//! let mut cache = <BatchNorm<3> as Layer>::BatchCache::<2>::zeros();
//! let mut y = [[0.0f32; 3]; 2];
//! norm.forward_train_batch(&[[1.0; 3]; 2], &mut y, &mut cache, &mut TrainCtx::new(0));
//! ```
//! ```compile_fail
//! use constnet::{Layer, TrainCtx, Zeros, layers::BatchNorm};
//! let mut norm = BatchNorm::<3>::new();
//! let mut cache = <BatchNorm<3> as Layer>::BatchCache::<1>::zeros();
//! let mut y = [[0.0f32; 3]; 1];
//! norm.forward_train_batch(&[[1.0; 3]; 1], &mut y, &mut cache, &mut TrainCtx::new(0));
//! ```
//!
//! # A convolution's output length that does not follow from its parameters
//! `Conv1d`'s `L_OUT` must be `(L + 2·PADDING − DILATION·(K − 1) − 1) / STRIDE + 1`, rounded
//! down (PyTorch's formula); another number fails the build (also a post-monomorphization
//! error, at `cargo build`) with the formula and the numbers. Here `(16 + 2·1 − 2·(3 − 1) −
//! 1) / 2 + 1 = 7`, and the second example says: ``Conv1d: L_OUT = 8, but it must be
//! (L + 2·PADDING − DILATION·(K − 1) − 1) / STRIDE + 1 = (16 + 2·1 − 2·(3 − 1) − 1) / 2 + 1 = 7
//! (rounded down)``:
//! ```
//! use constnet::{Conv1d, Layer, Relu, Zeros};
//! // 16 frames, kernel 3, stride 2, padding 1, dilation 2.
//! let conv = Conv1d::<4, 8, 3, 16, 7, Relu, f32, 2, 1, 2>::zeros();
//! let _ = conv.forward(&[[0.0; 4]; 16]);
//! ```
//! ```compile_fail
//! use constnet::{Conv1d, Layer, Relu, Zeros};
//! // 16 frames, kernel 3, stride 2, padding 1, dilation 2.
//! let conv = Conv1d::<4, 8, 3, 16, 8, Relu, f32, 2, 1, 2>::zeros();
//! let _ = conv.forward(&[[0.0; 4]; 16]);
//! ```
//! The same holds for the channels per group `CG` (`C_IN / GROUPS`), and for the history of a
//! streaming [`Conv1dStream`](crate::Conv1dStream) (`DILATION·(K − 1)` frames):
//! ```
//! use constnet::{Conv1d, Conv1dStream, Zeros};
//! // Depthwise: 4 groups of 1 input channel each, kernel 3, dilation 2: a history of 4.
//! let conv = Conv1d::<4, 4, 3, 8, 4, constnet::Identity, f32, 1, 0, 2, 4, 1>::zeros();
//! let _ = conv.step(&mut Conv1dStream::<4, 4>::new(), &[1.0; 4]);
//! ```
//! ```compile_fail
//! use constnet::{Conv1d, Conv1dStream, Zeros};
//! // Depthwise: 4 groups of 1 input channel each, kernel 3, dilation 2: a history of 4.
//! let conv = Conv1d::<4, 4, 3, 8, 4, constnet::Identity, f32, 1, 0, 2, 4, 1>::zeros();
//! let _ = conv.step(&mut Conv1dStream::<4, 2>::new(), &[1.0; 4]);
//! ```
