//! PyTorch interchange through safetensors files (feature `safetensors`, which uses the
//! [`safetensors`](https://docs.rs/safetensors) crate to parse and write them).
//!
//! # Keys
//! A network is read and written as the state_dict of an `nn.Sequential`: tensors
//! `K.weight` and `K.bias` (BatchNorm also `K.running_mean`, `K.running_var` and the 0-d I64
//! `K.num_batches_tracked`), where `K` is the module index.
//!
//! * **Loading** ([`load_into`]) maps the file's module indices, in increasing order, onto
//!   the network's layers that have tensors, in order: gaps for parameter-free modules
//!   (activations, dropout) are allowed, so a file of `Linear, Tanh, Linear, ReLU, Linear`
//!   (keys `0.*`, `2.*`, `4.*`) loads into `seq![Dense<4, 8, Tanh>, Dense<8, 8, Relu>,
//!   Dense<8, 3>]`.
//! * **Saving** ([`to_bytes`]) writes the indices that PyTorch's `nn.Sequential` of the same
//!   network has: a `Dense` with an activation is two modules (`Linear`, then the
//!   activation), a `Dense` without one (`Identity`) is one, every other layer is one. So
//!   `seq![Dense<4, 8, Tanh>, Dense<8, 3>]` writes `0.weight` `[8, 4]`, `0.bias` `[8]`,
//!   `2.weight` `[3, 8]`, `2.bias` `[3]`, which `nn.Sequential(nn.Linear(4, 8), nn.Tanh(),
//!   nn.Linear(8, 3)).load_state_dict(safetensors.torch.load_file(path))` accepts. Tensors
//!   have the network's element type (F32 or F64), weights are `[out, in]` row-major.
//! * **Prefixes** ([`Keys::Prefixes`]) serve models that are not an `nn.Sequential` (a
//!   recurrent layer and a head, `rnn.` and `fc.`): one prefix per layer with tensors, in
//!   layer order; the keys are the prefix and the tensor name (`fc.weight`).
//!
//! Settings that a state_dict does not hold (`eps`, `momentum`, activation slopes, Dropout's
//! `p`) keep the network's values; use the own format ([`crate::io`]) to carry them.
//!
//! # Checks
//! F32 and F64 files load into f32 and f64 networks (F64 into f32 rounds to nearest). F16
//! and BF16 tensors are converted exactly; other element types are refused with an error
//! naming the tensor and the type. A missing, extra or misshaped tensor is an error naming
//! it (and both shapes), and the network is unchanged after any error. The JSON header may
//! not exceed [`crate::io::MAX_SAFETENSORS_HEADER`].
//!
//! ```
//! use constnet::init::{self, Init};
//! use constnet::{Dense, Relu, seq};
//! type Net = seq![Dense<4, 16, Relu>, Dense<16, 3>];
//! let net: Net = init::seeded(Init::HeUniform, 0);
//! let bytes = constnet::safetensors::to_bytes(&net).unwrap();
//! let mut copy: Net = init::seeded(Init::HeUniform, 1);
//! constnet::safetensors::load_into(&mut copy, &bytes).unwrap();
//! assert_eq!(copy, net);
//!
//! let mut narrow: seq![Dense<4, 8, Relu>, Dense<8, 3>] = init::seeded(Init::HeUniform, 0);
//! let err = constnet::safetensors::load_into(&mut narrow, &bytes).unwrap_err();
//! assert_eq!(err.to_string(), "0.weight: expected [8, 4] f32, found [16, 4] f32");
//! ```

use std::collections::BTreeMap;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use ::safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView};

use crate::io::MAX_SAFETENSORS_HEADER;
use crate::io::error::{Dtype, Error, Name};
use crate::named::Named;
use crate::named::{Setting, Shape, TensorInfo};
use crate::scalar::Scalar;

/// How a file's keys map onto a network's layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys<'a> {
    /// An `nn.Sequential` state_dict: `K.weight`, module indices in increasing order.
    Sequential,
    /// One key prefix per layer with tensors, in layer order (`["rnn.", "fc."]`).
    Prefixes(&'a [&'a str]),
}

/// The setting saved as a 0-d I64 tensor (PyTorch's BatchNorm counter).
const COUNTER: &str = "num_batches_tracked";

/// Loads an `nn.Sequential` state_dict in safetensors form into `model` (see the module
/// docs for the mapping). After an `Err`, `model` is unchanged.
pub fn load_into<M: Named>(model: &mut M, bytes: &[u8]) -> Result<(), Error> {
    load_into_with(model, bytes, Keys::Sequential)
}

/// [`load_into`] with another key mapping.
pub fn load_into_with<M: Named>(model: &mut M, bytes: &[u8], keys: Keys<'_>) -> Result<(), Error> {
    check_header_len(bytes)?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| Error::Safetensors(e.to_string()))?;
    let prefixes = layer_prefixes(model, &file, keys)?;
    let modules = tensor_modules(model);
    let key_of = |module: usize, name: &str| -> Option<String> {
        Some(format!("{}{}", prefixes[rank(&modules, module)?], name))
    };
    let mut plan: Vec<TensorView<'_>> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    // Pass 1: every tensor and counter of the model against the file.
    let mut result = Ok(());
    model.visit_tensors(0, &mut |info, _| {
        let Some(key) = key_of(info.module, info.name) else {
            return;
        };
        if result.is_ok() {
            result = check_tensor::<M::Scalar>(&file, &key, &info).map(|view| {
                used.push(key);
                plan.push(view);
            });
        }
    });
    result?;
    let mut counters: Vec<(String, u64)> = Vec::new();
    let mut result = Ok(());
    model.visit_settings(0, &mut |module, name, value| {
        // Only counters, of layers with tensors (others have no key in a state_dict).
        let Some(key) = key_of(module, name) else {
            return;
        };
        if result.is_err() || name != COUNTER || !matches!(value, Setting::Count(_)) {
            return;
        }
        // Optional: files from other tools may omit it.
        if let Ok(view) = file.tensor(&key) {
            match read_counter(&key, &view) {
                Ok(count) => {
                    used.push(key.clone());
                    counters.push((key, count));
                }
                Err(e) => result = Err(e),
            }
        }
    });
    result?;
    // Pass 2: nothing in the file may be left over.
    let mut extra: Vec<&str> = file
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !used.iter().any(|u| u == name))
        .collect();
    extra.sort_unstable();
    if let Some(key) = extra.first() {
        let shape = file
            .tensor(key)
            .ok()
            .and_then(|v| Shape::from_dims(v.shape()))
            .unwrap_or(Shape::SCALAR);
        return Err(Error::Unexpected {
            tensor: Name::from_str_lossy(key),
            found: shape,
        });
    }
    // Pass 3: everything checked; write.
    let mut views = plan.iter();
    model.visit_tensors_mut(0, &mut |info, data| {
        if let Some(view) = views.next() {
            write_tensor(&info, view, data);
        }
    });
    model.visit_settings_mut(0, &mut |module, name, mut value| {
        let Some(key) = key_of(module, name) else {
            return;
        };
        if let Some((_, count)) = counters.iter().find(|(k, _)| *k == key) {
            value.set(Setting::Count(*count));
        }
    });
    Ok(())
}

/// The module indices of the network's layers with tensors, in order.
fn tensor_modules<M: Named>(model: &M) -> Vec<usize> {
    let mut modules: Vec<usize> = Vec::new();
    model.visit_tensors(0, &mut |info, _| {
        if modules.last() != Some(&info.module) {
            modules.push(info.module);
        }
    });
    modules
}

/// The rank of `module` among `modules`.
fn rank(modules: &[usize], module: usize) -> Option<usize> {
    modules.iter().position(|&m| m == module)
}

/// The key prefix of each of the network's layers with tensors.
fn layer_prefixes<M: Named>(
    model: &M,
    file: &SafeTensors<'_>,
    keys: Keys<'_>,
) -> Result<Vec<String>, Error> {
    let mut modules: Vec<(usize, TensorInfo)> = Vec::new();
    model.visit_tensors(0, &mut |info, _| {
        if modules.last().map(|(m, _)| *m) != Some(info.module) {
            modules.push((info.module, info));
        }
    });
    match keys {
        Keys::Prefixes(prefixes) => {
            if prefixes.len() != modules.len() {
                return Err(Error::Value {
                    tensor: Name::from_str_lossy("key prefixes"),
                    reason: if prefixes.len() < modules.len() {
                        "fewer prefixes than layers with tensors"
                    } else {
                        "more prefixes than layers with tensors"
                    },
                });
            }
            Ok(prefixes.iter().map(|p| p.to_string()).collect())
        }
        Keys::Sequential => {
            let mut indices: Vec<usize> = Vec::new();
            let mut unnumbered: Vec<(&str, TensorView<'_>)> = Vec::new();
            for (name, view) in file.iter() {
                match name
                    .split_once('.')
                    .and_then(|(k, _)| k.parse::<usize>().ok())
                {
                    Some(index) => indices.push(index),
                    None => unnumbered.push((name, view)),
                }
            }
            unnumbered.sort_unstable_by_key(|(name, _)| *name);
            if let Some((name, view)) = unnumbered.first() {
                return Err(Error::Unexpected {
                    tensor: Name::from_str_lossy(name),
                    found: Shape::from_dims(view.shape()).unwrap_or(Shape::SCALAR),
                });
            }
            indices.sort_unstable();
            indices.dedup();
            if indices.len() < modules.len() {
                // The first layer the file has no module for.
                let (module, info) = modules[indices.len()];
                return Err(Error::Missing {
                    tensor: Name::from_str_lossy(&format!("{module}.{}", info.name)),
                    expected: info.shape,
                });
            }
            if indices.len() > modules.len() {
                let extra = indices[modules.len()];
                let prefix = format!("{extra}.");
                let (name, view) = file
                    .iter()
                    .filter(|(name, _)| name.starts_with(&prefix))
                    .min_by_key(|(name, _)| name.to_string())
                    .ok_or(Error::Malformed("module index"))?;
                return Err(Error::Unexpected {
                    tensor: Name::from_str_lossy(name),
                    found: Shape::from_dims(view.shape()).unwrap_or(Shape::SCALAR),
                });
            }
            Ok(indices.iter().map(|k| format!("{k}.")).collect())
        }
    }
}

/// Our name for a safetensors element type.
fn dtype_of(dtype: StDtype) -> Dtype {
    match dtype {
        StDtype::F16 => Dtype::F16,
        StDtype::BF16 => Dtype::BF16,
        StDtype::F32 => Dtype::F32,
        StDtype::F64 => Dtype::F64,
        StDtype::I64 => Dtype::I64,
        StDtype::U64 => Dtype::U64,
        _ => Dtype::Other,
    }
}

/// Refuses a header longer than the cap before the JSON is parsed.
fn check_header_len(bytes: &[u8]) -> Result<(), Error> {
    let Some(len) = bytes.get(..8) else {
        return Err(Error::Truncated {
            needed: 8,
            found: bytes.len(),
        });
    };
    let n = u64::from_le_bytes(len.try_into().unwrap_or([0; 8]));
    if n > MAX_SAFETENSORS_HEADER {
        return Err(Error::TooLarge {
            what: "the safetensors header length",
            limit: MAX_SAFETENSORS_HEADER,
            found: n,
        });
    }
    if 8 + n > bytes.len() as u64 {
        return Err(Error::Truncated {
            needed: 8 + n,
            found: bytes.len(),
        });
    }
    Ok(())
}

/// The file's tensor `key`, checked against the model's `info`.
fn check_tensor<'a, T: Scalar>(
    file: &SafeTensors<'a>,
    key: &str,
    info: &TensorInfo,
) -> Result<TensorView<'a>, Error> {
    let name = Name::from_str_lossy(key);
    let view = file.tensor(key).map_err(|_| Error::Missing {
        tensor: name,
        expected: info.shape,
    })?;
    let dtype = dtype_of(view.dtype());
    let found = Shape::from_dims(view.shape())
        .ok_or(Error::Malformed("a tensor of more than 4 dimensions"))?;
    if found != info.shape {
        return Err(Error::Shape {
            tensor: name,
            expected: info.shape,
            expected_dtype: crate::io::entries::dtype_of::<T>(),
            found,
            found_dtype: dtype,
        });
    }
    match dtype {
        Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64 => Ok(view),
        _ => Err(Error::Dtype {
            tensor: name,
            found: dtype,
        }),
    }
}

/// A 0-d integer counter.
fn read_counter(key: &str, view: &TensorView<'_>) -> Result<u64, Error> {
    let name = Name::from_str_lossy(key);
    let shape = Shape::from_dims(view.shape()).unwrap_or(Shape::SCALAR);
    if shape.elements() != Some(1) {
        return Err(Error::Shape {
            tensor: name,
            expected: Shape::SCALAR,
            expected_dtype: Dtype::I64,
            found: shape,
            found_dtype: dtype_of(view.dtype()),
        });
    }
    let raw: [u8; 8] = view.data().try_into().map_err(|_| Error::Dtype {
        tensor: name,
        found: dtype_of(view.dtype()),
    })?;
    match view.dtype() {
        StDtype::I64 => {
            let v = i64::from_le_bytes(raw);
            u64::try_from(v).map_err(|_| Error::Value {
                tensor: name,
                reason: "a negative count",
            })
        }
        StDtype::U64 => Ok(u64::from_le_bytes(raw)),
        other => Err(Error::Dtype {
            tensor: name,
            found: dtype_of(other),
        }),
    }
}

/// IEEE half precision to f64 (exact).
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = ((h >> 10) & 0x1f) as i32;
    let fraction = (h & 0x3ff) as f64;
    match exponent {
        0 => sign * fraction * libm_crate::exp2(-24.0),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1024.0 + fraction) * libm_crate::exp2((e - 25) as f64),
    }
}

/// Converts a checked tensor into the model's storage.
fn write_tensor<T: Scalar>(info: &TensorInfo, view: &TensorView<'_>, data: &mut [T]) {
    let bytes = view.data();
    let value = |k: usize| -> f64 {
        match view.dtype() {
            StDtype::F16 => f16_to_f64(u16::from_le_bytes([bytes[2 * k], bytes[2 * k + 1]])),
            StDtype::BF16 => {
                let bits = u16::from_le_bytes([bytes[2 * k], bytes[2 * k + 1]]);
                f32::from_bits((bits as u32) << 16) as f64
            }
            StDtype::F32 => {
                let b = &bytes[4 * k..4 * k + 4];
                f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64
            }
            _ => {
                let b: [u8; 8] = bytes[8 * k..8 * k + 8].try_into().unwrap_or([0; 8]);
                f64::from_le_bytes(b)
            }
        }
    };
    for k in 0..data.len() {
        data[info.storage_index(k)] = T::from_f64(value(k));
    }
}

/// `model` as an `nn.Sequential` state_dict in safetensors form (keys in the module docs).
pub fn to_bytes<M: Named>(model: &M) -> Result<Vec<u8>, Error> {
    to_bytes_with(model, Keys::Sequential)
}

/// [`to_bytes`] with another key mapping.
pub fn to_bytes_with<M: Named>(model: &M, keys: Keys<'_>) -> Result<Vec<u8>, Error> {
    let modules = tensor_modules(model);
    if let Keys::Prefixes(prefixes) = keys
        && prefixes.len() != modules.len()
    {
        return Err(Error::Value {
            tensor: Name::from_str_lossy("key prefixes"),
            reason: "one prefix per layer with tensors is needed",
        });
    }
    let prefix = |module: usize| -> String {
        match keys {
            Keys::Sequential => format!("{module}."),
            Keys::Prefixes(prefixes) => prefixes[rank(&modules, module).unwrap_or(0)].to_string(),
        }
    };
    let dtype = if M::Scalar::BYTES == 4 {
        StDtype::F32
    } else {
        StDtype::F64
    };
    let mut tensors: Vec<(String, StDtype, Vec<usize>, Vec<u8>)> = Vec::new();
    model.visit_tensors(0, &mut |info, data| {
        let mut bytes = Vec::with_capacity(data.len() * M::Scalar::BYTES);
        for k in 0..data.len() {
            let v = data[info.storage_index(k)].to_f64();
            if M::Scalar::BYTES == 4 {
                bytes.extend_from_slice(&(v as f32).to_le_bytes());
            } else {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let key = format!("{}{}", prefix(info.module), info.name);
        let shape = info.shape.dims().iter().map(|&d| d as usize).collect();
        tensors.push((key, dtype, shape, bytes));
    });
    model.visit_settings(0, &mut |module, name, value| {
        if let (COUNTER, Setting::Count(count)) = (name, value)
            && modules.contains(&module)
        {
            let key = format!("{}{}", prefix(module), name);
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            tensors.push((key, StDtype::I64, Vec::new(), count.to_le_bytes().to_vec()));
        }
    });
    let mut map = BTreeMap::new();
    for (key, dtype, shape, bytes) in &tensors {
        let view = TensorView::new(*dtype, shape.clone(), bytes)
            .map_err(|e| Error::Safetensors(e.to_string()))?;
        if map.insert(key.clone(), view).is_some() {
            // A custom layer whose default walk names two tensors alike.
            return Err(Error::Value {
                tensor: Name::from_str_lossy(key),
                reason: "two tensors of the model have this key",
            });
        }
    }
    ::safetensors::serialize(map, None).map_err(|e| Error::Safetensors(e.to_string()))
}

/// Loads a safetensors file into `model` ([`load_into`]); files larger than
/// [`MAX_FILE_BYTES`](crate::io::MAX_FILE_BYTES) are refused before reading.
pub fn load_file<M: Named>(model: &mut M, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
    let bytes = crate::io::read_file_capped(path.as_ref(), crate::io::MAX_FILE_BYTES)?;
    load_into(model, &bytes)
}

/// Saves `model` as a safetensors file ([`to_bytes`]), crash-safely (temporary file, sync,
/// rename).
pub fn save_file<M: Named>(model: &M, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
    crate::io::write_file_atomic(path.as_ref(), &to_bytes(model)?)
}
