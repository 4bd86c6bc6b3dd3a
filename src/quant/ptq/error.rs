//! `QuantizeError`: why a float network has no int8 form for the given calibration.

use std::string::String;

use crate::quant::QuantizationMismatch;

/// Why [`quantize`](super::quantize) refused. Layers are numbered from 0 in forward order,
/// chains flattened, a [`Residual`](crate::Residual) counted after its main path and
/// shortcut.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantizeError {
    /// No calibration samples were given: the activation ranges are unknown.
    NoCalibration,
    /// A tensor took a NaN or an infinite value on a calibration sample (or a layer has a
    /// weight or bias that is not finite): it has no int8 range.
    NotFinite {
        /// The layer whose output (or parameters) it is; `None` for the network's input.
        layer: Option<usize>,
        /// The layer's name.
        name: &'static str,
    },
    /// The layer cannot take this place in an int8 network.
    Unsupported {
        /// The layer.
        layer: usize,
        /// The layer's name.
        name: &'static str,
        /// Why, and what would work.
        reason: String,
    },
    /// The int8 network failed its own [`check`](crate::quant::Int8Layer::check) (a bug of
    /// the quantizer: please report it).
    Mismatch(QuantizationMismatch),
}

impl core::fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            QuantizeError::NoCalibration => write!(
                f,
                "no calibration samples: quantization needs the activation ranges of at least one input"
            ),
            QuantizeError::NotFinite { layer: None, .. } => {
                write!(f, "a calibration input holds a NaN or an infinity")
            }
            QuantizeError::NotFinite {
                layer: Some(layer),
                name,
            } => write!(
                f,
                "layer {layer} ({name}) has a NaN or an infinity in its parameters or in its output on a calibration input"
            ),
            QuantizeError::Unsupported {
                layer,
                name,
                reason,
            } => write!(f, "layer {layer} ({name}): {reason}"),
            QuantizeError::Mismatch(m) => write!(f, "the int8 network is inconsistent: {m}"),
        }
    }
}

impl std::error::Error for QuantizeError {}
