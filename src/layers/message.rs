//! Compile-time error messages with numbers in them: a `const` panic cannot format
//! integers, so a message is written digit by digit into a fixed buffer and panicked with as
//! one `&str` (the shape checks of `Conv1d`, `Conv2d`, `Flatten`, the pools).

/// A message written at compile time: `&str` pieces and decimal numbers.
pub(crate) struct Message {
    bytes: [u8; 512],
    len: usize,
}

impl Message {
    pub(crate) const fn new() -> Message {
        Message {
            bytes: [0; 512],
            len: 0,
        }
    }

    /// Appends `text` (a piece that would not fit is left out whole: the pieces are short and
    /// the buffer long enough for every message).
    pub(crate) const fn text(mut self, text: &str) -> Message {
        let bytes = text.as_bytes();
        if self.len + bytes.len() > self.bytes.len() {
            return self;
        }
        let mut i = 0;
        while i < bytes.len() {
            self.bytes[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// Appends `n` in decimal.
    pub(crate) const fn num(mut self, mut n: usize) -> Message {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if self.len + count > self.bytes.len() {
            return self;
        }
        while count > 0 {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    /// Panics with the message.
    pub(crate) const fn panic(&self) -> ! {
        let (written, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(written) {
            Ok(text) => panic!("{}", text),
            Err(_) => panic!("inconsistent shape parameters"),
        }
    }
}
