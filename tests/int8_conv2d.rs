//! `Int8Conv2d` against TensorFlow Lite's reference definition written out, on whatever path
//! this CPU and `CONSTNET_*` choose (with AVX-512 VNNI: the windows read in place from a
//! flipped band, with weights laid out again where a filter row is not whole quads; else the
//! gathered patches): shapes of every kind the in-place pass treats differently.

use constnet::layers::{Conv2dOptions, Padded, Same, Valid};
use constnet::quant::{Int8Conv2d, Int8Layer, Quantization, QuantizedMultiplier};

struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn byte(&mut self) -> i8 {
        self.next() as i8
    }
}

/// The reference: `clamp(M_o(bias_o + Σ_inside w · (x − z_in)) + z_out)`, padding adding
/// nothing.
#[allow(clippy::too_many_arguments)]
fn reference<const C_IN: usize, const C_OUT: usize, const KH: usize, const KW: usize>(
    x: &[i8],
    (h, w): (usize, usize),
    weights: &[[[[i8; C_IN]; KW]; KH]; C_OUT],
    bias: &[i32; C_OUT],
    m: &[QuantizedMultiplier; C_OUT],
    (z_in, z_out): (i32, i32),
    range: [i8; 2],
    (h_out, w_out): (usize, usize),
    (stride, dilation, before): ([usize; 2], [usize; 2], [usize; 2]),
) -> Vec<i8> {
    let mut out = vec![0i8; h_out * w_out * C_OUT];
    for oy in 0..h_out {
        for ox in 0..w_out {
            for o in 0..C_OUT {
                let mut acc = bias[o];
                for (u, filter_row) in weights[o].iter().enumerate() {
                    for (v, tap) in filter_row.iter().enumerate() {
                        let iy = (oy * stride[0] + u * dilation[0]) as isize - before[0] as isize;
                        let ix = (ox * stride[1] + v * dilation[1]) as isize - before[1] as isize;
                        if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                            continue;
                        }
                        let at = (iy as usize * w + ix as usize) * C_IN;
                        for (&w, &x) in tap.iter().zip(&x[at..at + C_IN]) {
                            acc = acc.wrapping_add(w as i32 * (x as i32 - z_in));
                        }
                    }
                }
                let v = m[o].apply(acc).wrapping_add(z_out);
                out[(oy * w_out + ox) * C_OUT + o] =
                    v.clamp(range[0] as i32, range[1] as i32) as i8;
            }
        }
    }
    out
}

/// One random layer of the given shape and options against the reference, with padding
/// before the first row and column `before`.
fn check<
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    O: Conv2dOptions,
>(
    random: &mut Random,
    before: [usize; 2],
) where
    Int8Conv2d<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O>: Int8Layer<
            Input = [[[i8; C_IN]; W]; H],
            Output = [[[i8; C_OUT]; W_OUT]; H_OUT],
            Scratch = (),
        >,
{
    for _ in 0..3 {
        let weights: Box<[[[[i8; C_IN]; KW]; KH]; C_OUT]> = Box::new(core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                core::array::from_fn(|_| core::array::from_fn(|_| random.byte()))
            })
        }));
        let bias: [i32; C_OUT] = core::array::from_fn(|_| (random.next() as i32) >> 16);
        let m: [QuantizedMultiplier; C_OUT] = core::array::from_fn(|_| {
            QuantizedMultiplier::new(
                (1 << 30) + (random.next() as i32 & ((1 << 30) - 1)),
                -((random.next() % 12) as i32) - 4,
            )
        });
        let (z_in, z_out) = (
            (random.next() % 256) as i32 - 128,
            (random.next() % 256) as i32 - 128,
        );
        let range = if random.next().is_multiple_of(2) {
            [-128, 127]
        } else {
            [z_out as i8, 127]
        };
        let conv = Int8Conv2d::<C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, O>::new(
            *weights,
            bias,
            m,
            Quantization::new(0.5, z_in),
            Quantization::new(0.25, z_out),
            range,
        );
        let x: Box<[[[i8; C_IN]; W]; H]> = Box::new(core::array::from_fn(|_| {
            core::array::from_fn(|_| core::array::from_fn(|_| random.byte()))
        }));
        let y = conv.forward(&x);
        let expected = reference::<C_IN, C_OUT, KH, KW>(
            x.as_flattened().as_flattened(),
            (H, W),
            &weights,
            &bias,
            &m,
            (z_in, z_out),
            range,
            (H_OUT, W_OUT),
            (O::STRIDE, O::DILATION, before),
        );
        assert_eq!(
            y.as_flattened().as_flattened(),
            &expected[..],
            "Int8Conv2d<{C_IN}, {C_OUT}, {KH}, {KW}, {H}, {W}, {H_OUT}, {W_OUT}>"
        );
    }
}

#[test]
fn convolutions_equal_the_reference_definition() {
    let mut random = Random(0x5eed_1234_abcd_0042);
    let r = &mut random;
    // Filter rows of whole quads: 3×3 over 4, 16 and 64 channels, SAME at strides 1 and 2,
    // VALID, PyTorch-style padding, 16 to 48 outputs and a narrow 24.
    check::<16, 16, 3, 3, 9, 11, 9, 11, Same>(r, [1, 1]);
    check::<16, 32, 3, 3, 10, 10, 5, 5, Same<2, 2>>(r, [0, 0]);
    check::<4, 24, 3, 3, 7, 6, 5, 4, Valid>(r, [0, 0]);
    check::<64, 48, 3, 3, 5, 5, 5, 5, Padded<1, 1>>(r, [1, 1]);
    check::<8, 16, 3, 3, 9, 9, 4, 4, Valid<2, 2>>(r, [0, 0]);
    // Dilated rows (columns undilated), and a 10×4 filter over one channel at stride 2
    // (KWS's first layer: rows of one quad).
    check::<4, 16, 3, 3, 9, 9, 5, 9, Padded<0, 1, 1, 1, 2, 1>>(r, [0, 1]);
    check::<1, 16, 10, 4, 17, 10, 9, 5, Same<2, 2>>(r, [4, 1]);
    // Rows that are not whole quads: the weights laid out again (1, 2, 3 and 5 channels,
    // 3×3 and 1×1), 8 and 16 outputs.
    check::<3, 16, 3, 3, 12, 12, 12, 12, Same>(r, [1, 1]);
    check::<3, 8, 3, 3, 12, 12, 6, 6, Same<2, 2>>(r, [0, 0]);
    check::<1, 8, 3, 3, 8, 8, 8, 8, Same>(r, [1, 1]);
    check::<2, 16, 3, 3, 6, 7, 4, 5, Valid>(r, [0, 0]);
    check::<5, 16, 1, 1, 6, 6, 6, 6, Valid>(r, [0, 0]);
    check::<3, 32, 1, 1, 4, 5, 2, 3, Valid<2, 2>>(r, [0, 0]);
    // 1×1 at stride 1 (the pixels read in row-major order across rows) and at stride 2.
    check::<16, 32, 1, 1, 5, 7, 5, 7, Valid>(r, [0, 0]);
    check::<32, 64, 1, 1, 6, 6, 3, 3, Same<2, 2>>(r, [0, 0]);
    check::<64, 128, 1, 1, 3, 3, 3, 3, Same>(r, [0, 0]);
}
