//! `Error`: what is wrong with a `.tflite` file, or between it and a network.

use core::fmt;

/// What is wrong with a `.tflite` file, between it and a network, or with a network to write
/// as one: what is wrong, prefixed by the operator it concerns (`operator 3 (CONV_2D): ...`)
/// where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: String) -> Self {
        Error { message }
    }

    /// The same error, said of `context` (an operator), unless it already names one.
    pub(crate) fn at(self, context: &str) -> Self {
        if self.message.starts_with("operator ") {
            self
        } else {
            Error::new(format!("{context}: {}", self.message))
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
