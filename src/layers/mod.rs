//! Layers: each file holds one layer's forward and backward side by side.

mod activation_layer;
mod activation_map;
mod batch_norm;
mod batch_norm2d;
mod conv1d;
mod conv1d_check;
mod conv1d_stream;
mod conv2d;
pub(crate) mod conv2d_options;
mod dense;
mod dropout;
mod flatten;
mod global_pool1d;
mod gru;
mod last_frame;
mod layer_norm;
mod lstm;
mod message;
mod parameter_free;
mod pool2d;
mod recurrent_batch;
mod recurrent_cell;
mod recurrent_weights;
mod residual;
mod sequence;

#[allow(deprecated)]
pub use activation_layer::{Activation, Softmax};
pub use activation_layer::{ActivationCache, ActivationLayer, SoftmaxLayer};
pub use activation_map::{ActivationMap, ArrayOf};
pub use batch_norm::{BatchNorm, BatchNormCache, BatchStats};
pub use batch_norm2d::{BatchNorm2d, BatchNorm2dCache};
pub use conv1d::{CausalConv1d, Conv1d, Conv1dCache, DepthwiseConv1d};
pub use conv1d_check::conv1d_out_len;
pub use conv1d_stream::{Conv1dHistory, Conv1dStream};
pub use conv2d::{Conv2d, Conv2dCache, DepthwiseConv2d};
pub use conv2d_options::{Conv2dOptions, NoBias, Padded, Same, Valid};
pub use dense::{Dense, DenseBatchCache, DenseCache};
pub use dropout::{Dropout, DropoutCache};
pub use flatten::{ChannelsLast, Flatten};
pub use global_pool1d::{GlobalAvgPool1d, GlobalMaxPool1d};
pub use gru::{Gru, GruBatchState, GruBatchStepCache, GruState, GruStepCache};
pub use last_frame::LastFrame;
pub use layer_norm::{LayerNorm, LayerNormCache};
pub use lstm::{Lstm, LstmBatchState, LstmBatchStepCache, LstmState, LstmStepCache};
pub use pool2d::{Average, AvgPool2d, GlobalAvgPool2d, Max, MaxPool2d, Pool2d, PoolKind};
pub use recurrent_cell::RecurrentCell;
pub use recurrent_weights::RecurrentWeights;
pub use residual::{Residual, ResidualCache, Skip};
pub use sequence::{
    AllStates, GruSequence, LastState, LstmSequence, Sequence, SequenceBatchCache, SequenceCache,
    SequenceOutput,
};
