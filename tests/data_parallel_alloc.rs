//! Data-parallel steps allocate nothing on any thread. The count is process-wide, so this test
//! runs without the libtest harness (`harness = false` in Cargo.toml): no other thread of the
//! process allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use constnet::init::{self, Init};
use constnet::loss::Mse;
use constnet::optim::{Adam, AdamConfig};
use constnet::parallel::DataParallel;
use constnet::{Dense, Identity, Relu, Tanh, seq};

/// Counts allocations on every thread.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type Net = seq![Dense<6, 24, Tanh>, Dense<24, 16, Relu>, Dense<16, 3, Identity>];
const CHUNKS: usize = 4;
const C: usize = 8;

fn data() -> (Vec<[f32; 6]>, Vec<[f32; 3]>) {
    let x: Vec<[f32; 6]> = (0..CHUNKS * C)
        .map(|b| core::array::from_fn(|i| ((b * 37 + i * 11) % 29) as f32 / 29.0 - 0.5))
        .collect();
    let t = x.iter().map(|r| [r[0] - r[1], r[2] * r[3], 0.25]).collect();
    (x, t)
}

fn main() {
    steps_allocate_nothing_on_any_thread();
    println!("data_parallel_alloc: 20 steps on 3 threads allocated nothing");
}

fn steps_allocate_nothing_on_any_thread() {
    let (x, t) = data();
    let mut net: Net = init::seeded(Init::XavierUniform, 3);
    let mut adam = Adam::<Net>::new(AdamConfig::new());
    // The instrument itself must be able to fail.
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    drop(std::hint::black_box(vec![1u8; 16]));
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > before);
    let during = DataParallel::<Net, Mse, 3, C>::run(&mut net, Mse, CHUNKS, 3, 0, |dp| {
        dp.step(&x, &t, &mut adam).unwrap(); // threads are up and waiting after this
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..20 {
            dp.step(&x, &t, &mut adam).unwrap();
        }
        ALLOCATIONS.load(Ordering::SeqCst) - before
    });
    assert_eq!(during, 0, "20 steps on 3 threads allocated {during} times");
}
