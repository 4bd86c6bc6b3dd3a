//! The three products of a fully connected layer over a batch of rows, with input-major
//! weights `w[i][o]` (`[[T; OUT]; IN]`, PyTorch's `weight[o][i]`), register-blocked so that
//! each has several independent multiply-add chains and reuses every load:
//!
//! - forward `z[b] = bias + Σᵢ x[b][i]·w[i]`: blocks of 6 rows × 16 outputs (12 vector
//!   accumulators of 8 lanes) or 12 rows × 32 outputs (24 of 16 lanes, AVX-512), so each
//!   weight vector is loaded once per 6 or 12 samples; then blocks of 4 rows, and one row ×
//!   64 or 128 outputs for the last rows. Outputs beyond the last full block are done a
//!   vector at a time, the last vector ending at the last output (overlapping, recomputed
//!   the same way);
//! - weight gradient `g[i] += Σ_b x[b][i]·dz[b]`: blocks of 6 inputs × 16 or 32 outputs of
//!   `g` stay in registers while the batch (4 rows or more) streams past, so the gradient is
//!   read and written once per batch and each vector of `dz` loaded serves 6 inputs; fewer
//!   rows or outputs keep 64 outputs of `g[i]` (or several narrow rows) in registers;
//! - input gradient `dx[b][i] = Σₒ dz[b][o]·w[i][o]`: 4 rows × 2 inputs of 8-lane partial dot
//!   products (eight chains), reduced at the end.
//!
//! Each is generic over [`MulAdd`] so `x86.rs` compiles the same body with AVX2 and FMA, and
//! over the sizes, which the compiler sees (all loop bounds are constants but the row count).

use super::math::MulAdd;
use crate::scalar::Scalar;

// Block sizes, passed down as const parameters by each build (`x86.rs` and the portable
// dispatch), for vectors of `LANES` floats: `ROWS` rows × `WIDE` outputs per block of the
// forward kernel (2 vectors per row), `LONG` outputs per block of the one-row kernels (8
// vectors), `LANES` lanes of the partial dot products. Twelve or 24 accumulators leave room
// for the two weight vectors and the broadcast input (16 or 32 vector registers).

/// Blocks for 8-float vectors (AVX2; the portable build too).
pub(crate) const WIDE_8: usize = 16;
/// Rows per block of the forward kernel with 8-float vectors (6 × 2 accumulators: against 4
/// rows, `CONSTNET_AVX2=1` `perf_report`'s `M batch256_fraction_of_peak` 0.66 → 0.76 on the
/// Xeon, one run of each binary).
pub(crate) const ROWS_8: usize = 6;
/// See [`WIDE_8`].
pub(crate) const LONG_8: usize = 64;
/// See [`WIDE_8`].
pub(crate) const LANES_8: usize = 8;
/// Blocks for 16-float vectors (AVX-512): 2 vectors of 16 per row.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) const WIDE_16: usize = 32;
/// Rows per block of the forward kernel with 16-float vectors (12 × 2 accumulators: against
/// 4 rows, `perf_report`'s `M batch256_fraction_of_peak` 0.51 → 0.665 on the Xeon, one run of
/// each binary back to back).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) const ROWS_16: usize = 12;
/// One-row blocks for 16-float vectors (AVX-512).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) const LONG_16: usize = 128;
/// See [`LONG_16`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) const LANES_16: usize = 16;

/// `acc[k] += a·w[k]` over a block.
#[inline(always)]
fn axpy<T: Scalar, M: MulAdd, const N: usize>(a: T, w: &[T], acc: &mut [T; N]) {
    for k in 0..N {
        acc[k] = M::mul_add(a, w[k], acc[k]);
    }
}

/// `z[b] = bias + Σᵢ x[b][i]·w[i]` for every row `b` of `x` (as many rows as `z`): blocks
/// of `ROWS` rows, then of 4, then single rows. Every output is one chain over the inputs in
/// order, whatever block it falls in, so the bits do not depend on the row count.
#[inline(always)]
pub(crate) fn forward<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const ROWS: usize,
    const WIDE: usize,
    const LONG: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    let mut x_blocks = x.chunks_exact(ROWS);
    let mut z_blocks = z.chunks_exact_mut(ROWS);
    for (xb, zb) in (&mut x_blocks).zip(&mut z_blocks) {
        forward_block::<T, M, IN, OUT, ROWS, WIDE, LANES>(w, bias, xb, zb);
    }
    let (x, z) = (x_blocks.remainder(), z_blocks.into_remainder());
    let mut x_blocks = x.chunks_exact(4);
    let mut z_blocks = z.chunks_exact_mut(4);
    if ROWS > 4 {
        for (xb, zb) in (&mut x_blocks).zip(&mut z_blocks) {
            forward_block::<T, M, IN, OUT, 4, WIDE, LANES>(w, bias, xb, zb);
        }
    }
    let (x, z) = if ROWS > 4 {
        (x_blocks.remainder(), z_blocks.into_remainder())
    } else {
        (x, z)
    };
    for (xr, zr) in x.iter().zip(z.iter_mut()) {
        forward_block::<T, M, IN, OUT, 1, LONG, LANES>(
            w,
            bias,
            core::slice::from_ref(xr),
            core::slice::from_mut(zr),
        );
    }
}

/// `z = bias + Σᵢ x[i]·w[i]` for one sample: the whole row in registers when `OUT <= LONG`
/// (`OUT` independent chains), else `LONG` outputs per pass ([`forward_row_blocked`] when
/// `OUT` is a whole number of vectors).
#[inline(always)]
pub(crate) fn forward_row<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const LONG: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    if OUT <= LONG {
        // Enough independent chains to hide the multiply-add latency: `P` partial sums over
        // the inputs, each `OUT` wide (≈ 8 vectors of 8 lanes, or 16 of 16, in all).
        match const { row_partial_sums(OUT, LANES) } {
            16 => forward_row_partials::<T, M, IN, OUT, 16>(w, bias, x, z),
            8 => forward_row_partials::<T, M, IN, OUT, 8>(w, bias, x, z),
            4 => forward_row_partials::<T, M, IN, OUT, 4>(w, bias, x, z),
            2 => forward_row_partials::<T, M, IN, OUT, 2>(w, bias, x, z),
            _ => forward_row_partials::<T, M, IN, OUT, 1>(w, bias, x, z),
        }
    } else if OUT.is_multiple_of(LANES) {
        forward_row_blocked::<T, M, IN, OUT, LONG, LANES>(w, bias, x, z);
    } else {
        forward_block::<T, M, IN, OUT, 1, LONG, LANES>(
            w,
            bias,
            core::slice::from_ref(x),
            core::slice::from_mut(z),
        );
    }
}

/// The `G` gate products of a recurrent cell's step, interleaved:
/// `z[k] = init[k] + Σᵢ x[i]·w[k][i]` for every gate `k`. Input by input, every gate's
/// accumulators advance together, so the `G·⌈H/8⌉` vector chains (times `P` partial sums
/// over the inputs, [`gate_partial_sums`]) run side by side rather than gate after gate: a
/// gate-by-gate loop leaves the later gates' long chains waiting in the scheduler. Where
/// those accumulators would not fit in the task's vector registers (AVX2's 16: LSTM16's and
/// LSTM32's 16 vectors of 8), the gates go in equal groups that fit ([`gates_per_pass`]),
/// one pass over the inputs each. The summation order of every value depends only on the
/// shapes, never on the instruction set or the grouping, so every path gives the same bits.
#[inline(always)]
pub(crate) fn gates_forward_row<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const H: usize,
    const G: usize,
>(
    w: &[[[T; H]; IN]; G],
    init: &[[T; H]; G],
    x: &[T; IN],
    z: &mut [[T; H]; G],
) {
    match const { gate_partial_sums(G, H) } {
        4 => gates_forward_row_partials::<T, M, IN, H, G, 4>(w, init, x, z),
        2 => gates_forward_row_partials::<T, M, IN, H, G, 2>(w, init, x, z),
        _ => gates_forward_row_partials::<T, M, IN, H, G, 1>(w, init, x, z),
    }
}

/// Partial sums over the inputs for [`gates_forward_row`]: about 16 chains of 8-lane vectors
/// in all (`G·⌈H/8⌉·P`), at most 4.
pub(crate) const fn gate_partial_sums(gates: usize, hidden: usize) -> usize {
    let vectors = gates * hidden.div_ceil(8);
    if vectors <= 4 {
        4
    } else if vectors <= 8 {
        2
    } else {
        1
    }
}

/// Gates per pass of [`gates_forward_row`]: the largest divisor of `gates` whose
/// `gates·⌈hidden/lanes⌉·partials` accumulators fit in 12 vector registers (the rest hold
/// the broadcast input and the weights), all of them when none does (one gate per pass
/// would not fit either). The 12 leaves AVX-512's wider vectors one pass everywhere they
/// are used.
pub(crate) const fn gates_per_pass(
    gates: usize,
    hidden: usize,
    lanes: usize,
    partials: usize,
) -> usize {
    let per_gate = hidden.div_ceil(lanes) * partials;
    let mut group = gates;
    while group > 1 {
        if gates.is_multiple_of(group) && group * per_gate <= 12 {
            return group;
        }
        group -= 1;
    }
    if per_gate <= 12 { 1 } else { gates }
}

/// [`gates_forward_row`] with `P` partial sums per gate (input `i` goes to `i mod P`),
/// summed pairwise at the end; in groups of [`gates_per_pass`] gates, one pass each, where
/// that is fewer than `G`.
#[inline(always)]
fn gates_forward_row_partials<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const H: usize,
    const G: usize,
    const P: usize,
>(
    w: &[[[T; H]; IN]; G],
    init: &[[T; H]; G],
    x: &[T; IN],
    z: &mut [[T; H]; G],
) {
    // Each group of `$group` consecutive gates in a pass of its own (`gates_per_pass` only
    // gives divisors of `G`).
    macro_rules! groups {
        ($group:literal) => {{
            let (w, _) = w.as_chunks::<$group>();
            let (init, _) = init.as_chunks::<$group>();
            let (z, _) = z.as_chunks_mut::<$group>();
            for ((w, init), z) in w.iter().zip(init).zip(z) {
                gates_forward_row_partials::<T, M, IN, H, $group, P>(w, init, x, z);
                // A hint, not for correctness: the group's sums go to memory here. Without
                // it the compiler kept them in registers through the next group's pass and
                // spilled that pass's accumulators instead, a load and a store per
                // multiply-add (AVX2 LSTM32 in a throwaway timing: 235 ns per sample with
                // the spills, 171 without, 200 before the grouping).
                core::hint::black_box(&mut *z);
            }
        }};
    }
    // Lanes of `T` per vector register of the task.
    let lanes = (if M::WIDE { 64 } else { 32 }) / core::mem::size_of::<T>();
    match gates_per_pass(G, H, lanes, P) {
        1 if G > 1 => return groups!(1),
        2 if G > 2 => return groups!(2),
        3 if G > 3 => return groups!(3),
        // All the gates in one pass.
        _ => {}
    }
    let mut acc = [[[T::zero(); H]; G]; P];
    acc[0] = *init;
    let chunks = IN / P;
    for c in 0..chunks {
        for (p, partial) in acc.iter_mut().enumerate() {
            let i = c * P + p;
            for (k, gate) in partial.iter_mut().enumerate() {
                axpy::<T, M, H>(x[i], &w[k][i], gate);
            }
        }
    }
    for i in chunks * P..IN {
        for (k, gate) in acc[0].iter_mut().enumerate() {
            axpy::<T, M, H>(x[i], &w[k][i], gate);
        }
    }
    let mut width = P;
    while width > 1 {
        width /= 2;
        let (low, high) = acc.split_at_mut(width);
        for (a, b) in low.iter_mut().zip(high.iter()) {
            for (a, b) in a.iter_mut().zip(b.iter()) {
                for (x, &y) in a.iter_mut().zip(b.iter()) {
                    *x += y;
                }
            }
        }
    }
    *z = acc[0];
}

/// Partial sums (or, in [`param_grads`], inputs per pass) that give about eight independent
/// chains of `lanes`-wide vectors for `out` outputs.
const fn partial_sums(out: usize, lanes: usize) -> usize {
    match out.div_ceil(lanes) {
        1 => 8,
        2 => 4,
        3 | 4 => 2,
        _ => 1,
    }
}

/// Partial sums of [`forward_row`]: about eight chains of 8-float vectors, or, with
/// 16-float vectors (AVX-512's 32 registers), about sixteen. With eight, the 64 → 64 layer
/// of S was 32 multiply-adds deep per chain, as long as the 256 multiply-adds take at two per
/// cycle; with sixteen S's latency went from 127 to 120 ns (Xeon model 207, a throwaway
/// timing of `forward` alternating the two builds). A 128-output row (M) stays at one: two
/// made it slower (3.17 → 3.32 µs), its time being the weights' stream from L2.
const fn row_partial_sums(out: usize, lanes: usize) -> usize {
    if lanes < 16 {
        return partial_sums(out, lanes);
    }
    match out.div_ceil(lanes) {
        1 => 16,
        2 => 8,
        3 | 4 => 4,
        _ => 1,
    }
}

/// Weight rows of this many bytes or more are prefetched by [`forward_row_partials`]: a
/// matrix of such rows is large enough to stream from L2 (M's 784 × 128 `f32`: 401 KB).
const PREFETCHED_ROW_BYTES: usize = 512;

/// How many rows ahead [`forward_row_partials`] prefetches. M's latency on the Xeon model 207
/// (a throwaway timing of `forward`, best of three each, alternating): 3160–3176 ns without,
/// 3115–3118 ns 4 rows ahead, 3110–3118 ns 8 rows ahead, 3116–3122 ns 16 rows ahead.
const PREFETCH_AHEAD: usize = 8;

/// Asks the level-1 cache for the `count` weight rows from row `first` (off x86-64, does
/// nothing): the hardware prefetchers keep the stream in L2, and the one-row forward then
/// waits on L2 for each row. The last calls name rows past the matrix, harmlessly.
#[inline(always)]
fn prefetch_rows<T, const OUT: usize>(w: &[[T; OUT]], first: usize, count: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = w.as_ptr().wrapping_add(first).cast::<i8>();
        for line in 0..(count * core::mem::size_of::<[T; OUT]>() / 64) {
            // SAFETY: a prefetch only hints the cache and never faults, whatever the address
            // (computed with wrapping arithmetic, never dereferenced).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(64 * line)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (w, first, count);
}

/// One row with `P` partial accumulators over the inputs (input `i` goes to `i mod P`),
/// summed pairwise at the end; the weight rows stream through [`prefetch_rows`] when they
/// are long.
#[inline(always)]
fn forward_row_partials<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize, const P: usize>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    let mut acc = [[T::zero(); OUT]; P];
    acc[0] = *bias;
    let mut w_chunks = w.chunks_exact(P);
    let mut x_chunks = x.chunks_exact(P);
    for (c, (wc, xc)) in (&mut w_chunks).zip(&mut x_chunks).enumerate() {
        if OUT * core::mem::size_of::<T>() >= PREFETCHED_ROW_BYTES {
            prefetch_rows(w, c * P + PREFETCH_AHEAD, P);
        }
        for p in 0..P {
            axpy::<T, M, OUT>(xc[p], &wc[p], &mut acc[p]);
        }
    }
    for (wi, &a) in w_chunks.remainder().iter().zip(x_chunks.remainder()) {
        axpy::<T, M, OUT>(a, wi, &mut acc[0]);
    }
    let mut width = P;
    while width > 1 {
        width /= 2;
        let (low, high) = acc.split_at_mut(width);
        for (a, b) in low.iter_mut().zip(high.iter()) {
            for (x, &y) in a.iter_mut().zip(b.iter()) {
                *x += y;
            }
        }
    }
    *z = acc[0];
}

/// `R` rows of the forward product, `C` outputs at a time, then the narrower tail in windows
/// of `L` outputs (a vector), the last one ending at `OUT` and overlapping outputs already
/// done (computed again the same way, so with the same bits).
#[inline(always)]
fn forward_block<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const C: usize,
    const L: usize,
>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
) {
    let full = OUT / C * C;
    let mut start = 0;
    while start < full {
        forward_columns::<T, M, IN, OUT, R, C>(w, bias, x, z, start);
        start += C;
    }
    if full == OUT {
        return;
    }
    if OUT >= L {
        // Windows of one vector, the last one ending at `OUT`.
        while start < OUT {
            forward_columns::<T, M, IN, OUT, R, L>(w, bias, x, z, start.min(OUT - L));
            start += L;
        }
        return;
    }
    // Fewer outputs than a vector: all of them at once.
    forward_columns::<T, M, IN, OUT, R, OUT>(w, bias, x, z, 0);
}

/// Bytes of weight rows per block of [`forward_row_blocked`]: a block's rows stay in a 32 KiB
/// level-1 cache with room to spare.
const ROW_BLOCK_BYTES: usize = 16 * 1024;

/// [`forward_row`] for more outputs than one pass holds (`OUT > LONG`, a whole number of
/// vectors): the inputs in blocks whose weight rows fill about [`ROW_BLOCK_BYTES`], every
/// pass over `LONG` outputs (then single vectors) through one block before the next, the
/// sums kept in `z` between blocks, so the passes read each block's rows close together in
/// time instead of each pass streaming all the rows (`CONSTNET_AVX2=1`, M's 784 → 128 layer
/// in two passes of 64, on the Zen 5 in a throwaway timing: about 8% faster with 32 or 64
/// rows per block, no faster with 16 or 256). Why is not measured (no cycle counters on
/// this machine); the likely reason is that the prefetchers bring in the neighbouring lines
/// of the rows one pass reads, and the next pass finds them in the cache. Every output is
/// the same chain over the inputs in order, from its bias, so the bits equal
/// [`forward_block`]'s.
#[inline(always)]
fn forward_row_blocked<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const LONG: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[T; IN],
    z: &mut [T; OUT],
) {
    let rows = (ROW_BLOCK_BYTES / (OUT * core::mem::size_of::<T>())).max(1);
    z.copy_from_slice(bias);
    for (w, x) in w.chunks(rows).zip(x.chunks(rows)) {
        let mut start = 0;
        while start + LONG <= OUT {
            resume_columns::<T, M, OUT, LONG>(w, x, z, start);
            start += LONG;
        }
        while start < OUT {
            resume_columns::<T, M, OUT, LANES>(w, x, z, start);
            start += LANES;
        }
    }
}

/// `z[start..start + C] += Σᵢ x[i]·w[i][start..start + C]` over the rows given, each output
/// one chain continued from its value in `z`.
#[inline(always)]
fn resume_columns<T: Scalar, M: MulAdd, const OUT: usize, const C: usize>(
    w: &[[T; OUT]],
    x: &[T],
    z: &mut [T; OUT],
    start: usize,
) {
    let mut acc = [T::zero(); C];
    acc.copy_from_slice(&z[start..start + C]);
    for (wi, &xi) in w.iter().zip(x) {
        axpy::<T, M, C>(xi, &wi[start..start + C], &mut acc);
    }
    z[start..start + C].copy_from_slice(&acc);
}

/// Outputs `start..start + C` of `R` rows: one chain over the inputs per row and output.
#[inline(always)]
fn forward_columns<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const C: usize,
>(
    w: &[[T; OUT]; IN],
    bias: &[T; OUT],
    x: &[[T; IN]],
    z: &mut [[T; OUT]],
    start: usize,
) {
    let mut acc = [[T::zero(); C]; R];
    for a in acc.iter_mut() {
        a.copy_from_slice(&bias[start..start + C]);
    }
    for (i, wi) in w.iter().enumerate() {
        let wc = &wi[start..start + C];
        for r in 0..R {
            axpy::<T, M, C>(x[r][i], wc, &mut acc[r]);
        }
    }
    for r in 0..R {
        z[r][start..start + C].copy_from_slice(&acc[r]);
    }
}

/// `g[i] += Σ_b x[b][i]·dz[b]` and `g_bias += Σ_b dz[b]`.
#[inline(always)]
pub(crate) fn param_grads<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const ROWS: usize,
    const WIDE: usize,
    const LONG: usize,
>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
    g_bias: &mut [T; OUT],
) {
    for dzb in dz {
        for o in 0..OUT {
            g_bias[o] += dzb[o];
        }
    }
    if OUT >= WIDE && IN >= ROWS && x.len() >= MIN_GRADIENT_BLOCK_ROWS {
        return param_grads_blocks::<T, M, IN, OUT, ROWS, WIDE>(x, dz, g);
    }
    if OUT <= LONG {
        // `K` inputs at a time, `K·⌈OUT/8⌉` ≈ 8 vector accumulators: enough independent
        // chains to keep both FMA ports busy on a narrow row, few enough to stay in the 16
        // AVX2 registers on a wide one (two inputs of a 64-wide row spilled: 10 µs for a
        // 64×64 layer at batch 32). Every gradient element still sums its rows in order.
        match const { partial_sums(OUT, LANES_8) } {
            8 => param_grads_inputs::<T, M, IN, OUT, 8>(x, dz, g),
            4 => param_grads_inputs::<T, M, IN, OUT, 4>(x, dz, g),
            2 => param_grads_inputs::<T, M, IN, OUT, 2>(x, dz, g),
            _ => param_grads_inputs::<T, M, IN, OUT, 1>(x, dz, g),
        }
        return;
    }
    // One input at a time, `LONG` outputs per pass, then the outputs after the last pass.
    let full = OUT / LONG * LONG;
    for (i, gi) in g.iter_mut().enumerate() {
        gradient_columns::<T, M, IN, OUT, 1, LONG>(x, dz, core::array::from_mut(gi), i, full);
    }
}

/// Rows of a batch from which [`param_grads`] takes [`param_grads_blocks`].
const MIN_GRADIENT_BLOCK_ROWS: usize = 4;

/// [`param_grads`]'s weight gradient as the forward kernel's register blocks with the roles
/// swapped: `ROWS` inputs × `WIDE` outputs of `g` (12 vector accumulators in both builds)
/// while the batch streams past, each row of the batch one load of `WIDE` values of `dz`
/// and `ROWS` broadcasts of `x[b][i]`, contiguous in `x[b]`. A block of one input with 64
/// or 128 outputs loaded its `dz` vectors for every input instead: one load per
/// multiply-add. Every gradient element is still one chain over the rows in order, from its
/// value in `g`, so the bits equal the other paths'.
#[inline(always)]
fn param_grads_blocks<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const ROWS: usize,
    const WIDE: usize,
>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
) {
    let full = OUT / WIDE * WIDE;
    let mut groups = g.chunks_exact_mut(ROWS);
    for (group, gr) in (&mut groups).enumerate() {
        let Ok(gr) = <&mut [[T; OUT]; ROWS]>::try_from(gr) else {
            unreachable!("chunks of ROWS rows")
        };
        gradient_columns::<T, M, IN, OUT, ROWS, WIDE>(x, dz, gr, group * ROWS, full);
    }
    let rest = groups.into_remainder();
    let first = IN - rest.len();
    for (k, gi) in rest.iter_mut().enumerate() {
        gradient_columns::<T, M, IN, OUT, 1, WIDE>(
            x,
            dz,
            core::array::from_mut(gi),
            first + k,
            full,
        );
    }
}

/// Rows `i0 .. i0 + R` of `g` (`gr`): blocks of `C` outputs up to `full`, then the outputs
/// after it, each element one chain over the batch in order.
#[inline(always)]
fn gradient_columns<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const C: usize,
>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    gr: &mut [[T; OUT]; R],
    i0: usize,
    full: usize,
) {
    let mut start = 0;
    while start < full {
        let mut acc = [[T::zero(); C]; R];
        for (a, g) in acc.iter_mut().zip(gr.iter()) {
            a.copy_from_slice(&g[start..start + C]);
        }
        for (xb, dzb) in x.iter().zip(dz) {
            let d = &dzb[start..start + C];
            for (r, a) in acc.iter_mut().enumerate() {
                axpy::<T, M, C>(xb[i0 + r], d, a);
            }
        }
        for (a, g) in acc.iter().zip(gr.iter_mut()) {
            g[start..start + C].copy_from_slice(a);
        }
        start += C;
    }
    if full < OUT {
        for (r, g) in gr.iter_mut().enumerate() {
            for (xb, dzb) in x.iter().zip(dz) {
                let a = xb[i0 + r];
                for (go, &d) in g[full..].iter_mut().zip(&dzb[full..]) {
                    *go = M::mul_add(a, d, *go);
                }
            }
        }
    }
}

/// [`param_grads`]'s weight gradient, `K` inputs per pass over the rows.
#[inline(always)]
fn param_grads_inputs<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize, const K: usize>(
    x: &[[T; IN]],
    dz: &[[T; OUT]],
    g: &mut [[T; OUT]; IN],
) {
    let mut groups = g.chunks_exact_mut(K);
    for (group, gk) in (&mut groups).enumerate() {
        let i = group * K;
        let mut acc = [[T::zero(); OUT]; K];
        acc.copy_from_slice(gk);
        for (xb, dzb) in x.iter().zip(dz.iter()) {
            for (k, a) in acc.iter_mut().enumerate() {
                axpy::<T, M, OUT>(xb[i + k], dzb, a);
            }
        }
        gk.copy_from_slice(&acc);
    }
    let rest = groups.into_remainder();
    let first = IN - rest.len();
    for (k, gi) in rest.iter_mut().enumerate() {
        let mut acc = *gi;
        for (xb, dzb) in x.iter().zip(dz.iter()) {
            axpy::<T, M, OUT>(xb[first + k], dzb, &mut acc);
        }
        *gi = acc;
    }
}

/// Largest weight matrix (bytes) whose transpose [`input_grads`] builds on the stack.
const TRANSPOSE_BYTES: usize = 16 * 1024;

/// `dx[b][i] = Σₒ dz[b][o]·w[i][o]`. For a weight matrix of at most 16 KiB, through its
/// transpose on the stack and the forward kernel (`dx = Σₒ dz[b][o]·wᵀ[o]`, contiguous
/// multiply-adds over the inputs): the dot-product form below pays a horizontal sum per
/// input and row (64×64 at batch 32: 10 µs against 4).
#[inline(always)]
pub(crate) fn input_grads<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const WIDE: usize,
    const LONG: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    if const { IN * OUT * core::mem::size_of::<T>() <= TRANSPOSE_BYTES } && dz.len() >= 4 {
        return input_grads_transposed::<T, M, IN, OUT, WIDE, LONG, LANES>(w, dz, dx);
    }
    input_grads_dots::<T, M, IN, OUT, LANES>(w, dz, dx);
}

/// [`input_grads`] through `wᵀ`, built here (at most [`TRANSPOSE_BYTES`] of stack; the
/// caller's branch to it is compiled out for larger matrices).
#[inline(always)]
fn input_grads_transposed<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const WIDE: usize,
    const LONG: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    let mut wt = [[T::zero(); IN]; OUT];
    for (i, row) in w.iter().enumerate() {
        for (o, &v) in row.iter().enumerate() {
            wt[o][i] = v;
        }
    }
    forward::<T, M, OUT, IN, 4, WIDE, LONG, LANES>(&wt, &[T::zero(); IN], dz, dx);
}

/// `dx[b][i] = Σₒ dz[b][o]·w[i][o]` as dot products over the outputs.
#[inline(always)]
fn input_grads_dots<T: Scalar, M: MulAdd, const IN: usize, const OUT: usize, const LANES: usize>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    let mut dz_blocks = dz.chunks_exact(4);
    let mut dx_blocks = dx.chunks_exact_mut(4);
    for (db, xb) in (&mut dz_blocks).zip(&mut dx_blocks) {
        input_grads_block::<T, M, IN, OUT, 4, LANES>(w, db, xb);
    }
    let (dz_rest, dx_rest) = (dz_blocks.remainder(), dx_blocks.into_remainder());
    if !dz_rest.is_empty() {
        let mut dzp = [[T::zero(); OUT]; 4];
        let mut dxp = [[T::zero(); IN]; 4];
        dzp[..dz_rest.len()].copy_from_slice(dz_rest);
        input_grads_block::<T, M, IN, OUT, 4, LANES>(w, &dzp, &mut dxp);
        let n = dx_rest.len();
        dx_rest.copy_from_slice(&dxp[..n]);
    }
}

/// `dx[i] = Σₒ dz[o]·w[i][o]` for one sample.
#[inline(always)]
pub(crate) fn input_grads_row<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    dz: &[T; OUT],
    dx: &mut [T; IN],
) {
    input_grads_block::<T, M, IN, OUT, 1, LANES>(
        w,
        core::slice::from_ref(dz),
        core::slice::from_mut(dx),
    );
}

/// `R` rows of the input gradient, two inputs at a time.
#[inline(always)]
fn input_grads_block<
    T: Scalar,
    M: MulAdd,
    const IN: usize,
    const OUT: usize,
    const R: usize,
    const LANES: usize,
>(
    w: &[[T; OUT]; IN],
    dz: &[[T; OUT]],
    dx: &mut [[T; IN]],
) {
    let mut i = 0;
    while i + 2 <= IN {
        let sums = partial_dots::<T, M, OUT, R, 2, LANES>([&w[i], &w[i + 1]], dz);
        for r in 0..R {
            dx[r][i] = sums[r][0];
            dx[r][i + 1] = sums[r][1];
        }
        i += 2;
    }
    if i < IN {
        let sums = partial_dots::<T, M, OUT, R, 1, LANES>([&w[i]], dz);
        for r in 0..R {
            dx[r][i] = sums[r][0];
        }
    }
}

/// `Σₒ dz[r][o]·w[k][o]` for `R` rows and `K` weight rows, with `LANES` partial sums each.
#[inline(always)]
fn partial_dots<
    T: Scalar,
    M: MulAdd,
    const OUT: usize,
    const R: usize,
    const K: usize,
    const LANES: usize,
>(
    w: [&[T; OUT]; K],
    dz: &[[T; OUT]],
) -> [[T; K]; R] {
    let full = OUT / LANES * LANES;
    let mut acc = [[[T::zero(); LANES]; K]; R];
    let mut start = 0;
    while start < full {
        for r in 0..R {
            let d = &dz[r][start..start + LANES];
            for k in 0..K {
                let wk = &w[k][start..start + LANES];
                for l in 0..LANES {
                    acc[r][k][l] = M::mul_add(d[l], wk[l], acc[r][k][l]);
                }
            }
        }
        start += LANES;
    }
    let mut sums = [[T::zero(); K]; R];
    for r in 0..R {
        for k in 0..K {
            let mut a = acc[r][k];
            let mut width = LANES;
            while width > 1 {
                width /= 2;
                for l in 0..width {
                    a[l] += a[l + width];
                }
            }
            let mut s = a[0];
            for o in full..OUT {
                s = M::mul_add(dz[r][o], w[k][o], s);
            }
            sums[r][k] = s;
        }
    }
    sums
}
