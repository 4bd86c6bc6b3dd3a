//! The compile-time shape checks of [`Conv1d`](crate::Conv1d) and its streaming form, with
//! messages that show the numbers.
//!
//! Stable Rust cannot compute a type from const parameters (`[T; L_OUT]` with `L_OUT` a
//! function of `L`), so the output length is a parameter of its own and these `const fn`s,
//! evaluated in inline `const { }` blocks when a layer type is used, refuse every
//! inconsistent set of parameters. A `const` panic cannot format integers, so the message is
//! written digit by digit into a fixed buffer here and panicked with as one `&str`.

use crate::layers::message::Message;

/// PyTorch's output length of a 1-d convolution,
/// `(length + 2·padding − dilation·(kernel − 1) − 1) / stride + 1` (rounded down), for a
/// `Conv1d` type's `L_OUT`; `0` when the dilated kernel does not fit in the padded input or
/// `stride` is 0 (no valid layer has those).
///
/// Usable in a type, with literal numbers:
/// ```
/// use constnet::layers::conv1d_out_len;
/// use constnet::Conv1d;
/// // 16 frames, kernel 3, stride 2, padding 1, dilation 1: 8 output frames.
/// type Layer = Conv1d<4, 8, 3, 16, { conv1d_out_len(16, 3, 2, 1, 1) }, constnet::Relu, f32, 2, 1>;
/// assert_eq!(conv1d_out_len(16, 3, 2, 1, 1), 8);
/// ```
pub const fn conv1d_out_len(
    length: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> usize {
    let padded = length + 2 * padding;
    let span = if kernel == 0 {
        0
    } else {
        dilation * (kernel - 1) + 1
    };
    if stride == 0 || span > padded {
        0
    } else {
        (padded - span) / stride + 1
    }
}

/// The parameters of one `Conv1d` type.
#[derive(Clone, Copy)]
pub(crate) struct Conv1dShape {
    pub c_in: usize,
    pub c_out: usize,
    pub k: usize,
    pub l: usize,
    pub l_out: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
    pub cg: usize,
}

impl Conv1dShape {
    /// Panics (at compile time, in a `const` block) naming the first inconsistency.
    pub(crate) const fn check(self) {
        let s = self;
        if s.k == 0 {
            Message::new()
                .text("Conv1d: the kernel size K must be at least 1")
                .panic();
        }
        if s.stride == 0 {
            Message::new()
                .text("Conv1d: STRIDE must be at least 1")
                .panic();
        }
        if s.dilation == 0 {
            Message::new()
                .text("Conv1d: DILATION must be at least 1")
                .panic();
        }
        if s.groups == 0 {
            Message::new()
                .text("Conv1d: GROUPS must be at least 1")
                .panic();
        }
        if !s.c_in.is_multiple_of(s.groups) || !s.c_out.is_multiple_of(s.groups) {
            Message::new()
                .text("Conv1d: C_IN and C_OUT must both be divisible by GROUPS, but C_IN = ")
                .num(s.c_in)
                .text(", C_OUT = ")
                .num(s.c_out)
                .text(", GROUPS = ")
                .num(s.groups)
                .panic();
        }
        if s.cg * s.groups != s.c_in {
            Message::new()
                .text("Conv1d: CG (input channels per group) must be C_IN / GROUPS = ")
                .num(s.c_in)
                .text(" / ")
                .num(s.groups)
                .text(" = ")
                .num(s.c_in / s.groups)
                .text(", but CG = ")
                .num(s.cg)
                .panic();
        }
        // L = L_OUT = 0: no window (a stream-only `CausalConv1d`); its windowed form is
        // refused by `check_window`.
        if s.l == 0 && s.l_out == 0 {
            return;
        }
        let span = s.dilation * (s.k - 1) + 1;
        if span > s.l + 2 * s.padding {
            Message::new()
                .text("Conv1d: the dilated kernel DILATION·(K − 1) + 1 = ")
                .num(s.dilation)
                .text("·(")
                .num(s.k)
                .text(" − 1) + 1 = ")
                .num(span)
                .text(" is longer than the padded input L + 2·PADDING = ")
                .num(s.l)
                .text(" + 2·")
                .num(s.padding)
                .text(" = ")
                .num(s.l + 2 * s.padding)
                .panic();
        }
        let expected = conv1d_out_len(s.l, s.k, s.stride, s.padding, s.dilation);
        if s.l_out != expected {
            Message::new()
                .text("Conv1d: L_OUT = ")
                .num(s.l_out)
                .text(", but it must be (L + 2·PADDING − DILATION·(K − 1) − 1) / STRIDE + 1 = (")
                .num(s.l)
                .text(" + 2·")
                .num(s.padding)
                .text(" − ")
                .num(s.dilation)
                .text("·(")
                .num(s.k)
                .text(" − 1) − 1) / ")
                .num(s.stride)
                .text(" + 1 = ")
                .num(expected)
                .text(" (rounded down)")
                .panic();
        }
    }

    /// The windowed form's extra condition: a window (`L > 0`).
    pub(crate) const fn check_window(self) {
        if self.l == 0 {
            Message::new()
                .text("Conv1d: L = 0 (a CausalConv1d) has no windowed form: stream it with `Stream::step`, or train a windowed Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, 1, 0, DILATION> and load its weights (the same parameters)")
                .panic();
        }
    }

    /// The streaming form's extra conditions: stride 1 and a history of `DILATION·(K − 1)`
    /// frames.
    pub(crate) const fn check_stream(self, history: usize) {
        if self.stride != 1 {
            Message::new()
                .text("Conv1d::step: streaming needs STRIDE = 1, but STRIDE = ")
                .num(self.stride)
                .panic();
        }
        let needed = self.dilation * (self.k - 1);
        if history != needed {
            Message::new()
                .text("Conv1dStream: HISTORY must be DILATION·(K − 1) = ")
                .num(self.dilation)
                .text("·(")
                .num(self.k)
                .text(" − 1) = ")
                .num(needed)
                .text(", but HISTORY = ")
                .num(history)
                .panic();
        }
    }
}
