//! `Params`: a fixed tree of parameter tensors, walked as flat slices in one fixed order.

#[cfg(feature = "std")]
use alloc::boxed::Box;

#[cfg(feature = "std")]
use crate::kernel::ZeroBits;
use crate::named::{Layout, Setting, SettingMut, Shape, TensorInfo};
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// What a parameter tensor is, so initializers know how to fill it and files know how to
/// name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// A weight matrix `[out][in]` (PyTorch `nn.Linear.weight`).
    Weight,
    /// A bias vector `[out]`.
    Bias,
    /// A norm layer's multiplicative weight (starts at one).
    Scale,
    /// A norm layer's additive bias (starts at zero).
    Shift,
}

/// The shape of one parameter tensor in PyTorch terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorShape {
    /// What the tensor is.
    pub kind: TensorKind,
    /// Rows (`out` features); the length for a vector.
    pub rows: usize,
    /// Columns (`in` features) for a matrix; 1 for a vector.
    pub cols: usize,
    /// The fan-in used by initializers (`in` features of the owning layer).
    pub fan_in: usize,
    /// The fan-out used by initializers (`out` features of the owning layer).
    pub fan_out: usize,
}

impl TensorShape {
    /// Number of elements.
    pub const fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True when the tensor holds no element.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fixed tree of parameter tensors.
///
/// Gradients and optimizer state are values of the *same type* as the model, so an optimizer
/// built for one network cannot step another. Every walk (`tensors`, `tensors_mut`, `shapes`)
/// visits the tensors in the same order: layer by layer, weight before bias.
///
/// ```
/// use constnet::{Dense, Params, Zeros, seq, Tanh};
/// type Net = seq![Dense<2, 8, Tanh>, Dense<8, 1>];
/// assert_eq!(Net::PARAM_COUNT, 2 * 8 + 8 + 8 + 1);
/// let net = Net::zeros();
/// assert_eq!(net.tensors().map(|t| t.len()).sum::<usize>(), Net::PARAM_COUNT);
/// ```
pub trait Params: Zeros {
    /// The element type of every tensor.
    type Scalar: Scalar;
    /// Total number of trainable scalars, known at compile time.
    const PARAM_COUNT: usize;
    /// The tensors, read-only, in the fixed order.
    fn tensors(&self) -> impl Iterator<Item = &[Self::Scalar]>;
    /// The tensors, writable, in the fixed order.
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [Self::Scalar]>;
    /// The shape of each tensor, in the same order as `tensors`.
    fn shapes() -> impl Iterator<Item = TensorShape>;
    /// Resets every setting that is not a trainable number (an activation's slope, a norm's
    /// `eps` and running statistics) to its default. Called after a zeroed heap allocation.
    fn restore_defaults(&mut self) {}

    /// How many modules of a PyTorch `nn.Sequential` this layer stands for: 1 for a layer,
    /// 2 for a [`Dense`](crate::Dense) with a fused activation (`Linear`, then the
    /// activation), the sum for a chain. Weight files number their keys with it.
    const MODULES: usize = 1;

    /// Calls `f` with every stored tensor (trained parameters and buffers such as running
    /// statistics) and its [`TensorInfo`]: its state_dict name as module `module` of an
    /// `nn.Sequential` (a chain numbers its layers from there), PyTorch shape and storage
    /// layout. Allocates nothing.
    ///
    /// The default walks [`shapes`](Params::shapes) with [`tensors`](Params::tensors),
    /// naming `Weight`/`Scale` tensors `weight` and `Bias`/`Shift` tensors `bias`, stored
    /// row-major; a layer with other names or buffers overrides it (and
    /// [`visit_tensors_mut`](Params::visit_tensors_mut) alike).
    ///
    /// ```
    /// use constnet::{Dense, Params, Relu, Zeros, seq};
    /// type Net = seq![Dense<4, 8, Relu>, Dense<8, 3>];
    /// let mut keys = Vec::new();
    /// Net::zeros().visit_tensors(0, &mut |info, _| keys.push(format!("{}.{} {}", info.module, info.name, info.shape)));
    /// assert_eq!(keys, ["0.weight [8, 4]", "0.bias [8]", "2.weight [3, 8]", "2.bias [3]"]);
    /// ```
    fn visit_tensors(&self, module: usize, f: &mut dyn FnMut(TensorInfo, &[Self::Scalar])) {
        for (shape, tensor) in Self::shapes().zip(self.tensors()) {
            f(default_info(module, &shape), tensor);
        }
    }

    /// [`visit_tensors`](Params::visit_tensors), writable, in the same order.
    fn visit_tensors_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(TensorInfo, &mut [Self::Scalar]),
    ) {
        for (shape, tensor) in Self::shapes().zip(self.tensors_mut()) {
            f(default_info(module, &shape), tensor);
        }
    }

    /// Calls `f(module, name, value)` with every setting that is not a tensor but that the
    /// model needs (a norm layer's `eps` and `momentum`, BatchNorm's `num_batches_tracked`,
    /// an activation's slope). The default has none.
    fn visit_settings(&self, module: usize, f: &mut dyn FnMut(usize, &'static str, Setting)) {
        let _ = (module, f);
    }

    /// [`visit_settings`](Params::visit_settings), writable, in the same order.
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        let _ = (module, f);
    }

    /// Sets every parameter to zero (for gradients: zeroing is explicit, `backward` adds).
    fn fill_zero(&mut self) {
        for t in self.tensors_mut() {
            t.fill(<Self::Scalar as num_traits::Zero>::zero());
        }
    }

    /// A zero model allocated and filled in place on the heap: nothing of the model's size is
    /// ever built on the stack, so multi-megabyte networks, gradients and optimizer state
    /// can be created on small threads.
    ///
    /// ```
    /// use constnet::{Dense, Params, seq, Relu};
    /// type Big = seq![Dense<784, 512, Relu>, Dense<512, 512, Relu>, Dense<512, 10>];
    /// let grads = Big::boxed_zeros(); // ~2.7 MB, straight to the heap
    /// assert!(grads.tensors().all(|t| t.iter().all(|&g| g == 0.0)));
    /// ```
    #[cfg(feature = "std")]
    fn boxed_zeros() -> Box<Self>
    where
        Self: ZeroBits,
    {
        let mut model = crate::kernel::zeroed_box::<Self>();
        model.restore_defaults();
        model
    }
}

/// The [`TensorInfo`] the default walk gives a tensor of shape `shape`.
fn default_info(module: usize, shape: &TensorShape) -> TensorInfo {
    let (name, matrix) = match shape.kind {
        TensorKind::Weight => ("weight", true),
        TensorKind::Scale => ("weight", false),
        TensorKind::Bias | TensorKind::Shift => ("bias", false),
    };
    TensorInfo {
        module,
        name,
        shape: if matrix {
            Shape::matrix(shape.rows, shape.cols)
        } else {
            Shape::vector(shape.len())
        },
        layout: Layout::RowMajor,
        trained: true,
    }
}
