//! The everyday names in one import: `use constnet::prelude::*;`.
//!
//! Layers, activations, `seq!`, the traits whose methods a network is used through
//! ([`Layer`], [`Stream`], [`Params`], [`Zeros`], [`Loss`], [`Optimizer`]), the losses, the
//! optimizers, initialization and the training loop. Nothing in it shares a name with
//! anything else in it; the rest of the crate (caches, file formats, schedules) stays under
//! its module.
//!
//! ```
//! use constnet::prelude::*;
//!
//! type Net = seq![Dense<2, 8, Tanh>, Dense<8, 1>];
//! let mut net: Net = init::seeded(Init::XavierUniform, 1);
//! let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.05));
//! let history = Fit::<4>::new(200)
//!     .seed(0)
//!     .run(
//!         &mut net,
//!         &mut adam,
//!         &Mse,
//!         DataSet::new(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], &[[0.0], [1.0], [1.0], [0.0]]),
//!         None,
//!     )
//!     .unwrap();
//! assert!(history.last().unwrap().train_loss < 0.05);
//! ```

pub use crate::activations::{
    ActivationFn, Elu, Gelu, GeluTanh, Identity, LeakyRelu, Relu, Relu6, Sigmoid, Silu, Softmax,
    Softplus, Tanh,
};
pub use crate::chain::Chain;
pub use crate::ctx::TrainCtx;
#[cfg(feature = "std")]
pub use crate::fit::{DataSet, EarlyStopping, Fit};
pub use crate::init::{self, Init};
pub use crate::layer::Layer;
pub use crate::layers::{
    ActivationLayer, ActivationMap, AllStates, AvgPool2d, BatchNorm, BatchNorm2d, CausalConv1d,
    Conv1d, Conv2d, Dense, DepthwiseConv1d, DepthwiseConv2d, Dropout, Flatten, GlobalAvgPool1d,
    GlobalAvgPool2d, GlobalMaxPool1d, Gru, GruSequence, LastFrame, LastState, LayerNorm, Lstm,
    LstmSequence, MaxPool2d, NoBias, Padded, Residual, Same, Skip, SoftmaxLayer, Valid,
};
pub use crate::loss::{Bce, BceWithLogits, CrossEntropy, CrossEntropyProbs, Huber, L1, Loss, Mse};
pub use crate::named::Named;
pub use crate::optim::{
    Adam, AdamConfig, AdamW, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
pub use crate::params::Params;
pub use crate::seq;
pub use crate::stream::Stream;
pub use crate::zeros::Zeros;
