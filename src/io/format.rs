//! constnet's own weight format: versioned, little-endian, a header naming every entry with
//! its shape and element type, and a CRC-32.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "CONSTNET"
//! 8       2     version (u16, 1)
//! 10      1     kind (1 model, 2 checkpoint)
//! 11      1     reserved (0)
//! 12      4     entry count n (u32, at most MAX_ENTRIES)
//! 16      ...   n entries: name length (u8), name (UTF-8, 1..=255 bytes), dtype (u8: 1 f32,
//!               2 f64, 3 u64), rank (u8, 0..=4), each dimension (u32)
//! ...     ...   the data of every entry in entry order, row-major in the shape's order
//!               (PyTorch's `[out, in]` for a weight), little-endian, unpadded
//! end-4   4     CRC-32 (IEEE) of every byte before it
//! ```
//! Names are state_dict keys (`0.weight`, `1.running_mean`, `1.eps`); settings are scalars
//! (rank 0). Nothing is allocated while reading: the header is parsed in place.

use crate::io::crc32::crc32;
use crate::io::entries::{Data, DataMut, Entries, EntriesMut, Key};
use crate::io::error::{Dtype, Error, Name};
use crate::named::{Setting, Shape};
use crate::scalar::Scalar;

/// The magic bytes every file starts with.
pub const MAGIC: [u8; 8] = *b"CONSTNET";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// The most entries (tensors and settings) a header may declare.
pub const MAX_ENTRIES: u32 = 1 << 16;
/// Bytes before the first header entry.
const PREAMBLE: usize = 16;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A model's tensors and settings.
    Model = 1,
    /// A training checkpoint.
    Checkpoint = 2,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Model => "constnet model",
            Kind::Checkpoint => "constnet checkpoint",
        }
    }
}

fn dtype_code(dtype: Dtype) -> u8 {
    match dtype {
        Dtype::F32 => 1,
        Dtype::F64 => 2,
        _ => 3,
    }
}

fn dtype_from_code(code: u8) -> Option<Dtype> {
    match code {
        1 => Some(Dtype::F32),
        2 => Some(Dtype::F64),
        3 => Some(Dtype::U64),
        _ => None,
    }
}

fn dtype_size(dtype: Dtype) -> usize {
    if dtype == Dtype::F32 { 4 } else { 8 }
}

/// Where bytes go: a counter (to size the file) or a slice.
struct Sink<'a> {
    out: Option<&'a mut [u8]>,
    pos: usize,
}

impl Sink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(out) = self.out.as_deref_mut() {
            out[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        }
        self.pos += bytes.len();
    }
}

/// Writes the file of `entries` into `sink` (everything but the checksum).
fn emit<E: Entries + ?Sized>(entries: &E, kind: Kind, sink: &mut Sink<'_>) {
    let mut count = 0u32;
    entries.walk(&mut |_, _| count += 1);
    sink.put(&MAGIC);
    sink.put(&VERSION.to_le_bytes());
    sink.put(&[kind as u8, 0]);
    sink.put(&count.to_le_bytes());
    entries.walk(&mut |name, data| {
        let (shape, dtype) = data.shape_and_dtype();
        let name = name.as_str().as_bytes();
        sink.put(&[name.len() as u8]);
        sink.put(name);
        sink.put(&[dtype_code(dtype), shape.dims().len() as u8]);
        for &d in shape.dims() {
            sink.put(&d.to_le_bytes());
        }
    });
    entries.walk(&mut |_, data| match data {
        Data::Tensor(values, info) => {
            for k in 0..values.len() {
                let v = values[info.storage_index(k)];
                if E::Scalar::BYTES == 4 {
                    sink.put(&(v.to_f64() as f32).to_le_bytes());
                } else {
                    sink.put(&v.to_f64().to_le_bytes());
                }
            }
        }
        Data::Setting(Setting::Real(v)) => sink.put(&v.to_le_bytes()),
        Data::Setting(Setting::Count(v)) => sink.put(&v.to_le_bytes()),
    });
}

/// The size of the file of `entries`.
pub(crate) fn encoded_len<E: Entries + ?Sized>(entries: &E, kind: Kind) -> usize {
    let mut sink = Sink { out: None, pos: 0 };
    emit(entries, kind, &mut sink);
    sink.pos + 4
}

/// Writes the file of `entries` into `out`; returns its length.
pub(crate) fn write<E: Entries + ?Sized>(
    entries: &E,
    kind: Kind,
    out: &mut [u8],
) -> Result<usize, Error> {
    let check_names = check_names(entries);
    check_names?;
    let len = encoded_len(entries, kind);
    if out.len() < len {
        return Err(Error::BufferTooSmall {
            needed: len,
            available: out.len(),
        });
    }
    let mut sink = Sink {
        out: Some(&mut out[..len]),
        pos: 0,
    };
    emit(entries, kind, &mut sink);
    let crc = crc32(&out[..len - 4]);
    out[len - 4..len].copy_from_slice(&crc.to_le_bytes());
    Ok(len)
}

/// Names must fit the header's one-byte length.
fn check_names<E: Entries + ?Sized>(entries: &E) -> Result<(), Error> {
    let mut result = Ok(());
    entries.walk(&mut |name, _| {
        if result.is_ok() && (name.is_cut() || name.as_str().is_empty()) {
            result = Err(Error::Value {
                tensor: short(name),
                reason: "the name is empty or longer than a header holds",
            });
        }
    });
    result
}

/// A key as an error names it.
fn short(key: &Key) -> Name {
    Name::from_str_lossy(key.as_str())
}

/// One header entry.
pub(crate) struct Entry<'a> {
    pub(crate) name: &'a str,
    pub(crate) dtype: Dtype,
    pub(crate) shape: Shape,
    pub(crate) data: &'a [u8],
}

/// A parsed and checksummed file.
pub(crate) struct Header<'a> {
    bytes: &'a [u8],
    count: usize,
    data_start: usize,
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn truncated(needed: usize, bytes: &[u8]) -> Error {
    Error::Truncated {
        needed: needed as u64,
        found: bytes.len(),
    }
}

impl<'a> Header<'a> {
    /// Checks magic, version, kind, header structure, length and checksum.
    pub(crate) fn parse(bytes: &'a [u8], kind: Kind) -> Result<Header<'a>, Error> {
        let magic_len = bytes.len().min(MAGIC.len());
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(Error::Magic);
        }
        if bytes.len() < PREAMBLE {
            return Err(truncated(PREAMBLE, bytes));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(Error::Version { found: version });
        }
        if bytes[10] != kind as u8 {
            return Err(Error::Kind {
                expected: kind.label(),
            });
        }
        if bytes[11] != 0 {
            return Err(Error::Malformed("reserved byte is not 0"));
        }
        let count = read_u32(bytes, 12).unwrap_or(0);
        if count > MAX_ENTRIES {
            return Err(Error::TooLarge {
                what: "the entry count",
                limit: MAX_ENTRIES as u64,
                found: count as u64,
            });
        }
        let mut header = Header {
            bytes,
            count: count as usize,
            data_start: 0,
        };
        // Walk the entries once: structure, and the total data length (in u64: a lying
        // header cannot overflow it, 2^16 entries of at most 8·(2^32 − 1)^4 bytes aside,
        // which the checked arithmetic below refuses).
        let mut pos = PREAMBLE;
        let mut data_len: u64 = 0;
        for _ in 0..header.count {
            let (next, dtype, shape) = header.entry_at(pos)?;
            pos = next;
            let elements = shape
                .elements()
                .and_then(|n| n.checked_mul(dtype_size(dtype)))
                .map(|n| n as u64);
            data_len = elements
                .and_then(|n| data_len.checked_add(n))
                .ok_or(Error::TooLarge {
                    what: "the data length",
                    limit: u64::MAX,
                    found: u64::MAX,
                })?;
        }
        header.data_start = pos;
        let total = (pos as u64).saturating_add(data_len).saturating_add(4);
        if (bytes.len() as u64) < total {
            return Err(Error::Truncated {
                needed: total,
                found: bytes.len(),
            });
        }
        if bytes.len() as u64 > total {
            return Err(Error::Malformed("bytes after the checksum"));
        }
        let body = bytes.len() - 4;
        let stored = read_u32(bytes, body).unwrap_or(0);
        let computed = crc32(&bytes[..body]);
        if stored != computed {
            return Err(Error::Checksum { stored, computed });
        }
        Ok(header)
    }

    /// Parses the entry at `pos`: the position after it, its dtype and shape.
    fn entry_at(&self, pos: usize) -> Result<(usize, Dtype, Shape), Error> {
        let bytes = self.bytes;
        let name_len = *bytes.get(pos).ok_or_else(|| truncated(pos + 1, bytes))? as usize;
        if name_len == 0 {
            return Err(Error::Malformed("an empty name"));
        }
        let name_end = pos + 1 + name_len;
        let name = bytes
            .get(pos + 1..name_end)
            .ok_or_else(|| truncated(name_end, bytes))?;
        if core::str::from_utf8(name).is_err() {
            return Err(Error::Malformed("a name is not UTF-8"));
        }
        let tail = bytes
            .get(name_end..name_end + 2)
            .ok_or_else(|| truncated(name_end + 2, bytes))?;
        let dtype = dtype_from_code(tail[0]).ok_or(Error::Malformed("an unknown dtype code"))?;
        let rank = tail[1] as usize;
        if rank > Shape::MAX_DIMS {
            return Err(Error::Malformed("a tensor of more than 4 dimensions"));
        }
        let mut dims = [0usize; Shape::MAX_DIMS];
        let mut at = name_end + 2;
        for d in dims.iter_mut().take(rank) {
            *d = read_u32(bytes, at).ok_or_else(|| truncated(at + 4, bytes))? as usize;
            at += 4;
        }
        let shape = Shape::from_dims(&dims[..rank]).ok_or(Error::Malformed("rank"))?;
        Ok((at, dtype, shape))
    }

    /// The number of entries.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// The entries in order (the header was checked by `parse`).
    pub(crate) fn entries(&self) -> impl Iterator<Item = Entry<'a>> + '_ {
        let mut pos = PREAMBLE;
        let mut data = self.data_start;
        (0..self.count).map_while(move |_| {
            let (next, dtype, shape) = self.entry_at(pos).ok()?;
            let name_len = self.bytes[pos] as usize;
            let name = core::str::from_utf8(&self.bytes[pos + 1..pos + 1 + name_len]).ok()?;
            let len = shape.elements()? * dtype_size(dtype);
            let entry = Entry {
                name,
                dtype,
                shape,
                data: self.bytes.get(data..data + len)?,
            };
            pos = next;
            data += len;
            Some(entry)
        })
    }
}

/// Checks that the file's entries are `entries`' entries: same count, names, shapes and
/// element types, in order.
fn matches<E: Entries + ?Sized>(entries: &E, header: &Header<'_>) -> Result<(), Error> {
    let mut expected = 0;
    entries.walk(&mut |_, _| expected += 1);
    if expected != header.count() {
        return Err(Error::Count {
            expected,
            found: header.count(),
        });
    }
    let mut file = header.entries();
    let mut result = Ok(());
    entries.walk(&mut |name, data| {
        if result.is_err() {
            return;
        }
        let Some(found) = file.next() else {
            result = Err(Error::Malformed("fewer entries than announced"));
            return;
        };
        if found.name != name.as_str() {
            result = Err(Error::Name {
                expected: short(name),
                found: Name::from_str_lossy(found.name),
            });
            return;
        }
        let (shape, dtype) = data.shape_and_dtype();
        if found.shape != shape || found.dtype != dtype {
            result = Err(Error::Shape {
                tensor: short(name),
                expected: shape,
                expected_dtype: dtype,
                found: found.shape,
                found_dtype: found.dtype,
            });
        }
    });
    result
}

/// Loads a file into `entries`: everything is checked first, and on any error nothing has
/// changed.
pub(crate) fn read<E: EntriesMut + ?Sized>(
    entries: &mut E,
    kind: Kind,
    bytes: &[u8],
) -> Result<(), Error> {
    let header = Header::parse(bytes, kind)?;
    matches(entries, &header)?;
    entries.check(&header)?;
    let mut file = header.entries();
    entries.walk_mut(&mut |_, data| {
        // `matches` saw every entry with this shape and dtype.
        let Some(found) = file.next() else { return };
        match data {
            DataMut::Tensor(values, info) => {
                let size = E::Scalar::BYTES;
                for (k, chunk) in found.data.chunks_exact(size).enumerate() {
                    let v = if size == 4 {
                        f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as f64
                    } else {
                        f64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))
                    };
                    values[info.storage_index(k)] = E::Scalar::from_f64(v);
                }
            }
            DataMut::Setting(mut setting) => {
                let raw: [u8; 8] = found.data.try_into().unwrap_or([0; 8]);
                let value = match found.dtype {
                    Dtype::U64 => Setting::Count(u64::from_le_bytes(raw)),
                    _ => Setting::Real(f64::from_le_bytes(raw)),
                };
                setting.set(value);
            }
        }
    });
    Ok(())
}

/// The value of the setting `name` in a parsed file (for [`EntriesMut::check`]).
pub(crate) fn setting_in(header: &Header<'_>, name: &str) -> Option<Setting> {
    let entry = header.entries().find(|e| e.name == name)?;
    let raw: [u8; 8] = entry.data.try_into().ok()?;
    Some(match entry.dtype {
        Dtype::U64 => Setting::Count(u64::from_le_bytes(raw)),
        _ => Setting::Real(f64::from_le_bytes(raw)),
    })
}
