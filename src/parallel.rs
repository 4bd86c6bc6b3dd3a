//! Data-parallel training (std): a batch split into chunks of `C` rows, each chunk's forward
//! and backward on its own gradient buffer, spread over worker threads started once per run.
//!
//! The chunks are fixed by the batch, not by the threads, and their gradients are summed in
//! chunk order, so a step gives the same bits whatever the thread count (1 included); a test
//! proves it. Each chunk's loss is its mean over `C` rows, scaled by `1/chunks`, so the sum is
//! the mean over the whole batch, as one big batch would give up to rounding. Batch-statistics
//! layers (BatchNorm) normalize each chunk with its own statistics (as PyTorch's
//! `DistributedDataParallel` does without `SyncBatchNorm`), and their running statistics are
//! updated from every chunk in chunk order.
//!
//! A step allocates nothing: buffers are allocated when the run starts, and the threads wait
//! on a condition variable between steps. Threads pay off only when a chunk's work is large
//! against the few microseconds a hand-over costs (BENCHMARKS.md has the measured crossover).
//!
//! ```
//! use constnet::init::{self, Init};
//! use constnet::loss::Mse;
//! use constnet::optim::{Adam, AdamConfig};
//! use constnet::parallel::DataParallel;
//! use constnet::{Dense, Relu, seq};
//!
//! type Net = seq![Dense<4, 16, Relu>, Dense<16, 1>];
//! let mut net: Net = init::seeded(Init::HeUniform, 1);
//! let mut adam = Adam::<Net>::new(AdamConfig::new().lr(0.01));
//! let x: Vec<[f32; 4]> = (0..32).map(|i| [i as f32 / 32.0, 0.5, -0.5, 1.0]).collect();
//! let t: Vec<[f32; 1]> = x.iter().map(|r| [r[0] * 2.0 - 1.0]).collect();
//! // Batches of 4 chunks of 8 rows, on 2 threads (the calling one and one worker).
//! let losses = DataParallel::<Net, Mse, 1, 8>::run(&mut net, Mse, 4, 2, 7, |trainer| {
//!     (0..50).map(|_| trainer.step(&x, &t, &mut adam).unwrap()).collect::<Vec<_>>()
//! });
//! assert!(losses[49] < losses[0]);
//! ```

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use std::sync::{Condvar, Mutex, MutexGuard, RwLock};

use crate::ctx::TrainCtx;
use crate::kernel::{ZeroBits, zeroed_box};
use crate::layer::Layer;
use crate::loss::Loss;
use crate::optim::Optimizer;
use crate::params::Params;
use crate::scalar::Scalar;

/// Why a data-parallel step was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParallelError {
    /// The batch does not have `chunks·C` rows (or the targets another count).
    BatchSize {
        /// Rows the run was set up for.
        expected: usize,
        /// Input rows given.
        inputs: usize,
        /// Target rows given.
        targets: usize,
    },
}

impl fmt::Display for ParallelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParallelError::BatchSize {
                expected,
                inputs,
                targets,
            } => write!(
                f,
                "data-parallel batch: expected {expected} rows, found {inputs} inputs and {targets} targets"
            ),
        }
    }
}

impl std::error::Error for ParallelError {}

/// One chunk's buffers: its rows, outputs, caches and gradients.
struct Chunk<L: Layer, Tg, const O: usize, const C: usize> {
    x: Box<[L::Input; C]>,
    targets: Box<[Tg; C]>,
    y: Box<[[L::Scalar; O]; C]>,
    dy: Box<[[L::Scalar; O]; C]>,
    cache: Box<L::BatchCache<C>>,
    grads: Box<L>,
    ctx: TrainCtx,
    loss: f64,
}

/// Which chunks the current step has handed out and finished.
struct Job {
    generation: u64,
    next: usize,
    done: usize,
    stop: bool,
    worker_panicked: bool,
    /// Worker threads that have started (their start-up allocations are behind them).
    ready: usize,
}

/// What the threads share for the whole run.
struct Shared<'m, L: Layer, Lo: Loss<L::Scalar>, const O: usize, const C: usize> {
    model: RwLock<&'m mut L>,
    loss: Lo,
    chunks: Vec<Mutex<Chunk<L, Lo::Target<O>, O, C>>>,
    job: Mutex<Job>,
    start: Condvar,
    finished: Condvar,
}

/// A data-parallel trainer for the model `L` and the loss `Lo`, with outputs of `O` values
/// and chunks of `C` rows. Made by [`DataParallel::run`], which owns the worker threads.
pub struct DataParallel<'s, 'm, L: Layer, Lo: Loss<L::Scalar>, const O: usize, const C: usize> {
    shared: &'s Shared<'m, L, Lo, O, C>,
}

/// Locks a mutex, ignoring poisoning (a worker panic is reported separately).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<'m, L, Lo, const O: usize, const C: usize> Shared<'m, L, Lo, O, C>
where
    L: Layer<Output = [<L as Params>::Scalar; O]> + Send + Sync,
    Lo: Loss<L::Scalar> + Sync,
    Lo::Target<O>: Copy + Send,
    L::Input: Send,
    L::BatchCache<C>: Send,
{
    /// Takes and runs chunks until none is left in this step.
    fn work(&self) {
        loop {
            let k = {
                let mut job = lock(&self.job);
                if job.next >= self.chunks.len() {
                    return;
                }
                job.next += 1;
                job.next - 1
            };
            // Counts the chunk as done even if it panics, so the caller never waits forever.
            struct Done<'a>(&'a Mutex<Job>, &'a Condvar, usize);
            impl Drop for Done<'_> {
                fn drop(&mut self) {
                    let mut job = lock(self.0);
                    job.done += 1;
                    job.worker_panicked |= std::thread::panicking();
                    if job.done == self.2 {
                        self.1.notify_all();
                    }
                }
            }
            let _done = Done(&self.job, &self.finished, self.chunks.len());
            let model = self.model.read().unwrap_or_else(|e| e.into_inner());
            let mut chunk = lock(&self.chunks[k]);
            let chunk = &mut *chunk;
            chunk.grads.fill_zero();
            model.forward_train_batch_shared(
                &chunk.x,
                &mut chunk.y,
                &mut chunk.cache,
                &mut chunk.ctx,
            );
            let loss = self
                .loss
                .loss_batch(&chunk.y, &chunk.targets, &mut chunk.dy);
            chunk.loss = loss.to_f64();
            // The batch loss is the mean of the chunk means.
            let share = L::Scalar::from_f64(1.0 / self.chunks.len() as f64);
            for row in chunk.dy.iter_mut() {
                for v in row.iter_mut() {
                    *v *= share;
                }
            }
            model.backward_batch_params(
                &chunk.x,
                &chunk.y,
                &mut chunk.cache,
                &chunk.dy,
                &mut chunk.grads,
            );
        }
    }

    /// A worker thread: runs every step's chunks until told to stop.
    fn worker(&self) {
        {
            let mut job = lock(&self.job);
            job.ready += 1;
            self.finished.notify_all();
        }
        let mut seen = 0;
        loop {
            {
                let mut job = lock(&self.job);
                while job.generation == seen && !job.stop {
                    job = self.start.wait(job).unwrap_or_else(|e| e.into_inner());
                }
                if job.stop {
                    return;
                }
                seen = job.generation;
            }
            self.work();
        }
    }
}

impl<'s, 'm, L, Lo, const O: usize, const C: usize> DataParallel<'s, 'm, L, Lo, O, C>
where
    L: Layer<Output = [<L as Params>::Scalar; O]> + Send + Sync + ZeroBits,
    Lo: Loss<L::Scalar> + Sync,
    Lo::Target<O>: Copy + Send + ZeroBits,
    L::Input: Send + ZeroBits,
    L::BatchCache<C>: Send + ZeroBits,
    <L as Params>::Scalar: ZeroBits,
{
    /// Starts `threads − 1` worker threads (the calling thread is the last one), allocates
    /// the buffers of `chunks` chunks of `C` rows (batches of `chunks·C` rows), and calls `f`
    /// with the trainer. The workers stop when `f` returns. Chunk `k` trains with
    /// `TrainCtx::new(seed + k)`.
    pub fn run<R>(
        model: &'m mut L,
        loss: Lo,
        chunks: usize,
        threads: usize,
        seed: u64,
        f: impl FnOnce(&mut DataParallel<'_, 'm, L, Lo, O, C>) -> R,
    ) -> R {
        let chunks = chunks.max(1);
        let shared = Shared {
            model: RwLock::new(model),
            loss,
            chunks: (0..chunks)
                .map(|k| {
                    Mutex::new(Chunk {
                        x: zeroed_box(),
                        targets: zeroed_box(),
                        y: zeroed_box(),
                        dy: zeroed_box(),
                        cache: zeroed_box(),
                        grads: L::boxed_zeros(),
                        ctx: TrainCtx::new(seed.wrapping_add(k as u64)),
                        loss: 0.0,
                    })
                })
                .collect(),
            job: Mutex::new(Job {
                generation: 0,
                next: chunks,
                done: chunks,
                stop: false,
                worker_panicked: false,
                ready: 0,
            }),
            start: Condvar::new(),
            finished: Condvar::new(),
        };
        std::thread::scope(|scope| {
            let workers = threads.max(1) - 1;
            for _ in 0..workers {
                scope.spawn(|| shared.worker());
            }
            // Every worker is running before the first step, so no step pays (or allocates
            // for) a thread's start-up.
            {
                let mut job = lock(&shared.job);
                while job.ready < workers {
                    job = shared.finished.wait(job).unwrap_or_else(|e| e.into_inner());
                }
            }
            // Stops the workers when `f` returns or panics.
            struct Stop<'a>(&'a Mutex<Job>, &'a Condvar);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    lock(self.0).stop = true;
                    self.1.notify_all();
                }
            }
            let _stop = Stop(&shared.job, &shared.start);
            let mut trainer = DataParallel { shared: &shared };
            f(&mut trainer)
        })
    }

    /// Rows per batch: `chunks·C`.
    pub fn batch_rows(&self) -> usize {
        self.shared.chunks.len() * C
    }

    /// One training step on a batch of `chunks·C` rows: every chunk's forward, loss and
    /// backward (on the worker threads and this one), the gradients summed in chunk order,
    /// the running statistics updated, and one optimizer step. Returns the batch's mean loss.
    pub fn step<Op: Optimizer<L>>(
        &mut self,
        x: &[L::Input],
        targets: &[Lo::Target<O>],
        optimizer: &mut Op,
    ) -> Result<L::Scalar, ParallelError> {
        let shared = self.shared;
        let rows = self.batch_rows();
        if x.len() != rows || targets.len() != rows {
            return Err(ParallelError::BatchSize {
                expected: rows,
                inputs: x.len(),
                targets: targets.len(),
            });
        }
        for (k, chunk) in shared.chunks.iter().enumerate() {
            let mut chunk = lock(chunk);
            chunk.x.copy_from_slice(&x[k * C..(k + 1) * C]);
            chunk.targets.copy_from_slice(&targets[k * C..(k + 1) * C]);
        }
        {
            let mut job = lock(&shared.job);
            job.generation += 1;
            job.next = 0;
            job.done = 0;
        }
        shared.start.notify_all();
        shared.work();
        {
            let mut job = lock(&shared.job);
            while job.done < shared.chunks.len() {
                job = shared.finished.wait(job).unwrap_or_else(|e| e.into_inner());
            }
            assert!(!job.worker_panicked, "a data-parallel worker panicked");
        }
        // Chunk 0's gradients become the sum (chunks added in order: deterministic).
        let mut model = shared.model.write().unwrap_or_else(|e| e.into_inner());
        let mut first = lock(&shared.chunks[0]);
        let mut loss = first.loss;
        model.update_statistics(&first.cache);
        for chunk in &shared.chunks[1..] {
            let chunk = lock(chunk);
            for (sum, part) in first.grads.tensors_mut().zip(chunk.grads.tensors()) {
                for (s, &p) in sum.iter_mut().zip(part.iter()) {
                    *s += p;
                }
            }
            loss += chunk.loss;
            model.update_statistics(&chunk.cache);
        }
        optimizer.step(&mut **model, &first.grads);
        Ok(L::Scalar::from_f64(loss / shared.chunks.len() as f64))
    }

    /// Calls `f` with the gradients of the last step (the sum over its chunks).
    pub fn inspect_grads<R>(&self, f: impl FnOnce(&L) -> R) -> R {
        f(&lock(&self.shared.chunks[0]).grads)
    }
}
