//! Packed int8 products: weights of `rows` outputs × `K` inputs stored in blocks of 16
//! outputs and quads of 4 inputs (`[rows / 16][K / 4][16][4]`), so one 64-byte load holds a
//! quad of inputs for 16 outputs: the operand of AVX-512 VNNI's `vpdpbusd`, which then
//! accumulates 16 outputs at once with no horizontal sums. When `K % 4 = r ≠ 0`, each block
//! ends with its last `r` inputs as `[r][16]` (added lane-wise); when `rows % 16 ≠ 0` the last
//! block is `rows % 16` outputs wide (masked loads and stores). Layers with 8 or more outputs
//! keep their weights in this order; the results are exact in every build (wrapping int32
//! sums of int8 products).

/// Whether `rows × k` weights are kept packed (8 or more rows; fewer take the row-wise
/// kernel).
pub(crate) const fn packable(rows: usize, k: usize) -> bool {
    k > 0 && (rows.is_multiple_of(16) || rows >= 8) && rows > 0
}

/// Where weight `(o, i)` of `rows × k` packed weights is.
#[inline(always)]
pub(crate) const fn packed_index(o: usize, i: usize, k: usize, rows: usize) -> usize {
    let full = k / 4 * 4;
    let block = (o / 16) * 16 * k;
    // The last block is narrower when `rows % 16 != 0`.
    let width = if rows - (o / 16) * 16 < 16 {
        rows - (o / 16) * 16
    } else {
        16
    };
    if i < full {
        block + (i / 4) * 4 * width + (o % 16) * 4 + i % 4
    } else {
        block + full * width + (i - full) * width + o % 16
    }
}

/// Adds the last `k % 4` inputs' products to `count` outputs of a block `width` outputs
/// wide: `out[lane] += Σ_j w[j·width + lane] · (x[j] + offset)` for `lane < count` (`w` the
/// block's tail from the first of those outputs, `x` the inputs' last values; the VNNI kernel
/// passes `offset = 128` to undo its own correction). Inlined, so it vectorizes in each
/// kernel's instruction set.
#[inline(always)]
fn add_tail(out: &mut [i32], w: &[i8], x: &[i8], offset: i32, width: usize, count: usize) {
    for (j, &xj) in x.iter().enumerate() {
        let xj = xj as i32 + offset;
        for (o, &wj) in out[..count]
            .iter_mut()
            .zip(&w[width * j..width * j + count])
        {
            *o = o.wrapping_add(wj as i32 * xj);
        }
    }
}

/// One block (`width` outputs from `first`) of `product_body` for every input.
#[inline(always)]
fn block_body<const P: usize>(
    xs: [&[i8]; P],
    weights: &[i8],
    first: usize,
    width: usize,
    acc: &mut [i32],
) {
    let k = xs[0].len();
    let rows = acc.len() / P;
    let full = k / 4 * 4;
    for (p, x) in xs.iter().enumerate() {
        let mut lanes = [0i32; 16];
        for (quad, w) in weights[..width * full].chunks_exact(4 * width).enumerate() {
            let xq = &x[4 * quad..4 * quad + 4];
            for (lane, wl) in lanes[..width].iter_mut().zip(w.chunks_exact(4)) {
                let mut s = 0i32;
                for j in 0..4 {
                    s += wl[j] as i32 * xq[j] as i32;
                }
                *lane = lane.wrapping_add(s);
            }
        }
        add_tail(
            &mut lanes,
            &weights[width * full..],
            &x[full..],
            0,
            width,
            width,
        );
        acc[p * rows + first..p * rows + first + width].copy_from_slice(&lanes[..width]);
    }
}

/// The portable body: `acc[p · rows + o] = Σ_i w[o][i] · xs[p][i]`.
#[inline(always)]
fn product_body<const P: usize>(xs: [&[i8]; P], packed: &[i8], acc: &mut [i32]) {
    let k = xs[0].len();
    let rows = acc.len() / P;
    for block in 0..rows.div_ceil(16) {
        let width = (rows - 16 * block).min(16);
        let weights = &packed[block * 16 * k..block * 16 * k + width * k];
        block_body(xs, weights, 16 * block, width, acc);
    }
}

/// `product_body` over `n` contiguous inputs of length `k` (`x` holds `n · k` values, `acc`
/// `n` rows of outputs), four at a time.
#[inline(always)]
fn rows_body(
    x: &[i8],
    k: usize,
    acc: &mut [i32],
    mut product: impl FnMut([&[i8]; 4], &mut [i32]),
    mut one: impl FnMut(&[i8], &mut [i32]),
) {
    let n = x.len() / k;
    let rows = acc.len() / n;
    let mut p = 0;
    while p + 4 <= n {
        let xs = [
            &x[p * k..(p + 1) * k],
            &x[(p + 1) * k..(p + 2) * k],
            &x[(p + 2) * k..(p + 3) * k],
            &x[(p + 3) * k..(p + 4) * k],
        ];
        product(xs, &mut acc[p * rows..(p + 4) * rows]);
        p += 4;
    }
    while p < n {
        one(&x[p * k..(p + 1) * k], &mut acc[p * rows..(p + 1) * rows]);
        p += 1;
    }
}

/// The portable kernel.
pub(crate) mod portable {
    /// See `product_body`.
    pub(crate) fn product<const P: usize>(xs: [&[i8]; P], packed: &[i8], acc: &mut [i32]) {
        super::product_body(xs, packed, acc);
    }

    /// See `rows_body`.
    pub(crate) fn rows(x: &[i8], k: usize, packed: &[i8], acc: &mut [i32]) {
        super::rows_body(
            x,
            k,
            acc,
            |xs, acc| super::product_body(xs, packed, acc),
            |x, acc| super::product_body([x], packed, acc),
        );
    }
}

/// The AVX2 kernel: each 16-byte quarter of a 64-byte block (4 outputs × 4 inputs) widened
/// to int16 and multiplied by the input quad (`vpmaddwd`), the two halves of each output
/// summed at the end.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    use core::arch::x86_64::*;
    use core::mem::MaybeUninit;

    /// Inputs widened to int16 at a time, per input (2 KiB of stack each): every block of
    /// outputs reads them from there, and longer inputs go in spans that add to the sums.
    const SPAN: usize = 1024;

    /// `x` (at most [`SPAN`] values) widened to int16 into the first `x.len()` values of
    /// `wide` (the rest stays as it was: nothing reads it).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn widen_into(x: &[i8], wide: &mut MaybeUninit<[i16; SPAN]>) -> *const i16 {
        assert!(x.len() <= SPAN);
        let out = wide.as_mut_ptr().cast::<i16>();
        let (whole, rest) = x.as_chunks::<16>();
        for (c, bytes) in whole.iter().enumerate() {
            // SAFETY: `bytes` is 16 readable bytes; values `16·c .. 16·c + 16` are inside
            // `wide` since `16·c + 16 ≤ x.len() ≤ SPAN`.
            unsafe {
                let v = _mm256_cvtepi8_epi16(_mm_loadu_si128(bytes.as_ptr().cast()));
                _mm256_storeu_si256(out.add(16 * c).cast(), v);
            }
        }
        for (i, &v) in rest.iter().enumerate() {
            // SAFETY: `16·whole.len() + i < x.len() ≤ SPAN`.
            unsafe { out.add(16 * whole.len() + i).write(v as i16) };
        }
        out
    }

    /// One span's part of outputs `4·from .. 4·(from + Q)` of a block `width` outputs wide
    /// (`Q` quarters of 4; `first` is the block's first output), over quads `q0 .. q0 +
    /// count` whose `4·count` inputs `widen_into` wrote at `wide`: per quad, each quarter's
    /// 16 weights widened to int16 and multiplied by the input quad (`vpmaddwd`), two
    /// half-sums per output summed at the end. `tail` holds the inputs' last `k % 4` values
    /// in the last span. The first span writes its sums to `acc`, later ones add to them.
    /// `P·Q` accumulators, `Q` weight vectors and a broadcast must fit AVX2's 16 registers:
    /// [`span_of_block`] takes parts of at most two quarters for several inputs (all four
    /// quarters of four inputs, 16 accumulators, had the compiler spill and shuffle
    /// registers around every multiply).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn block<const P: usize, const Q: usize>(
        wide: [*const i16; P],
        (q0, count): (usize, usize),
        tail: Option<[&[i8]; P]>,
        weights: &[i8],
        (width, from, first): (usize, usize, usize),
        acc: &mut [i32],
    ) {
        let k = weights.len() / width;
        let quads = k / 4;
        let full = 4 * quads;
        let rows = acc.len() / P;
        assert!(q0 + count <= quads && 4 * count <= SPAN && 4 * (from + Q) <= width);
        // Per pixel, per quarter: 8 lanes holding two half-sums per output.
        let mut sums = [[_mm256_setzero_si256(); Q]; P];
        for q in 0..count {
            let mut quarters = [_mm256_setzero_si256(); Q];
            for (j, quarter) in quarters.iter_mut().enumerate() {
                // SAFETY: quad `q0 + q < quads`'s quarter `from + j` is 16 bytes at
                // `4·width·(q0 + q) + 16·(from + j)`, which end by `4·width·quads ≤
                // weights.len()` (asserted above).
                *quarter = _mm256_cvtepi8_epi16(unsafe {
                    _mm_loadu_si128(
                        weights
                            .as_ptr()
                            .add(4 * width * (q0 + q) + 16 * (from + j))
                            .cast(),
                    )
                });
            }
            for (p, wide) in wide.iter().enumerate() {
                // SAFETY: `4·q + 4 ≤ 4·count`: the 4 values of quad `q` are among the ones
                // `widen_into` wrote at `wide`; the read is unaligned.
                let xq = _mm256_set1_epi64x(unsafe {
                    core::ptr::read_unaligned(wide.add(4 * q).cast::<i64>())
                });
                for (s, &wq) in sums[p].iter_mut().zip(&quarters) {
                    *s = _mm256_add_epi32(*s, _mm256_madd_epi16(wq, xq));
                }
            }
        }
        for (p, s) in sums.iter().enumerate() {
            let quarter = |j: usize| if j < Q { s[j] } else { _mm256_setzero_si256() };
            // hadd pairs: [o0 o1 | o4 o5 | o2 o3 | o6 o7] order within 128-bit halves.
            let low = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_hadd_epi32(
                quarter(0),
                quarter(1),
            ));
            let high = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_hadd_epi32(
                quarter(2),
                quarter(3),
            ));
            let mut lanes = [0i32; 16];
            // SAFETY: `lanes` has 16 writable i32 (two stores of 8, unaligned).
            unsafe {
                _mm256_storeu_si256(lanes.as_mut_ptr().cast(), low);
                _mm256_storeu_si256(lanes.as_mut_ptr().add(8).cast(), high);
            }
            if let Some(xs) = tail {
                super::add_tail(
                    &mut lanes,
                    &weights[width * full + 4 * from..],
                    &xs[p][full..],
                    0,
                    width,
                    4 * Q,
                );
            }
            let out = &mut acc[p * rows + first + 4 * from..][..4 * Q];
            if q0 == 0 {
                out.copy_from_slice(&lanes[..4 * Q]);
            } else {
                for (o, &l) in out.iter_mut().zip(&lanes) {
                    *o = o.wrapping_add(l);
                }
            }
        }
    }

    /// One span of a block of `width` outputs (a multiple of 4) from `first`: whole for one
    /// input, else in parts of at most two quarters.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn span_of_block<const P: usize>(
        wide: [*const i16; P],
        span: (usize, usize),
        tail: Option<[&[i8]; P]>,
        weights: &[i8],
        (width, first): (usize, usize),
        acc: &mut [i32],
    ) {
        match (P, width) {
            (1, 16) => block::<P, 4>(wide, span, tail, weights, (16, 0, first), acc),
            (1, 12) => block::<P, 3>(wide, span, tail, weights, (12, 0, first), acc),
            _ => {
                let mut from = 0;
                while from + 2 <= width / 4 {
                    block::<P, 2>(wide, span, tail, weights, (width, from, first), acc);
                    from += 2;
                }
                if from < width / 4 {
                    block::<P, 1>(wide, span, tail, weights, (width, from, first), acc);
                }
            }
        }
    }

    /// See `product_body`. The inputs are widened to int16 once per span of [`SPAN`] values
    /// (every block reads them there), the blocks go span by span.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    pub(crate) fn product<const P: usize>(xs: [&[i8]; P], packed: &[i8], acc: &mut [i32]) {
        let k = xs[0].len();
        let rows = acc.len() / P;
        let quads = k / 4;
        // Not zeroed (a memset of 2 KiB per input and call took 12% of int8 ResNet-8): only
        // the values `widen_into` writes are read.
        let mut buffers = [const { MaybeUninit::<[i16; SPAN]>::uninit() }; P];
        let mut q0 = 0;
        loop {
            let count = (quads - q0).min(SPAN / 4);
            let mut wide = [core::ptr::null::<i16>(); P];
            for ((w, buffer), x) in wide.iter_mut().zip(buffers.iter_mut()).zip(xs.iter()) {
                *w = widen_into(&x[4 * q0..4 * (q0 + count)], buffer);
            }
            let last = q0 + count == quads;
            let tail = if last && 4 * quads < k {
                Some(xs)
            } else {
                None
            };
            for b in 0..rows.div_ceil(16) {
                let width = (rows - 16 * b).min(16);
                let weights = &packed[b * 16 * k..b * 16 * k + width * k];
                if width.is_multiple_of(4) {
                    span_of_block::<P>(wide, (q0, count), tail, weights, (width, 16 * b), acc);
                } else if q0 == 0 {
                    // A narrow last block of an odd width, whole in the first span.
                    super::block_body(xs, weights, 16 * b, width, acc);
                }
            }
            if last {
                break;
            }
            q0 += count;
        }
    }

    /// See `rows_body`.
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn rows(x: &[i8], k: usize, packed: &[i8], acc: &mut [i32]) {
        super::rows_body(
            x,
            k,
            acc,
            |xs, acc| product(xs, packed, acc),
            |x, acc| product([x], packed, acc),
        );
    }
}

/// The AVX-512 VNNI kernel: per 64-byte block, one `vpdpbusd` per pixel adds a quad of inputs
/// (as unsigned `x + 128`, broadcast) times 16 outputs' weights; `128 · Σ w` (the layer's row
/// sums) is subtracted at the end.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod vnni {
    use core::arch::x86_64::*;

    /// Quads `16·chunk ..` of every input (`count` of them, at most 16), each input's 64
    /// bytes flipped to unsigned (`x + 128`) for `vpdpbusd`.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn chunk_inputs<const P: usize>(
        xs: [&[i8]; P],
        chunk: usize,
        quads: usize,
    ) -> (usize, [__m512i; P]) {
        let count = (quads - chunk * 16).min(16);
        let mask: __mmask64 = if count == 16 {
            u64::MAX
        } else {
            (1u64 << (4 * count)) - 1
        };
        let mut inputs = [_mm512_setzero_si512(); P];
        for (input, x) in inputs.iter_mut().zip(xs.iter()) {
            debug_assert!(x.len() >= 4 * quads);
            // SAFETY: the mask reads only bytes 64·chunk .. 64·chunk + 4·count of `x`, all
            // below 4·quads, which every caller takes as ⌊len/4⌋ of inputs of one length.
            *input = _mm512_xor_si512(
                unsafe { _mm512_maskz_loadu_epi8(mask, x.as_ptr().add(64 * chunk)) },
                _mm512_set1_epi8(-128),
            );
        }
        (count, inputs)
    }

    /// `total + Σ_j w[j·width + lane] · (x[j] + 128)` in the first `width` lanes (the last
    /// `k % 4` inputs of a block, `w` its `[r][width]` tail), kept in a register: a store
    /// followed by a masked reload of the same lanes would stall on store forwarding.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    fn add_tail(mut total: __m512i, w: &[i8], x: &[i8], width: usize) -> __m512i {
        let mask: __mmask16 = if width >= 16 {
            0xffff
        } else {
            ((1u32 << width) - 1) as u16
        };
        for (j, &xj) in x.iter().enumerate() {
            let row = &w[width * j..width * j + width];
            // SAFETY: the mask reads the `width` bytes of `row`.
            let wj = _mm512_cvtepi8_epi32(unsafe { _mm_maskz_loadu_epi8(mask, row.as_ptr()) });
            let product = _mm512_mullo_epi32(wj, _mm512_set1_epi32(xj as i32 + 128));
            total = _mm512_add_epi32(total, product);
        }
        total
    }

    /// See `product_body`; `sums[o]` is row `o`'s `Σ_i w[o][i]`. The inputs are read 64 bytes
    /// (16 quads) at a time and flipped to unsigned once. One input serves up to eight blocks
    /// of 16 outputs per step (independent accumulations, which hide the instruction's
    /// latency), several inputs two blocks (four spill registers), each quad broadcast from a
    /// stack copy of the flipped inputs: a broadcast from memory runs on a load port, where a
    /// permutation would take one of the two ports that run `vpdpbusd` (int8 ResNet-8 about
    /// 10% faster). A lone block for 2 or 4 inputs goes to `pairs_block`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    pub(crate) fn product<const P: usize>(
        xs: [&[i8]; P],
        packed: &[i8],
        sums: &[i32],
        acc: &mut [i32],
    ) {
        let k = xs[0].len();
        let rows = acc.len() / P;
        let blocks = rows / 16;
        let mut block = 0;
        while block < blocks {
            if P > 1 && P < 8 && P.is_multiple_of(2) && blocks - block == 1 {
                // A lone block for 2 or 4 inputs: two pixels per permutation instead.
                let w = &packed[block * 16 * k..(block + 1) * 16 * k];
                pairs_block::<P, 2>(xs, w, &sums[block * 16..block * 16 + 16], block * 16, acc);
                break;
            }
            // Eight blocks per pass for one input (four, two, one at the end), two for
            // several: the group's size a constant, so its accumulators stay in registers.
            let left = blocks - block;
            let group = if P == 1 && left >= 8 {
                group_pass::<P, 8>(xs, packed, sums, block, acc);
                8
            } else if P == 1 && left >= 4 {
                group_pass::<P, 4>(xs, packed, sums, block, acc);
                4
            } else if left >= 2 {
                group_pass::<P, 2>(xs, packed, sums, block, acc);
                2
            } else {
                group_pass::<P, 1>(xs, packed, sums, block, acc);
                1
            };
            block += group;
        }
        if rows % 16 == 8 && P > 1 && P.is_multiple_of(2) {
            let first = rows - 8;
            let w = &packed[first * k..rows * k];
            pairs_block::<P, 1>(xs, w, &sums[first..rows], first, acc);
        } else if !rows.is_multiple_of(16) {
            partial_block(xs, packed, sums, acc);
        }
    }

    /// Chunks of 16 quads that `group_pass` flips and stores before it multiplies any of them:
    /// its first broadcasts wait for those stores once per 64 quads rather than once per 16.
    const SPAN: usize = 4;

    /// `SPAN` chunks of every input, flipped to unsigned, for `group_pass`'s broadcasts.
    #[repr(align(64))]
    struct Flipped<const P: usize>(core::mem::MaybeUninit<[[[i32; 16]; SPAN]; P]>);

    /// `totals[p][g] += w_g[q] · b[p]` for quad `q` (each block's 64 weight bytes of it) and
    /// every input's broadcast quad `b[p]`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn multiply_quad<const P: usize, const G: usize>(
        weights: &[&[i8]; G],
        q: usize,
        broadcast: &[__m512i; P],
        totals: &mut [[__m512i; G]; P],
    ) {
        for (g, w) in weights.iter().enumerate() {
            debug_assert!(64 * q + 64 <= w.len());
            // SAFETY: the callers' q < quads = ⌊k/4⌋, so bytes 64·q .. 64·q + 64 lie within
            // the block's 16·k; the load is unaligned.
            let w = unsafe { _mm512_loadu_si512(w.as_ptr().add(64 * q).cast()) };
            for (total, b) in totals.iter_mut().zip(broadcast.iter()) {
                total[g] = _mm512_dpbusd_epi32(total[g], *b, w);
            }
        }
    }

    /// `quad(lane, set)` for the lanes `0..count` in order: with `dual`, the even lanes into
    /// `totals` and the odd ones into `odd` (an odd last lane into `totals`); else every
    /// lane into `totals`. With the kernel's target features, so that `quad` (a closure of
    /// `group_pass`, which has them) inlines here: it did not always without.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn over_lanes<S>(
        count: usize,
        dual: bool,
        totals: &mut S,
        odd: &mut S,
        quad: impl Fn(usize, &mut S),
    ) {
        let mut lane = 0;
        if dual {
            while lane + 2 <= count {
                quad(lane, totals);
                quad(lane + 1, odd);
                lane += 2;
            }
        }
        while lane < count {
            quad(lane, totals);
            lane += 1;
        }
    }

    /// Blocks `block..block + G` of 16 outputs for every input of `xs` (see `product`).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn group_pass<const P: usize, const G: usize>(
        xs: [&[i8]; P],
        packed: &[i8],
        sums: &[i32],
        block: usize,
        acc: &mut [i32],
    ) {
        let k = xs[0].len();
        let rows = acc.len() / P;
        let quads = k / 4;
        // Each block's `16·k` packed weights.
        let mut weights: [&[i8]; G] = [&[]; G];
        for (g, w) in weights.iter_mut().enumerate() {
            *w = &packed[(block + g) * 16 * k..(block + g + 1) * 16 * k];
        }
        let mut totals = [[_mm512_setzero_si512(); G]; P];
        // With one block for up to 8 inputs each chain of `vpdpbusd`s would wait on its own
        // latency: the odd quads go to a second set, added at the end (wrapping integer
        // sums: the same result in any order).
        let dual = G == 1 && P <= 8;
        let mut odd = [[_mm512_setzero_si512(); G]; P];
        let mut chunk = 0;
        if quads <= 16 {
            // One chunk: each quad permuted out of the register it was loaded into. Storing
            // it first would leave the broadcasts waiting on the stores just made (KWS, whose
            // inputs are 40 and 64 bytes long, measured about 2% slower that way).
            let (count, inputs) = chunk_inputs(xs, 0, quads);
            let quad = |lane: usize, totals: &mut [[__m512i; G]; P]| {
                let index = _mm512_set1_epi32(lane as i32);
                let mut broadcast = inputs;
                for b in broadcast.iter_mut() {
                    *b = _mm512_permutexvar_epi32(index, *b);
                }
                multiply_quad(&weights, lane, &broadcast, totals);
            };
            over_lanes(count, dual, &mut totals, &mut odd, quad);
            chunk = 1;
        }
        while chunk * 16 < quads {
            let chunks = (quads.div_ceil(16) - chunk).min(SPAN);
            let mut flipped = Flipped::<P>(core::mem::MaybeUninit::uninit());
            let stored = flipped.0.as_mut_ptr().cast::<__m512i>();
            for c in 0..chunks {
                let (_, inputs) = chunk_inputs(xs, chunk + c, quads);
                for (p, input) in inputs.iter().enumerate() {
                    // SAFETY: p < P and c < chunks <= SPAN, so vector p·SPAN + c is inside
                    // `flipped` (P·SPAN vectors, 64-byte aligned).
                    unsafe { _mm512_store_si512(stored.add(p * SPAN + c), *input) };
                }
            }
            let lanes = (quads - chunk * 16).min(16 * SPAN);
            let quads_of = flipped.0.as_ptr().cast::<i32>();
            let quad = |lane: usize, totals: &mut [[__m512i; G]; P]| {
                let mut broadcast = [_mm512_setzero_si512(); P];
                for (p, b) in broadcast.iter_mut().enumerate() {
                    // SAFETY: lane < 16·chunks, so quad `lane` of input p lies in a vector
                    // stored just above (initialized).
                    *b = _mm512_set1_epi32(unsafe { *quads_of.add(p * 16 * SPAN + lane) });
                }
                multiply_quad(&weights, chunk * 16 + lane, &broadcast, totals);
            };
            over_lanes(lanes, dual, &mut totals, &mut odd, quad);
            chunk += chunks;
        }
        if dual {
            for (t, o) in totals.iter_mut().zip(&odd) {
                for (t, o) in t.iter_mut().zip(o) {
                    *t = _mm512_add_epi32(*t, *o);
                }
            }
        }
        for g in 0..G {
            let first = (block + g) * 16;
            // SAFETY: `sums` has `rows` entries (checked by the caller), so 16 from `first`.
            let correction = _mm512_slli_epi32::<7>(unsafe {
                _mm512_loadu_si512(sums[first..].as_ptr().cast())
            });
            let full = k / 4 * 4;
            let tail = &weights[g][16 * full..];
            for (p, total) in totals.iter().enumerate() {
                let out = &mut acc[p * rows + first..p * rows + first + 16];
                // The correction took 128 · Σ w of the tail too: its inputs count + 128.
                let sum = add_tail(total[g], tail, &xs[p][full..], 16);
                // SAFETY: `out` has 16 writable i32; the store is unaligned.
                unsafe {
                    _mm512_storeu_si512(out.as_mut_ptr().cast(), _mm512_sub_epi32(sum, correction))
                };
            }
        }
    }

    /// See `rows_body`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    pub(crate) fn rows(x: &[i8], k: usize, packed: &[i8], sums: &[i32], acc: &mut [i32]) {
        super::rows_body(
            x,
            k,
            acc,
            |xs, acc| product(xs, packed, sums, acc),
            |x, acc| product([x], packed, sums, acc),
        );
    }

    /// One block of `8·HALVES` outputs from `first` (16, or a last block of 8) for an even
    /// number of pixels, two pixels per permutation: a register holds 8 quads of two pixels (one per 256-bit half), one
    /// permutation broadcasts quad `q` of each pixel to its half, and one `vpdpbusd` per half
    /// multiplies it by outputs 0–7 (and 8–15), their 32 weight bytes broadcast to both
    /// halves. A lone block otherwise needs one permutation per pixel and multiply-add, and a
    /// block of 8 leaves half of each register idle.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn pairs_block<const P: usize, const HALVES: usize>(
        xs: [&[i8]; P],
        w: &[i8],
        sums: &[i32],
        first: usize,
        acc: &mut [i32],
    ) {
        let width = 8 * HALVES;
        let k = xs[0].len();
        let rows = acc.len() / P;
        let quads = k / 4;
        let full = 4 * quads;
        let flip = _mm512_set1_epi8(-128);
        let halves = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8);
        // totals[pair][half]: outputs 0–7 and 8–15, the pair's first pixel in the low lanes.
        let mut totals = [[_mm512_setzero_si512(); HALVES]; P];
        let mut chunk = 0;
        while chunk * 8 < quads {
            let count = (quads - chunk * 8).min(8);
            let mask: __mmask32 = if count == 8 {
                u32::MAX
            } else {
                (1u32 << (4 * count)) - 1
            };
            let mut inputs = [_mm512_setzero_si512(); P];
            for (pair, input) in inputs.iter_mut().enumerate().take(P / 2) {
                // SAFETY: the mask reads only bytes 32·chunk .. 32·chunk + 4·count of each
                // pixel, all below k = 4·quads.
                let (a, b) = unsafe {
                    (
                        _mm256_maskz_loadu_epi8(mask, xs[2 * pair].as_ptr().add(32 * chunk)),
                        _mm256_maskz_loadu_epi8(mask, xs[2 * pair + 1].as_ptr().add(32 * chunk)),
                    )
                };
                *input =
                    _mm512_xor_si512(_mm512_inserti64x4::<1>(_mm512_castsi256_si512(a), b), flip);
            }
            for lane in 0..count {
                let index = _mm512_add_epi32(_mm512_set1_epi32(lane as i32), halves);
                let q = chunk * 8 + lane;
                let quad = &w[4 * width * q..4 * width * (q + 1)];
                let mut weights = [_mm512_setzero_si512(); HALVES];
                for (h, half) in weights.iter_mut().enumerate() {
                    // SAFETY: `quad` holds 32 readable bytes per half.
                    *half = _mm512_broadcast_i64x4(unsafe {
                        _mm256_loadu_si256(quad.as_ptr().add(32 * h).cast())
                    });
                }
                for (total, input) in totals.iter_mut().zip(inputs.iter()).take(P / 2) {
                    let b = _mm512_permutexvar_epi32(index, *input);
                    for (t, &half) in total.iter_mut().zip(weights.iter()) {
                        *t = _mm512_dpbusd_epi32(*t, b, half);
                    }
                }
            }
            chunk += 1;
        }
        let mut corrections = [_mm512_setzero_si512(); HALVES];
        for (h, c) in corrections.iter_mut().enumerate() {
            // SAFETY: `sums` has `width` = 8·HALVES entries: 8 from 8·h.
            let eight = unsafe { _mm256_loadu_si256(sums.as_ptr().add(8 * h).cast()) };
            *c = _mm512_slli_epi32::<7>(_mm512_broadcast_i64x4(eight));
        }
        let tail = &w[width * full..width * k];
        for (pair, total) in totals.iter().enumerate().take(P / 2) {
            let low = _mm512_sub_epi32(total[0], corrections[0]);
            // The first pixel's outputs are the low halves, the second's the high ones.
            let pixels = if HALVES == 2 {
                let high = _mm512_sub_epi32(total[HALVES - 1], corrections[HALVES - 1]);
                [
                    _mm512_shuffle_i64x2::<0b01_00_01_00>(low, high),
                    _mm512_shuffle_i64x2::<0b11_10_11_10>(low, high),
                ]
            } else {
                [low, _mm512_shuffle_i64x2::<0b11_10_11_10>(low, low)]
            };
            let lanes: __mmask16 = if HALVES == 2 { 0xffff } else { 0x00ff };
            for (j, &sum) in pixels.iter().enumerate() {
                let p = 2 * pair + j;
                // The correction took 128 · Σ w of the tail too: its inputs count + 128.
                let sum = add_tail(sum, tail, &xs[p][full..], width);
                let out = &mut acc[p * rows + first..p * rows + first + width];
                // SAFETY: the mask writes the `width` entries of `out`.
                unsafe { _mm512_mask_storeu_epi32(out.as_mut_ptr(), lanes, sum) };
            }
        }
    }

    /// The last block, `rows % 16` outputs wide: masked loads and stores.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    #[inline]
    fn partial_block<const P: usize>(xs: [&[i8]; P], packed: &[i8], sums: &[i32], acc: &mut [i32]) {
        let k = xs[0].len();
        let rows = acc.len() / P;
        let first = rows / 16 * 16;
        let width = rows - first;
        let quads = k / 4;
        let full = 4 * quads;
        let weights = &packed[first * k..first * k + width * k];
        let weight_mask: __mmask64 = (1u64 << (4 * width)) - 1;
        let lanes: __mmask16 = ((1u32 << width) - 1) as u16;
        let mut totals = [_mm512_setzero_si512(); P];
        let mut chunk = 0;
        while chunk * 16 < quads {
            let (count, inputs) = chunk_inputs(xs, chunk, quads);
            for lane in 0..count {
                let q = chunk * 16 + lane;
                // SAFETY: the mask reads bytes 4·width·q .. 4·width·(q + 1) of the block, all
                // inside its `width · k` bytes (q < quads).
                let w = unsafe {
                    _mm512_maskz_loadu_epi8(weight_mask, weights.as_ptr().add(4 * width * q))
                };
                let index = _mm512_set1_epi32(lane as i32);
                for (total, input) in totals.iter_mut().zip(inputs.iter()) {
                    *total =
                        _mm512_dpbusd_epi32(*total, _mm512_permutexvar_epi32(index, *input), w);
                }
            }
            chunk += 1;
        }
        // SAFETY: the mask reads entries first .. rows of `sums` (at least rows long).
        let correction = _mm512_slli_epi32::<7>(unsafe {
            _mm512_maskz_loadu_epi32(lanes, sums.as_ptr().add(first))
        });
        for (p, total) in totals.iter().enumerate() {
            let out = &mut acc[p * rows + first..p * rows + rows];
            let sum = add_tail(*total, &weights[width * full..], &xs[p][full..], width);
            // SAFETY: the mask writes the `width` entries of `out`.
            unsafe {
                _mm512_mask_storeu_epi32(out.as_mut_ptr(), lanes, _mm512_sub_epi32(sum, correction))
            };
        }
    }
}

/// `acc[p · rows + o] = Σ_i w[o][i] · xs[p][i]` for `P` inputs of equal length `K`, the
/// `rows × K` weights packed; `sums[o]` is row `o`'s weight sum.
#[inline]
pub(crate) fn int8_packed_product<const P: usize>(
    xs: [&[i8]; P],
    packed: &[i8],
    sums: &[i32],
    acc: &mut [i32],
) {
    let k = xs[0].len();
    let rows = acc.len() / P;
    assert!(
        P > 0
            && acc.len() == P * rows
            && packable(rows, k)
            && packed.len() >= rows * k
            && sums.len() >= rows,
        "int8_packed_product: sizes"
    );
    assert!(
        xs.iter().all(|x| x.len() == k),
        "int8_packed_product: inputs of unequal length"
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::int8::use_vnni() {
        // SAFETY: the CPU has AVX-512F, BW, VL and VNNI (checked by `use_vnni`).
        unsafe { vnni::product(xs, packed, sums, acc) };
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::dispatch::use_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
        unsafe { avx2::product(xs, packed, acc) };
        return;
    }
    let _ = sums;
    portable::product(xs, packed, acc);
}

/// Whether a convolution should pass eight pixels at once to [`int8_packed_product`] rather
/// than four: with VNNI, where a lone block of 16 outputs then has eight independent
/// accumulations to hide `vpdpbusd`'s latency (four leave it waiting); not in the AVX2 build,
/// which spills registers with eight.
#[inline]
pub(crate) fn int8_eight_pixels() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        super::int8::use_vnni()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// [`int8_packed_product`] for `acc.len() / rows` inputs of length `k` stored one after the
/// other in `x` (the pixels of a 1×1 convolution), in one call.
#[inline]
pub(crate) fn int8_packed_rows(x: &[i8], k: usize, packed: &[i8], sums: &[i32], acc: &mut [i32]) {
    let n = x.len().checked_div(k).unwrap_or(0);
    assert!(
        n > 0 && x.len() == n * k && acc.len().is_multiple_of(n),
        "int8_packed_rows: sizes"
    );
    let rows = acc.len() / n;
    assert!(
        packable(rows, k) && packed.len() >= rows * k && sums.len() >= rows,
        "int8_packed_rows: sizes"
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::int8::use_vnni() {
        // SAFETY: the CPU has AVX-512F, BW, VL and VNNI (checked by `use_vnni`).
        unsafe { vnni::rows(x, k, packed, sums, acc) };
        return;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::dispatch::use_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked by `use_avx2_fma`).
        unsafe { avx2::rows(x, k, packed, acc) };
        return;
    }
    portable::rows(x, k, packed, acc);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(w: &[i8], rows: usize, k: usize) -> Vec<i8> {
        let mut packed = vec![0; rows * k];
        for o in 0..rows {
            for i in 0..k {
                packed[packed_index(o, i, k, rows)] = w[o * k + i];
            }
        }
        packed
    }

    /// Every kernel equals the plain loop over unpacked rows, for 1 and 4 inputs, on random
    /// and extreme (−128) values.
    #[test]
    fn kernels_equal_the_plain_loop() {
        let mut state = 0x0bad_cafe_1234_5678u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as i8
        };
        for (rows, k) in [
            (16, 4),
            (16, 8),
            (32, 12),
            (48, 64),
            (128, 784),
            (64, 576),
            (16, 1156),
            (8, 27),
            (24, 10),
            (8, 3),
            (40, 75),
            (12, 7),
            (20, 9),
            (10, 130),
            // Groups of 8 + 1, 4 + 2 and 4 + 2 + 1 blocks for one input, with tails.
            (144, 37),
            (96, 20),
            (120, 66),
            // The AVX2 kernel's spans of 1024 inputs: three with a tail, two with a narrow
            // block of an odd width.
            (24, 2051),
            (10, 1030),
        ] {
            for extreme in [false, true] {
                let w: Vec<i8> = (0..rows * k)
                    .map(|_| if extreme { -128 } else { next() })
                    .collect();
                let xs: Vec<Vec<i8>> = (0..8)
                    .map(|_| {
                        (0..k)
                            .map(|_| if extreme { -128 } else { next() })
                            .collect()
                    })
                    .collect();
                let packed = pack(&w, rows, k);
                let sums: Vec<i32> = w
                    .chunks(k)
                    .map(|r| r.iter().map(|&v| v as i32).sum())
                    .collect();
                let mut expected = vec![0i32; 8 * rows];
                for p in 0..8 {
                    for o in 0..rows {
                        expected[p * rows + o] = (0..k).fold(0i32, |s, i| {
                            s.wrapping_add(w[o * k + i] as i32 * xs[p][i] as i32)
                        });
                    }
                }
                let four = [&xs[0][..], &xs[1][..], &xs[2][..], &xs[3][..]];
                let eight: [&[i8]; 8] = core::array::from_fn(|p| &xs[p][..]);
                let mut got = vec![0i32; 4 * rows];
                let mut got8 = vec![0i32; 8 * rows];
                portable::product(four, &packed, &mut got);
                assert_eq!(got, expected[..4 * rows], "portable {rows}x{k}");
                portable::product(eight, &packed, &mut got8);
                assert_eq!(got8, expected, "portable eight {rows}x{k}");
                let mut one = vec![0i32; rows];
                portable::product([&xs[0][..]], &packed, &mut one);
                assert_eq!(one, expected[..rows], "portable one {rows}x{k}");
                #[cfg(all(feature = "std", target_arch = "x86_64"))]
                {
                    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU has AVX2 and FMA (checked just above).
                        unsafe { avx2::product(four, &packed, &mut got) };
                        assert_eq!(got, expected[..4 * rows], "avx2 {rows}x{k}");
                        // SAFETY: as above.
                        unsafe { avx2::product(eight, &packed, &mut got8) };
                        assert_eq!(got8, expected, "avx2 eight {rows}x{k}");
                        // SAFETY: as above.
                        unsafe { avx2::product([&xs[0][..]], &packed, &mut one) };
                        assert_eq!(one, expected[..rows], "avx2 one {rows}x{k}");
                    }
                    if std::is_x86_feature_detected!("avx512vnni")
                        && std::is_x86_feature_detected!("avx512bw")
                        && std::is_x86_feature_detected!("avx512vl")
                    {
                        // SAFETY: the CPU has AVX-512F, BW, VL and VNNI (checked just above).
                        unsafe { vnni::product(four, &packed, &sums, &mut got) };
                        assert_eq!(got, expected[..4 * rows], "vnni {rows}x{k}");
                        // SAFETY: as above.
                        unsafe { vnni::product(eight, &packed, &sums, &mut got8) };
                        assert_eq!(got8, expected, "vnni eight {rows}x{k}");
                        // SAFETY: as above.
                        unsafe { vnni::product([&xs[0][..]], &packed, &sums, &mut one) };
                        assert_eq!(one, expected[..rows], "vnni one {rows}x{k}");
                    }
                }
                int8_packed_product(four, &packed, &sums, &mut got);
                assert_eq!(got, expected[..4 * rows], "dispatched {rows}x{k}");
                int8_packed_product(eight, &packed, &sums, &mut got8);
                assert_eq!(got8, expected, "dispatched eight {rows}x{k}");
                // Contiguous inputs: 4 (one group) and 3 (the single path) of the 4.
                let contiguous: Vec<i8> = xs.concat();
                for n in [4, 3] {
                    let x = &contiguous[..n * k];
                    let want = &expected[..n * rows];
                    let mut got = vec![0i32; n * rows];
                    portable::rows(x, k, &packed, &mut got);
                    assert_eq!(got, want, "portable rows {n} {rows}x{k}");
                    int8_packed_rows(x, k, &packed, &sums, &mut got);
                    assert_eq!(got, want, "dispatched rows {n} {rows}x{k}");
                    #[cfg(all(feature = "std", target_arch = "x86_64"))]
                    {
                        if std::is_x86_feature_detected!("avx2")
                            && std::is_x86_feature_detected!("fma")
                        {
                            got.fill(0);
                            // SAFETY: the CPU has AVX2 and FMA (checked just above).
                            unsafe { avx2::rows(x, k, &packed, &mut got) };
                            assert_eq!(got, want, "avx2 rows {n} {rows}x{k}");
                        }
                        if std::is_x86_feature_detected!("avx512vnni")
                            && std::is_x86_feature_detected!("avx512bw")
                            && std::is_x86_feature_detected!("avx512vl")
                        {
                            got.fill(0);
                            // SAFETY: the CPU has AVX-512F, BW, VL and VNNI (checked above).
                            unsafe { vnni::rows(x, k, &packed, &sums, &mut got) };
                            assert_eq!(got, want, "vnni rows {n} {rows}x{k}");
                        }
                    }
                }
            }
        }
    }
}
