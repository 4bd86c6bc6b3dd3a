//! The naive reference of the MLPerf Tiny models: direct loops over channels-first (NCHW)
//! activations with plain accumulation, one operator after another, written once and never
//! tuned. It takes its weights from a constnet network ([`ToNaive`]), so both compute the
//! same function and their outputs are compared.

use constnet::{
    Chain, Conv2d, Conv2dOptions, Dense, GlobalAvgPool2d, Identity, Relu, Relu6, Residual, Skip,
};

/// The activation after an operator.
#[derive(Clone, Copy, Debug)]
pub enum Act {
    None,
    Relu,
    Relu6,
}

impl Act {
    fn apply(self, x: f32) -> f32 {
        match self {
            Act::None => x,
            Act::Relu => x.max(0.0),
            Act::Relu6 => x.clamp(0.0, 6.0),
        }
    }
}

/// One operator of a naive network.
pub enum Op {
    /// A 2-d convolution (PyTorch's weight order `[o][c][u][v]`).
    Conv {
        c_in: usize,
        c_out: usize,
        kh: usize,
        kw: usize,
        stride: [usize; 2],
        dilation: [usize; 2],
        /// Padding above and to the left.
        before: [usize; 2],
        out: [usize; 2],
        groups: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
        act: Act,
    },
    /// `act(main(x) + shortcut(x))`; an empty shortcut is the identity.
    Residual {
        main: Vec<Op>,
        shortcut: Vec<Op>,
        act: Act,
    },
    /// The mean of each channel.
    GlobalAvgPool,
    /// `y = act(W x + b)`, `W` `[out][in]`.
    Dense {
        inputs: usize,
        outputs: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
        act: Act,
    },
}

/// A tensor: values and `(C, H, W)` (`H = W = 1` for a vector).
pub struct Tensor {
    pub values: Vec<f32>,
    pub shape: [usize; 3],
}

/// Runs `ops` on `x`.
pub fn forward(ops: &[Op], mut x: Tensor) -> Tensor {
    for op in ops {
        x = apply(op, &x);
    }
    x
}

fn apply(op: &Op, x: &Tensor) -> Tensor {
    let [c, h, w] = x.shape;
    match op {
        Op::Conv {
            c_in,
            c_out,
            kh,
            kw,
            stride,
            dilation,
            before,
            out,
            groups,
            weight,
            bias,
            act,
        } => {
            assert_eq!(c, *c_in);
            let (cg, og) = (c_in / groups, c_out / groups);
            let [ho, wo] = *out;
            let mut y = vec![0.0f32; c_out * ho * wo];
            for o in 0..*c_out {
                let g = o / og;
                for i in 0..ho {
                    for j in 0..wo {
                        let mut sum = bias[o];
                        for ci in 0..cg {
                            for u in 0..*kh {
                                for v in 0..*kw {
                                    let r = (i * stride[0] + u * dilation[0]) as isize
                                        - before[0] as isize;
                                    let s = (j * stride[1] + v * dilation[1]) as isize
                                        - before[1] as isize;
                                    if r < 0 || s < 0 || r >= h as isize || s >= w as isize {
                                        continue;
                                    }
                                    let input =
                                        x.values[((g * cg + ci) * h + r as usize) * w + s as usize];
                                    sum += weight[((o * cg + ci) * kh + u) * kw + v] * input;
                                }
                            }
                        }
                        y[(o * ho + i) * wo + j] = act.apply(sum);
                    }
                }
            }
            Tensor {
                values: y,
                shape: [*c_out, ho, wo],
            }
        }
        Op::Residual {
            main,
            shortcut,
            act,
        } => {
            let copy = || Tensor {
                values: x.values.clone(),
                shape: x.shape,
            };
            let a = forward(main, copy());
            let b = forward(shortcut, copy());
            assert_eq!(a.shape, b.shape);
            Tensor {
                values: a
                    .values
                    .iter()
                    .zip(&b.values)
                    .map(|(p, q)| act.apply(p + q))
                    .collect(),
                shape: a.shape,
            }
        }
        Op::GlobalAvgPool => Tensor {
            values: (0..c)
                .map(|ch| {
                    x.values[ch * h * w..(ch + 1) * h * w].iter().sum::<f32>() / (h * w) as f32
                })
                .collect(),
            shape: [c, 1, 1],
        },
        Op::Dense {
            inputs,
            outputs,
            weight,
            bias,
            act,
        } => {
            assert_eq!(x.values.len(), *inputs);
            let y = (0..*outputs)
                .map(|o| {
                    let mut sum = bias[o];
                    for i in 0..*inputs {
                        sum += weight[o * inputs + i] * x.values[i];
                    }
                    act.apply(sum)
                })
                .collect();
            Tensor {
                values: y,
                shape: [*outputs, 1, 1],
            }
        }
    }
}

/// Multiply-adds of `ops` (a convolution's taps in the padding count: what a direct
/// convolution computes).
pub fn macs(ops: &[Op]) -> usize {
    ops.iter()
        .map(|op| match op {
            Op::Conv {
                c_in,
                c_out,
                kh,
                kw,
                out,
                groups,
                ..
            } => c_out * (c_in / groups) * kh * kw * out[0] * out[1],
            Op::Residual { main, shortcut, .. } => macs(main) + macs(shortcut),
            Op::GlobalAvgPool => 0,
            Op::Dense {
                inputs, outputs, ..
            } => inputs * outputs,
        })
        .sum()
}

/// The activations the naive reference knows.
pub trait NaiveAct {
    const ACT: Act;
}
impl NaiveAct for Identity {
    const ACT: Act = Act::None;
}
impl NaiveAct for Relu {
    const ACT: Act = Act::Relu;
}
impl NaiveAct for Relu6 {
    const ACT: Act = Act::Relu6;
}

/// A constnet layer as naive operators (with its weights).
pub trait ToNaive {
    fn ops(&self, out: &mut Vec<Op>);
}

impl<A: ToNaive, B: ToNaive> ToNaive for Chain<A, B> {
    fn ops(&self, out: &mut Vec<Op>) {
        self.first.ops(out);
        self.second.ops(out);
    }
}

impl<X> ToNaive for Skip<X> {
    fn ops(&self, _out: &mut Vec<Op>) {}
}

impl<F: ToNaive, S: ToNaive, A: NaiveAct> ToNaive for Residual<F, S, A> {
    fn ops(&self, out: &mut Vec<Op>) {
        let (mut main, mut shortcut) = (Vec::new(), Vec::new());
        self.main.ops(&mut main);
        self.shortcut.ops(&mut shortcut);
        out.push(Op::Residual {
            main,
            shortcut,
            act: A::ACT,
        });
    }
}

impl<const C: usize, const H: usize, const W: usize> ToNaive for GlobalAvgPool2d<C, H, W> {
    fn ops(&self, out: &mut Vec<Op>) {
        out.push(Op::GlobalAvgPool);
    }
}

impl<const IN: usize, const OUT: usize, A: NaiveAct + constnet::ActivationFn<f32>> ToNaive
    for Dense<IN, OUT, A>
{
    fn ops(&self, out: &mut Vec<Op>) {
        out.push(Op::Dense {
            inputs: IN,
            outputs: OUT,
            weight: (0..OUT * IN).map(|n| self.weight(n / IN, n % IN)).collect(),
            bias: self.bias().to_vec(),
            act: A::ACT,
        });
    }
}

impl<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    A: NaiveAct + constnet::ActivationFn<f32>,
    O: Conv2dOptions,
    const CG: usize,
> ToNaive for Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, A, f32, O, CG>
{
    fn ops(&self, out: &mut Vec<Op>) {
        // The padding before the first row and column, as the layer computes it.
        let before = |n: usize, k: usize, axis: usize| {
            let (s, d) = (O::STRIDE[axis], O::DILATION[axis]);
            if O::SAME {
                let o = n.div_ceil(s);
                ((o - 1) * s + d * (k - 1) + 1).saturating_sub(n) / 2
            } else {
                O::PADDING[axis]
            }
        };
        let mut weight = Vec::with_capacity(C_OUT * CG * KH * KW);
        for o in 0..C_OUT {
            for c in 0..CG {
                for u in 0..KH {
                    for v in 0..KW {
                        weight.push(self.weight(o, c, u, v));
                    }
                }
            }
        }
        out.push(Op::Conv {
            c_in: C_IN,
            c_out: C_OUT,
            kh: KH,
            kw: KW,
            stride: O::STRIDE,
            dilation: O::DILATION,
            before: [before(H, KH, 0), before(W, KW, 1)],
            out: [H_OUT, W_OUT],
            groups: C_IN / CG,
            weight,
            bias: self.bias().to_vec(),
            act: A::ACT,
        });
    }
}
