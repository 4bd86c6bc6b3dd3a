//! The golden test: every case in `$GOLDEN_DIR` (default: the repo's `tests/golden/`, a copy of
//! PyTorch's float64 cases) is run with its exact compile-time shapes (see `build.rs`), in
//! `f64` and in `f32`, and every recorded number is compared. A key the harness did not check,
//! an unknown kind or an empty directory is a failure. The last line printed is
//! `golden: N passed, M failed` (one count per case and scalar type).
//!
//! Tolerances, `|got − want| <= tol·max(1, |want|)`:
//! - `f64`: `1e-9`, the bound the cases' README recommends (an independent NumPy
//!   implementation agrees to 2e-15; we allow for a different but exact summation order).
//! - `f32`: `1e-4`, the figure the cases' README gives for f32. Inputs and parameters are
//!   rounded to f32 (relative error 6e-8) and the error grows through up to three layers, a
//!   loss and five optimizer steps; Adam-family updates divide by `sqrt(v)+eps` and so carry
//!   the relative error of small gradients into the parameters. The worst error measured on
//!   the visible cases is 7.9e-7 (printed on every run), so the bound leaves a ~100x margin
//!   for unseen cases while still catching any formula error (which shows at 1e-3 or more).

// Which runners a build uses depends on the case files found (see build.rs).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use constnet::loss::*;
use constnet::optim::*;
use constnet::*;

const F64_TOL: f64 = 1e-9;
const F32_TOL: f64 = 1e-4;

/// One generated entry: a case file and the exactly-typed function that checks it.
pub struct GeneratedCase {
    name: &'static str,
    path: &'static str,
    dtype: &'static str,
    run: fn(&Case) -> Result<usize, String>,
}

include!(concat!(env!("OUT_DIR"), "/golden_cases.rs"));

/// Keys that describe a case rather than record a number to check.
const DESCRIPTIVE: &[&str] = &[
    "kind",
    "seed",
    "dtype",
    "layers",
    "sizes",
    "activations",
    "batch",
    "features",
    "outputs",
    "loss",
    "loss.reduction",
    "target_kind",
    "optimizer",
    "steps",
    "activation",
    "eval_batch",
    "clip",
    "clip.norm_type",
    "scheduler",
];

/// A parsed case file, tracking which keys were read and how many numbers were compared.
pub struct Case {
    map: BTreeMap<String, Vec<String>>,
    used: RefCell<BTreeSet<String>>,
    compared: Cell<usize>,
    worst: Cell<f64>,
    tol: f64,
}

impl Case {
    fn parse(text: &str, tol: f64) -> Result<Case, String> {
        let mut map = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once(": ")
                .ok_or_else(|| format!("line {}: no `key: value`", n + 1))?;
            if map
                .insert(k.to_string(), v.split(' ').map(str::to_string).collect())
                .is_some()
            {
                return Err(format!("key `{k}` appears twice"));
            }
        }
        Ok(Case {
            map,
            used: RefCell::new(BTreeSet::new()),
            compared: Cell::new(0),
            worst: Cell::new(0.0),
            tol,
        })
    }

    fn raw(&self, key: &str) -> Result<&Vec<String>, String> {
        self.used.borrow_mut().insert(key.to_string());
        self.map
            .get(key)
            .ok_or_else(|| format!("missing key `{key}`"))
    }

    fn floats(&self, key: &str) -> Result<Vec<f64>, String> {
        self.raw(key)?
            .iter()
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| format!("`{key}`: `{s}` is not a float"))
            })
            .collect()
    }

    fn float(&self, key: &str) -> Result<f64, String> {
        let v = self.floats(key)?;
        if v.len() != 1 {
            return Err(format!("`{key}`: expected one value, found {}", v.len()));
        }
        Ok(v[0])
    }

    fn int(&self, key: &str) -> Result<usize, String> {
        let v = self.raw(key)?;
        v[0].parse()
            .map_err(|_| format!("`{key}` is not an integer"))
    }

    fn ints(&self, key: &str) -> Result<Vec<usize>, String> {
        self.raw(key)?
            .iter()
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| format!("`{key}`: `{s}` is not an integer"))
            })
            .collect()
    }

    fn word(&self, key: &str) -> Result<String, String> {
        Ok(self.raw(key)?[0].clone())
    }

    fn boolean(&self, key: &str) -> Result<bool, String> {
        match self.word(key)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("`{key}`: `{other}` is not a boolean")),
        }
    }

    /// Compares `got` with the recorded `key`, element by element.
    fn check(&self, key: &str, got: &[f64]) -> Result<(), String> {
        let want = self.floats(key)?;
        if want.len() != got.len() {
            return Err(format!(
                "`{key}`: {} values recorded, {} computed",
                want.len(),
                got.len()
            ));
        }
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            let err = (g - w).abs() / w.abs().max(1.0);
            if err.is_nan() || err > self.tol {
                return Err(format!(
                    "`{key}`[{i}]: got {g:e}, want {w:e} (error {err:.2e} > {:.0e})",
                    self.tol
                ));
            }
            self.worst.set(self.worst.get().max(err));
        }
        self.compared.set(self.compared.get() + got.len());
        Ok(())
    }

    fn check_one(&self, key: &str, got: f64) -> Result<(), String> {
        self.check(key, &[got])
    }

    /// Every key of the file must have been read: a recorded number nobody checked fails.
    fn all_used(&self) -> Result<(), String> {
        let used = self.used.borrow();
        let unread: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !used.contains(*k) && !DESCRIPTIVE.contains(&k.as_str()))
            .collect();
        if unread.is_empty() {
            Ok(())
        } else {
            Err(format!("keys not checked by the harness: {unread:?}"))
        }
    }
}

fn to_f64<T: Scalar>(xs: &[T]) -> Vec<f64> {
    xs.iter().map(|&x| Scalar::to_f64(x)).collect()
}

/// Reads `key` as `B` rows of `N` values (sample-major).
fn rows<T: Scalar, const N: usize, const B: usize>(
    c: &Case,
    key: &str,
) -> Result<[[T; N]; B], String> {
    let v = c.floats(key)?;
    if v.len() != N * B {
        return Err(format!(
            "`{key}`: expected {B}x{N} values, found {}",
            v.len()
        ));
    }
    Ok(core::array::from_fn(|b| {
        core::array::from_fn(|i| T::from_f64(v[b * N + i]))
    }))
}

fn vector<T: Scalar, const N: usize>(c: &Case, key: &str) -> Result<[T; N], String> {
    Ok(rows::<T, N, 1>(c, key)?[0])
}

fn flat<T: Scalar, const N: usize, const B: usize>(x: &[[T; N]; B]) -> Vec<f64> {
    to_f64(x.as_flattened())
}

// ---------------------------------------------------------------- networks of Dense layers

/// Access to the Dense layers of a generated network, by index (`layer{i}` in the files).
trait GoldenNet<T: Scalar>: Layer<Scalar = T> + Clone {
    fn load(&mut self, c: &Case, i: usize) -> Result<(), String>;
    fn check_params(&self, c: &Case, prefix: &str, i: usize) -> Result<(), String>;
    fn check_cache<const B: usize>(
        cache: &Self::BatchCache<B>,
        c: &Case,
        i: usize,
    ) -> Result<(), String>;
}

fn load_dense<const I: usize, const O: usize, A: ActivationFn<T> + FromCase, T: Scalar>(
    d: &mut Dense<I, O, A, T>,
    c: &Case,
    i: usize,
) -> Result<(), String> {
    let w = rows::<T, I, O>(c, &format!("layer{i}.weight"))?;
    let b = vector::<T, O>(c, &format!("layer{i}.bias"))?;
    d.set_weight_rows(&w);
    *d.bias_mut() = b;
    d.activation = A::from_case(c)?;
    Ok(())
}

fn check_dense<const I: usize, const O: usize, A: ActivationFn<T> + FromCase, T: Scalar>(
    d: &Dense<I, O, A, T>,
    c: &Case,
    prefix: &str,
    i: usize,
) -> Result<(), String> {
    c.check(&format!("{prefix}layer{i}.weight"), &flat(&d.weight_rows()))?;
    c.check(&format!("{prefix}layer{i}.bias"), &to_f64(d.bias()))
}

fn check_dense_cache<const I: usize, const O: usize, T: Scalar, const B: usize>(
    cache: &[DenseCache<I, O, T>; B],
    c: &Case,
    i: usize,
) -> Result<(), String> {
    let z: Vec<f64> = cache.iter().flat_map(|s| to_f64(&s.z)).collect();
    let a: Vec<f64> = cache.iter().flat_map(|s| to_f64(&s.y)).collect();
    c.check(&format!("layer{i}.z"), &z)?;
    c.check(&format!("layer{i}.a"), &a)
}

impl<const I: usize, const O: usize, A: ActivationFn<T> + FromCase, T: Scalar> GoldenNet<T>
    for Dense<I, O, A, T>
{
    fn load(&mut self, c: &Case, i: usize) -> Result<(), String> {
        load_dense(self, c, i)
    }
    fn check_params(&self, c: &Case, prefix: &str, i: usize) -> Result<(), String> {
        check_dense(self, c, prefix, i)
    }
    fn check_cache<const B: usize>(
        cache: &Self::BatchCache<B>,
        c: &Case,
        i: usize,
    ) -> Result<(), String> {
        check_dense_cache(cache, c, i)
    }
}

impl<const I: usize, const O: usize, A: ActivationFn<T> + FromCase, T: Scalar, R> GoldenNet<T>
    for Chain<Dense<I, O, A, T>, R>
where
    R: GoldenNet<T> + Follows<Dense<I, O, A, T>>,
{
    fn load(&mut self, c: &Case, i: usize) -> Result<(), String> {
        load_dense(&mut self.first, c, i)?;
        self.second.load(c, i + 1)
    }
    fn check_params(&self, c: &Case, prefix: &str, i: usize) -> Result<(), String> {
        check_dense(&self.first, c, prefix, i)?;
        self.second.check_params(c, prefix, i + 1)
    }
    fn check_cache<const B: usize>(
        cache: &Self::BatchCache<B>,
        c: &Case,
        i: usize,
    ) -> Result<(), String> {
        check_dense_cache(&cache.0, c, i)?;
        R::check_cache(&cache.2, c, i + 1)
    }
}

// ---------------------------------------------------------------- losses and targets

/// Reads a batch of targets of the loss's kind.
trait ReadTarget<T: Scalar, const N: usize, const B: usize>: Sized {
    fn read(c: &Case, key: &str) -> Result<[Self; B], String>;
}

impl<T: Scalar, const N: usize, const B: usize> ReadTarget<T, N, B> for [T; N] {
    fn read(c: &Case, key: &str) -> Result<[Self; B], String> {
        rows::<T, N, B>(c, key)
    }
}

impl<T: Scalar, const N: usize, const B: usize> ReadTarget<T, N, B> for usize {
    fn read(c: &Case, key: &str) -> Result<[Self; B], String> {
        let v = c.ints(key)?;
        if v.len() != B {
            return Err(format!(
                "`{key}`: expected {B} class indices, found {}",
                v.len()
            ));
        }
        if let Some(bad) = v.iter().find(|&&t| t >= N) {
            return Err(format!(
                "`{key}`: class index {bad} out of range for {N} outputs"
            ));
        }
        Ok(core::array::from_fn(|b| v[b]))
    }
}

fn mse(_c: &Case) -> Result<Mse, String> {
    Ok(Mse)
}
fn l1(_c: &Case) -> Result<L1, String> {
    Ok(L1)
}
fn huber(c: &Case) -> Result<Huber, String> {
    Ok(Huber {
        delta: c.float("loss.delta")?,
    })
}
fn smooth_l1(c: &Case) -> Result<SmoothL1, String> {
    Ok(SmoothL1 {
        beta: c.float("loss.beta")?,
    })
}
fn bce(_c: &Case) -> Result<Bce, String> {
    Ok(Bce)
}
fn bce_with_logits(_c: &Case) -> Result<BceWithLogits, String> {
    Ok(BceWithLogits)
}
fn cross_entropy(_c: &Case) -> Result<CrossEntropy, String> {
    Ok(CrossEntropy)
}
fn cross_entropy_probs(_c: &Case) -> Result<CrossEntropyProbs, String> {
    Ok(CrossEntropyProbs)
}

// ---------------------------------------------------------------- activation settings

/// An activation built with the settings the case records (PyTorch's defaults so far).
trait FromCase: Sized {
    fn from_case(c: &Case) -> Result<Self, String>;
}

macro_rules! plain_activation {
    ($($t:ty),*) => {$(
        impl FromCase for $t {
            fn from_case(_c: &Case) -> Result<Self, String> {
                Ok(<$t>::default())
            }
        }
    )*};
}
plain_activation!(Identity, Relu, Sigmoid, Tanh, Gelu, GeluTanh, Silu, Softmax);

impl FromCase for LeakyRelu {
    fn from_case(c: &Case) -> Result<Self, String> {
        Ok(LeakyRelu {
            negative_slope: c.float("leaky_relu.negative_slope")?,
        })
    }
}
impl FromCase for Elu {
    fn from_case(c: &Case) -> Result<Self, String> {
        Ok(Elu {
            alpha: c.float("elu.alpha")?,
        })
    }
}
impl FromCase for Softplus {
    fn from_case(c: &Case) -> Result<Self, String> {
        Ok(Softplus {
            beta: c.float("softplus.beta")?,
            threshold: c.float("softplus.threshold")?,
        })
    }
}

// ---------------------------------------------------------------- kind: mlp

#[allow(clippy::type_complexity)]
fn mlp<T: Scalar, N, const IN: usize, const OUT: usize, const B: usize, Lo, O>(
    c: &Case,
    loss: Result<Lo, String>,
    make_optimizer: impl FnOnce(&Case) -> Result<O, String>,
) -> Result<usize, String>
where
    N: GoldenNet<T> + Layer<Input = [T; IN], Output = [T; OUT]>,
    Lo: Loss<T>,
    Lo::Target<OUT>: ReadTarget<T, OUT, B>,
    O: Optimizer<N>,
{
    let loss = loss?;
    let mut net = N::zeros();
    net.load(c, 0)?;
    let x: [[T; IN]; B] = rows(c, "input")?;
    let target = <Lo::Target<OUT> as ReadTarget<T, OUT, B>>::read(c, "target")?;
    let mut ctx = TrainCtx::new(0);

    // Forward in training mode, with every layer's pre- and post-activation.
    let mut cache = N::BatchCache::<B>::zeros();
    let mut y = [[T::zero(); OUT]; B];
    net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
    N::check_cache(&cache, c, 0)?;
    c.check("output", &flat(&y))?;
    // The inference paths (batched and single-sample) give the same output.
    let mut y_inference = [[T::zero(); OUT]; B];
    let mut scratch = N::BatchCache::<B>::zeros();
    net.forward_batch(&x, &mut y_inference, &mut scratch);
    c.check("output", &flat(&y_inference))?;
    let single: [[T; OUT]; B] = core::array::from_fn(|b| net.forward(&x[b]));
    c.check("output", &flat(&single))?;

    // Loss and every gradient, including the input's.
    let mut dy = [[T::zero(); OUT]; B];
    let value = loss.loss_batch(&y, &target, &mut dy);
    c.check_one("loss_value", Scalar::to_f64(value))?;
    let mut grads = N::zeros();
    let mut dx = [[T::zero(); IN]; B];
    net.backward_batch(&mut cache, &dy, &mut dx, &mut grads);
    grads.check_params(c, "grad.", 0)?;
    c.check("grad.input", &flat(&dx))?;

    // Single-sample backward, summed over the batch, gives the same parameter gradients
    // (each sample's loss is the batch loss restricted to it, so its gradient is already
    // scaled by the batch mean).
    let mut summed = N::zeros();
    let mut dx_single = [[T::zero(); IN]; B];
    for b in 0..B {
        let (_, sample_cache) = net.forward_train(&x[b], &mut ctx);
        dx_single[b] = net.backward(&sample_cache, &dy[b], &mut summed);
    }
    summed.check_params(c, "grad.", 0)?;
    c.check("grad.input", &flat(&dx_single))?;

    // Five optimizer steps with clipping and a schedule, as the README's loop.
    let mut optimizer = make_optimizer(c)?;
    let mut schedule = Schedule::from_case(c)?;
    let clip = c.word("clip")?;
    let steps = c.int("steps")?;
    for k in 1..=steps {
        c.check_one(&format!("step{k}.lr"), optimizer.lr())?;
        grads.fill_zero();
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        let value = loss.loss_batch(&y, &target, &mut dy);
        c.check_one(&format!("step{k}.loss_value"), Scalar::to_f64(value))?;
        net.backward_batch_params(&mut cache, &dy, &mut grads);
        match clip.as_str() {
            "none" => {}
            "norm" => {
                if c.float("clip.norm_type")? != 2.0 {
                    return Err("only clip.norm_type 2.0 is supported".into());
                }
                let norm = clip_grad_norm(&mut grads, c.float("clip.max_norm")?);
                c.check_one(&format!("step{k}.grad_norm"), norm)?;
            }
            "value" => clip_grad_value(&mut grads, c.float("clip.value")?),
            other => return Err(format!("unsupported clip `{other}`")),
        }
        optimizer.step(&mut net, &grads);
        if let Some(lr) = schedule.next_lr(optimizer.lr()) {
            optimizer.set_lr(lr);
        }
        net.check_params(c, &format!("step{k}."), 0)?;
    }
    net.forward_batch(&x, &mut y, &mut scratch);
    c.check_one("final_loss_value", Scalar::to_f64(loss.value(&y, &target)))?;
    c.all_used()?;
    Ok(c.compared.get())
}

// ---------------------------------------------------------------- kind: activation

fn activation<T: Scalar, A, const N: usize, const B: usize>(c: &Case) -> Result<usize, String>
where
    A: ActivationFn<T> + FromCase,
{
    let mut layer = layers::Activation::<A, N, T>::zeros();
    layer.activation = A::from_case(c)?;
    let x: [[T; N]; B] = rows(c, "input")?;
    let dy: [[T; N]; B] = rows(c, "grad_output")?;
    let mut y = [[T::zero(); N]; B];
    let mut cache = <layers::Activation<A, N, T> as Layer>::BatchCache::<B>::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &flat(&y))?;
    let single: [[T; N]; B] = core::array::from_fn(|b| layer.forward(&x[b]));
    c.check("output", &flat(&single))?;
    let mut dx = [[T::zero(); N]; B];
    let mut grads = layers::Activation::<A, N, T>::zeros();
    layer.backward_batch(&mut cache, &dy, &mut dx, &mut grads);
    c.check("grad.input", &flat(&dx))?;
    c.all_used()?;
    Ok(c.compared.get())
}

// ---------------------------------------------------------------- kind: loss

fn loss_case<T: Scalar, const N: usize, const B: usize, Lo>(
    c: &Case,
    loss: impl FnOnce(&Case, ()) -> Result<Lo, String>,
) -> Result<usize, String>
where
    Lo: Loss<T>,
    Lo::Target<N>: ReadTarget<T, N, B>,
{
    let loss = loss(c, ())?;
    let p: [[T; N]; B] = rows(c, "prediction")?;
    let target = <Lo::Target<N> as ReadTarget<T, N, B>>::read(c, "target")?;
    let mut grad = [[T::zero(); N]; B];
    let value = loss.loss_batch(&p, &target, &mut grad);
    c.check_one("loss_value", Scalar::to_f64(value))?;
    c.check("grad.prediction", &flat(&grad))?;
    c.check_one("loss_value", Scalar::to_f64(loss.value(&p, &target)))?;
    c.all_used()?;
    Ok(c.compared.get())
}

// ---------------------------------------------------------------- main

fn main() -> ExitCode {
    if let Ok(dir) = std::env::var("GOLDEN_DIR") {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join(&dir);
        let wanted = if std::path::Path::new(&dir).is_absolute() {
            std::path::PathBuf::from(&dir)
        } else {
            here
        };
        if wanted != std::path::Path::new(GOLDEN_DIR) {
            println!(
                "golden: built for {GOLDEN_DIR} but GOLDEN_DIR is {dir}: run through cargo so the cases are regenerated"
            );
            println!("golden: 0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    }
    println!("golden: cases from {GOLDEN_DIR}");
    if CASES.is_empty() {
        println!("golden: no case file (*.txt) found");
        println!("golden: 0 passed, 1 failed");
        return ExitCode::FAILURE;
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut worst = [0.0f64; 2];
    for case in CASES {
        let tol = if case.dtype == "f64" {
            F64_TOL
        } else {
            F32_TOL
        };
        let result = std::fs::read_to_string(case.path)
            .map_err(|e| format!("cannot read {}: {e}", case.path))
            .and_then(|text| Case::parse(&text, tol))
            .and_then(|parsed| {
                let n = (case.run)(&parsed)?;
                let slot = usize::from(case.dtype == "f32");
                worst[slot] = worst[slot].max(parsed.worst.get());
                Ok(n)
            });
        match result {
            Ok(n) => {
                passed += 1;
                println!("ok   {} [{}]: {n} values", case.name, case.dtype);
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {} [{}]: {why}", case.name, case.dtype);
            }
        }
    }
    println!(
        "golden: worst error, relative to max(1,|want|): f64 {:.2e} (tolerance {F64_TOL:.0e}), f32 {:.2e} (tolerance {F32_TOL:.0e})",
        worst[0], worst[1]
    );
    println!("golden: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// ---------------------------------------------------------------- kinds: layernorm, batchnorm1d

/// Recovers the mean and the variance a norm layer used from its cache:
/// `x̂ = (x − mean)·inv_std` and `inv_std = 1/sqrt(var + eps)`.
fn mean_and_var<T: Scalar>(x: T, normalized: T, inv_std: T, eps: f64) -> (f64, f64) {
    let inv_std = inv_std.to_f64();
    (
        x.to_f64() - normalized.to_f64() / inv_std,
        1.0 / (inv_std * inv_std) - eps,
    )
}

fn layer_norm<T: Scalar, const F: usize, const B: usize>(c: &Case) -> Result<usize, String> {
    let eps = c.float("eps")?;
    let mut layer =
        layers::LayerNorm::<F, T>::from_affine(vector(c, "weight")?, vector(c, "bias")?)
            .with_eps(eps);
    let x: [[T; F]; B] = rows(c, "input")?;
    let dy: [[T; F]; B] = rows(c, "grad_output")?;
    let mut y = [[T::zero(); F]; B];
    let mut cache = <layers::LayerNorm<F, T> as Layer>::BatchCache::<B>::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &flat(&y))?;
    let single: [[T; F]; B] = core::array::from_fn(|b| layer.forward(&x[b]));
    c.check("output", &flat(&single))?;
    let stats: Vec<(f64, f64)> = (0..B)
        .map(|b| mean_and_var(x[b][0], cache[b].normalized[0], cache[b].inv_std, eps))
        .collect();
    c.check("mean", &stats.iter().map(|s| s.0).collect::<Vec<_>>())?;
    c.check("var", &stats.iter().map(|s| s.1).collect::<Vec<_>>())?;
    let mut grads = layers::LayerNorm::<F, T>::zeros();
    let mut dx = [[T::zero(); F]; B];
    layer.backward_batch(&mut cache, &dy, &mut dx, &mut grads);
    c.check("grad.input", &flat(&dx))?;
    c.check("grad.weight", &to_f64(&grads.weight))?;
    c.check("grad.bias", &to_f64(&grads.bias))?;
    c.all_used()?;
    Ok(c.compared.get())
}

fn batch_norm<T: Scalar, const F: usize, const B: usize, const E: usize>(
    c: &Case,
) -> Result<usize, String> {
    let eps = c.float("eps")?;
    let mut layer =
        layers::BatchNorm::<F, T>::from_affine(vector(c, "weight")?, vector(c, "bias")?)
            .with_eps(eps)
            .with_momentum(c.float("momentum")?);
    layer.set_running_mean(vector(c, "running_mean")?);
    layer.set_running_var(vector(c, "running_var")?);
    let x: [[T; F]; B] = rows(c, "input")?;
    let dy: [[T; F]; B] = rows(c, "grad_output")?;
    let mut y = [[T::zero(); F]; B];
    let mut cache = <layers::BatchNorm<F, T> as Layer>::BatchCache::<B>::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &flat(&y))?;
    let stats: Vec<(f64, f64)> = (0..F)
        .map(|f| mean_and_var(x[0][f], cache.normalized[0][f], cache.inv_std[f], eps))
        .collect();
    c.check("batch_mean", &stats.iter().map(|s| s.0).collect::<Vec<_>>())?;
    c.check("batch_var", &stats.iter().map(|s| s.1).collect::<Vec<_>>())?;
    c.check("running_mean_after", &to_f64(layer.running_mean()))?;
    c.check("running_var_after", &to_f64(layer.running_var()))?;
    let mut grads = layers::BatchNorm::<F, T>::zeros();
    let mut dx = [[T::zero(); F]; B];
    layer.backward_batch(&mut cache, &dy, &mut dx, &mut grads);
    c.check("grad.input", &flat(&dx))?;
    c.check("grad.weight", &to_f64(&grads.weight))?;
    c.check("grad.bias", &to_f64(&grads.bias))?;
    let eval_x: [[T; F]; E] = rows(c, "eval_input")?;
    let mut eval_y = [[T::zero(); F]; E];
    let mut scratch = <layers::BatchNorm<F, T> as Layer>::BatchCache::<E>::zeros();
    layer.forward_batch(&eval_x, &mut eval_y, &mut scratch);
    c.check("eval_output", &flat(&eval_y))?;
    let single: [[T; F]; E] = core::array::from_fn(|b| layer.forward(&eval_x[b]));
    c.check("eval_output", &flat(&single))?;
    c.all_used()?;
    Ok(c.compared.get())
}

// ---------------------------------------------------------------- optimizers and schedules

fn opt_sgd<M: Params>(c: &Case) -> Result<Sgd<M>, String> {
    Ok(Sgd::new(SgdConfig {
        lr: c.float("optimizer.lr")?,
        momentum: c.float("optimizer.momentum")?,
        dampening: c.float("optimizer.dampening")?,
        weight_decay: c.float("optimizer.weight_decay")?,
        nesterov: c.boolean("optimizer.nesterov")?,
    }))
}

fn opt_adagrad<M: Params>(c: &Case) -> Result<Adagrad<M>, String> {
    Ok(Adagrad::new(AdagradConfig {
        lr: c.float("optimizer.lr")?,
        lr_decay: c.float("optimizer.lr_decay")?,
        weight_decay: c.float("optimizer.weight_decay")?,
        initial_accumulator_value: c.float("optimizer.initial_accumulator_value")?,
        eps: c.float("optimizer.eps")?,
    }))
}

fn opt_rmsprop<M: Params>(c: &Case) -> Result<RmsProp<M>, String> {
    Ok(RmsProp::new(RmsPropConfig {
        lr: c.float("optimizer.lr")?,
        alpha: c.float("optimizer.alpha")?,
        eps: c.float("optimizer.eps")?,
        weight_decay: c.float("optimizer.weight_decay")?,
        momentum: c.float("optimizer.momentum")?,
        centered: c.boolean("optimizer.centered")?,
    }))
}

fn opt_adam<M: Params>(c: &Case) -> Result<Adam<M>, String> {
    Ok(Adam::new(AdamConfig {
        lr: c.float("optimizer.lr")?,
        beta1: c.float("optimizer.beta1")?,
        beta2: c.float("optimizer.beta2")?,
        eps: c.float("optimizer.eps")?,
        weight_decay: c.float("optimizer.weight_decay")?,
        amsgrad: c.boolean("optimizer.amsgrad")?,
    }))
}

fn opt_adamw<M: Params>(c: &Case) -> Result<AdamW<M>, String> {
    Ok(AdamW::new(AdamConfig {
        lr: c.float("optimizer.lr")?,
        beta1: c.float("optimizer.beta1")?,
        beta2: c.float("optimizer.beta2")?,
        eps: c.float("optimizer.eps")?,
        weight_decay: c.float("optimizer.weight_decay")?,
        amsgrad: c.boolean("optimizer.amsgrad")?,
    }))
}

fn opt_adamax<M: Params>(c: &Case) -> Result<Adamax<M>, String> {
    Ok(Adamax::new(AdamaxConfig {
        lr: c.float("optimizer.lr")?,
        beta1: c.float("optimizer.beta1")?,
        beta2: c.float("optimizer.beta2")?,
        eps: c.float("optimizer.eps")?,
        weight_decay: c.float("optimizer.weight_decay")?,
    }))
}

fn opt_nadam<M: Params>(c: &Case) -> Result<NAdam<M>, String> {
    Ok(NAdam::new(NAdamConfig {
        lr: c.float("optimizer.lr")?,
        beta1: c.float("optimizer.beta1")?,
        beta2: c.float("optimizer.beta2")?,
        eps: c.float("optimizer.eps")?,
        weight_decay: c.float("optimizer.weight_decay")?,
        momentum_decay: c.float("optimizer.momentum_decay")?,
        decoupled_weight_decay: c.boolean("optimizer.decoupled_weight_decay")?,
    }))
}

/// The case's learning-rate schedule, stepped once after every optimizer step.
struct Schedule(Option<Box<dyn LrSchedule>>);

impl Schedule {
    fn from_case(c: &Case) -> Result<Schedule, String> {
        let schedule: Option<Box<dyn LrSchedule>> = match c.word("scheduler")?.as_str() {
            "none" => None,
            "step_lr" => Some(Box::new(StepLr::new(
                c.int("scheduler.step_size")? as u64,
                c.float("scheduler.gamma")?,
            ))),
            "exponential_lr" => Some(Box::new(ExponentialLr::new(c.float("scheduler.gamma")?))),
            "cosine_annealing_lr" => Some(Box::new(CosineAnnealingLr::new(
                c.int("scheduler.t_max")? as u64,
                c.float("scheduler.eta_min")?,
            ))),
            other => return Err(format!("unsupported scheduler `{other}`")),
        };
        Ok(Schedule(schedule))
    }

    /// The learning rate for the next step, if there is a schedule.
    fn next_lr(&mut self, lr: f64) -> Option<f64> {
        self.0.as_mut().map(|s| s.step(lr))
    }
}
