//! A bounds-checked reader for the FlatBuffers binary format, only as much as a `.tflite`
//! file needs: tables, scalars, strings and vectors of scalars or tables. Every offset is
//! checked against the bytes present before it is followed; nothing allocates.

use super::Error;

/// A table: its position and its vtable's.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a> {
    bytes: &'a [u8],
    position: usize,
    vtable: usize,
    vtable_len: usize,
}

/// A vector: the position of its first element and its length.
#[derive(Clone, Copy)]
pub(crate) struct Vector<'a> {
    bytes: &'a [u8],
    start: usize,
    len: usize,
}

fn corrupt(what: &str) -> Error {
    Error::new(format!("corrupt flatbuffer: {what}"))
}

fn read<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], Error> {
    at.checked_add(N)
        .and_then(|end| bytes.get(at..end))
        .map(|s| s.try_into().expect("N bytes"))
        .ok_or_else(|| {
            corrupt(&format!(
                "{N} bytes at offset {at} past the end ({} bytes)",
                bytes.len()
            ))
        })
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Result<u32, Error> {
    read::<4>(bytes, at).map(u32::from_le_bytes)
}

/// The root table of a buffer.
pub(crate) fn root(bytes: &[u8]) -> Result<Table<'_>, Error> {
    let offset = u32_at(bytes, 0)? as usize;
    Table::at(bytes, offset)
}

/// The position an unsigned offset stored at `at` points to.
fn follow(bytes: &[u8], at: usize) -> Result<usize, Error> {
    let offset = u32_at(bytes, at)? as usize;
    let target = at
        .checked_add(offset)
        .filter(|&t| t < bytes.len())
        .ok_or_else(|| corrupt(&format!("offset at {at} points past the end")))?;
    Ok(target)
}

impl<'a> Table<'a> {
    fn at(bytes: &'a [u8], position: usize) -> Result<Self, Error> {
        let soffset = i32::from_le_bytes(read::<4>(bytes, position)?) as i64;
        let vtable = position as i64 - soffset;
        if vtable < 0 || vtable as usize + 4 > bytes.len() {
            return Err(corrupt(&format!(
                "the vtable of the table at {position} is outside the file"
            )));
        }
        let vtable = vtable as usize;
        let vtable_len = u16::from_le_bytes(read::<2>(bytes, vtable)?) as usize;
        if vtable_len < 4 || vtable + vtable_len > bytes.len() {
            return Err(corrupt(&format!(
                "the vtable at {vtable} has a bad length {vtable_len}"
            )));
        }
        Ok(Table {
            bytes,
            position,
            vtable,
            vtable_len,
        })
    }

    /// Where field `id` is stored, if present.
    fn field(&self, id: usize) -> Result<Option<usize>, Error> {
        let entry = 4 + 2 * id;
        if entry + 2 > self.vtable_len {
            return Ok(None);
        }
        let offset = u16::from_le_bytes(read::<2>(self.bytes, self.vtable + entry)?) as usize;
        if offset == 0 {
            return Ok(None);
        }
        Ok(Some(self.position + offset))
    }

    /// A scalar field (`N` bytes, little-endian), or `default`.
    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>, Error> {
        match self.field(id)? {
            Some(at) => read::<N>(self.bytes, at).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn u8(&self, id: usize, default: u8) -> Result<u8, Error> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0]))
    }

    pub(crate) fn bool(&self, id: usize) -> Result<bool, Error> {
        Ok(self.u8(id, 0)? != 0)
    }

    pub(crate) fn i8(&self, id: usize, default: i8) -> Result<i8, Error> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0] as i8))
    }

    pub(crate) fn i32(&self, id: usize, default: i32) -> Result<i32, Error> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }

    pub(crate) fn u32(&self, id: usize, default: u32) -> Result<u32, Error> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }

    pub(crate) fn u64(&self, id: usize, default: u64) -> Result<u64, Error> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// A sub-table field.
    pub(crate) fn table(&self, id: usize) -> Result<Option<Table<'a>>, Error> {
        match self.field(id)? {
            Some(at) => Table::at(self.bytes, follow(self.bytes, at)?).map(Some),
            None => Ok(None),
        }
    }

    /// A vector field whose elements are `element` bytes each.
    pub(crate) fn vector(&self, id: usize, element: usize) -> Result<Option<Vector<'a>>, Error> {
        let Some(at) = self.field(id)? else {
            return Ok(None);
        };
        let start = follow(self.bytes, at)?;
        let len = u32_at(self.bytes, start)? as usize;
        let end = (len as u64)
            .checked_mul(element as u64)
            .and_then(|n| n.checked_add(start as u64 + 4))
            .filter(|&end| end <= self.bytes.len() as u64);
        if end.is_none() {
            return Err(corrupt(&format!(
                "a vector of {len} elements at {start} runs past the end"
            )));
        }
        Ok(Some(Vector {
            bytes: self.bytes,
            start: start + 4,
            len,
        }))
    }

    /// A string field (UTF-8 checked).
    pub(crate) fn string(&self, id: usize) -> Result<Option<&'a str>, Error> {
        match self.vector(id, 1)? {
            Some(v) => core::str::from_utf8(v.raw())
                .map(Some)
                .map_err(|_| corrupt("a string that is not UTF-8")),
            None => Ok(None),
        }
    }
}

impl<'a> Vector<'a> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes of a vector of bytes.
    pub(crate) fn raw(&self) -> &'a [u8] {
        &self.bytes[self.start..self.start + self.len]
    }

    pub(crate) fn i32(&self, i: usize) -> Result<i32, Error> {
        read::<4>(self.bytes, self.start + 4 * i).map(i32::from_le_bytes)
    }

    pub(crate) fn i64(&self, i: usize) -> Result<i64, Error> {
        read::<8>(self.bytes, self.start + 8 * i).map(i64::from_le_bytes)
    }

    pub(crate) fn f32(&self, i: usize) -> Result<f32, Error> {
        read::<4>(self.bytes, self.start + 4 * i).map(f32::from_le_bytes)
    }

    /// Element `i` of a vector of tables.
    pub(crate) fn table(&self, i: usize) -> Result<Table<'a>, Error> {
        let at = self.start + 4 * i;
        Table::at(self.bytes, follow(self.bytes, at)?)
    }

    pub(crate) fn i32s(&self) -> Result<Vec<i32>, Error> {
        (0..self.len).map(|i| self.i32(i)).collect()
    }
}
