//! A writer for the FlatBuffers binary format, only as much as a `.tflite` file needs: tables
//! of scalars and offsets, strings, and vectors of scalars or tables.
//!
//! The buffer is laid out front to back: the root offset and file identifier, then each table
//! with its vtable just before it and everything it points to after it (the format's offsets
//! are unsigned, so a referenced object must follow the field that points to it). Every
//! scalar is aligned to its size from the start of the buffer, vector elements too (byte
//! vectors to 16, TensorFlow Lite's `force_align` for buffers), as the FlatBuffers verifier
//! requires.

/// One field's value: a scalar stored in the table, or an object the table points to.
pub(crate) enum Value {
    U8(u8),
    I8(i8),
    Bool(bool),
    I32(i32),
    U32(u32),
    Table(Table),
    String(String),
    /// Bytes, aligned to 16.
    Bytes(Vec<u8>),
    I32s(Vec<i32>),
    F32s(Vec<f32>),
    I64s(Vec<i64>),
    Tables(Vec<Table>),
}

impl Value {
    /// The bytes the field takes in its table (an offset takes 4).
    fn inline_size(&self) -> usize {
        match self {
            Value::U8(_) | Value::I8(_) | Value::Bool(_) => 1,
            _ => 4,
        }
    }

    /// The little-endian bytes of a scalar field; `None` for an offset.
    fn scalar(&self) -> Option<[u8; 4]> {
        let four = |b: &[u8]| {
            let mut out = [0u8; 4];
            out[..b.len()].copy_from_slice(b);
            out
        };
        match *self {
            Value::U8(v) => Some(four(&[v])),
            Value::I8(v) => Some(four(&v.to_le_bytes())),
            Value::Bool(v) => Some(four(&[v as u8])),
            Value::I32(v) => Some(v.to_le_bytes()),
            Value::U32(v) => Some(v.to_le_bytes()),
            _ => None,
        }
    }
}

/// A table: its fields by their id in the schema.
#[derive(Default)]
pub(crate) struct Table {
    fields: Vec<(u16, Value)>,
}

impl Table {
    pub(crate) fn new() -> Self {
        Table::default()
    }

    /// The table with field `id` set to `value`.
    pub(crate) fn with(mut self, id: u16, value: Value) -> Self {
        self.fields.push((id, value));
        self
    }
}

/// `root` as a finished buffer with the 4-byte file `identifier`.
pub(crate) fn finish(root: &Table, identifier: &[u8; 4]) -> Vec<u8> {
    let mut out = vec![0u8; 8];
    out[4..8].copy_from_slice(identifier);
    let position = write_table(&mut out, root);
    patch(&mut out, 0, position);
    out
}

fn pad_to(out: &mut Vec<u8>, align: usize) {
    while !out.len().is_multiple_of(align) {
        out.push(0);
    }
}

/// Writes at `at` the unsigned offset from `at` to `target` (which follows it).
fn patch(out: &mut [u8], at: usize, target: usize) {
    let offset = u32::try_from(target - at).expect("a .tflite file under 4 GiB");
    out[at..at + 4].copy_from_slice(&offset.to_le_bytes());
}

fn write_table(out: &mut Vec<u8>, table: &Table) -> usize {
    // The inline layout: the vtable offset, then the 4-byte fields, then the 1-byte ones.
    let mut order: Vec<usize> = (0..table.fields.len()).collect();
    order.sort_by_key(|&i| core::cmp::Reverse(table.fields[i].1.inline_size()));
    let mut at = vec![0usize; table.fields.len()];
    let mut size = 4;
    for &i in &order {
        at[i] = size;
        size += table.fields[i].1.inline_size();
    }
    let size = size.next_multiple_of(4);
    let slots = table
        .fields
        .iter()
        .map(|f| f.0 as usize + 1)
        .max()
        .unwrap_or(0);
    let mut vtable = vec![0u16; 2 + slots];
    vtable[0] = u16::try_from(2 * vtable.len()).expect("a small vtable");
    vtable[1] = u16::try_from(size).expect("a small table");
    for (i, (id, _)) in table.fields.iter().enumerate() {
        vtable[2 + *id as usize] = at[i] as u16;
    }
    // The vtable directly before the table, which starts 4-aligned.
    let vtable_bytes = 2 * vtable.len();
    pad_to(out, 2);
    while !(out.len() + vtable_bytes).is_multiple_of(4) {
        out.push(0);
    }
    let vtable_position = out.len();
    for v in &vtable {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let position = out.len();
    out.resize(position + size, 0);
    let back = i32::try_from(position - vtable_position).expect("a small vtable");
    out[position..position + 4].copy_from_slice(&back.to_le_bytes());
    for (i, (_, value)) in table.fields.iter().enumerate() {
        if let Some(bytes) = value.scalar() {
            let n = value.inline_size();
            out[position + at[i]..position + at[i] + n].copy_from_slice(&bytes[..n]);
        }
    }
    for (i, (_, value)) in table.fields.iter().enumerate() {
        if value.scalar().is_none() {
            let target = write_object(out, value);
            patch(out, position + at[i], target);
        }
    }
    position
}

/// The length of a vector, placed so that it is 4-aligned and its elements `align`-aligned;
/// returns its position.
fn vector_length(out: &mut Vec<u8>, len: usize, align: usize) -> usize {
    pad_to(out, 4);
    while !(out.len() + 4).is_multiple_of(align) {
        out.extend_from_slice(&[0; 4]);
    }
    let position = out.len();
    out.extend_from_slice(&u32::try_from(len).expect("a short vector").to_le_bytes());
    position
}

fn write_object(out: &mut Vec<u8>, value: &Value) -> usize {
    match value {
        Value::Table(t) => write_table(out, t),
        Value::String(s) => {
            let position = vector_length(out, s.len(), 1);
            out.extend_from_slice(s.as_bytes());
            out.push(0);
            position
        }
        Value::Bytes(b) => {
            let position = vector_length(out, b.len(), 16);
            out.extend_from_slice(b);
            position
        }
        Value::I32s(v) => {
            let position = vector_length(out, v.len(), 4);
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            position
        }
        Value::F32s(v) => {
            let position = vector_length(out, v.len(), 4);
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            position
        }
        Value::I64s(v) => {
            let position = vector_length(out, v.len(), 8);
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            position
        }
        Value::Tables(tables) => {
            let position = vector_length(out, tables.len(), 4);
            let first = out.len();
            out.resize(first + 4 * tables.len(), 0);
            for (i, t) in tables.iter().enumerate() {
                let target = write_table(out, t);
                patch(out, first + 4 * i, target);
            }
            position
        }
        _ => unreachable!("scalars are written in their table"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::flatbuffer::root;
    use super::*;

    #[test]
    fn the_reader_reads_what_the_writer_writes() {
        let inner = Table::new().with(1, Value::I32(-7));
        let root_table = Table::new()
            .with(0, Value::U8(200))
            .with(3, Value::I32(123_456))
            .with(2, Value::String("main".into()))
            .with(4, Value::Bytes(vec![1, 2, 3]))
            .with(5, Value::I64s(vec![-1, 1 << 40]))
            .with(6, Value::F32s(vec![0.5, -2.0]))
            .with(7, Value::Tables(vec![inner, Table::new()]))
            .with(8, Value::Bool(true));
        let bytes = finish(&root_table, b"TFL3");
        assert_eq!(&bytes[4..8], b"TFL3");
        let t = root(&bytes).unwrap();
        assert_eq!(t.u8(0, 0).unwrap(), 200);
        assert_eq!(t.i32(3, 0).unwrap(), 123_456);
        assert_eq!(
            t.i32(1, 99).unwrap(),
            99,
            "an absent field reads its default"
        );
        assert_eq!(t.string(2).unwrap(), Some("main"));
        let b = t.vector(4, 1).unwrap().unwrap();
        assert_eq!(b.raw(), &[1, 2, 3]);
        assert!((b.raw().as_ptr() as usize - bytes.as_ptr() as usize).is_multiple_of(16));
        let v = t.vector(5, 8).unwrap().unwrap();
        assert_eq!((v.i64(0).unwrap(), v.i64(1).unwrap()), (-1, 1 << 40));
        let f = t.vector(6, 4).unwrap().unwrap();
        assert_eq!((f.f32(0).unwrap(), f.f32(1).unwrap()), (0.5, -2.0));
        let tables = t.vector(7, 4).unwrap().unwrap();
        assert_eq!(tables.table(0).unwrap().i32(1, 0).unwrap(), -7);
        assert_eq!(tables.table(1).unwrap().i32(1, 5).unwrap(), 5);
        assert!(t.bool(8).unwrap());
    }
}
