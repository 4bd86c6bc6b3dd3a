//! `to_rust`: a `.tflite` model as Rust source defining its typed int8 network.

use super::Error;

/// Rust source for the int8 model in `bytes` (see the module docs).
pub fn to_rust(bytes: &[u8], static_name: &str, type_name: &str) -> Result<String, Error> {
    let _ = (bytes, static_name, type_name);
    Err(Error::new("not yet".into()))
}
