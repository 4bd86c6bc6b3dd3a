//! The golden test: every case in `$GOLDEN_DIR` (default: the repo's `tests/golden/cases/`, a copy of
//! PyTorch's float64 cases) is run with its exact compile-time shapes (see `build.rs`), in
//! `f64` and in `f32`, and every recorded number is compared. A key the harness did not check,
//! an unknown kind or an empty directory is a failure. Case files are read by the one parser,
//! `src/case_file.rs`, which the build script shares. The last line printed is
//! `golden: N passed, M failed` (one count per case and scalar type).
//!
//! # Comparison rules
//!
//! Each compared key gets one rule (`scale` = the largest `|want|` of the key):
//!
//! | rule | keys | error | f64 tol | f32 tol |
//! |---|---|---|---|---|
//! | per-value | every key not below | `\|got − want\| / max(\|want\|, φ·scale)`, φ = 1e-3 (f64), 1e-2 (f32) | 2e-12 | 5e-4 |
//! | per-key | `grad.input` of `layernorm`, `batchnorm1d` and `batchnorm2d` (cancellation) | `\|got − want\| / scale` | 2e-11 | 1e-2 |
//! | all-zero | keys whose recorded values are all 0 | `\|got − want\|` | 1e-14 | 1e-6 |
//!
//! The per-value rule covers the elementwise results (activations, losses, optimizer steps,
//! learning rates, gradient norms, forward outputs and pre-activations) and the `mlp`
//! gradients: its floor, far below the key's own scale, only matters for values that are
//! themselves tiny next to their neighbours (the tails of an activation, a pre-activation that
//! is a sum of terms cancelling out). The per-key rule is for gradients that are a difference
//! of nearly equal terms, whose rounding noise scales with the key, not with the value.
//!
//! **Rounding noise (`cnn_train`).** A parameter that cannot change the loss (`ds_cnn`'s
//! `conv0.bias`, normalized away by `bn0`) has an analytically zero gradient, which PyTorch
//! records as rounding noise (at most 6e-17). Such a recorded gradient (every value below
//! `1e-12` of the case's largest gradient) must be noise here too (below `1e-12`, in f32
//! `1e-5`, of that scale). Adam turns noise into steps of up to about `lr`, so that parameter
//! and the running mean of the BatchNorm after it are compared within `2·lr` per step taken,
//! and the eval logits (which see them through `bias − running_mean`) under the per-key rule.
//! The sensitivity self-test uses each key's rule as compared.
//!
//! Worst errors measured on the 73 one-layer and MLP cases (before the 2-D kinds and
//! `cnn_train`; each run prints the worst over all cases), with constnet built with std / without std
//! (`--no-default-features --features libm`); every run prints the worst of each rule and
//! scalar type, with where it occurred (the per-kind figures further down are not printed):
//!
//! | rule | f64 | f32 |
//! |---|---|---|
//! | per-value | 2.81e-13 / 1.97e-13 (std: `mlp_21` `grad.layer0.bias`, with the FMA kernels; libm: `activation_gelu_tanh` `grad.input`[3], −1.4e-6 in a key of scale 1.4) | 1.03e-4 / 3.11e-5 (`activation_gelu_tanh` `grad.input`[3]: the vectorized `tanh` is a rational approximation within 5 ulp) |
//! | per-key | 7.00e-13 / 7.00e-13 (`batchnorm1d_2x3` `grad.input`) | 1.30e-3 / 1.30e-3 (`batchnorm1d_2x3` `grad.input`) |
//! | all-zero | no such key in the cases | no such key in the cases |
//!
//! `conv1d` (6 cases, the same with std and libm) needs no rule of its own: per-value worst
//! 1.24e-14 in f64 (`conv1d_k1` `output`) and 3.93e-6 in f32 (`conv1d_dilation2`
//! `grad.weight`). Its stride-1 cases also check the streaming form (`Conv1d::step`) against
//! `output`, frame by frame where the causal stream reaches.
//! Other worst per-value errors (f64, std / libm): `mlp` pre-activations and outputs
//! 9.6e-14 / 9.6e-14, `mlp` gradients 1.05e-13 / 1.15e-13 (their per-key error is 7e-16, so
//! they need no per-key rule), optimizer steps 2.9e-14 / 4.3e-14, everything else below 2e-14.
//! In f32 (std / libm): `mlp` gradients 1.4e-5 / 1.4e-5, optimizer steps 5.1e-6 / 1.2e-5.
//! The recurrent kinds (`gru`, `lstm`, `recurrent_train`), f64 std / libm: 5.8e-14 / 9.8e-14
//! (`lstm_4x6_zero_state` bias gradients); f32: 1.6e-5 / 6.6e-6. The
//! per-key tolerances also cover the ~7e-12 (f64) and ~2e-3 (f32) that the upstream README
//! reports for cancellation gradients across cases not copied here. Without the floor (pure
//! relative error) the f64 per-value worst would be 1.9e-10 and `batchnorm1d` `grad.input`
//! 8.3e-11 per value: both at the 1e-10 a formula error moves.
//!
//! Margins of the tolerances over the measured worst (the larger of the two builds): f64
//! per-value 7x (2e-12 over 2.81e-13), per-key 28x (2e-11 over 7.00e-13; 2.9x over upstream's
//! ~7e-12); f32 per-value 4.8x (5e-4 over 1.03e-4), per-key 7.7x (1e-2 over 1.30e-3; 5x over
//! upstream's ~2e-3). The f64 tolerances stay well below 1e-10, so
//! a misplaced epsilon fails: moving Adam's `eps` inside the bias correction moves step-1
//! parameters by 2.5e-7 relative and more.
//!
//! # Sensitivity self-test
//!
//! After every case passes, in f64 and in f32, the harness proves its rules would catch a
//! small change. For each key the case compared it changes two recorded entries, one at a
//! time: the largest-|value| one, and one chosen by a xorshift generator seeded from the
//! case's and the key's names (the same on every run; another entry than the largest where
//! the key has two or more). It moves the entry away from zero by 1e-10 (f64) or by 10 times
//! the f32 tolerance of the key's rule (f32), counted in that rule's error: the entry's
//! `max(|want|, φ·scale)` for the per-value rule, `scale` for the per-key rule. For the
//! largest entry that is a relative change (`1 + 1e-10` in f64, `1 + 5e-3` in f32 per-value).
//! The case is rerun on the changed data and must fail naming that key (keys that are
//! entirely zero are skipped and counted). A case with an uncaught change fails. Where `mlp`
//! cases exist, their `final_loss_value` and `grad.layer0.weight` must have been among the
//! perturbed keys. It prints `golden sensitivity: C f64 changes of 1e-10 and D f32 changes of
//! 10x the tolerance (the largest and a pseudo-random entry of every key), all caught (Z
//! all-zero keys skipped)`.

// Which runners a build uses depends on the case files found (see build.rs).
#![allow(dead_code)]

#[path = "../src/case_file.rs"]
mod case_file;

use case_file::CaseFile;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use constnet::loss::*;
use constnet::optim::*;
use constnet::*;

// The rules, and the measured worst errors they are chosen from, are in the module doc.
const F64_VALUE_TOL: f64 = 2e-12;
const F64_VALUE_FLOOR: f64 = 1e-3;
const F64_KEY_TOL: f64 = 2e-11;
const F64_ZERO_TOL: f64 = 1e-14;
const F32_VALUE_TOL: f64 = 5e-4;
const F32_VALUE_FLOOR: f64 = 1e-2;
const F32_KEY_TOL: f64 = 1e-2;
const F32_ZERO_TOL: f64 = 1e-6;

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

// ---------------------------------------------------------------- comparison rules

/// How the values of a key are compared with the recorded ones.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rule {
    /// Per value, relative to `|want|`, with an absolute floor far below the values' scale
    /// (a fixed fraction φ of the key's largest `|want|`): `|got − want| / max(|want|, φ·scale)`.
    Value,
    /// Relative to the largest `|want|` of the key: `|got − want| / max_j |want_j|`. For
    /// gradients that come out of cancellation, whose rounding noise scales with the key, not
    /// with the value.
    Key,
    /// A key whose recorded values are all zero: `|got − want|`.
    Zero,
}

const RULES: [Rule; 3] = [Rule::Value, Rule::Key, Rule::Zero];

impl Rule {
    /// The rule for `key` of a case of `kind` whose recorded values are `want`.
    fn of(kind: &str, key: &str, want: &[f64]) -> Rule {
        if want.iter().all(|&w| w == 0.0) {
            Rule::Zero
        } else if CANCELLATION.contains(&(kind, key)) {
            Rule::Key
        } else {
            Rule::Value
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            Rule::Value => "per-value",
            Rule::Key => "per-key",
            Rule::Zero => "all-zero",
        }
    }
}

/// `(kind, key)` pairs compared with [`Rule::Key`].
const CANCELLATION: &[(&str, &str)] = &[
    ("layernorm", "grad.input"),
    ("batchnorm1d", "grad.input"),
    ("batchnorm2d", "grad.input"),
];

/// The scalar type a case runs in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dtype {
    F64,
    F32,
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dtype::F64 => "f64",
            Dtype::F32 => "f32",
        })
    }
}

impl Dtype {
    fn of(name: &str) -> Dtype {
        if name == "f64" {
            Dtype::F64
        } else {
            Dtype::F32
        }
    }

    /// The tolerance of `rule` in this scalar type.
    fn tolerance(self, rule: Rule) -> f64 {
        match (self, rule) {
            (Dtype::F64, Rule::Value) => F64_VALUE_TOL,
            (Dtype::F64, Rule::Key) => F64_KEY_TOL,
            (Dtype::F64, Rule::Zero) => F64_ZERO_TOL,
            (Dtype::F32, Rule::Value) => F32_VALUE_TOL,
            (Dtype::F32, Rule::Key) => F32_KEY_TOL,
            (Dtype::F32, Rule::Zero) => F32_ZERO_TOL,
        }
    }

    /// The floor of [`Rule::Value`]'s denominator in this scalar type, as a fraction of the
    /// key's largest `|want|`.
    fn floor(self) -> f64 {
        match self {
            Dtype::F64 => F64_VALUE_FLOOR,
            Dtype::F32 => F32_VALUE_FLOOR,
        }
    }
}

/// The largest error of one rule seen so far, and where.
#[derive(Clone, Debug, Default)]
struct Worst {
    error: f64,
    at: String,
}

impl Worst {
    fn update(&mut self, error: f64, at: impl FnOnce() -> String) {
        if error > self.error || self.at.is_empty() {
            self.error = error;
            self.at = at();
        }
    }
}

/// A parsed case file being checked in one scalar type: which keys were compared, how many
/// values, and the worst error of each rule.
pub struct Case {
    file: CaseFile,
    kind: String,
    dtype: Dtype,
    /// The compared keys and the rule each was compared under.
    compared: RefCell<BTreeMap<String, Rule>>,
    values: Cell<usize>,
    worst: RefCell<[Worst; 3]>,
}

impl std::ops::Deref for Case {
    type Target = CaseFile;
    fn deref(&self) -> &CaseFile {
        &self.file
    }
}

impl Case {
    fn new(file: CaseFile, dtype: Dtype) -> Result<Case, String> {
        let kind = file.word("kind")?.to_string();
        Ok(Case {
            file,
            kind,
            dtype,
            compared: RefCell::new(BTreeMap::new()),
            values: Cell::new(0),
            worst: RefCell::new(Default::default()),
        })
    }

    /// Compares `got` with the recorded `key` under the key's rule.
    fn check(&self, key: &str, got: &[f64]) -> Result<(), String> {
        self.check_under(key, got, None)
    }

    /// [`check`](Case::check) under the per-key rule ([`Rule::Key`]), for a key whose values
    /// carry an absolute error (logits that follow a parameter driven by rounding noise).
    fn check_per_key(&self, key: &str, got: &[f64]) -> Result<(), String> {
        self.check_under(key, got, Some(Rule::Key))
    }

    fn check_under(&self, key: &str, got: &[f64], forced: Option<Rule>) -> Result<(), String> {
        let want = self.floats(key)?;
        if want.len() != got.len() {
            return Err(format!(
                "`{key}`: {} values recorded, {} computed",
                want.len(),
                got.len()
            ));
        }
        let rule = match forced {
            Some(rule) if want.iter().any(|&w| w != 0.0) => rule,
            _ => Rule::of(&self.kind, key, &want),
        };
        self.compared.borrow_mut().insert(key.to_string(), rule);
        let tol = self.dtype.tolerance(rule);
        let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let floor = self.dtype.floor() * scale;
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            let err = match rule {
                Rule::Value => (g - w).abs() / w.abs().max(floor),
                Rule::Key => (g - w).abs() / scale,
                Rule::Zero => (g - w).abs(),
            };
            if err.is_nan() || err > tol {
                return Err(format!(
                    "`{key}`[{i}]: got {g:e}, want {w:e} ({} error {err:.2e} > {tol:.0e})",
                    rule.name()
                ));
            }
            self.worst.borrow_mut()[rule.index()].update(err, || format!("`{key}`[{i}]"));
        }
        self.values.set(self.values.get() + got.len());
        Ok(())
    }

    fn check_one(&self, key: &str, got: f64) -> Result<(), String> {
        self.check(key, &[got])
    }

    /// A key PyTorch records as rounding noise (every value at most [`NOISE`] of `scale`, the
    /// largest value of the related keys: a bias whose gradient is analytically zero, as a
    /// convolution's bias before a BatchNorm): `got` must be noise at this scalar type's
    /// precision too. Such a key is not in the sensitivity self-test (a relative change of
    /// rounding noise is still noise).
    fn check_noise(&self, key: &str, got: &[f64], scale: f64) -> Result<(), String> {
        let want = self.floats(key)?;
        if want.len() != got.len() {
            return Err(format!(
                "`{key}`: {} values recorded, {} computed",
                want.len(),
                got.len()
            ));
        }
        let bound = match self.dtype {
            Dtype::F64 => NOISE,
            Dtype::F32 => F32_NOISE,
        } * scale;
        for (i, &g) in got.iter().enumerate() {
            if g.is_nan() || g.abs() > bound {
                return Err(format!(
                    "`{key}`[{i}]: got {g:e}, want rounding noise below {bound:.1e}"
                ));
            }
        }
        self.values.set(self.values.get() + got.len());
        Ok(())
    }

    /// A parameter driven by rounding noise (its gradient is noise, see
    /// [`check_noise`](Case::check_noise)): within `drift` of the recorded values.
    fn check_drift(&self, key: &str, got: &[f64], drift: f64) -> Result<(), String> {
        let want = self.floats(key)?;
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            if g.is_nan() || (g - w).abs() > drift {
                return Err(format!(
                    "`{key}`[{i}]: got {g:e}, want {w:e} within {drift:.1e}"
                ));
            }
        }
        self.values.set(self.values.get() + got.len());
        Ok(())
    }

    /// Whether the recorded `key` is rounding noise next to `scale` (see
    /// [`check_noise`](Case::check_noise)).
    fn is_noise(&self, key: &str, scale: f64) -> Result<bool, String> {
        Ok(self.floats(key)?.iter().all(|w| w.abs() <= NOISE * scale))
    }

    /// Every key of the file must have been read: a recorded number nobody checked fails.
    fn all_used(&self) -> Result<(), String> {
        let unread: Vec<String> = self
            .unread()
            .into_iter()
            .filter(|k| !DESCRIPTIVE.contains(&k.as_str()))
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
    /// Checks `layer{i}.z` and `layer{i}.a` (each layer's output, `y` for the last).
    fn check_cache<const B: usize>(
        cache: &Self::BatchCache<B>,
        y: &[Self::Output; B],
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

fn check_dense_cache<const O: usize, T: Scalar, const B: usize>(
    cache: &DenseBatchCache<O, B, T>,
    y: &[[T; O]; B],
    c: &Case,
    i: usize,
) -> Result<(), String> {
    c.check(&format!("layer{i}.z"), &flat(&cache.z))?;
    c.check(&format!("layer{i}.a"), &flat(y))
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
        y: &[[T; O]; B],
        c: &Case,
        i: usize,
    ) -> Result<(), String> {
        check_dense_cache(cache, y, c, i)
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
        y: &[R::Output; B],
        c: &Case,
        i: usize,
    ) -> Result<(), String> {
        check_dense_cache(&cache.first, &cache.hidden, c, i)?;
        R::check_cache(&cache.second, y, c, i + 1)
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
    N::check_cache(&cache, &y, c, 0)?;
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
    net.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
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
    let clip = c.word("clip")?.to_string();
    let steps = c.int("steps")?;
    for k in 1..=steps {
        c.check_one(&format!("step{k}.lr"), optimizer.lr())?;
        grads.fill_zero();
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        let value = loss.loss_batch(&y, &target, &mut dy);
        c.check_one(&format!("step{k}.loss_value"), Scalar::to_f64(value))?;
        net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
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
    Ok(c.values.get())
}

// ---------------------------------------------------------------- kind: activation

fn activation<T: Scalar, A, const N: usize, const B: usize>(c: &Case) -> Result<usize, String>
where
    A: ActivationFn<T> + FromCase,
{
    let mut layer = layers::ActivationLayer::<A, N, T>::zeros();
    layer.activation = A::from_case(c)?;
    let x: [[T; N]; B] = rows(c, "input")?;
    let dy: [[T; N]; B] = rows(c, "grad_output")?;
    let mut y = [[T::zero(); N]; B];
    let mut cache = <layers::ActivationLayer<A, N, T> as Layer>::BatchCache::<B>::zeros();
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &flat(&y))?;
    let single: [[T; N]; B] = core::array::from_fn(|b| layer.forward(&x[b]));
    c.check("output", &flat(&single))?;
    let mut dx = [[T::zero(); N]; B];
    let mut grads = layers::ActivationLayer::<A, N, T>::zeros();
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    c.check("grad.input", &flat(&dx))?;
    c.all_used()?;
    Ok(c.values.get())
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
    // `value` is the same computation as `loss_batch`, to the bit.
    let (value, value_only) = (
        Scalar::to_f64(value),
        Scalar::to_f64(loss.value(&p, &target)),
    );
    if value_only.to_bits() != value.to_bits() {
        return Err(format!(
            "`Loss::value` gives {value_only:e}, `loss_batch` {value:e}"
        ));
    }
    c.all_used()?;
    Ok(c.values.get())
}

// ---------------------------------------------------------------- kind: conv1d

/// Reads `key`, recorded channel-first as `[B][C][N]` (PyTorch's `[batch][channel][time]`),
/// into constnet's time-major windows `[B][N][C]`.
fn windows<T: Scalar, const C: usize, const N: usize, const B: usize>(
    c: &Case,
    key: &str,
) -> Result<[[[T; C]; N]; B], String> {
    let v = c.floats(key)?;
    if v.len() != B * C * N {
        return Err(format!(
            "`{key}`: expected {B}x{C}x{N} values, found {}",
            v.len()
        ));
    }
    Ok(core::array::from_fn(|b| {
        core::array::from_fn(|t| core::array::from_fn(|ch| T::from_f64(v[(b * C + ch) * N + t])))
    }))
}

/// Time-major windows back in the files' channel-first order.
fn channel_first<T: Scalar, const C: usize, const N: usize>(w: &[[[T; C]; N]]) -> Vec<f64> {
    let mut out = Vec::with_capacity(w.len() * C * N);
    for sample in w {
        for ch in 0..C {
            out.extend(sample.iter().map(|frame| Scalar::to_f64(frame[ch])));
        }
    }
    out
}

/// The streaming check of a stride-1 case: writes into `y` every output frame the causal
/// stream reproduces and returns how many.
type StreamCheck<L, X, Y> = fn(&L, &X, &mut Y) -> usize;

/// `nn.Conv1d` then the activation: forward (batched, single-sample and, for stride 1,
/// streaming), pre-activations, and every gradient.
#[allow(clippy::type_complexity)]
fn conv1d<
    T: Scalar,
    A: ActivationFn<T> + FromCase,
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const L: usize,
    const L_OUT: usize,
    const S: usize,
    const P: usize,
    const D: usize,
    const G: usize,
    const CG: usize,
    const B: usize,
>(
    c: &Case,
    stream: Option<
        StreamCheck<
            Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, S, P, D, G, CG>,
            [[T; C_IN]; L],
            [[T; C_OUT]; L_OUT],
        >,
    >,
) -> Result<usize, String> {
    // The numbers the type was built from (build.rs), read again.
    for (key, n) in [
        ("batch", B),
        ("in_channels", C_IN),
        ("out_channels", C_OUT),
        ("kernel_size", K),
        ("length", L),
        ("out_length", L_OUT),
        ("stride", S),
        ("padding", P),
        ("dilation", D),
        ("groups", G),
    ] {
        if c.int(key)? != n {
            return Err(format!("`{key}` differs from the type built for it ({n})"));
        }
    }
    if c.word("padding_mode")? != "zeros" {
        return Err("only `padding_mode: zeros` is supported".into());
    }
    let w = c.floats("weight")?;
    if w.len() != C_OUT * CG * K {
        return Err(format!(
            "`weight`: expected {C_OUT}x{CG}x{K} values, found {}",
            w.len()
        ));
    }
    let weight = core::array::from_fn(|o| {
        core::array::from_fn(|ch| core::array::from_fn(|k| T::from_f64(w[(o * CG + ch) * K + k])))
    });
    let layer = Conv1d::<C_IN, C_OUT, K, L, L_OUT, A, T, S, P, D, G, CG>::from_pytorch(
        weight,
        vector(c, "bias")?,
    )
    .with_activation(A::from_case(c)?);
    let x: [[[T; C_IN]; L]; B] = windows(c, "input")?;
    let dy: [[[T; C_OUT]; L_OUT]; B] = windows(c, "grad_output")?;

    let mut y = [[[T::zero(); C_OUT]; L_OUT]; B];
    let mut cache =
        <Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, S, P, D, G, CG> as Layer>::BatchCache::<B>::zeros();
    let mut train = layer;
    train.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &channel_first(&y))?;
    let z: Vec<[[T; C_OUT]; L_OUT]> = cache.iter().map(|s| s.z).collect();
    c.check("z", &channel_first(&z))?;
    let mut y_inference = [[[T::zero(); C_OUT]; L_OUT]; B];
    let mut scratch =
        <Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, S, P, D, G, CG> as Layer>::BatchCache::<B>::zeros();
    layer.forward_batch(&x, &mut y_inference, &mut scratch);
    c.check("output", &channel_first(&y_inference))?;
    let single: [[[T; C_OUT]; L_OUT]; B] = core::array::from_fn(|b| layer.forward(&x[b]));
    c.check("output", &channel_first(&single))?;
    if let Some(stream) = stream {
        // Stride 1: the causal stream, shifted by the padding, is the same layer.
        let mut streamed = y;
        let mut frames = 0;
        for (yb, xb) in streamed.iter_mut().zip(&x) {
            frames += stream(&layer, xb, yb);
        }
        if frames == 0 {
            return Err("the stream reproduced no output frame".into());
        }
        c.check("output", &channel_first(&streamed))?;
    }

    let mut grads = Conv1d::<C_IN, C_OUT, K, L, L_OUT, A, T, S, P, D, G, CG>::zeros();
    let mut dx = [[[T::zero(); C_IN]; L]; B];
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    c.check(
        "grad.weight",
        &to_f64(grads.weights().as_flattened().as_flattened()),
    )?;
    c.check("grad.bias", &to_f64(grads.bias()))?;
    c.check("grad.input", &channel_first(&dx))?;
    // Without the input gradient, the same parameter gradients.
    train.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    let mut params_only = Conv1d::<C_IN, C_OUT, K, L, L_OUT, A, T, S, P, D, G, CG>::zeros();
    layer.backward_batch_params(&x, &y, &mut cache, &dy, &mut params_only);
    c.check(
        "grad.weight",
        &to_f64(params_only.weights().as_flattened().as_flattened()),
    )?;
    c.check("grad.bias", &to_f64(params_only.bias()))?;
    c.all_used()?;
    Ok(c.values.get())
}

/// Streams one sample through a stride-1 layer: its `L` frames, then `P` zero frames (the
/// right padding). Stream output `n` sees input frames `n − H ..= n` (`H = D·(K − 1)`), which
/// is PyTorch's output `t = n − H + P`; every `t` in range is written into `y`.
fn conv1d_stream<
    T: Scalar,
    A: ActivationFn<T>,
    const C_IN: usize,
    const C_OUT: usize,
    const K: usize,
    const L: usize,
    const L_OUT: usize,
    const P: usize,
    const D: usize,
    const G: usize,
    const CG: usize,
    const H: usize,
>(
    layer: &Conv1d<C_IN, C_OUT, K, L, L_OUT, A, T, 1, P, D, G, CG>,
    x: &[[T; C_IN]; L],
    y: &mut [[T; C_OUT]; L_OUT],
) -> usize {
    let mut stream = Conv1dStream::<C_IN, H, T>::new();
    let zero = [T::zero(); C_IN];
    let mut written = 0;
    for n in 0..L + P {
        let out = layer.step(&mut stream, x.get(n).unwrap_or(&zero));
        if let Some(t) = (n + P).checked_sub(H).filter(|&t| t < L_OUT) {
            y[t] = out;
            written += 1;
        }
    }
    written
}

// ---------------------------------------------------------------- 2-D layers

/// A batch of NCHW images (the files' layout) as channels-last `[B][H][W][C]`.
#[allow(clippy::type_complexity)]
fn images<T: Scalar, const C: usize, const H: usize, const W: usize, const B: usize>(
    c: &Case,
    key: &str,
) -> Result<Box<[[[[T; C]; W]; H]; B]>, String> {
    let v = c.floats(key)?;
    if v.len() != B * C * H * W {
        return Err(format!(
            "`{key}`: expected {B}x{C}x{H}x{W} values, found {}",
            v.len()
        ));
    }
    let mut out = Box::new([[[[T::zero(); C]; W]; H]; B]);
    for (b, image) in out.iter_mut().enumerate() {
        for (i, row) in image.iter_mut().enumerate() {
            for (j, pixel) in row.iter_mut().enumerate() {
                for (ch, value) in pixel.iter_mut().enumerate() {
                    *value = T::from_f64(v[((b * C + ch) * H + i) * W + j]);
                }
            }
        }
    }
    Ok(out)
}

/// Channels-last images back in the files' NCHW order.
fn nchw<T: Scalar, const C: usize, const H: usize, const W: usize>(
    images: &[[[[T; C]; W]; H]],
) -> Vec<f64> {
    let mut out = Vec::with_capacity(images.len() * C * H * W);
    for image in images {
        for ch in 0..C {
            for row in image {
                out.extend(row.iter().map(|pixel| Scalar::to_f64(pixel[ch])));
            }
        }
    }
    out
}

/// Checks that the case's int keys are the numbers its type was built from.
fn same_ints(c: &Case, pairs: &[(&str, usize)]) -> Result<(), String> {
    for &(key, n) in pairs {
        if c.int(key)? != n {
            return Err(format!("`{key}` differs from the type built for it ({n})"));
        }
    }
    Ok(())
}

/// Checks that the case's pair keys (height, width) are the numbers its type was built from.
fn same_pairs(c: &Case, pairs: &[(&str, [usize; 2])]) -> Result<(), String> {
    for &(key, n) in pairs {
        if c.ints(key)? != n {
            return Err(format!(
                "`{key}` differs from the type built for it ({n:?})"
            ));
        }
    }
    Ok(())
}

/// `nn.Conv2d` then the activation: forward (batched and single-sample), pre-activations and
/// every gradient, on channels-last images.
#[allow(clippy::type_complexity)]
fn conv2d<
    T: Scalar,
    A: ActivationFn<T> + FromCase,
    O: Conv2dOptions,
    const C_IN: usize,
    const C_OUT: usize,
    const KH: usize,
    const KW: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    const CG: usize,
    const B: usize,
>(
    c: &Case,
) -> Result<usize, String> {
    type L<
        A,
        T,
        O,
        const CI: usize,
        const CO: usize,
        const KH: usize,
        const KW: usize,
        const H: usize,
        const W: usize,
        const HO: usize,
        const WO: usize,
        const CG: usize,
    > = Conv2d<CI, CO, KH, KW, H, W, HO, WO, A, T, O, CG>;
    same_ints(
        c,
        &[
            ("batch", B),
            ("in_channels", C_IN),
            ("out_channels", C_OUT),
            ("height", H),
            ("width", W),
            ("groups", C_IN / CG),
            ("out_height", H_OUT),
            ("out_width", W_OUT),
        ],
    )?;
    same_pairs(
        c,
        &[
            ("kernel_size", [KH, KW]),
            ("stride", O::STRIDE),
            ("padding", O::PADDING),
            ("dilation", O::DILATION),
        ],
    )?;
    if c.word("padding_mode")? != "zeros" || c.boolean("bias")? != O::BIAS {
        return Err("padding mode or bias differ from the type built for them".into());
    }
    let w = c.floats("weight")?;
    if w.len() != C_OUT * CG * KH * KW {
        return Err(format!(
            "`weight`: expected {} values",
            C_OUT * CG * KH * KW
        ));
    }
    let mut weight = Box::new([[[[T::zero(); KW]; KH]; CG]; C_OUT]);
    for (n, &value) in w.iter().enumerate() {
        let (o, rest) = (n / (CG * KH * KW), n % (CG * KH * KW));
        let (ch, rest) = (rest / (KH * KW), rest % (KH * KW));
        weight[o][ch][rest / KW][rest % KW] = T::from_f64(value);
    }
    let bias: [T; C_OUT] = if O::BIAS {
        vector(c, "bias_values")?
    } else {
        [T::zero(); C_OUT]
    };
    let layer =
        L::<A, T, O, C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, CG>::from_pytorch(&weight, &bias)
            .with_activation(A::from_case(c)?);
    let x = images::<T, C_IN, H, W, B>(c, "input")?;
    let dy = images::<T, C_OUT, H_OUT, W_OUT, B>(c, "grad_output")?;
    let mut y = Box::new([[[[T::zero(); C_OUT]; W_OUT]; H_OUT]; B]);
    let mut cache = Box::new(<<L<A, T, O, C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, CG> as Layer>::BatchCache<B> as Zeros>::zeros());
    let mut train = layer;
    train.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &nchw(&y[..]))?;
    let z: Vec<[[[T; C_OUT]; W_OUT]; H_OUT]> = cache.iter().map(|s| s.z).collect();
    c.check("z", &nchw(&z))?;
    let single: Vec<[[[T; C_OUT]; W_OUT]; H_OUT]> = x.iter().map(|xb| layer.forward(xb)).collect();
    c.check("output", &nchw(&single))?;
    let mut grads = L::<A, T, O, C_IN, C_OUT, KH, KW, H, W, H_OUT, W_OUT, CG>::zeros();
    let mut dx = Box::new([[[[T::zero(); C_IN]; W]; H]; B]);
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    let pytorch_weight: Vec<f64> = (0..C_OUT * CG * KH * KW)
        .map(|n| {
            let (o, rest) = (n / (CG * KH * KW), n % (CG * KH * KW));
            let (ch, rest) = (rest / (KH * KW), rest % (KH * KW));
            grads.weight(o, ch, rest / KW, rest % KW).to_f64()
        })
        .collect();
    c.check("grad.weight", &pytorch_weight)?;
    if O::BIAS {
        c.check("grad.bias", &to_f64(grads.bias()))?;
    }
    c.check("grad.input", &nchw(&dx[..]))?;
    c.all_used()?;
    Ok(c.values.get())
}

/// Max, average and global-average pooling: forward (batched and single-sample) and the
/// input gradient.
fn pool2d<
    T: Scalar,
    P: Layer<Scalar = T> + Zeros,
    const C: usize,
    const H: usize,
    const W: usize,
    const H_OUT: usize,
    const W_OUT: usize,
    const B: usize,
>(
    c: &Case,
    global: bool,
) -> Result<usize, String>
where
    P::Input: PoolImage<T, C, H, W>,
    P::Output: PoolOutput<T, C, H_OUT, W_OUT>,
{
    same_ints(
        c,
        &[
            ("batch", B),
            ("channels", C),
            ("height", H),
            ("width", W),
            ("out_height", H_OUT),
            ("out_width", W_OUT),
        ],
    )?;
    if !global {
        let _ = (
            c.ints("kernel_size")?,
            c.ints("stride")?,
            c.ints("padding")?,
        );
        let _ = c.boolean("ceil_mode")?;
        match c.word("op")? {
            "max" => {
                c.word("padding_value")?;
            }
            _ => {
                c.boolean("count_include_pad")?;
            }
        }
    } else {
        c.word("op")?;
    }
    let pool = P::zeros();
    let x = images::<T, C, H, W, B>(c, "input")?;
    let dy = images::<T, C, H_OUT, W_OUT, B>(c, "grad_output")?;
    let x: Vec<P::Input> = x.iter().map(P::Input::from_image).collect();
    let dy: Vec<P::Output> = dy.iter().map(P::Output::from_image).collect();
    let mut y = Vec::new();
    let mut dx = Vec::new();
    for (xb, dyb) in x.iter().zip(&dy) {
        let (yb, cache) = pool.forward_train(xb, &mut TrainCtx::new(0));
        if P::Output::to_image(&pool.forward(xb)) != P::Output::to_image(&yb) {
            return Err("forward and training forward differ".into());
        }
        y.push(P::Output::to_image(&yb));
        dx.push(P::Input::to_image(&pool.backward(
            &cache,
            dyb,
            &mut P::zeros(),
        )));
    }
    c.check("output", &nchw(&y))?;
    c.check("grad.input", &nchw(&dx))?;
    c.all_used()?;
    Ok(c.values.get())
}

/// A pool's input: a channels-last image.
trait PoolImage<T, const C: usize, const H: usize, const W: usize> {
    fn from_image(image: &[[[T; C]; W]; H]) -> Self;
    fn to_image(&self) -> [[[T; C]; W]; H];
}

impl<T: Scalar, const C: usize, const H: usize, const W: usize> PoolImage<T, C, H, W>
    for [[[T; C]; W]; H]
{
    fn from_image(image: &[[[T; C]; W]; H]) -> Self {
        *image
    }
    fn to_image(&self) -> [[[T; C]; W]; H] {
        *self
    }
}

/// A pool's output: an image, or (global pooling) one pixel as `[T; C]`.
trait PoolOutput<T, const C: usize, const H: usize, const W: usize> {
    fn from_image(image: &[[[T; C]; W]; H]) -> Self;
    fn to_image(&self) -> [[[T; C]; W]; H];
}

impl<T: Scalar, const C: usize, const H: usize, const W: usize> PoolOutput<T, C, H, W>
    for [[[T; C]; W]; H]
{
    fn from_image(image: &[[[T; C]; W]; H]) -> Self {
        *image
    }
    fn to_image(&self) -> [[[T; C]; W]; H] {
        *self
    }
}

impl<T: Scalar, const C: usize> PoolOutput<T, C, 1, 1> for [T; C] {
    fn from_image(image: &[[[T; C]; 1]; 1]) -> Self {
        image[0][0]
    }
    fn to_image(&self) -> [[[T; C]; 1]; 1] {
        [[*self]]
    }
}

/// `nn.BatchNorm2d`: training-mode forward and backward (statistics over `B·H·W`), the
/// running statistics, eval-mode forward.
fn batch_norm2d<
    T: Scalar,
    const C: usize,
    const H: usize,
    const W: usize,
    const B: usize,
    const E: usize,
>(
    c: &Case,
) -> Result<usize, String> {
    same_ints(
        c,
        &[("batch", B), ("channels", C), ("height", H), ("width", W)],
    )?;
    let eps = c.float("eps")?;
    let mut layer = BatchNorm2d::<C, H, W, T>::from_norm(
        layers::BatchNorm::<C, T>::from_affine(vector(c, "weight")?, vector(c, "bias")?)
            .with_eps(eps)
            .with_momentum(c.float("momentum")?),
    );
    layer.set_running_mean(vector(c, "running_mean")?);
    layer.set_running_var(vector(c, "running_var")?);
    let x = images::<T, C, H, W, B>(c, "input")?;
    let dy = images::<T, C, H, W, B>(c, "grad_output")?;
    let mut y = Box::new([[[[T::zero(); C]; W]; H]; B]);
    let mut cache = Box::new(<<BatchNorm2d<C, H, W, T> as Layer>::BatchCache<B> as Zeros>::zeros());
    layer.forward_train_batch(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
    c.check("output", &nchw(&y[..]))?;
    let stats: Vec<(f64, f64)> = (0..C)
        .map(|ch| {
            mean_and_var(
                x[0][0][0][ch],
                cache.normalized[0][0][0][ch],
                cache.stats.inv_std[ch],
                eps,
            )
        })
        .collect();
    c.check("batch_mean", &stats.iter().map(|s| s.0).collect::<Vec<_>>())?;
    c.check("batch_var", &stats.iter().map(|s| s.1).collect::<Vec<_>>())?;
    c.check("running_mean_after", &to_f64(layer.running_mean()))?;
    c.check("running_var_after", &to_f64(layer.running_var()))?;
    let mut grads = BatchNorm2d::<C, H, W, T>::zeros();
    let mut dx = Box::new([[[[T::zero(); C]; W]; H]; B]);
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    c.check("grad.input", &nchw(&dx[..]))?;
    c.check("grad.weight", &to_f64(&grads.weight))?;
    c.check("grad.bias", &to_f64(&grads.bias))?;
    let eval_x = images::<T, C, H, W, E>(c, "eval_input")?;
    let single: Vec<[[[T; C]; W]; H]> = eval_x.iter().map(|xb| layer.forward(xb)).collect();
    c.check("eval_output", &nchw(&single))?;
    let mut eval_y = Box::new([[[[T::zero(); C]; W]; H]; E]);
    let mut scratch =
        Box::new(<<BatchNorm2d<C, H, W, T> as Layer>::BatchCache<E> as Zeros>::zeros());
    layer.forward_batch(&eval_x, &mut eval_y, &mut scratch);
    c.check("eval_output", &nchw(&eval_y[..]))?;
    c.all_used()?;
    Ok(c.values.get())
}

/// A `cnn_train` case's parameters and buffers, in the network's walk order, against its
/// `state_keys` (PyTorch's state_dict order, which the walk follows layer by layer: weight,
/// bias, running mean, running variance; main path, then shortcut).
fn walk_keys<N: Named>(
    net: &N,
    keys: &[String],
    mut f: impl FnMut(&str, TensorInfo, &[N::Scalar]) -> Result<(), String>,
) -> Result<(), String> {
    let mut index = 0;
    let mut result = Ok(());
    net.visit_tensors(0, &mut |info, data| {
        if result.is_ok() {
            result = match keys.get(index) {
                Some(key) => f(key, info, data),
                None => Err(format!(
                    "`state_keys` has {} names, the network more tensors",
                    keys.len()
                )),
            };
        }
        index += 1;
    });
    result?;
    if index != keys.len() {
        return Err(format!(
            "`state_keys` has {} names, the network {index} tensors",
            keys.len()
        ));
    }
    Ok(())
}

/// A tensor in PyTorch's order.
fn pytorch_order<T: Scalar>(info: &TensorInfo, data: &[T]) -> Vec<f64> {
    (0..data.len())
        .map(|n| data[info.storage_index(n)].to_f64())
        .collect()
}

/// Checks every parameter and buffer against `{prefix}.KEY` (gradients: trained tensors only).
/// A gradient PyTorch records as rounding noise next to the case's largest gradient (a bias
/// before a BatchNorm) must be noise here too ([`Case::check_noise`]).
fn check_state<N: Named>(
    c: &Case,
    net: &N,
    keys: &[String],
    prefix: &str,
    trained_only: bool,
    drifting: &mut Vec<String>,
    drift: f64,
) -> Result<(), String> {
    let mut scale = 0.0f64;
    if trained_only {
        for key in keys {
            if let Ok(values) = c.floats(&format!("{prefix}.{key}")) {
                scale = values.iter().fold(scale, |m, v| m.max(v.abs()));
            }
        }
    }
    walk_keys(net, keys, |key, info, data| {
        if trained_only && !info.trained {
            return Ok(());
        }
        let name = format!("{prefix}.{key}");
        if trained_only && c.is_noise(&name, scale)? {
            drifting.push(key.to_string());
            // The next BatchNorm's running mean follows the bias it normalizes away.
            if let Some(mean) = keys
                .iter()
                .skip_while(|k| *k != key)
                .find(|k| k.ends_with(".running_mean"))
            {
                drifting.push(mean.clone());
            }
            return c.check_noise(&name, &pytorch_order(&info, data), scale);
        }
        if drifting.iter().any(|k| k == key) {
            return c.check_drift(&name, &pytorch_order(&info, data), drift);
        }
        c.check(&name, &pytorch_order(&info, data))
    })
}

/// A small CNN (`conv_pool_dense`, `ds_cnn` or `resnet`) trained `steps` optimizer steps with
/// cross-entropy, BatchNorm in training mode: logits, loss, every gradient and the input
/// gradient at the initial parameters, every parameter and buffer after each step, then the
/// eval-mode logits.
#[allow(clippy::type_complexity)]
fn cnn_train<
    T: Scalar,
    N,
    O: Optimizer<N>,
    const CI: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const B: usize,
    const E: usize,
>(
    c: &Case,
    make_optimizer: fn(&Case) -> Result<O, String>,
) -> Result<usize, String>
where
    N: Layer<Scalar = T, Input = [[[T; CI]; W]; H], Output = [T; K]> + Named,
{
    same_ints(
        c,
        &[
            ("batch", B),
            ("in_channels", CI),
            ("height", H),
            ("width", W),
            ("classes", K),
            ("eval_batch", E),
        ],
    )?;
    let _ = (c.word("arch")?, c.int("channels")?);
    for key in ["kernel_size", "stride", "padding"] {
        let _ = c.ints(key);
    }
    if c.word("loss.reduction")? != "mean" {
        return Err("only `loss.reduction: mean` is supported".into());
    }
    let keys = c.words("state_keys")?.to_vec();
    let mut net = Box::new(N::zeros());
    // Initial parameters and buffers, in PyTorch's order.
    let mut loaded: Result<(), String> = Ok(());
    let mut index = 0;
    net.visit_tensors_mut(0, &mut |info, data| {
        if loaded.is_err() {
            return;
        }
        loaded = (|| {
            let key = keys
                .get(index)
                .ok_or("`state_keys` is shorter than the network")?;
            let values = c.floats(&format!("init.{key}"))?;
            if values.len() != data.len() {
                return Err(format!(
                    "`init.{key}`: {} values for a tensor of {}",
                    values.len(),
                    data.len()
                ));
            }
            for (n, &v) in values.iter().enumerate() {
                data[info.storage_index(n)] = T::from_f64(v);
            }
            Ok(())
        })();
        index += 1;
    });
    loaded?;
    let (eps, momentum) = (c.float("bn.eps")?, c.float("bn.momentum")?);
    net.visit_settings_mut(0, &mut |_, name, value| match (name, value) {
        ("eps", SettingMut::Real(v)) => *v = eps,
        ("momentum", SettingMut::Real(v)) => *v = momentum,
        _ => {}
    });
    let x = images::<T, CI, H, W, B>(c, "input")?;
    let targets: [usize; B] = c
        .ints("target")?
        .try_into()
        .map_err(|_| format!("`target`: expected {B} class indices"))?;
    let mut optimizer = make_optimizer(c)?;
    let mut ctx = TrainCtx::new(0);
    let mut drifting = Vec::new();
    for step in 1..=c.int("steps")? {
        let mut grads = Box::new(N::zeros());
        let mut cache = Box::new(<N::BatchCache<B> as Zeros>::zeros());
        let (mut y, mut dy) = ([[T::zero(); K]; B], [[T::zero(); K]; B]);
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        let loss = CrossEntropy.loss_batch(&y, &targets, &mut dy).to_f64();
        c.check(&format!("step{step}.loss_value"), &[loss])?;
        let mut dx = Box::new([[[[T::zero(); CI]; W]; H]; B]);
        net.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
        if step == 1 {
            c.check("output", &flat(&y))?;
            c.check("loss_value", &[loss])?;
            check_state(c, &*grads, &keys, "grad", true, &mut drifting, 0.0)?;
            c.check("grad.input", &nchw(&dx[..]))?;
        }
        optimizer.step(&mut net, &grads);
        // A parameter whose gradient is rounding noise moves by at most `lr` per step in
        // each implementation (Adam's step is at most about `lr`), whichever noise it sees.
        let drift = 2.0 * step as f64 * c.float("optimizer.lr")?;
        check_state(
            c,
            &*net,
            &keys,
            &format!("step{step}"),
            false,
            &mut drifting,
            drift,
        )?;
    }
    let eval_x = images::<T, CI, H, W, E>(c, "eval_input")?;
    let mut eval_y = [[T::zero(); K]; E];
    let mut scratch = Box::new(<N::BatchCache<E> as Zeros>::zeros());
    net.forward_batch(&eval_x, &mut eval_y, &mut scratch);
    if drifting.is_empty() {
        c.check("eval_output", &flat(&eval_y))?;
    } else {
        // The eval logits see the drifting bias and running mean through `b − running_mean`:
        // an absolute error, compared per key.
        c.check_per_key("eval_output", &flat(&eval_y))?;
    }
    c.all_used()?;
    Ok(c.values.get())
}

// ---------------------------------------------------------------- main

/// A recorded key is rounding noise when every value is at most this fraction of the largest
/// value of its related keys (in f64: a few ulp of their sums).
const NOISE: f64 = 1e-12;
/// How large rounding noise may be in f32, as a fraction of the same scale.
const F32_NOISE: f64 = 1e-5;

/// The change the f64 sensitivity self-test makes to one recorded value, in units of its
/// rule's error (for the key's largest value: relative).
const PERTURBATION: f64 = 1e-10;
/// The change the f32 sensitivity self-test makes, in multiples of the rule's f32 tolerance.
const F32_PERTURBATION_TOLERANCES: f64 = 10.0;

impl Dtype {
    /// The change the sensitivity self-test makes to a value of a key under `rule`, in units
    /// of that rule's error.
    fn perturbation(self, rule: Rule) -> f64 {
        match self {
            Dtype::F64 => PERTURBATION,
            Dtype::F32 => F32_PERTURBATION_TOLERANCES * self.tolerance(rule),
        }
    }
}

/// A pseudo-random index below `len` (`len >= 2`) other than `not`, from a xorshift64
/// generator seeded with the FNV-1a hash of `seed`: the same entry on every run.
fn pseudo_random_index(seed: &str, len: usize, not: usize) -> usize {
    let mut x = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    for _ in 0..3 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    let index = (x % (len as u64 - 1)) as usize;
    if index >= not { index + 1 } else { index }
}

/// Runs one generated case on `file`, returning the checked case on success.
fn run(case: &GeneratedCase, file: CaseFile) -> Result<Case, String> {
    let c = Case::new(file, Dtype::of(case.dtype))?;
    (case.run)(&c)?;
    Ok(c)
}

/// What the sensitivity self-test found for one case.
#[derive(Default)]
struct Sensitivity {
    /// The changes made (and caught or not).
    changes: usize,
    /// The keys perturbed.
    keys: Vec<String>,
    zero_keys: usize,
    missed: Vec<String>,
}

/// Sensitivity self-test of one case that passed in its scalar type: for every compared key
/// with a nonzero value, changes its largest-|value| entry and a pseudo-random other entry,
/// one at a time, by [`Dtype::perturbation`] of the key's rule (in that rule's error units),
/// reruns the case, and requires a failure that names that key. Keys that are entirely zero
/// are skipped and counted.
fn sensitivity(case: &GeneratedCase, file: &CaseFile, checked: &Case) -> Sensitivity {
    let mut s = Sensitivity::default();
    let dtype = checked.dtype;
    for (key, &rule) in checked.compared.borrow().iter() {
        let want = file.floats(key).expect("a compared key holds floats");
        let Some((largest, scale)) = want
            .iter()
            .map(|w| w.abs())
            .enumerate()
            .filter(|(_, w)| *w != 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            s.zero_keys += 1;
            continue;
        };
        s.keys.push(key.clone());
        let mut indices = vec![largest];
        if want.len() > 1 {
            let seed = format!("{}/{key}", case.name);
            indices.push(pseudo_random_index(&seed, want.len(), largest));
        }
        for index in indices {
            let w = want[index];
            // The denominator of the rule's error at this entry.
            let unit = match rule {
                Rule::Value => w.abs().max(dtype.floor() * scale),
                Rule::Key | Rule::Zero => scale,
            };
            let changed = w + (dtype.perturbation(rule) * unit).copysign(w);
            s.changes += 1;
            let caught = match file
                .with_value(key, index, changed)
                .and_then(|f| run(case, f))
            {
                Ok(_) => "passed".to_string(),
                Err(why) if why.starts_with(&format!("`{key}`")) => continue,
                Err(why) => format!("failed on something else: {why}"),
            };
            s.missed
                .push(format!("`{key}`[{index}] {w:e} -> {changed:e}: {caught}"));
        }
    }
    s
}

fn main() -> ExitCode {
    if let Ok(dir) = std::env::var("GOLDEN_DIR") {
        // Relative to the repository's root, as in build.rs.
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
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
    println!(
        "golden: constnet built {}",
        if cfg!(feature = "std") {
            "with std"
        } else {
            "without std (libm)"
        }
    );
    if CASES.is_empty() {
        println!("golden: no case file (*.txt) found");
        println!("golden: 0 passed, 1 failed");
        return ExitCode::FAILURE;
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    // Worst error per (dtype, rule), with the case and value it came from.
    let mut worst: [[Worst; 3]; 2] = Default::default();
    // Sensitivity changes made per scalar type (f64, f32), all-zero keys, changes missed.
    let (mut changes, mut zero_keys, mut missed) = ([0usize; 2], 0usize, 0usize);
    let mut perturbed_keys: BTreeSet<(String, String)> = BTreeSet::new();
    for case in CASES {
        let dtype = Dtype::of(case.dtype);
        let file = std::fs::read_to_string(case.path)
            .map_err(|e| format!("cannot read {}: {e}", case.path))
            .and_then(|text| CaseFile::parse(&text));
        let result = file.clone().and_then(|f| run(case, f)).and_then(|checked| {
            for (slot, w) in worst[dtype as usize].iter_mut().zip(checked.worst.take()) {
                if !w.at.is_empty() {
                    slot.update(w.error, || format!("{} {}", case.name, w.at));
                }
            }
            let s = sensitivity(case, file.as_ref().unwrap(), &checked);
            for key in s.keys {
                perturbed_keys.insert((checked.kind.clone(), key));
            }
            changes[dtype as usize] += s.changes;
            zero_keys += s.zero_keys;
            missed += s.missed.len();
            if !s.missed.is_empty() {
                return Err(format!(
                    "sensitivity: a change not caught in {}",
                    s.missed.join("; ")
                ));
            }
            Ok(format!(
                "{} values, {} changes caught",
                checked.values.get(),
                s.changes
            ))
        });
        match result {
            Ok(what) => {
                passed += 1;
                println!("ok   {} [{}]: {what}", case.name, case.dtype);
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {} [{}]: {why}", case.name, case.dtype);
            }
        }
    }
    for (dtype, rules) in [Dtype::F64, Dtype::F32].iter().zip(&worst) {
        for (rule, w) in RULES.iter().zip(rules) {
            let tol = dtype.tolerance(*rule);
            let name = rule.name();
            if w.at.is_empty() {
                println!("golden: worst {dtype} {name} error: no such key (tolerance {tol:.0e})");
            } else {
                println!(
                    "golden: worst {dtype} {name} error {:.2e} (tolerance {tol:.0e}) at {}",
                    w.error, w.at
                );
            }
        }
    }
    // Where there are `mlp` cases, the self-test must have reached the numbers a misplaced
    // epsilon moves: the final loss and a gradient.
    if perturbed_keys.iter().any(|(kind, _)| kind == "mlp") {
        for key in ["final_loss_value", "grad.layer0.weight"] {
            if !perturbed_keys.contains(&("mlp".to_string(), key.to_string())) {
                println!("golden sensitivity: no `mlp` case had its `{key}` perturbed");
                failed += 1;
            }
        }
    }
    println!(
        "golden sensitivity: {} f64 changes of {PERTURBATION:.0e} and {} f32 changes of \
         {F32_PERTURBATION_TOLERANCES}x the tolerance (the largest and a pseudo-random entry \
         of every key), {} ({zero_keys} all-zero keys skipped)",
        changes[Dtype::F64 as usize],
        changes[Dtype::F32 as usize],
        if missed == 0 {
            "all caught".to_string()
        } else {
            format!("{missed} NOT caught")
        }
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
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    c.check("grad.input", &flat(&dx))?;
    c.check("grad.weight", &to_f64(&grads.weight))?;
    c.check("grad.bias", &to_f64(&grads.bias))?;
    c.all_used()?;
    Ok(c.values.get())
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
        .map(|f| mean_and_var(x[0][f], cache.normalized[0][f], cache.stats.inv_std[f], eps))
        .collect();
    c.check("batch_mean", &stats.iter().map(|s| s.0).collect::<Vec<_>>())?;
    c.check("batch_var", &stats.iter().map(|s| s.1).collect::<Vec<_>>())?;
    c.check("running_mean_after", &to_f64(layer.running_mean()))?;
    c.check("running_var_after", &to_f64(layer.running_var()))?;
    let mut grads = layers::BatchNorm::<F, T>::zeros();
    let mut dx = [[T::zero(); F]; B];
    layer.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
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
    Ok(c.values.get())
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

/// Adam's hyperparameters, and a check that the case's `optimizer.amsgrad` is the variant
/// the generated code built (`build.rs` picks the type from it).
fn adam_config(c: &Case, amsgrad: bool) -> Result<AdamConfig, String> {
    if c.boolean("optimizer.amsgrad")? != amsgrad {
        return Err("`optimizer.amsgrad` differs from the optimizer type built for it".into());
    }
    Ok(AdamConfig {
        lr: c.float("optimizer.lr")?,
        beta1: c.float("optimizer.beta1")?,
        beta2: c.float("optimizer.beta2")?,
        eps: c.float("optimizer.eps")?,
        weight_decay: c.float("optimizer.weight_decay")?,
    })
}

fn opt_adam<M: Params>(c: &Case) -> Result<Adam<M>, String> {
    Ok(Adam::new(adam_config(c, false)?))
}

fn opt_adam_amsgrad<M: Params + Clone + std::fmt::Debug>(
    c: &Case,
) -> Result<AdamAmsGrad<M>, String> {
    Ok(Adam::amsgrad(adam_config(c, true)?))
}

fn opt_adamw<M: Params>(c: &Case) -> Result<AdamW<M>, String> {
    Ok(AdamW::new(adam_config(c, false)?))
}

fn opt_adamw_amsgrad<M: Params + Clone + std::fmt::Debug>(
    c: &Case,
) -> Result<AdamWAmsGrad<M>, String> {
    Ok(AdamW::amsgrad(adam_config(c, true)?))
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
        let schedule: Option<Box<dyn LrSchedule>> = match c.word("scheduler")? {
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

// ---------------------------------------------------------------- kinds: gru, lstm, recurrent_train

use constnet::layers::{
    AllStates, GruState, LastState, LstmState, RecurrentCell, Sequence, SequenceCache,
};

/// A recurrent cell as the case files describe it: its gate order, its parameters under a
/// key prefix (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), its state (`h`, and `c` for
/// an LSTM) per sample.
trait GoldenCell<T: Scalar, const IN: usize, const H: usize>:
    RecurrentCell<Scalar = T, Input = [T; IN], Hidden = [T; H]> + std::fmt::Debug
{
    /// `gru` or `lstm`: the case's `kind`, or a `recurrent_train` case's `cell`.
    const NAME: &'static str;
    const GATE_ORDER: &'static [&'static str];
    fn load(&mut self, c: &Case, prefix: &str) -> Result<(), String>;
    fn check_params(&self, c: &Case, prefix: &str) -> Result<(), String>;
    /// Sample `b`'s state from the keys `h` (and `cell`, for an LSTM) of `[B][H]` values.
    fn read_state(c: &Case, h: &str, cell: &str, b: usize) -> Result<Self::State, String>;
    /// Checks the states of every sample against the keys `h` (and `cell`).
    fn check_states(c: &Case, states: &[Self::State], h: &str, cell: &str) -> Result<(), String>;
}

/// Reads `key` as `G` gate blocks of `R` rows of `C` values (PyTorch's `[G·R][C]`).
fn gate_blocks<T: Scalar, const G: usize, const R: usize, const C: usize>(
    c: &Case,
    key: &str,
) -> Result<[[[T; C]; R]; G], String> {
    let v = c.floats(key)?;
    if v.len() != G * R * C {
        return Err(format!(
            "`{key}`: expected {}x{C} values, found {}",
            G * R,
            v.len()
        ));
    }
    Ok(core::array::from_fn(|k| {
        core::array::from_fn(|r| core::array::from_fn(|i| T::from_f64(v[(k * R + r) * C + i])))
    }))
}

/// Row `b` of a `[B][N]` key (B taken from the key's length).
fn row_of<T: Scalar, const N: usize>(c: &Case, key: &str, b: usize) -> Result<[T; N], String> {
    let v = c.floats(key)?;
    if v.len() % N != 0 || v.len() < (b + 1) * N {
        return Err(format!("`{key}`: {} values is not rows of {N}", v.len()));
    }
    Ok(core::array::from_fn(|i| T::from_f64(v[b * N + i])))
}

macro_rules! golden_cell {
    ($cell:ident, $name:expr, $gates:expr, $order:expr) => {
        impl<T: Scalar, const IN: usize, const H: usize> GoldenCell<T, IN, H>
            for layers::$cell<IN, H, T>
        {
            const NAME: &'static str = $name;
            const GATE_ORDER: &'static [&'static str] = $order;
            fn load(&mut self, c: &Case, prefix: &str) -> Result<(), String> {
                self.set_weight_ih_rows(&gate_blocks::<T, $gates, H, IN>(
                    c,
                    &format!("{prefix}weight_ih"),
                )?);
                self.set_weight_hh_rows(&gate_blocks::<T, $gates, H, H>(
                    c,
                    &format!("{prefix}weight_hh"),
                )?);
                *self.bias_ih_mut() = gate_blocks::<T, 1, $gates, H>(c, &format!("{prefix}bias_ih"))?[0];
                *self.bias_hh_mut() = gate_blocks::<T, 1, $gates, H>(c, &format!("{prefix}bias_hh"))?[0];
                Ok(())
            }
            fn check_params(&self, c: &Case, prefix: &str) -> Result<(), String> {
                c.check(
                    &format!("{prefix}weight_ih"),
                    &to_f64(self.weight_ih_rows().as_flattened().as_flattened()),
                )?;
                c.check(
                    &format!("{prefix}weight_hh"),
                    &to_f64(self.weight_hh_rows().as_flattened().as_flattened()),
                )?;
                c.check(&format!("{prefix}bias_ih"), &to_f64(self.bias_ih().as_flattened()))?;
                c.check(&format!("{prefix}bias_hh"), &to_f64(self.bias_hh().as_flattened()))
            }
            golden_cell!(@state $cell);
        }
    };
    (@state Gru) => {
        fn read_state(c: &Case, h: &str, _cell: &str, b: usize) -> Result<Self::State, String> {
            Ok(GruState { h: row_of(c, h, b)? })
        }
        fn check_states(
            c: &Case,
            states: &[Self::State],
            h: &str,
            _cell: &str,
        ) -> Result<(), String> {
            let hs: Vec<f64> = states.iter().flat_map(|s| to_f64(&s.h)).collect();
            c.check(h, &hs)
        }
    };
    (@state Lstm) => {
        fn read_state(c: &Case, h: &str, cell: &str, b: usize) -> Result<Self::State, String> {
            Ok(LstmState { h: row_of(c, h, b)?, c: row_of(c, cell, b)? })
        }
        fn check_states(
            c: &Case,
            states: &[Self::State],
            h: &str,
            cell: &str,
        ) -> Result<(), String> {
            let hs: Vec<f64> = states.iter().flat_map(|s| to_f64(&s.h)).collect();
            c.check(h, &hs)?;
            let cs: Vec<f64> = states.iter().flat_map(|s| to_f64(&s.c)).collect();
            c.check(cell, &cs)
        }
    };
}

golden_cell!(Gru, "gru", 3, &["r", "z", "n"]);
golden_cell!(Lstm, "lstm", 4, &["i", "f", "g", "o"]);

/// The shape keys a recurrent case records, checked against the type the build made.
fn check_recurrent_shape<C: GoldenCell<T, IN, H>, T: Scalar, const IN: usize, const H: usize>(
    c: &Case,
    steps: usize,
    batch: usize,
) -> Result<(), String> {
    for (key, want) in [
        ("input_size", IN),
        ("hidden_size", H),
        ("seq_len", steps),
        ("batch", batch),
    ] {
        if c.int(key)? != want {
            return Err(format!("`{key}` differs from the type built for it"));
        }
    }
    if c.words("gate_order")? != C::GATE_ORDER {
        return Err(format!(
            "`gate_order`: {:?}, expected {:?}",
            c.words("gate_order")?,
            C::GATE_ORDER
        ));
    }
    Ok(())
}

/// Reads `key` as `B` sequences of `S` steps of `N` values (`[B][S][N]`).
fn sequences<T: Scalar, const N: usize, const S: usize, const B: usize>(
    c: &Case,
    key: &str,
) -> Result<Box<[[[T; N]; S]; B]>, String> {
    let v = c.floats(key)?;
    if v.len() != B * S * N {
        return Err(format!(
            "`{key}`: expected {B}x{S}x{N} values, found {}",
            v.len()
        ));
    }
    Ok(Box::new(core::array::from_fn(|b| {
        core::array::from_fn(|t| core::array::from_fn(|i| T::from_f64(v[(b * S + t) * N + i])))
    })))
}

/// Kinds `gru` and `lstm`: a sequence layer from the given initial state, every output and
/// the final state; the same outputs streamed step by step through the cell; backward with
/// the output and final-state gradients.
fn recurrent<T, C, const IN: usize, const H: usize, const S: usize, const B: usize>(
    c: &Case,
) -> Result<usize, String>
where
    T: Scalar,
    C: GoldenCell<T, IN, H>,
{
    check_recurrent_shape::<C, T, IN, H>(c, S, B)?;
    if c.kind != C::NAME {
        return Err(format!("kind `{}` run as `{}`", c.kind, C::NAME));
    }
    let mut layer = Sequence::<C, S, AllStates>::zeros();
    layer.cell.load(c, "")?;
    let x = sequences::<T, IN, S, B>(c, "input")?;
    let dy = sequences::<T, H, S, B>(c, "grad_output")?;
    let mut ys = Box::new([[[T::zero(); H]; S]; B]);
    let mut caches: Vec<SequenceCache<C, S>> = (0..B).map(|_| SequenceCache::zeros()).collect();
    let mut finals = Vec::new();
    for b in 0..B {
        let s0 = C::read_state(c, "h0", "c0", b)?;
        finals.push(layer.forward_train_from(&s0, &x[b], &mut ys[b], &mut caches[b]));
    }
    c.check("output", &to_f64(ys.as_flattened().as_flattened()))?;
    C::check_states(c, &finals, "h_n", "c_n")?;
    // Inference from the same state, and streaming one step at a time, give the same.
    let mut inference = Box::new([[[T::zero(); H]; S]; B]);
    let mut streamed = Box::new([[[T::zero(); H]; S]; B]);
    for b in 0..B {
        let s0 = C::read_state(c, "h0", "c0", b)?;
        inference[b] = layer.forward_from(&s0, &x[b]).0;
        let mut state = s0;
        for t in 0..S {
            layer.cell.step_state(&mut state, &x[b][t]);
            streamed[b][t] = *C::hidden(&state);
        }
    }
    c.check("output", &to_f64(inference.as_flattened().as_flattened()))?;
    c.check("output", &to_f64(streamed.as_flattened().as_flattened()))?;
    // Backpropagation through time.
    let mut grads = Sequence::<C, S, AllStates>::zeros();
    let mut dx = Box::new([[[T::zero(); IN]; S]; B]);
    let mut d_initial = Vec::new();
    for b in 0..B {
        let d_final = C::read_state(c, "grad_h_n", "grad_c_n", b)?;
        d_initial.push(layer.backward_from(
            &caches[b],
            &dy[b],
            &d_final,
            &mut grads,
            Some(&mut dx[b]),
        ));
    }
    grads.cell.check_params(c, "grad.")?;
    c.check("grad.input", &to_f64(dx.as_flattened().as_flattened()))?;
    C::check_states(c, &d_initial, "grad.h0", "grad.c0")?;
    c.all_used()?;
    Ok(c.values.get())
}

/// Kind `recurrent_train`: `seq![Sequence<cell, S, LastState>, Dense<H, OUT>]`, MSE, five Adam
/// steps through the batched `Layer` methods, as the `mlp` loop.
fn recurrent_train<
    T,
    C,
    const IN: usize,
    const H: usize,
    const OUT: usize,
    const S: usize,
    const B: usize,
>(
    c: &Case,
) -> Result<usize, String>
where
    T: Scalar,
    C: GoldenCell<T, IN, H>,
{
    type Net<C, T, const H: usize, const OUT: usize, const S: usize> =
        Chain<Sequence<C, S, LastState>, Dense<H, OUT, Identity, T>>;
    check_recurrent_shape::<C, T, IN, H>(c, S, B)?;
    if c.int("output_size")? != OUT {
        return Err("`output_size` differs from the type built for it".into());
    }
    for (key, want) in [
        ("cell", C::NAME),
        ("loss", "mse"),
        ("loss.reduction", "mean"),
        ("target_kind", "values"),
        ("optimizer", "adam"),
        ("clip", "none"),
        ("scheduler", "none"),
    ] {
        if c.word(key)? != want {
            return Err(format!("`{key}`: only `{want}` is supported"));
        }
    }
    let mut net = Net::<C, T, H, OUT, S>::zeros();
    net.first.cell.load(c, "cell.")?;
    net.second
        .set_weight_rows(&rows::<T, H, OUT>(c, "linear.weight")?);
    *net.second.bias_mut() = vector(c, "linear.bias")?;
    let check_net = |net: &Net<C, T, H, OUT, S>, prefix: &str| -> Result<(), String> {
        net.first.cell.check_params(c, &format!("{prefix}cell."))?;
        c.check(
            &format!("{prefix}linear.weight"),
            &flat(&net.second.weight_rows()),
        )?;
        c.check(&format!("{prefix}linear.bias"), &to_f64(net.second.bias()))
    };
    let x = sequences::<T, IN, S, B>(c, "input")?;
    let target: [[T; OUT]; B] = rows(c, "target")?;
    let mut ctx = TrainCtx::new(0);
    let mut cache = Box::new(<Net<C, T, H, OUT, S> as Layer>::BatchCache::<B>::zeros());
    let mut y = [[T::zero(); OUT]; B];
    net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
    c.check("h_n", &flat(&cache.hidden))?;
    c.check("output", &flat(&y))?;
    let single: [[T; OUT]; B] = core::array::from_fn(|b| net.forward(&x[b]));
    c.check("output", &flat(&single))?;
    let mut dy = [[T::zero(); OUT]; B];
    let value = Mse.loss_batch(&y, &target, &mut dy);
    c.check_one("loss_value", Scalar::to_f64(value))?;
    let mut grads = Net::<C, T, H, OUT, S>::zeros();
    let mut dx = Box::new([[[T::zero(); IN]; S]; B]);
    net.backward_batch(&x, &y, &mut cache, &dy, &mut dx, &mut grads);
    check_net(&grads, "grad.")?;
    c.check("grad.input", &to_f64(dx.as_flattened().as_flattened()))?;
    let mut adam = opt_adam::<Net<C, T, H, OUT, S>>(c)?;
    for k in 1..=c.int("steps")? {
        c.check_one(&format!("step{k}.lr"), adam.lr())?;
        grads.fill_zero();
        net.forward_train_batch(&x, &mut y, &mut cache, &mut ctx);
        let value = Mse.loss_batch(&y, &target, &mut dy);
        c.check_one(&format!("step{k}.loss_value"), Scalar::to_f64(value))?;
        net.backward_batch_params(&x, &y, &mut cache, &dy, &mut grads);
        adam.step(&mut net, &grads);
        check_net(&net, &format!("step{k}."))?;
    }
    let final_y: [[T; OUT]; B] = core::array::from_fn(|b| net.forward(&x[b]));
    c.check_one(
        "final_loss_value",
        Scalar::to_f64(Mse.value(&final_y, &target)),
    )?;
    c.all_used()?;
    Ok(c.values.get())
}
