//! What weight files see of a model: named tensors in PyTorch's shapes, and named settings.
//!
//! [`Named::visit_tensors`] and [`Named::visit_settings`] walk a model as a PyTorch
//! `nn.Sequential` state_dict names it: module index `K` (an activation fused into a
//! [`Dense`](crate::Dense) counts as the module after the `Linear`), tensor name (`weight`,
//! `bias`, `running_mean`, ...), shape (`[out, in]` for a weight matrix). The walks allocate
//! nothing and work without `std`; the own format, safetensors and the Rust exporter all use
//! them.

use core::fmt;

use crate::params::{Params, TensorKind, TensorShape};

/// A tensor shape of up to four dimensions, `[]` for a scalar.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: [u32; 4],
    ndim: u8,
}

impl Shape {
    /// The most dimensions a shape has.
    pub const MAX_DIMS: usize = 4;
    /// A scalar (no dimension).
    pub const SCALAR: Shape = Shape {
        dims: [0; 4],
        ndim: 0,
    };
    /// A vector of `n` elements. Panics if `n` does not fit in 32 bits (no tensor of a
    /// model does: every dimension of a weight file is a `u32`).
    pub const fn vector(n: usize) -> Shape {
        Shape {
            dims: [dim(n), 0, 0, 0],
            ndim: 1,
        }
    }
    /// A `rows × cols` matrix (row-major, PyTorch's `[out, in]` for a weight); panics as
    /// [`Shape::vector`].
    pub const fn matrix(rows: usize, cols: usize) -> Shape {
        Shape {
            dims: [dim(rows), dim(cols), 0, 0],
            ndim: 2,
        }
    }
    /// A three-dimensional shape (PyTorch's `[C_out, C_in/groups, K]` for a convolution's
    /// weight); panics as [`Shape::vector`].
    pub const fn dims3(a: usize, b: usize, c: usize) -> Shape {
        Shape {
            dims: [dim(a), dim(b), dim(c), 0],
            ndim: 3,
        }
    }
    /// A shape from its dimensions, `None` for more than [`Shape::MAX_DIMS`] or a dimension
    /// beyond `u32::MAX`.
    pub fn from_dims(dims: &[usize]) -> Option<Shape> {
        if dims.len() > Self::MAX_DIMS {
            return None;
        }
        let mut shape = Shape {
            dims: [0; 4],
            ndim: dims.len() as u8,
        };
        for (d, &n) in shape.dims.iter_mut().zip(dims) {
            *d = u32::try_from(n).ok()?;
        }
        Some(shape)
    }
    /// The dimensions.
    pub fn dims(&self) -> &[u32] {
        &self.dims[..self.ndim as usize]
    }
    /// Dimension `i` (0 past the rank).
    pub fn dim(&self, i: usize) -> usize {
        self.dims().get(i).map_or(0, |&d| d as usize)
    }
    /// The number of elements (1 for a scalar), `None` on overflow.
    pub fn elements(&self) -> Option<usize> {
        self.dims()
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d as usize))
    }
}

/// `n` as a dimension.
const fn dim(n: usize) -> u32 {
    assert!(n <= u32::MAX as usize, "a tensor dimension beyond u32::MAX");
    n as u32
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Shape {
    /// `[16, 4]`, `[16]`, `[]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

/// How a tensor's elements are stored in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// In the order of its [`Shape`] (row-major).
    RowMajor,
    /// A `[rows, cols]` matrix stored column by column (`Dense`'s input-major weights):
    /// element `(r, c)` is at `c·rows + r`.
    Transposed,
    /// Stored with the axes in reverse order (`Conv1d`'s `[C_out, C_in/groups, K]` weight as
    /// `[K][C_in/groups][C_out]`): element `(i₀, i₁, ..., iₙ₋₁)` is at
    /// `i₀ + d₀·(i₁ + d₁·(i₂ + ...))`. For a matrix, the same as [`Layout::Transposed`].
    Reversed,
    /// A `[rows, cols]` matrix whose rows form `n` equal blocks (a recurrent layer's gates),
    /// each block stored column by column: with `R = rows / n`, element `(k·R + j, c)` is at
    /// `k·R·cols + c·R + j`. `TransposedBlocks(1)` is [`Layout::Transposed`].
    TransposedBlocks(usize),
}

/// One tensor as a weight file names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The `nn.Sequential` module index `K` of the key `K.name`.
    pub module: usize,
    /// The state_dict name within the module: `weight`, `bias`, `running_mean`, `running_var`.
    pub name: &'static str,
    /// The shape in PyTorch's order (`[out, in]` for a weight matrix).
    pub shape: Shape,
    /// How the model stores it.
    pub layout: Layout,
    /// `true` for trained parameters (what [`Params::tensors`](crate::Params::tensors)
    /// walks), `false` for buffers such as running statistics.
    pub trained: bool,
}

impl TensorInfo {
    /// The flat storage index of the element at PyTorch's row-major position `index`.
    #[inline]
    pub fn storage_index(&self, index: usize) -> usize {
        match self.layout {
            Layout::RowMajor => index,
            Layout::Transposed => {
                let (rows, cols) = (self.shape.dims[0] as usize, self.shape.dims[1] as usize);
                let (r, c) = (index / cols, index % cols);
                c * rows + r
            }
            Layout::Reversed => {
                // Row-major digits, last axis first, then Horner's rule from the last axis.
                let dims = self.shape.dims();
                let mut digits = [0usize; Shape::MAX_DIMS];
                let mut rest = index;
                for (digit, &d) in digits.iter_mut().zip(dims).rev() {
                    *digit = rest % d as usize;
                    rest /= d as usize;
                }
                let mut position = 0;
                for (&digit, &d) in digits.iter().zip(dims).rev() {
                    position = position * d as usize + digit;
                }
                position
            }
            Layout::TransposedBlocks(n) => {
                let (rows, cols) = (self.shape.dims[0] as usize, self.shape.dims[1] as usize);
                let block = rows / n;
                let (r, c) = (index / cols, index % cols);
                let (k, j) = (r / block, r % block);
                k * block * cols + c * block + j
            }
        }
    }
}

/// A setting that is not a tensor (a norm layer's `eps`, an activation's slope, a counter),
/// read by value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Setting {
    /// A real number.
    Real(f64),
    /// A counter.
    Count(u64),
}

/// A setting, writable (what loaders fill in).
#[derive(Debug)]
pub enum SettingMut<'a> {
    /// A real number.
    Real(&'a mut f64),
    /// A counter.
    Count(&'a mut u64),
}

impl SettingMut<'_> {
    /// The current value.
    pub fn get(&self) -> Setting {
        match self {
            SettingMut::Real(v) => Setting::Real(**v),
            SettingMut::Count(v) => Setting::Count(**v),
        }
    }
    /// Sets the value when its kind matches; returns whether it did.
    pub fn set(&mut self, value: Setting) -> bool {
        match (self, value) {
            (SettingMut::Real(v), Setting::Real(x)) => **v = x,
            (SettingMut::Count(v), Setting::Count(x)) => **v = x,
            _ => return false,
        }
        true
    }
}

/// How weight files name a model's tensors and settings: PyTorch's `nn.Sequential`
/// state_dict keys (`0.weight`, `1.running_mean`, ...), shapes and storage layouts.
///
/// Every item has a default, so a custom layer that implements the parameter walk
/// ([`Params`]) gets sensible names with an empty impl: its tensors are module `K`'s
/// `weight` (for [`TensorKind::Weight`](crate::TensorKind::Weight) and
/// [`Scale`](crate::TensorKind::Scale)) and `bias`, stored row-major. Saving and loading
/// (the own format, safetensors, Rust source, checkpoints) need it; training does not.
///
/// ```
/// use constnet::{Named, Params, TensorKind, TensorShape, Zeros};
/// struct Offset([f32; 3]);
/// impl Zeros for Offset { fn zeros() -> Self { Offset([0.0; 3]) } }
/// impl Params for Offset {
///     type Scalar = f32;
///     const PARAM_COUNT: usize = 3;
///     fn tensors(&self) -> impl Iterator<Item = &[f32]> { core::iter::once(&self.0[..]) }
///     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> { core::iter::once(&mut self.0[..]) }
///     fn shapes() -> impl Iterator<Item = TensorShape> {
///         core::iter::once(TensorShape { kind: TensorKind::Bias, rows: 3, cols: 1, fan_in: 3, fan_out: 3 })
///     }
/// }
/// impl Named for Offset {}
/// let mut keys = Vec::new();
/// Offset::zeros().visit_tensors(4, &mut |info, _| keys.push(format!("{}.{}", info.module, info.name)));
/// assert_eq!(keys, ["4.bias"]);
/// ```
pub trait Named: Params {
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
    /// [`visit_tensors_mut`](Named::visit_tensors_mut) alike).
    ///
    /// ```
    /// use constnet::{Dense, Named, Relu, Zeros, seq};
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

    /// [`visit_tensors`](Named::visit_tensors), writable, in the same order.
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

    /// [`visit_settings`](Named::visit_settings), writable, in the same order.
    fn visit_settings_mut(
        &mut self,
        module: usize,
        f: &mut dyn FnMut(usize, &'static str, SettingMut<'_>),
    ) {
        let _ = (module, f);
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
