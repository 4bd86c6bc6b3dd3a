//! What a firmware author needs to know: how much memory each value takes, and where it
//! should live.
//!
//! Every value is a plain fixed-size struct: its size is `size_of`, known at compile time,
//! and nothing else is allocated behind it (no `Vec`, no `Box` inside). The crate's
//! single-sample and batched methods allocate nothing (`tests/no_alloc.rs`); saving and
//! loading into byte slices allocate nothing either; only the `std` helpers that return a
//! `Vec` or touch files do.
//!
//! # Sizes
//! `f32` networks on x86-64 (`tests/memory.rs` recomputes this table and fails when it
//! differs). T is `seq![Dense<2, 16, Tanh>, Dense<16, 16, Tanh>, Dense<16, 1>]`, S is
//! `seq![Dense<16, 64, Relu>, Dense<64, 64, Relu>, Dense<64, 8>]`, digits is
//! `seq![Dense<64, 32, Tanh>, Dense<32, 10>]` (`examples/04_digits.rs`), GRU8 is
//! `seq![GruSequence<1, 8, 32>, Dense<8, 1>]` (the model `examples/07_amp.rs` trains).
//!
//! | bytes | T (2-16-16-1) | S (16-64-64-8) | digits (64-32-10) | GRU8 (GRU 1-8 over 32 steps, 8-1) |
//! |---|---:|---:|---:|---:|
//! | model | 1408 | 23104 | 9664 | 1152 |
//! | gradients (`Net`) | 1408 | 23104 | 9664 | 1152 |
//! | `Sgd<Net>` | 1472 | 23168 | 9728 | 1216 |
//! | `Adagrad<Net>` | 1472 | 23168 | 9728 | 1216 |
//! | `RmsProp<Net>` | 4288 | 69376 | 29056 | 3520 |
//! | `Adam<Net>` | 2944 | 46336 | 19456 | 2432 |
//! | `AdamAmsGrad<Net>` | 4352 | 69440 | 29120 | 3584 |
//! | `AdamW<Net>` | 2944 | 46336 | 19456 | 2432 |
//! | `Adamax<Net>` | 2880 | 46272 | 19392 | 2368 |
//! | `NAdam<Net>` | 2944 | 46336 | 19456 | 2432 |
//! | `Cache` (one sample) | 400 | 1664 | 720 | 5288 |
//! | `BatchCache<1>` | 388 | 1568 | 424 | 5348 |
//! | `BatchCache<32>` | 12416 | 50176 | 13568 | 171136 |
//! | `BatchCache<256>` | 99328 | 401408 | 108544 | 1369088 |
//!
//! Convolutional networks (`tests/memory.rs` recomputes this table too): the digits CNN of
//! `examples/11_digits_cnn.rs` and the MLPerf Tiny models of `benches/workloads/mlperf.rs`
//! (inference form: BatchNorm folded, activations fused).
//!
//! | bytes | digits CNN | KWS | RESNET8 | VWW | AD |
//! |---|---:|---:|---:|---:|---:|
//! | model (= gradients) | 10944 | 90432 | 310848 | 843456 | 1063488 |
//! | `Adam<Net>` | 22016 | 180992 | 621824 | 1687040 | 2127104 |
//! | `Cache` (one sample) | 13648 | 834312 | 1306960 | 2881040 | 20064 |
//! | `BatchCache<1>` | 24872 | 1410520 | 2175528 | 4734472 | 14944 |
//! | `BatchCache<32>` | 795904 | 45136640 | 69616896 | 151503104 | 478208 |
//!
//! Int8 networks ([`crate::quant`], `tests/memory.rs` recomputes this table too): the digits
//! CNN generated from `tests/fixtures/tflite/digits_cnn_dw_int8.tflite`, and M and the MLPerf
//! Tiny models as loaded from their int8 TensorFlow Lite files (`benches/workloads/mlperf_int8.rs`).
//! A layer keeps its int8 weights, int32 bias and, per output channel, its requantization,
//! two derived int32 sums and (a fully connected layer) its scale as an `f64`, its weights on a
//! 64-byte cache line as a float layer's (each layer rounded up to 64 bytes); the `Scratch` holds every tensor between layers (boxed or `static`
//! for the large ones: nothing else is needed to run).
//!
//! | bytes | digits CNN (dw) | M | KWS | RESNET8 | VWW | AD |
//! |---|---:|---:|---:|---:|---:|---:|
//! | int8 model | 4352 | 107840 | 32448 | 84096 | 253696 | 338368 |
//! | `Scratch` (tensors between layers) | 2336 | 128 | 72064 | 131136 | 231808 | 1032 |
//! | input + output | 74 | 794 | 502 | 3082 | 27650 | 1280 |
//!
//! A convolution's cache keeps each sample's input image, pre-activations and outputs, and a
//! chain keeps the activations between layers once more, so a training batch of images is
//! tens to hundreds of MB: build it with [`zeroed_box`](crate::zeroed_box) or
//! [`Zeros::zeros_in_place`](crate::Zeros::zeros_in_place); the batched passes put nothing
//! of image size on the stack (`tests/heap.rs`). Single-image inference (`forward`) keeps every
//! image between layers on the stack at once, and returns its output by value: the smallest
//! thread stacks that ran it (release build, the Xeon of `BENCHMARKS.md`, found by a throwaway
//! program bisecting a spawned thread's stack size; `tests/heap.rs` checks a smaller network
//! against a fixed stack) were 302 KiB for KWS,
//! 286 KiB for ResNet-8, 924 KiB for VWW (its activations add up to 905 KiB) and 31 KiB for
//! AD; a debug build needs more (VWW 1.33 MiB). For larger images, or a smaller stack, use
//! `forward_batch` with a batch of one and a boxed `BatchCache<1>`.
//!
//! How to read it: a `Dense` layer holds `IN·OUT + OUT` scalars and starts on a 64-byte cache
//! line (`#[repr(align(64))]`), so a network is its parameter count times 4 bytes (8 for
//! `f64`), rounded up per layer to 64. Gradients have the model's type, hence its size. An
//! optimizer is its hyperparameters (a few `f64`s) plus one model-sized buffer per state
//! tensor: Sgd and Adagrad 1, Adam, AdamW, Adamax and NAdam 2, RmsProp and AMSGrad 3 (Sgd's
//! momentum buffer exists even with momentum 0). A batch cache grows linearly with the batch
//! size `B`: per sample, every layer's pre-activations and the activations between layers.
//! A [`Dropout<N>`](crate::Dropout) holds only its `p` (one `f64`, padded to the 64-byte line
//! next to a `Dense`) in the model, the gradients and every optimizer buffer alike; it adds
//! `N` scalars to the one-sample `Cache` (its mask) and `3·N` per sample to a batch cache
//! (its mask, and the activations after it and their gradient, which the chain keeps).
//! A recurrent layer's training caches keep every step's previous state and gates (GRU8:
//! 5,288 bytes per sample over 32 steps); streaming needs none of them, only the cell and a
//! state the caller owns ([`GruState<8>`](crate::GruState) is 32 bytes, an
//! [`LstmState<H>`](crate::LstmState) `2·H` scalars).
//! Training needs model + gradients + optimizer + batch cache + the batch's inputs, outputs
//! and output gradients (`[[T; IN]; B]`, `[[T; OUT]; B]` twice); inference needs the model and,
//! for a batch, its cache as scratch.
//!
//! # Stack use, and when to box
//! A value lives where it is created: `Net::zeros()`, [`init::seeded`](crate::init::seeded),
//! `Adam::new` and `BatchCache::zeros()` build it on the stack of the calling thread, and
//! moving it into a `Box` afterwards copies it through that stack. Budget against the
//! smallest stack the code runs on: Linux gives the main thread 8 MiB and spawned threads
//! 2 MiB by default; an RTOS task or an audio callback thread often has 4–64 KiB.
//!
//! * **Single-sample inference** (`forward`) keeps one `[T; OUT]` array per layer on the
//!   stack, a few hundred bytes for the networks above, and reads the model by reference:
//!   a model in a `static` (see [`io::rust_source`](crate::io::rust_source)) costs no stack at
//!   all. This is what an audio or control loop runs.
//! * **Single-sample training** (`forward_train`/`backward`) returns a `Cache` by value
//!   (row "`Cache` (one sample)") and temporaries of the same order.
//! * **Batched methods** put nothing of batch size on the stack: the caller owns inputs,
//!   outputs and caches. Those are the values to place deliberately.
//!
//! Rules of thumb: keep on the stack what is well below a tenth of the stack (T and S
//! training with small batches on a desktop thread); box the rest, built in place on the
//! heap with [`Params::boxed_zeros`](crate::Params::boxed_zeros),
//! [`init::boxed`](crate::init::boxed), `Adam::boxed` (and every optimizer's `boxed`) and
//! [`zeroed_box`](crate::zeroed_box) for batch caches and buffers, which never build the value
//! on the stack first (`tests/heap.rs` trains a 784-512-512-10 network on a 512 KiB stack).
//! The heap constructors build through [`Zeros::zeros_in_place`](crate::Zeros::zeros_in_place):
//! the crate's types in place, a custom layer by its own (by default, through the stack).
//! Without a heap (`no_std`, no `alloc`), give large values static storage: a `static` for a
//! baked network, and a `static` cell (or your platform's singleton macro) holding the model,
//! gradients, optimizer and caches of on-device training, initialized once at start-up.
