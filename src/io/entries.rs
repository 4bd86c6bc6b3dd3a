//! `Entries`: anything a file stores as a list of named tensors and settings (a model, a
//! checkpoint), walked in one fixed order for writing and for loading.

use core::fmt::Write;

use crate::io::error::{Dtype, Name};
use crate::named::Named;
use crate::named::{Setting, SettingMut, Shape, TensorInfo};
use crate::scalar::Scalar;

/// One entry's contents, read-only.
pub(crate) enum Data<'a, T> {
    /// A tensor in the model's storage, described by its info.
    Tensor(&'a [T], TensorInfo),
    /// A setting.
    Setting(Setting),
}

/// One entry's contents, writable.
pub(crate) enum DataMut<'a, T> {
    /// A tensor in the model's storage.
    Tensor(&'a mut [T], TensorInfo),
    /// A setting.
    Setting(SettingMut<'a>),
}

impl<T: Scalar> Data<'_, T> {
    /// The shape and element type a file gives the entry.
    pub(crate) fn shape_and_dtype(&self) -> (Shape, Dtype) {
        match self {
            Data::Tensor(_, info) => (info.shape, dtype_of::<T>()),
            Data::Setting(Setting::Real(_)) => (Shape::SCALAR, Dtype::F64),
            Data::Setting(Setting::Count(_)) => (Shape::SCALAR, Dtype::U64),
        }
    }
}

/// `F32` or `F64`.
pub(crate) fn dtype_of<T: Scalar>() -> Dtype {
    if T::BYTES == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// A list of named entries in a fixed order.
pub(crate) trait Entries {
    /// The element type of the tensors.
    type Scalar: Scalar;
    /// Calls `f` with each entry's name and contents.
    fn walk(&self, f: &mut dyn FnMut(&Key, Data<'_, Self::Scalar>));
}

/// [`Entries`] that can be loaded into.
pub(crate) trait EntriesMut: Entries {
    /// The same walk as [`Entries::walk`], writable.
    fn walk_mut(&mut self, f: &mut dyn FnMut(&Key, DataMut<'_, Self::Scalar>));
    /// Checks values the walk cannot (called after the file matched, before any change).
    fn check(&self, file: &crate::io::format::Header<'_>) -> Result<(), crate::io::Error> {
        let _ = file;
        Ok(())
    }
}

/// An entry's key: as long as a header allows.
pub(crate) type Key = Name<255>;

/// `prefix`, `module`, `.`, `name`: `0.weight`, `model.3.running_mean`.
pub(crate) fn key(prefix: &str, module: usize, name: &str) -> Key {
    let mut key = Name::new();
    let _ = write!(key, "{prefix}{module}.{name}");
    key
}

/// `prefix` then `name`: `optimizer.steps`.
pub(crate) fn plain_key(prefix: &str, name: &str) -> Key {
    let mut key = Name::new();
    let _ = write!(key, "{prefix}{name}");
    key
}

/// A model's tensors (parameters and buffers), then its settings, under `prefix`.
pub(crate) fn walk_model<M: Named>(
    prefix: &str,
    model: &M,
    f: &mut dyn FnMut(&Key, Data<'_, M::Scalar>),
) {
    model.visit_tensors(0, &mut |info, data| {
        f(
            &key(prefix, info.module, info.name),
            Data::Tensor(data, info),
        );
    });
    model.visit_settings(0, &mut |module, name, value| {
        f(&key(prefix, module, name), Data::Setting(value));
    });
}

/// [`walk_model`], writable.
pub(crate) fn walk_model_mut<M: Named>(
    prefix: &str,
    model: &mut M,
    f: &mut dyn FnMut(&Key, DataMut<'_, M::Scalar>),
) {
    model.visit_tensors_mut(0, &mut |info, data| {
        f(
            &key(prefix, info.module, info.name),
            DataMut::Tensor(data, info),
        );
    });
    model.visit_settings_mut(0, &mut |module, name, value| {
        f(&key(prefix, module, name), DataMut::Setting(value));
    });
}

/// Only the trained tensors of a value of the model's type (an optimizer buffer: its
/// buffers and settings mean nothing), under `prefix`.
pub(crate) fn walk_trained<M: Named>(
    prefix: &str,
    state: &M,
    f: &mut dyn FnMut(&Key, Data<'_, M::Scalar>),
) {
    state.visit_tensors(0, &mut |info, data| {
        if info.trained {
            f(
                &key(prefix, info.module, info.name),
                Data::Tensor(data, info),
            );
        }
    });
}

/// [`walk_trained`], writable.
pub(crate) fn walk_trained_mut<M: Named>(
    prefix: &str,
    state: &mut M,
    f: &mut dyn FnMut(&Key, DataMut<'_, M::Scalar>),
) {
    state.visit_tensors_mut(0, &mut |info, data| {
        if info.trained {
            f(
                &key(prefix, info.module, info.name),
                DataMut::Tensor(data, info),
            );
        }
    });
}

/// A model as a file's entries.
pub(crate) struct ModelEntries<'a, M>(pub(crate) &'a M);
/// A model as a file's entries, writable.
pub(crate) struct ModelEntriesMut<'a, M>(pub(crate) &'a mut M);

impl<M: Named> Entries for ModelEntries<'_, M> {
    type Scalar = M::Scalar;
    fn walk(&self, f: &mut dyn FnMut(&Key, Data<'_, M::Scalar>)) {
        walk_model("", self.0, f);
    }
}

impl<M: Named> Entries for ModelEntriesMut<'_, M> {
    type Scalar = M::Scalar;
    fn walk(&self, f: &mut dyn FnMut(&Key, Data<'_, M::Scalar>)) {
        walk_model("", &*self.0, f);
    }
}

impl<M: Named> EntriesMut for ModelEntriesMut<'_, M> {
    fn walk_mut(&mut self, f: &mut dyn FnMut(&Key, DataMut<'_, M::Scalar>)) {
        walk_model_mut("", self.0, f);
    }
}
