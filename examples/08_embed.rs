//! Inference from a network baked into the binary: no weight file, no parsing, no heap.
//!
//! `generated/iris_net.rs` (written by `10_export` from a trained model) is a `static`
//! built at compile time by `const fn`s; `generated/iris_scaling.rs` holds the feature
//! scaling. This program classifies a few flowers with it and checks, with a counting
//! global allocator, that inference allocated nothing. The same code builds for a
//! `no_std` target (see `tests/no_std_check`).
//!
//! `cargo run --release --example 08_embed`

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use constnet::{Dense, Layer, Relu, seq};

type IrisNet = seq![Dense<4, 16, Relu>, Dense<16, 3>];

include!("generated/iris_net.rs");
include!("generated/iris_scaling.rs");

const SPECIES: [&str; 3] = ["setosa", "versicolor", "virginica"];

/// Counts every allocation of the process.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The species the baked network predicts for raw measurements in cm.
fn classify(features: [f32; 4]) -> usize {
    let x: [f32; 4] = core::array::from_fn(|j| (features[j] - MEAN[j]) / STD[j]);
    let logits = NET.forward(&x);
    (0..3).fold(0, |best, i| if logits[i] > logits[best] { i } else { best })
}

fn main() -> ExitCode {
    // Sepal length, sepal width, petal length, petal width (cm), and the true species.
    let flowers = [
        ([5.1, 3.5, 1.4, 0.2], 0),
        ([7.0, 3.2, 4.7, 1.4], 1),
        ([6.3, 3.3, 6.0, 2.5], 2),
        ([5.8, 2.7, 5.1, 1.9], 2),
        ([5.7, 2.8, 4.5, 1.3], 1),
    ];
    let mut predictions = [0usize; 5];
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for (p, (x, _)) in predictions.iter_mut().zip(&flowers) {
        *p = classify(*x);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let mut correct = 0;
    for ((x, truth), p) in flowers.iter().zip(predictions) {
        correct += usize::from(p == *truth);
        println!("{x:?} cm -> {:<10} (true: {})", SPECIES[p], SPECIES[*truth]);
    }
    println!(
        "{correct}/5 correct; {allocations} allocations during inference; the network is {} bytes of static data",
        core::mem::size_of_val(&NET)
    );
    if allocations != 0 || correct < 4 {
        eprintln!("08_embed: expected no allocation and at least 4 correct");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
