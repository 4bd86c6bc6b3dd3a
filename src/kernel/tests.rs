//! The Dense kernels against plain reference loops, on both paths, for odd shapes and batch
//! sizes (tails of the row blocks and of the vectors included), in `f32` and `f64`.

use super::dense::{self, LANES_8, LONG_8, WIDE_8};
use super::math::Separate;
use crate::scalar::Scalar;

struct Rng(u64);

impl Rng {
    fn next<T: Scalar>(&mut self) -> T {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        T::from_f64((self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
    }
    fn array<T: Scalar, const N: usize>(&mut self) -> [T; N] {
        core::array::from_fn(|_| self.next())
    }
    fn rows<T: Scalar, const N: usize>(&mut self, rows: usize) -> Vec<[T; N]> {
        (0..rows).map(|_| self.array()).collect()
    }
}

/// The three products by the textbook formulas, accumulated in `f64`.
#[allow(clippy::type_complexity)]
fn reference<T: Scalar, const IN: usize, const OUT: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    dz: &[[T; OUT]],
) -> (Vec<[f64; OUT]>, Vec<[f64; OUT]>, [f64; OUT], Vec<[f64; IN]>) {
    let z = x
        .iter()
        .map(|xb| {
            core::array::from_fn(|o| {
                (0..IN).fold(bias[o].to_f64(), |s, i| {
                    s + xb[i].to_f64() * w[i][o].to_f64()
                })
            })
        })
        .collect();
    let g = (0..IN)
        .map(|i| {
            core::array::from_fn(|o| {
                x.iter()
                    .zip(dz)
                    .map(|(xb, d)| xb[i].to_f64() * d[o].to_f64())
                    .sum()
            })
        })
        .collect();
    let gb = core::array::from_fn(|o| dz.iter().map(|d| d[o].to_f64()).sum());
    let dx = dz
        .iter()
        .map(|d| core::array::from_fn(|i| (0..OUT).map(|o| d[o].to_f64() * w[i][o].to_f64()).sum()))
        .collect();
    (z, g, gb, dx)
}

/// `|got − want| <= scale`, where `scale` is the rounding allowance of the shape.
fn close(got: f64, want: f64, scale: f64, what: &str) {
    assert!(
        (got - want).abs() <= scale,
        "{what}: got {got:e}, want {want:e}"
    );
}

#[allow(clippy::type_complexity)]
fn check_shape<T: Scalar, const IN: usize, const OUT: usize>(rows: usize, tolerance: f64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (IN * 131 + OUT * 7 + rows) as u64);
    let w: [[T; OUT]; IN] = core::array::from_fn(|_| rng.array());
    let bias: [T; OUT] = rng.array();
    let x = rng.rows::<T, IN>(rows);
    let dz = rng.rows::<T, OUT>(rows);
    let (z_want, g_want, gb_want, dx_want) = reference(&w, &bias, &x, &dz);
    let scale = IN.max(OUT).max(rows) as f64 * tolerance;
    let check = |z: &[[T; OUT]], g: &[[T; OUT]; IN], gb: &[T; OUT], dx: &[[T; IN]], path: &str| {
        for (b, (zb, wb)) in z.iter().zip(&z_want).enumerate() {
            for o in 0..OUT {
                close(
                    zb[o].to_f64(),
                    wb[o],
                    scale,
                    &format!("{path} z[{b}][{o}] {IN}x{OUT}x{rows}"),
                );
            }
        }
        for i in 0..IN {
            for o in 0..OUT {
                close(
                    g[i][o].to_f64(),
                    g_want[i][o],
                    scale,
                    &format!("{path} g[{i}][{o}]"),
                );
            }
        }
        for o in 0..OUT {
            close(
                gb[o].to_f64(),
                gb_want[o],
                scale,
                &format!("{path} g_bias[{o}]"),
            );
        }
        for (b, (db, wb)) in dx.iter().zip(&dx_want).enumerate() {
            for i in 0..IN {
                close(
                    db[i].to_f64(),
                    wb[i],
                    scale,
                    &format!("{path} dx[{b}][{i}]"),
                );
            }
        }
    };
    let run = |forward: &dyn Fn(&mut [[T; OUT]]),
               grads: &dyn Fn(&mut [[T; OUT]; IN], &mut [T; OUT]),
               input: &dyn Fn(&mut [[T; IN]]),
               path: &str| {
        let mut z = vec![[T::zero(); OUT]; rows];
        forward(&mut z);
        let (mut g, mut gb) = ([[T::zero(); OUT]; IN], [T::zero(); OUT]);
        grads(&mut g, &mut gb);
        let mut dx = vec![[T::zero(); IN]; rows];
        input(&mut dx);
        check(&z, &g, &gb, &dx, path);
    };
    run(
        &|z| {
            dense::forward::<T, Separate, IN, OUT, { dense::ROWS_8 }, WIDE_8, LONG_8, LANES_8>(
                &w, &bias, &x, z,
            )
        },
        &|g, gb| {
            dense::param_grads::<T, Separate, IN, OUT, { dense::ROWS_8 }, WIDE_8, LONG_8>(
                &x, &dz, g, gb,
            )
        },
        &|dx| dense::input_grads::<T, Separate, IN, OUT, WIDE_8, LONG_8, LANES_8>(&w, &dz, dx),
        "portable",
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        run(
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            &|z| unsafe { super::x86::dense_forward::<T, IN, OUT>(&w, &bias, &x, z) },
            // SAFETY: as above.
            &|g, gb| unsafe { super::x86::dense_param_grads::<T, IN, OUT>(&x, &dz, g, gb) },
            // SAFETY: as above.
            &|dx| unsafe { super::x86::dense_input_grads::<T, IN, OUT>(&w, &dz, dx) },
            "avx2",
        );
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        run(
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above).
            &|z| unsafe { super::x86::dense_forward_avx512::<T, IN, OUT>(&w, &bias, &x, z) },
            // SAFETY: as above.
            &|g, gb| unsafe { super::x86::dense_param_grads_avx512::<T, IN, OUT>(&x, &dz, g, gb) },
            // SAFETY: as above.
            &|dx| unsafe { super::x86::dense_input_grads_avx512::<T, IN, OUT>(&w, &dz, dx) },
            "avx512",
        );
        for (b, xb) in x.iter().enumerate() {
            let mut z = [T::zero(); OUT];
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above).
            unsafe { super::x86::dense_forward_row_avx512::<T, IN, OUT>(&w, &bias, xb, &mut z) };
            for o in 0..OUT {
                close(
                    z[o].to_f64(),
                    z_want[b][o],
                    scale,
                    &format!("avx512 row z[{b}][{o}]"),
                );
            }
        }
    }
    // The one-sample kernels (both paths, through the dispatcher) on every row.
    for (b, (xb, dzb)) in x.iter().zip(&dz).enumerate() {
        let mut z = [T::zero(); OUT];
        super::dense_forward_row(&w, &bias, xb, &mut z);
        let mut z_portable = [T::zero(); OUT];
        dense::forward_row::<T, Separate, IN, OUT, LONG_8, LANES_8>(&w, &bias, xb, &mut z_portable);
        let mut dx = [T::zero(); IN];
        super::dense_input_grads_row(&w, dzb, &mut dx);
        let mut dx_portable = [T::zero(); IN];
        dense::input_grads_row::<T, Separate, IN, OUT, LANES_8>(&w, dzb, &mut dx_portable);
        for o in 0..OUT {
            close(
                z[o].to_f64(),
                z_want[b][o],
                scale,
                &format!("row z[{b}][{o}]"),
            );
            close(
                z_portable[o].to_f64(),
                z_want[b][o],
                scale,
                &format!("portable row z[{b}][{o}]"),
            );
        }
        for i in 0..IN {
            close(
                dx[i].to_f64(),
                dx_want[b][i],
                scale,
                &format!("row dx[{b}][{i}]"),
            );
            close(
                dx_portable[i].to_f64(),
                dx_want[b][i],
                scale,
                &format!("portable row dx[{b}][{i}]"),
            );
        }
    }
    // The dispatching entry points give what one of the paths gives.
    let mut z = vec![[T::zero(); OUT]; rows];
    super::dense_forward(&w, &bias, &x, &mut z);
    let (mut g, mut gb) = ([[T::zero(); OUT]; IN], [T::zero(); OUT]);
    super::dense_param_grads(&x, &dz, &mut g, &mut gb);
    let mut dx = vec![[T::zero(); IN]; rows];
    super::dense_input_grads(&w, &dz, &mut dx);
    check(&z, &g, &gb, &dx, "dispatched");
}

fn check_all<T: Scalar>(tolerance: f64) {
    for rows in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 17, 33, 35] {
        check_shape::<T, 1, 1>(rows, tolerance);
        check_shape::<T, 2, 16>(rows, tolerance);
        check_shape::<T, 16, 1>(rows, tolerance);
        check_shape::<T, 3, 5>(rows, tolerance);
        check_shape::<T, 7, 9>(rows, tolerance);
        check_shape::<T, 17, 23>(rows, tolerance);
        check_shape::<T, 64, 64>(rows, tolerance);
        check_shape::<T, 65, 130>(rows, tolerance);
        // One sample's outputs in several passes, through blocks of inputs (the last one
        // short) in every build: 2 × 64 + 2 vectors of 8, 128 + 1 vector of 16.
        check_shape::<T, 40, 144>(rows, tolerance);
        // Tails of one or two overlapping vectors after the full blocks.
        check_shape::<T, 5, 10>(rows, tolerance);
        check_shape::<T, 9, 20>(rows, tolerance);
        check_shape::<T, 6, 40>(rows, tolerance);
    }
    // Large enough for the dispatcher's AVX-512 batched build (16+ rows, 64+ outputs, 2¹⁸+
    // multiply-adds) where the CPU has it.
    check_shape::<T, 300, 64>(33, tolerance);
    check_shape::<T, 300, 88>(35, tolerance);
}

/// Whether this CPU runs the AVX2+FMA builds.
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Whether this CPU runs the AVX-512 builds (AVX-512F with AVX2 and FMA).
#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    has_avx2_fma() && std::is_x86_feature_detected!("avx512f")
}

/// Whether `a` and `b` hold the same values bit for bit (and as many).
fn same_bits<T: Scalar>(a: &[T], b: &[T]) -> bool {
    let bits = |v: &T| Scalar::to_f64(*v).to_bits();
    a.iter().map(bits).eq(b.iter().map(bits))
}

/// The forward product of a row has the same bits whichever block it falls in: a batch of
/// 35 rows (blocks of 12 or 6, of 4, single rows) against each row alone.
fn forward_bits_do_not_depend_on_the_batch<T: Scalar, const IN: usize, const OUT: usize>() {
    let mut rng = Rng(0x5eed);
    let w: [[T; OUT]; IN] = core::array::from_fn(|_| rng.array());
    let bias: [T; OUT] = rng.array();
    let x = rng.rows::<T, IN>(35);
    type Forward<'a, T, const IN: usize, const OUT: usize> =
        &'a dyn Fn(&[[T; IN]], &mut [[T; OUT]]);
    let same = |forward: Forward<'_, T, IN, OUT>, path: &str| {
        let mut z = vec![[T::zero(); OUT]; x.len()];
        forward(&x, &mut z);
        for (b, (xb, zb)) in x.iter().zip(&z).enumerate() {
            let mut alone = [[T::zero(); OUT]; 1];
            forward(core::slice::from_ref(xb), &mut alone);
            assert!(
                same_bits(&alone[0], zb),
                "{path}: row {b} differs from the same row alone ({IN}x{OUT})"
            );
        }
    };
    same(
        &|x, z| {
            dense::forward::<T, Separate, IN, OUT, { dense::ROWS_8 }, WIDE_8, LONG_8, LANES_8>(
                &w, &bias, x, z,
            )
        },
        "portable",
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        same(
            &|x, z| unsafe { super::x86::dense_forward::<T, IN, OUT>(&w, &bias, x, z) },
            "avx2",
        );
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        same(
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above).
            &|x, z| unsafe { super::x86::dense_forward_avx512::<T, IN, OUT>(&w, &bias, x, z) },
            "avx512",
        );
    }
}

/// One sample's forward with more outputs than a pass holds goes through blocks of inputs
/// (`dense::forward_row_blocked`), each pass resuming its sums from the output: the bits of
/// the batched kernel's chains, in each build.
fn row_blocks_give_the_batch_bits<T: Scalar, const IN: usize, const OUT: usize>() {
    let mut rng = Rng(0xb10c);
    // On the heap: M's weights are 401 KB, and a debug build's test thread has 2 MiB.
    let Ok(w) = Box::<[[T; OUT]; IN]>::try_from(rng.rows::<T, OUT>(IN).into_boxed_slice()) else {
        unreachable!("IN rows")
    };
    let bias: [T; OUT] = rng.array();
    let x = rng.rows::<T, IN>(3);
    type Batch<'a, T, const IN: usize, const OUT: usize> = &'a dyn Fn(&[[T; IN]], &mut [[T; OUT]]);
    type Row<'a, T, const IN: usize, const OUT: usize> = &'a dyn Fn(&[T; IN], &mut [T; OUT]);
    let same = |batch: Batch<'_, T, IN, OUT>, row: Row<'_, T, IN, OUT>, path: &str| {
        let mut z = vec![[T::zero(); OUT]; x.len()];
        batch(&x, &mut z);
        for (b, (xb, zb)) in x.iter().zip(&z).enumerate() {
            let mut alone = [T::zero(); OUT];
            row(xb, &mut alone);
            assert!(
                same_bits(&alone, zb),
                "{path}: the row kernel differs from the batch on row {b} ({IN}x{OUT})"
            );
        }
    };
    same(
        &|x, z| {
            dense::forward::<T, Separate, IN, OUT, { dense::ROWS_8 }, WIDE_8, LONG_8, LANES_8>(
                &w, &bias, x, z,
            )
        },
        &|x, z| dense::forward_row::<T, Separate, IN, OUT, LONG_8, LANES_8>(&w, &bias, x, z),
        "portable",
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        same(
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            &|x, z| unsafe { super::x86::dense_forward::<T, IN, OUT>(&w, &bias, x, z) },
            // SAFETY: as above.
            &|x, z| unsafe { super::x86::dense_forward_row::<T, IN, OUT>(&w, &bias, x, z) },
            "avx2",
        );
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        same(
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above).
            &|x, z| unsafe { super::x86::dense_forward_avx512::<T, IN, OUT>(&w, &bias, x, z) },
            // SAFETY: as above.
            &|x, z| unsafe { super::x86::dense_forward_row_avx512::<T, IN, OUT>(&w, &bias, x, z) },
            "avx512",
        );
    }
}

/// The weight gradient over a batch (register blocks of inputs × outputs,
/// `dense::param_grads_blocks`, from 4 rows) gives the bits of adding the rows one at a time
/// (one row takes the other kernels), in each build: every element one chain over the rows
/// in order.
fn gradient_blocks_give_the_bits_of_single_rows<T: Scalar, const IN: usize, const OUT: usize>() {
    let mut rng = Rng(0x9bad);
    let x = rng.rows::<T, IN>(13);
    let dz = rng.rows::<T, OUT>(13);
    // On the heap (see `row_blocks_give_the_batch_bits`).
    let Ok(start) = Box::<[[T; OUT]; IN]>::try_from(rng.rows::<T, OUT>(IN).into_boxed_slice())
    else {
        unreachable!("IN rows")
    };
    type Grads<'a, T, const IN: usize, const OUT: usize> =
        &'a dyn Fn(&[[T; IN]], &[[T; OUT]], &mut [[T; OUT]; IN], &mut [T; OUT]);
    let same = |grads: Grads<'_, T, IN, OUT>, path: &str| {
        let (mut g, mut gb) = (start.clone(), [T::zero(); OUT]);
        grads(&x, &dz, &mut g, &mut gb);
        let (mut rows, mut rows_b) = (start.clone(), [T::zero(); OUT]);
        for (xb, dzb) in x.iter().zip(&dz) {
            grads(
                core::slice::from_ref(xb),
                core::slice::from_ref(dzb),
                &mut rows,
                &mut rows_b,
            );
        }
        assert!(
            same_bits(g.as_flattened(), rows.as_flattened()),
            "{path}: the batch's weight gradient differs from its rows one by one ({IN}x{OUT})"
        );
    };
    same(
        &|x, dz, g, gb| {
            dense::param_grads::<T, Separate, IN, OUT, { dense::ROWS_8 }, WIDE_8, LONG_8>(
                x, dz, g, gb,
            )
        },
        "portable",
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        same(
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            &|x, dz, g, gb| unsafe { super::x86::dense_param_grads::<T, IN, OUT>(x, dz, g, gb) },
            "avx2",
        );
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        same(
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above).
            &|x, dz, g, gb| unsafe {
                super::x86::dense_param_grads_avx512::<T, IN, OUT>(x, dz, g, gb)
            },
            "avx512",
        );
    }
}

#[test]
fn dense_gradient_blocks_give_the_bits_of_single_rows() {
    // Blocks of 6 × 16 (and 6 × 32) with input and output tails; M's first layer.
    gradient_blocks_give_the_bits_of_single_rows::<f32, 17, 23>();
    gradient_blocks_give_the_bits_of_single_rows::<f32, 65, 130>();
    gradient_blocks_give_the_bits_of_single_rows::<f64, 65, 130>();
    gradient_blocks_give_the_bits_of_single_rows::<f32, 784, 128>();
}

#[test]
fn dense_row_blocks_give_the_batch_bits() {
    // 2 passes of 64 and 2 vectors of 8 with AVX2 and the portable build, 128 and 1 vector
    // of 16 with AVX-512; 28 (f32) or 14 (f64) rows per block, the last block short.
    row_blocks_give_the_batch_bits::<f32, 100, 144>();
    row_blocks_give_the_batch_bits::<f64, 100, 144>();
    // 784 → 128 (M's first layer): blocks of 32 rows, two passes with AVX2.
    row_blocks_give_the_batch_bits::<f32, 784, 128>();
}

#[test]
fn dense_forward_bits_do_not_depend_on_the_batch() {
    forward_bits_do_not_depend_on_the_batch::<f32, 37, 10>();
    forward_bits_do_not_depend_on_the_batch::<f32, 37, 40>();
    forward_bits_do_not_depend_on_the_batch::<f32, 100, 130>();
    forward_bits_do_not_depend_on_the_batch::<f64, 37, 40>();
}

/// The AVX-512 kernel for 9 to 15 outputs (one masked vector per row, blocks of 16 rows and
/// single rows after them) gives the bits of the AVX2 kernel's two overlapping windows: the
/// same fused chain per output.
fn narrow_rows_give_the_avx2_bits<const IN: usize, const OUT: usize>() {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        let mut rng = Rng(0x0a77);
        let w: Box<[[f32; OUT]; IN]> = Box::new(core::array::from_fn(|_| rng.array()));
        let bias: [f32; OUT] = rng.array();
        // Two blocks of 16 and 3 single rows.
        let x = rng.rows::<f32, IN>(35);
        let mut narrow = vec![[0.0f32; OUT]; x.len()];
        let mut avx2 = vec![[0.0f32; OUT]; x.len()];
        // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked above).
        unsafe {
            super::dense_narrow::forward::<IN, OUT>(&w, &bias, &x, &mut narrow);
            super::x86::dense_forward::<f32, IN, OUT>(&w, &bias, &x, &mut avx2);
        }
        for (b, (n, a)) in narrow.iter().zip(&avx2).enumerate() {
            assert!(
                same_bits(n, a),
                "row {b} of {IN}x{OUT}: {n:?} against {a:?}"
            );
        }
    }
}

#[test]
fn dense_narrow_rows_give_the_avx2_bits() {
    narrow_rows_give_the_avx2_bits::<1, 9>();
    narrow_rows_give_the_avx2_bits::<37, 10>();
    narrow_rows_give_the_avx2_bits::<128, 10>();
    narrow_rows_give_the_avx2_bits::<64, 15>();
}

#[test]
fn dense_kernels_match_the_reference_in_f64() {
    check_all::<f64>(1e-13);
}

#[test]
fn dense_kernels_match_the_reference_in_f32() {
    check_all::<f32>(1e-6);
}

/// The Adam update: the AVX2 build gives the same bits as the portable one (no fused
/// operations), for every variant, on lengths with and without a vector tail.
fn adam_twins<T: Scalar>() {
    use super::adam::{AdamStep, update};
    let mut rng = Rng(0x1234_5678);
    for len in [0usize, 1, 7, 8, 9, 31, 100] {
        for (decoupled, amsgrad) in [(false, false), (true, false), (false, true), (true, true)] {
            let s = AdamStep {
                beta1: T::from_f64(0.9),
                one_minus_beta1: T::from_f64(0.1),
                beta2: T::from_f64(0.999),
                one_minus_beta2: T::from_f64(0.001),
                wd: T::from_f64(if decoupled { 0.0 } else { 0.01 }),
                decay: T::from_f64(0.999),
                decoupled,
                step_size: T::from_f64(0.01),
                inv_bias_correction2_sqrt: T::from_f64(10.0),
                eps: T::from_f64(1e-8),
            };
            let p0: Vec<T> = (0..len).map(|_| rng.next()).collect();
            let g: Vec<T> = (0..len).map(|_| rng.next()).collect();
            let m0: Vec<T> = (0..len).map(|_| rng.next()).collect();
            let v0: Vec<T> = (0..len).map(|_| rng.next::<T>().abs()).collect();
            let run = |fast: bool| {
                let (mut p, mut m, mut v, mut vm) =
                    (p0.clone(), m0.clone(), v0.clone(), v0.clone());
                let vm = if amsgrad { Some(&mut vm[..]) } else { None };
                if fast {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: called only when the CPU has AVX2 and FMA (checked below).
                    unsafe {
                        super::x86::adam_update(&s, &mut p, &g, &mut m, &mut v, vm)
                    };
                } else {
                    update(&s, &mut p, &g, &mut m, &mut v, vm);
                }
                let bits = |x: &[T]| {
                    x.iter()
                        .map(|&v| Scalar::to_f64(v).to_bits())
                        .collect::<Vec<_>>()
                };
                (bits(&p), bits(&m), bits(&v))
            };
            let portable = run(false);
            assert!(
                len == 0
                    || portable.0
                        != p0
                            .iter()
                            .map(|&v| Scalar::to_f64(v).to_bits())
                            .collect::<Vec<_>>()
            );
            #[cfg(target_arch = "x86_64")]
            if has_avx2_fma() {
                assert_eq!(
                    run(true),
                    portable,
                    "len {len} decoupled {decoupled} amsgrad {amsgrad}"
                );
            }
        }
    }
}

#[test]
fn adam_update_is_the_same_bits_on_both_paths() {
    adam_twins::<f32>();
    adam_twins::<f64>();
}

/// A recurrent cell's interleaved gate products (run inside the streaming tasks only): the
/// fused and the separate portable bodies against `f64` reference sums, and the body
/// compiled into the best instruction set's task bit-equal to the portable body of its
/// flavour (the same operations in the same order), for shapes on both sides of the
/// partial-sum choices and with vector tails.
fn check_gates<const IN: usize, const H: usize, const G: usize>() {
    struct Task<'a, const IN: usize, const H: usize, const G: usize> {
        w: &'a [[[f32; H]; IN]; G],
        init: &'a [[f32; H]; G],
        x: &'a [f32; IN],
    }
    impl<const IN: usize, const H: usize, const G: usize> super::SimdTask for Task<'_, IN, H, G> {
        type Output = [[f32; H]; G];
        fn run<M: super::MulAdd>(self) -> [[f32; H]; G] {
            let mut z = [[0.0; H]; G];
            dense::gates_forward_row::<f32, M, IN, H, G>(self.w, self.init, self.x, &mut z);
            z
        }
    }
    let mut rng = Rng(0x5eed ^ (IN * 131 + H * 7 + G) as u64);
    let w: [[[f32; H]; IN]; G] = core::array::from_fn(|_| core::array::from_fn(|_| rng.array()));
    let init: [[f32; H]; G] = core::array::from_fn(|_| rng.array());
    let x: [f32; IN] = rng.array();
    let mut want = [[0.0f64; H]; G];
    for k in 0..G {
        for j in 0..H {
            want[k][j] = init[k][j] as f64
                + (0..IN)
                    .map(|i| x[i] as f64 * w[k][i][j] as f64)
                    .sum::<f64>();
        }
    }
    let scale = (IN + 1) as f64;
    let mut separate = [[0.0f32; H]; G];
    dense::gates_forward_row::<f32, Separate, IN, H, G>(&w, &init, &x, &mut separate);
    #[cfg(target_arch = "x86_64")]
    let mut fused = [[0.0f32; H]; G];
    #[cfg(target_arch = "x86_64")]
    dense::gates_forward_row::<f32, super::math::Fused, IN, H, G>(&w, &init, &x, &mut fused);
    #[cfg(not(target_arch = "x86_64"))]
    let fused = separate;
    for (what, got) in [("separate", &separate), ("fused", &fused)] {
        for k in 0..G {
            for j in 0..H {
                close(
                    got[k][j] as f64,
                    want[k][j],
                    scale * 1e-6,
                    &format!("{what} gates {IN}x{H}x{G} z[{k}][{j}]"),
                );
            }
        }
    }
    let in_task = super::in_best_simd(Task {
        w: &w,
        init: &init,
        x: &x,
    });
    let twin = if super::simd_level() == super::SimdLevel::Portable {
        separate
    } else {
        fused
    };
    assert_eq!(in_task, twin, "in-task gates {IN}x{H}x{G}");
}

#[test]
fn gate_groups_fit_the_registers() {
    use dense::gates_per_pass;
    // LSTM32 and LSTM16 with 8-lane vectors: two passes of two gates (8 accumulators).
    assert_eq!(gates_per_pass(4, 32, 8, 1), 2);
    assert_eq!(gates_per_pass(4, 16, 8, 2), 2);
    // With 16-lane vectors every gate fits one pass.
    assert_eq!(gates_per_pass(4, 32, 16, 1), 4);
    assert_eq!(gates_per_pass(4, 16, 16, 2), 4);
    assert_eq!(gates_per_pass(3, 8, 8, 4), 3);
    // A gate wider than the registers: one pass, nothing to gain from splitting.
    assert_eq!(gates_per_pass(4, 128, 8, 1), 4);
    assert_eq!(gates_per_pass(4, 96, 8, 1), 1);
}

#[test]
fn gate_products_match_the_reference_on_every_path() {
    check_gates::<1, 8, 3>();
    check_gates::<8, 8, 3>();
    check_gates::<5, 3, 3>();
    check_gates::<16, 16, 4>();
    check_gates::<17, 13, 4>();
    check_gates::<32, 32, 4>();
    check_gates::<3, 40, 4>();
    check_gates::<64, 96, 4>();
}
