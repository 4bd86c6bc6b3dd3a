//! Layers: each file holds one layer's forward and backward side by side.

mod activation;
mod batch_norm;
mod dense;
mod dropout;
mod gru;
mod layer_norm;
mod lstm;
mod recurrent_cell;
mod sequence;

pub use activation::{Activation, ActivationCache, Softmax};
pub use batch_norm::{BatchNorm, BatchNormCache};
pub use dense::{Dense, DenseBatchCache, DenseCache};
pub use dropout::{Dropout, DropoutCache};
pub use gru::{Gru, GruState, GruStepCache};
pub use layer_norm::{LayerNorm, LayerNormCache};
pub use lstm::{Lstm, LstmState, LstmStepCache};
pub use recurrent_cell::RecurrentCell;
pub use sequence::{
    AllStates, GruSequence, LastState, LstmSequence, Sequence, SequenceCache, SequenceOutput,
};
