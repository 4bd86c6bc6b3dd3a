//! Layers: each file holds one layer's forward and backward side by side.

mod activation;
mod batch_norm;
mod conv1d;
mod conv1d_check;
mod conv1d_stream;
mod dense;
mod dropout;
mod gru;
mod layer_norm;
mod lstm;
mod recurrent_cell;
mod recurrent_weights;
mod sequence;

pub use activation::{Activation, ActivationCache, Softmax};
pub use batch_norm::{BatchNorm, BatchNormCache};
pub use conv1d::{Conv1d, Conv1dCache};
pub use conv1d_check::conv1d_out_len;
pub use conv1d_stream::Conv1dStream;
pub use dense::{Dense, DenseBatchCache, DenseCache};
pub use dropout::{Dropout, DropoutCache};
pub use gru::{Gru, GruState, GruStepCache};
pub use layer_norm::{LayerNorm, LayerNormCache};
pub use lstm::{Lstm, LstmState, LstmStepCache};
pub use recurrent_cell::RecurrentCell;
pub use recurrent_weights::RecurrentWeights;
pub use sequence::{
    AllStates, GruSequence, LastState, LstmSequence, Sequence, SequenceCache, SequenceOutput,
};
