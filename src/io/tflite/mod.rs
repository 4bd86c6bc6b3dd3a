//! TensorFlow Lite int8 models in and out (feature `tflite`): a bounds-checked reader for the
//! `.tflite` flatbuffer that loads a model into a typed int8 network of [`crate::quant`]
//! layers ([`load_into`]), or writes that network as Rust source with the weights baked in
//! ([`to_rust`]); and a writer of int8 networks (one [`quantize`](crate::quant::quantize)
//! built, or one loaded) as `.tflite` files for TensorFlow Lite Micro or LiteRT
//! ([`to_bytes`]).
//!
//! Supported: models of one subgraph, int8 in and out or float32 with a QUANTIZE and a
//! DEQUANTIZE at the edges (the typed network is the int8 part between them; its own
//! `input_quantization().quantize_slice` and `output_quantization().dequantize_slice` are the
//! edges), whose operators are `FULLY_CONNECTED`,
//! `CONV_2D`, `DEPTHWISE_CONV_2D`, `MAX_POOL_2D`, `AVERAGE_POOL_2D`, `MEAN` over height and
//! width, `ADD` (residual blocks) and `RESHAPE`, with fused `NONE`, `RELU` or `RELU6`; the
//! `SHAPE`, `STRIDED_SLICE` and `PACK` that compute a `RESHAPE`'s shape from static shapes
//! (Keras's `Flatten`) are evaluated at import and dropped. Anything else is refused with an
//! error naming the operator, type or option.
//!
//! Every check runs before any write: on an `Err` the network is unchanged.

mod error;
mod flatbuffer;
mod flatbuffer_builder;
mod graph;
mod load;
mod rust_source;
mod write;

pub use error::Error;
#[doc(hidden)]
pub use graph::Graph;
pub use load::{Cursor, FromTflite};
pub use rust_source::to_rust;
#[doc(hidden)]
pub use write::ModelWriter;
pub use write::{ToTflite, to_bytes};

/// The largest `.tflite` file the importers read (256 MiB).
pub const MAX_FILE_BYTES: usize = 256 << 20;

/// Loads the int8 model in `bytes` into `net`, whose type must match the model operator by
/// operator (sizes, kernel geometry, fused activations); quantization parameters, weights and
/// biases are taken from the file, and the requantization multipliers computed as TensorFlow
/// Lite computes them. Every check happens before any write: on an `Err` (naming the operator
/// and what differs) `net` is untouched.
pub fn load_into<L: FromTflite>(net: &mut L, bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::new(format!(
            "{} bytes is larger than the {MAX_FILE_BYTES} bytes read",
            bytes.len()
        )));
    }
    let graph = graph::Graph::parse(bytes)?;
    load::load_network(net, &graph)
}
