//! Weights in and out: constnet's own checked format, training checkpoints, PyTorch
//! interchange through safetensors (feature `safetensors`), and Rust source for networks
//! baked into a binary.
//!
//! # The own format
//! [`write_to`] and [`read_from`] work on byte slices, without `std` and without allocating;
//! with `std`, [`to_bytes`], [`save`] and [`load`] work on `Vec`s and files. The file is
//! versioned and little-endian, its header names every tensor (state_dict keys such as
//! `0.weight`) with its shape and element type, and a CRC-32 covers it all (layout in
//! [`mod@format`]). Non-trained state round-trips too: BatchNorm running statistics and
//! `num_batches_tracked`, norm `eps` and `momentum`, activation settings (LeakyReLU slope, ELU
//! alpha, Softplus beta and threshold), Dropout's `p`.
//!
//! ```
//! use constnet::init::{self, Init};
//! use constnet::{io, BatchNorm, Dense, Relu, seq};
//! type Net = seq![Dense<4, 16>, BatchNorm<16>, Dense<16, 3, Relu>];
//! let net: Net = init::seeded(Init::HeUniform, 1);
//! let mut buf = [0u8; 2048];
//! let len = io::write_to(&net, &mut buf).unwrap();
//! let mut other: Net = init::seeded(Init::HeUniform, 2);
//! io::read_from(&mut other, &buf[..len]).unwrap();
//! assert_eq!(other, net);
//!
//! // Another shape: an error that names the tensor, and the model is untouched.
//! let mut wrong: seq![Dense<4, 20>, BatchNorm<20>, Dense<20, 3, Relu>] = init::seeded(Init::HeUniform, 3);
//! let before = wrong;
//! let err = io::read_from(&mut wrong, &buf[..len]).unwrap_err();
//! assert_eq!(err.to_string(), "0.weight: expected [20, 4] f32, found [16, 4] f32");
//! assert_eq!(wrong, before);
//! ```
//!
//! # Loading checks everything first
//! Every loader (own format, checkpoints, safetensors) checks the whole file before it
//! writes a single number: magic, version, kind, header structure, length (a truncated file),
//! checksum, then the count, name, shape and element type of every entry against the model.
//! Any failure is an [`Error`] that names what is wrong, and the model is unchanged.
//!
//! # Caps on what a header may ask for
//! Parsing allocates nothing, so a lying header cannot make a loader allocate: every length
//! it declares is checked against the bytes actually present. The own format's header may
//! declare at most [`MAX_ENTRIES`] (65,536) entries of rank at most 4, names of at most 255
//! bytes; [`load`] refuses files larger than [`MAX_FILE_BYTES`] (1 GiB) before reading them.
//! safetensors headers are capped at [`MAX_SAFETENSORS_HEADER`] (1 MiB of JSON) before the
//! `safetensors` crate parses them.
//!
//! # Crash safety
//! [`save`] (and the checkpoint and safetensors file helpers) write a temporary file in the
//! same folder, sync it, and rename it over the target, so a crash leaves either the old
//! file or the new one, never a torn one.

mod checkpoint;
mod crc32;
mod entries;
mod error;
pub mod format;
#[cfg(feature = "std")]
pub mod rust_source;
#[cfg(feature = "safetensors")]
pub mod safetensors;
#[cfg(feature = "tflite")]
pub mod tflite;

pub use checkpoint::Checkpoint;
pub use error::{Dtype, Error, Name};
pub use format::{MAGIC, MAX_ENTRIES, VERSION};

use crate::named::Named;
use entries::{ModelEntries, ModelEntriesMut};
use format::Kind;

/// The largest file [`load`] reads (1 GiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The largest safetensors JSON header the loaders accept (1 MiB: about ten thousand
/// tensors).
pub const MAX_SAFETENSORS_HEADER: u64 = 1 << 20;

/// The size in bytes of `model`'s file.
pub fn encoded_len<M: Named>(model: &M) -> usize {
    format::encoded_len(&ModelEntries(model), Kind::Model)
}

/// Writes `model` into `out` in the own format and returns the length written (no
/// allocation, no `std`). [`Error::BufferTooSmall`] if `out` is shorter than
/// [`encoded_len`].
pub fn write_to<M: Named>(model: &M, out: &mut [u8]) -> Result<usize, Error> {
    format::write(&ModelEntries(model), Kind::Model, out)
}

/// Loads a file in the own format into `model` (no allocation, no `std`). Everything is
/// checked first: after an `Err`, `model` is unchanged.
pub fn read_from<M: Named>(model: &mut M, bytes: &[u8]) -> Result<(), Error> {
    format::read(&mut ModelEntriesMut(model), Kind::Model, bytes)
}

/// `model` in the own format, as a `Vec`.
#[cfg(feature = "std")]
pub fn to_bytes<M: Named>(model: &M) -> Result<std::vec::Vec<u8>, Error> {
    let mut out = std::vec![0u8; encoded_len(model)];
    write_to(model, &mut out)?;
    Ok(out)
}

/// Saves `model` to `path` in the own format, crash-safely: a temporary file in the same
/// folder, synced, then renamed over `path`.
#[cfg(feature = "std")]
pub fn save<M: Named>(model: &M, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
    write_file_atomic(path.as_ref(), &to_bytes(model)?)
}

/// Loads `path` (own format) into `model`; after an `Err`, `model` is unchanged.
#[cfg(feature = "std")]
pub fn load<M: Named>(model: &mut M, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
    read_from(model, &read_file_capped(path.as_ref(), MAX_FILE_BYTES)?)
}

/// Reads a whole file, refusing one larger than `limit` bytes before reading it.
#[cfg(feature = "std")]
pub(crate) fn read_file_capped(
    path: &std::path::Path,
    limit: u64,
) -> Result<std::vec::Vec<u8>, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > limit {
        return Err(Error::TooLarge {
            what: "the file size",
            limit,
            found: len,
        });
    }
    let mut bytes = std::vec::Vec::with_capacity(len as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: "the file size",
            limit,
            found: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path` and
/// syncs the folder: a crash leaves the old file or the new one.
#[cfg(feature = "std")]
pub(crate) fn write_file_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(std::format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        // Makes the rename durable; not every platform can open a folder.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    Ok(result?)
}
