//! The quantizer's walk over a float network in forward order: the tensor ranges the
//! calibration recorded, the quantization of the tensor flowing between layers, and what a
//! layer folds in from the layers after it (a BatchNorm's affine map, a ReLU's clamp).

use std::string::String;
use std::vec::Vec;

use super::error::QuantizeError;
use super::scheme::Range;
use crate::quant::{FusedActivation, Quantization};

/// What a layer hands to the `Dense`, `Conv2d`, pool or `Residual` before it, which folds it
/// in.
pub enum Fold<'a> {
    /// A per-channel affine map `y = x · scale + shift` (a BatchNorm in inference), `(scale,
    /// shift)` of each of `channels` channels, in `f64`.
    Affine {
        /// How many channels.
        channels: usize,
        /// `(scale, shift)` of a channel.
        scale_shift: &'a dyn Fn(usize) -> (f64, f64),
    },
    /// A ReLU or ReLU6 (or the identity), applied by clamping the int8 output.
    Activation(FusedActivation),
}

/// A float layer seen from the layer before it: the folds it starts with.
pub trait Folds {
    /// Calls `f` with each fold at the start of this layer, in order, until `f` declines
    /// one (returns `false`) or a layer that does not fold is reached; `true` if all of this
    /// layer folded.
    fn leading_folds(&self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool;
}

/// The layers after the one being quantized (up to the end of the innermost chain that is
/// not a residual branch), as a list through the enclosing chains' second parts.
#[derive(Clone, Copy)]
pub struct Next<'a>(Option<&'a Link<'a>>);

/// One entry of [`Next`].
pub struct Link<'a> {
    layer: &'a dyn Folds,
    rest: Next<'a>,
}

impl<'a> Link<'a> {
    /// `layer`, then `rest`.
    pub fn new(layer: &'a dyn Folds, rest: Next<'a>) -> Self {
        Link { layer, rest }
    }
}

impl<'a> Next<'a> {
    /// Nothing follows (the end of the network, or of a residual branch).
    pub const END: Next<'static> = Next(None);

    /// The list starting at `link`.
    pub fn at(link: &'a Link<'a>) -> Self {
        Next(Some(link))
    }

    fn visit(self, f: &mut dyn FnMut(Fold<'_>) -> bool) -> bool {
        match self.0 {
            None => true,
            Some(link) => link.layer.leading_folds(f) && link.rest.visit(f),
        }
    }
}

/// What a layer folds in: the per-channel affine map to apply to its weights and bias
/// (`None`: none), its fused activation and its output quantization.
pub struct Fusion {
    /// `(scale, shift)` per output channel.
    pub affine: Option<Vec<(f64, f64)>>,
    /// The clamp of the int8 output.
    pub activation: FusedActivation,
    /// The output's quantization (of the tensor after the last fold).
    pub output: Quantization,
}

/// Which folds a layer takes.
#[derive(Clone, Copy)]
pub struct Takes {
    /// The layer's own activation.
    pub own: FusedActivation,
    /// `Some(channels)`: per-channel affine maps (a `Dense` or `Conv2d` with the identity
    /// activation) fold into its weights.
    pub affine: Option<usize>,
    /// Activations fold into its output clamp.
    pub activations: bool,
}

/// The walk's state.
pub struct Walk<'r> {
    ranges: &'r [Range],
    /// The index in `ranges` of the tensor the next layer writes.
    next_tensor: usize,
    /// The quantization of the tensor the next layer reads.
    input: Quantization,
    /// Layers after the previous one that it folded in, still to be passed.
    pending: usize,
    /// The `[H, W, C]` of a PyTorch-order `Flatten` the next layer (a `Dense`) reads.
    flatten: Option<[usize; 3]>,
    /// The next layer's number.
    layer: usize,
}

/// `a` then `b`, as one clamp.
fn compose(a: FusedActivation, b: FusedActivation) -> FusedActivation {
    use FusedActivation::{None, Relu, Relu6};
    match (a, b) {
        (x, None) => x,
        (None, y) => y,
        (Relu, Relu) => Relu,
        _ => Relu6,
    }
}

impl<'r> Walk<'r> {
    /// A walk over the ranges of a network's input (`ranges[0]`) and then of every tensor
    /// its layers write, in forward order.
    pub fn new(ranges: &'r [Range]) -> Result<Self, QuantizeError> {
        let input = ranges[0];
        if input.not_finite {
            return Err(QuantizeError::NotFinite {
                layer: None,
                name: "input",
            });
        }
        Ok(Walk {
            ranges,
            next_tensor: 1,
            input: Quantization::from_range(input.min, input.max),
            pending: 0,
            flatten: None,
            layer: 0,
        })
    }

    /// The quantization of the tensor the next layer reads.
    pub fn input(&self) -> Quantization {
        self.input
    }

    /// Sets it (a residual block's shortcut reads the block's input).
    pub fn set_input(&mut self, input: Quantization) {
        self.input = input;
    }

    /// Checks that nothing is pending for a layer that is neither folded nor a `Dense`.
    pub fn clear(&self, name: &'static str) -> Result<(), QuantizeError> {
        if self.flatten.is_some() {
            return Err(self.unsupported(
                name,
                "it follows a Flatten: an int8 network flattens in NHWC order, so a Flatten is quantized only directly before a Dense, whose weight columns are reordered to match",
            ));
        }
        debug_assert_eq!(self.pending, 0, "a layer was folded into nothing");
        Ok(())
    }

    /// Starts a layer that is not folded: checks it and returns its number.
    pub fn begin(&mut self, name: &'static str) -> Result<usize, QuantizeError> {
        self.clear(name)?;
        self.layer += 1;
        Ok(self.layer - 1)
    }

    /// Starts a `Dense`: returns its number and the `[H, W, C]` of the `Flatten` before it,
    /// if any.
    pub fn begin_dense(&mut self) -> Result<(usize, Option<[usize; 3]>), QuantizeError> {
        let flatten = self.flatten.take();
        Ok((self.begin("Dense")?, flatten))
    }

    /// After a `Flatten` of `[H, W, C]`, which only a `Dense` may follow.
    pub fn flattened(&mut self, dims: [usize; 3]) {
        self.flatten = Some(dims);
    }

    /// The quantization of the tensor `t`, or why it has none.
    fn quantization_of(
        &self,
        t: usize,
        layer: usize,
        name: &'static str,
    ) -> Result<Quantization, QuantizeError> {
        let range = self.ranges[t];
        if range.not_finite {
            return Err(QuantizeError::NotFinite {
                layer: Some(layer),
                name,
            });
        }
        Ok(Quantization::from_range(range.min, range.max))
    }

    /// Ends layer `layer`: takes the folds `takes` allows from `next`, and the output
    /// quantization `fixed` (a pool's, which is its input's) or else the calibrated one of
    /// the tensor after the last fold.
    pub fn fuse(
        &mut self,
        layer: usize,
        name: &'static str,
        next: Next<'_>,
        takes: Takes,
        fixed: Option<Quantization>,
    ) -> Result<Fusion, QuantizeError> {
        let mut affine: Option<Vec<(f64, f64)>> = None;
        let mut activation = takes.own;
        let mut count = 0;
        next.visit(&mut |fold| {
            let taken = match fold {
                Fold::Affine {
                    channels,
                    scale_shift,
                } => {
                    if activation != FusedActivation::None || takes.affine != Some(channels) {
                        false
                    } else {
                        let maps = affine.get_or_insert_with(|| vec![(1.0, 0.0); channels]);
                        for (c, (scale, shift)) in maps.iter_mut().enumerate() {
                            let (s, t) = scale_shift(c);
                            *scale *= s;
                            *shift = *shift * s + t;
                        }
                        true
                    }
                }
                Fold::Activation(a) => {
                    if takes.activations {
                        activation = compose(activation, a);
                        true
                    } else {
                        false
                    }
                }
            };
            count += taken as usize;
            taken
        });
        let output = match fixed {
            Some(q) => q,
            None => self.quantization_of(self.next_tensor + count, layer, name)?,
        };
        self.pending = count;
        self.next_tensor += 1;
        self.input = output;
        Ok(Fusion {
            affine,
            activation,
            output,
        })
    }

    /// Passes a layer that the one before it folded in; `Err` (with `reason`) if it was not.
    pub fn folded(&mut self, name: &'static str, reason: &str) -> Result<(), QuantizeError> {
        if self.pending == 0 {
            return Err(self.unsupported(name, reason));
        }
        self.pending -= 1;
        self.next_tensor += 1;
        self.layer += 1;
        Ok(())
    }

    /// Checks the end of the network.
    pub fn finish(&self) -> Result<(), QuantizeError> {
        if self.flatten.is_some() {
            return Err(QuantizeError::Unsupported {
                layer: self.layer - 1,
                name: "Flatten",
                reason: "an int8 network flattens in NHWC order, so a Flatten is quantized only directly before a Dense".into(),
            });
        }
        Ok(())
    }

    /// An [`Unsupported`](QuantizeError::Unsupported) error for the next layer.
    pub fn unsupported(&self, name: &'static str, reason: &str) -> QuantizeError {
        QuantizeError::Unsupported {
            layer: self.layer,
            name,
            reason: String::from(reason),
        }
    }

    /// A [`NotFinite`](QuantizeError::NotFinite) error for layer `layer`'s parameters.
    pub fn not_finite(layer: usize, name: &'static str) -> QuantizeError {
        QuantizeError::NotFinite {
            layer: Some(layer),
            name,
        }
    }
}
