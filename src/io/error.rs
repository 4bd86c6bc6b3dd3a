//! `Error`: what can be wrong with a weight file, named precisely, without allocating.

use core::fmt;

use crate::named::Shape;

/// A tensor or setting name held inline (no allocation): up to `N` bytes (48 in errors,
/// which keeps [`Error`] small), longer names are cut at a character boundary and end in
/// `...`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name<const N: usize = 48> {
    bytes: [u8; N],
    len: u8,
    cut: bool,
}

impl<const N: usize> Name<N> {
    /// The bytes a name keeps (at most 255).
    pub const CAPACITY: usize = {
        assert!(N <= 255, "a Name holds at most 255 bytes");
        N
    };

    /// The empty name.
    pub const fn new() -> Self {
        Name {
            bytes: [0; N],
            len: 0,
            cut: false,
        }
    }

    /// A name from a string (cut if longer than [`Name::CAPACITY`]).
    pub fn from_str_lossy(text: &str) -> Self {
        let mut name = Name::new();
        let _ = fmt::Write::write_str(&mut name, text);
        name
    }

    /// The name (without the `...` of a cut name).
    pub fn as_str(&self) -> &str {
        // Only whole characters are ever stored.
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }

    /// Whether the name was too long and was cut.
    pub fn is_cut(&self) -> bool {
        self.cut
    }
}

impl<const N: usize> Default for Name<N> {
    fn default() -> Self {
        Name::new()
    }
}

impl<const N: usize> fmt::Write for Name<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for ch in text.chars() {
            let mut buf = [0u8; 4];
            let encoded = ch.encode_utf8(&mut buf).as_bytes();
            let len = self.len as usize;
            if self.cut || len + encoded.len() > Self::CAPACITY {
                self.cut = true;
                return Ok(());
            }
            self.bytes[len..len + encoded.len()].copy_from_slice(encoded);
            self.len += encoded.len() as u8;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Display for Name<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.cut {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Name<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// An element type in a weight file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// Another type (booleans, 8-, 16- or 32-bit integers, 8-bit floats, complex).
    Other,
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F16 => "f16",
            Dtype::BF16 => "bf16",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
            Dtype::I64 => "i64",
            Dtype::U64 => "u64",
            Dtype::Other => "an unsupported dtype",
        })
    }
}

/// Why a weight file could not be read or written. Every loader checks the whole file
/// before it changes the model, so after any `Err` the model is as it was.
///
/// The messages name what is wrong:
/// `0.weight: expected [16, 4] f32, found [20, 4] f32`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file does not start with the format's magic bytes.
    Magic,
    /// The file's format version is not one this build reads.
    Version {
        /// The version in the file.
        found: u16,
    },
    /// A model file where a checkpoint was expected, or the other way round.
    Kind {
        /// What the caller asked for.
        expected: &'static str,
    },
    /// The file ends before what its header announces.
    Truncated {
        /// Bytes the header announces (up to the point where the check stopped).
        needed: u64,
        /// Bytes present.
        found: usize,
    },
    /// The header is malformed (the message says how).
    Malformed(&'static str),
    /// The header asks for more than a loader accepts (see [`crate::io`] for the caps).
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// The cap.
        limit: u64,
        /// What the file asks for.
        found: u64,
    },
    /// The stored checksum does not match the contents: the file is corrupted.
    Checksum {
        /// The CRC-32 stored in the file.
        stored: u32,
        /// The CRC-32 of the contents.
        computed: u32,
    },
    /// The file holds another number of tensors and settings than the model.
    Count {
        /// The model's.
        expected: usize,
        /// The file's.
        found: usize,
    },
    /// Entry number `index` has another name than the model's.
    Name {
        /// The model's name.
        expected: Name,
        /// The file's name.
        found: Name,
    },
    /// A tensor's shape or element type differs from the model's.
    Shape {
        /// The tensor.
        tensor: Name,
        /// The model's shape.
        expected: Shape,
        /// The model's element type.
        expected_dtype: Dtype,
        /// The file's shape.
        found: Shape,
        /// The file's element type.
        found_dtype: Dtype,
    },
    /// A tensor of the model is missing from the file.
    Missing {
        /// The tensor (the file's key for it).
        tensor: Name,
        /// Its shape in the model.
        expected: Shape,
    },
    /// The file holds a tensor the model has no place for.
    Unexpected {
        /// The file's key.
        tensor: Name,
        /// Its shape in the file.
        found: Shape,
    },
    /// A tensor's element type cannot be loaded (integers for weights, 8-bit floats, ...).
    Dtype {
        /// The tensor.
        tensor: Name,
        /// Its element type.
        found: Dtype,
    },
    /// A value that cannot be loaded (a zero generator state, a non-finite setting).
    Value {
        /// The entry.
        tensor: Name,
        /// Why.
        reason: &'static str,
    },
    /// The output slice is too small for the file.
    BufferTooSmall {
        /// The file's size.
        needed: usize,
        /// The slice's size.
        available: usize,
    },
    /// Reading or writing the file failed.
    #[cfg(feature = "std")]
    Io(std::io::Error),
    /// The `safetensors` crate rejected the file (its message).
    #[cfg(feature = "safetensors")]
    Safetensors(std::string::String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Magic => f.write_str("not a constnet file (wrong magic bytes)"),
            Error::Version { found } => write!(
                f,
                "unsupported format version {found} (this build reads version {})",
                crate::io::format::VERSION
            ),
            Error::Kind { expected } => write!(f, "not a {expected} file"),
            Error::Truncated { needed, found } => write!(
                f,
                "truncated file: the header announces at least {needed} bytes, found {found}"
            ),
            Error::Malformed(why) => write!(f, "malformed header: {why}"),
            Error::TooLarge { what, limit, found } => {
                write!(f, "{what} is {found}, more than the limit of {limit}")
            }
            Error::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the file is corrupted"
            ),
            Error::Count { expected, found } => write!(
                f,
                "expected {expected} tensors and settings, found {found} in the file"
            ),
            Error::Name { expected, found } => write!(f, "expected {expected}, found {found}"),
            Error::Shape {
                tensor,
                expected,
                expected_dtype,
                found,
                found_dtype,
            } => write!(
                f,
                "{tensor}: expected {expected} {expected_dtype}, found {found} {found_dtype}"
            ),
            Error::Missing { tensor, expected } => {
                write!(f, "{tensor}: missing from the file (expected {expected})")
            }
            Error::Unexpected { tensor, found } => {
                write!(f, "{tensor}: unexpected tensor {found} in the file")
            }
            Error::Dtype { tensor, found } => write!(f, "{tensor}: cannot load {found}"),
            Error::Value { tensor, reason } => write!(f, "{tensor}: {reason}"),
            Error::BufferTooSmall { needed, available } => write!(
                f,
                "the output needs {needed} bytes, the buffer has {available}"
            ),
            #[cfg(feature = "std")]
            Error::Io(e) => write!(f, "I/O error: {e}"),
            #[cfg(feature = "safetensors")]
            Error::Safetensors(message) => write!(f, "invalid safetensors file: {message}"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

#[cfg(test)]
mod tests {
    /// Small enough to return by value everywhere (clippy's `result_large_err` limit).
    #[test]
    fn error_is_at_most_128_bytes() {
        assert!(core::mem::size_of::<super::Error>() <= 128);
    }
}
