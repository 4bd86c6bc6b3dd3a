//! Property tests of every loader on hostile input: random bytes, truncated files, bit-flipped
//! files, and bit-flipped files whose checksum was recomputed (so the header parser and the
//! checks behind the checksum see the damage). For every input a loader must not panic, must
//! not allocate more than `ALLOCATION_LIMIT` in one piece (a lying header cannot make it
//! allocate what it claims), and must either return `Ok` with the model holding exactly what
//! the file says (the original model when the damage is caught or absent), or `Err` with the
//! model untouched.
//!
//! Cases per property: proptest's default (256), or `PROPTEST_CASES`. The run:
//! `PROPTEST_CASES=12500 cargo test --release --features safetensors --test fuzz_loaders`
//! (8 properties: 100,000 cases).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use constnet::init::{self, Init};
use constnet::io::{self, Checkpoint};
use constnet::optim::{Adam, AdamConfig, LinearWarmup, LrSchedule, Optimizer};
use constnet::{BatchNorm, Dense, LayerNorm, LeakyRelu, Params, Relu, TrainCtx, seq};
use proptest::prelude::*;

type Net = seq![Dense<4, 8, LeakyRelu>, BatchNorm<8>, Dense<8, 6, Relu>, LayerNorm<6>, Dense<6, 3>];

/// The largest single allocation a loader may make on these inputs (they are < 4 KiB; the
/// safetensors JSON parse allocates in proportion to the header, capped at 1 MiB).
const ALLOCATION_LIMIT: usize = 1 << 20;

struct Watching;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            LARGEST.with(|l| l.set(l.get().max(size)));
        }
    });
}

// SAFETY: forwards to the system allocator; only records sizes.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Watching = Watching;

/// Runs `load` and returns its result and the largest allocation it made.
fn watched<R>(load: impl FnOnce() -> R) -> R {
    LARGEST.with(|l| l.set(0));
    ARMED.with(|a| a.set(true));
    let result = load();
    ARMED.with(|a| a.set(false));
    let largest = LARGEST.with(|l| l.get());
    assert!(
        largest <= ALLOCATION_LIMIT,
        "a loader allocated {largest} bytes at once"
    );
    result
}

fn original() -> Net {
    let mut net: Net = init::seeded(Init::HeNormal, 1);
    net.second.first.num_batches_tracked = 5;
    net.second.first.set_running_var([1.5; 8]);
    net
}

/// Another model, the one the files are loaded into.
fn target() -> Net {
    init::seeded(Init::XavierUniform, 2)
}

fn model_file() -> Vec<u8> {
    io::to_bytes(&original()).unwrap()
}

/// Flips the given bits (positions modulo the length).
fn flip(bytes: &mut [u8], flips: &[usize]) {
    let bits = bytes.len() * 8;
    for &f in flips {
        let f = f % bits;
        bytes[f / 8] ^= 1 << (f % 8);
    }
}

/// Recomputes the own format's trailing CRC-32.
fn reseal(bytes: &mut [u8]) {
    if bytes.len() < 4 {
        return;
    }
    let n = bytes.len() - 4;
    let mut c = !0u32;
    for &b in &bytes[..n] {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    bytes[n..].copy_from_slice(&(!c).to_le_bytes());
}

/// Loads `bytes` in the own format and checks the contract. `exact`: an `Ok` must leave the
/// original model (the damage cannot pass the checksum).
fn check_model_load(bytes: &[u8], exact: bool) -> Result<(), TestCaseError> {
    let mut net = target();
    match watched(|| io::read_from(&mut net, bytes)) {
        Ok(()) if exact => prop_assert_eq!(net, original()),
        Ok(()) => {
            // The file was valid after the damage: the model holds what it says (re-encoding
            // gives the same bytes, NaN payloads aside).
            let again = io::to_bytes(&net).unwrap();
            let has_nan = net.tensors().flatten().any(|v| v.is_nan());
            prop_assert!(has_nan || again == bytes);
        }
        Err(e) => {
            prop_assert_eq!(net, target());
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

type Opt = Adam<Net>;
type Schedule = LinearWarmup;

fn checkpoint_parts(seed: u64) -> (Net, Opt, Schedule, TrainCtx, u64) {
    let mut net: Net = init::seeded(Init::HeNormal, seed);
    let mut opt = Opt::new(AdamConfig::new().lr(1e-3 * (seed + 1) as f64));
    let mut schedule = LinearWarmup::new(0.5, 4);
    opt.set_lr(schedule.start(opt.lr()));
    let grads: Net = init::seeded(Init::HeUniform, seed + 1);
    opt.step(&mut net, &grads);
    (net, opt, schedule, TrainCtx::new(seed), seed)
}

fn checkpoint_file() -> Vec<u8> {
    let (mut net, mut opt, mut schedule, mut ctx, mut step) = checkpoint_parts(1);
    Checkpoint {
        model: &mut net,
        optimizer: &mut opt,
        schedule: &mut schedule,
        ctx: &mut ctx,
        step: &mut step,
    }
    .to_bytes()
    .unwrap()
}

/// The checkpoint file of a set of parts.
fn checkpoint_of(parts: &mut (Net, Opt, Schedule, TrainCtx, u64)) -> Vec<u8> {
    let (net, opt, schedule, ctx, step) = parts;
    Checkpoint {
        model: net,
        optimizer: opt,
        schedule,
        ctx,
        step,
    }
    .to_bytes()
    .unwrap()
}

fn check_checkpoint_load(bytes: &[u8], exact: bool) -> Result<(), TestCaseError> {
    let mut parts = checkpoint_parts(7);
    let untouched = checkpoint_of(&mut checkpoint_parts(7));
    let result = {
        let (net, opt, schedule, ctx, step) = &mut parts;
        let mut cp = Checkpoint {
            model: net,
            optimizer: opt,
            schedule,
            ctx,
            step,
        };
        watched(|| cp.read_from(bytes))
    };
    let now = checkpoint_of(&mut parts);
    match result {
        Ok(()) if exact => prop_assert!(now == checkpoint_file()),
        Ok(()) => {
            let has_nan = parts.0.tensors().flatten().any(|v| v.is_nan());
            prop_assert!(has_nan || now == bytes);
        }
        Err(_) => prop_assert!(now == untouched, "a failed load changed the parts"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // Cases from PROPTEST_CASES (default 256); no regression files in the repository.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn model_loader_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024), magic in any::<bool>()) {
        let mut bytes = bytes;
        if magic && bytes.len() >= 8 {
            bytes[..8].copy_from_slice(b"CONSTNET"); // get past the magic
        }
        check_model_load(&bytes, true)?;
    }

    #[test]
    fn model_loader_truncated_and_flipped(cut in any::<usize>(), flips in proptest::collection::vec(any::<usize>(), 0..6), reseal_it in any::<bool>()) {
        let mut bytes = model_file();
        let len = cut % (bytes.len() + 1);
        bytes.truncate(len);
        if !bytes.is_empty() {
            flip(&mut bytes, &flips);
        }
        if reseal_it {
            reseal(&mut bytes);
            check_model_load(&bytes, false)?;
        } else {
            check_model_load(&bytes, flips.is_empty() || len < model_file().len())?;
        }
    }

    #[test]
    fn model_loader_header_flips_resealed(flips in proptest::collection::vec(0usize..(8 * 200), 1..4)) {
        // Damage only in the header region, resealed: the checks behind the checksum.
        let mut bytes = model_file();
        flip(&mut bytes, &flips);
        reseal(&mut bytes);
        check_model_load(&bytes, false)?;
    }

    #[test]
    fn checkpoint_loader_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_checkpoint_load(&bytes, true)?;
    }

    #[test]
    fn checkpoint_loader_truncated_and_flipped(cut in any::<usize>(), flips in proptest::collection::vec(any::<usize>(), 0..6), reseal_it in any::<bool>()) {
        let full = checkpoint_file();
        let mut bytes = full.clone();
        let len = cut % (bytes.len() + 1);
        bytes.truncate(len);
        if !bytes.is_empty() {
            flip(&mut bytes, &flips);
        }
        if reseal_it {
            reseal(&mut bytes);
        }
        check_checkpoint_load(&bytes, !reseal_it && (flips.is_empty() || len < full.len()))?;
    }
}

#[cfg(feature = "safetensors")]
mod safetensors_loader {
    use super::*;
    use constnet::safetensors::{self as st, Keys};

    fn file() -> Vec<u8> {
        st::to_bytes(&original()).unwrap()
    }

    /// The data of every tensor of a safetensors file, by key.
    fn tensors(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let file = ::safetensors::SafeTensors::deserialize(bytes).unwrap();
        let mut t: Vec<(String, Vec<u8>)> = file
            .tensors()
            .into_iter()
            .map(|(k, v)| (k, v.data().to_vec()))
            .collect();
        t.sort();
        t
    }

    /// safetensors has no checksum: a flipped data bit loads. The contract is then that the
    /// model holds exactly the file's tensors.
    fn check(bytes: &[u8], keys: Keys<'_>) -> Result<(), TestCaseError> {
        let mut net = target();
        match watched(|| st::load_into_with(&mut net, bytes, keys)) {
            Ok(()) => {
                let written = st::to_bytes_with(&net, keys).unwrap();
                let has_nan = net.tensors().flatten().any(|v| v.is_nan());
                prop_assert!(has_nan || tensors(&written) == tensors(bytes));
            }
            Err(e) => {
                prop_assert_eq!(net, target());
                prop_assert!(!e.to_string().is_empty());
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // Cases from PROPTEST_CASES (default 256); no regression files in the repository.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn safetensors_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024), header_len in any::<u64>(), lie in any::<bool>()) {
            let mut bytes = bytes;
            if lie && bytes.len() >= 8 {
                // A header length that lies (up to 2^64 − 1).
                bytes[..8].copy_from_slice(&header_len.to_le_bytes());
            }
            check(&bytes, Keys::Sequential)?;
        }

        #[test]
        fn safetensors_truncated_and_flipped(cut in any::<usize>(), flips in proptest::collection::vec(any::<usize>(), 0..6), prefixed in any::<bool>()) {
            let prefixes = ["a.", "b.", "c.", "d.", "e."];
            let keys = if prefixed { Keys::Prefixes(&prefixes) } else { Keys::Sequential };
            let mut bytes = st::to_bytes_with(&original(), keys).unwrap();
            let len = cut % (bytes.len() + 1);
            bytes.truncate(len);
            if !bytes.is_empty() {
                flip(&mut bytes, &flips);
            }
            check(&bytes, keys)?;
        }

        #[test]
        fn safetensors_header_flips(flips in proptest::collection::vec(0usize..(8 * 400), 1..4)) {
            let mut bytes = file();
            flip(&mut bytes, &flips);
            check(&bytes, Keys::Sequential)?;
        }
    }
}
