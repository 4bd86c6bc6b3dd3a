//! What weight files see of a model: named tensors in PyTorch's shapes, and named settings.
//!
//! [`Params::visit_tensors`](crate::Params::visit_tensors) and
//! [`Params::visit_settings`](crate::Params::visit_settings) walk a model as a PyTorch
//! `nn.Sequential` state_dict names it: module index `K` (an activation fused into a
//! [`Dense`](crate::Dense) counts as the module after the `Linear`), tensor name (`weight`,
//! `bias`, `running_mean`, ...), shape (`[out, in]` for a weight matrix). The walks allocate
//! nothing and work without `std`; the own format, safetensors and the Rust exporter all use
//! them.

use core::fmt;

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
