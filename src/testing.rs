//! Finite-difference gradient checks and tolerant comparisons, public so users can check their
//! own layers and losses.
//!
//! A check compares the analytic gradients of `L = Σ r ⊙ f(x)` (with a fixed pseudo-random
//! `r`) against central differences `(L(θ+h) − L(θ−h)) / 2h`, for every input element and
//! every parameter. Run it in `f64`.

use core::fmt;

use crate::ctx::TrainCtx;
use crate::layer::Layer;
use crate::loss::Loss;
use crate::params::Params;
use crate::scalar::Scalar;
use crate::zeros::Zeros;

/// Step and tolerances of a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckConfig {
    /// Finite-difference step `h`.
    pub step: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (against the larger of the two magnitudes).
    pub rtol: f64,
}

impl Default for GradCheckConfig {
    /// `h = 1e-6`, `atol = 1e-6`, `rtol = 1e-5`: suited to `f64` and smooth functions.
    fn default() -> Self {
        GradCheckConfig {
            step: 1e-6,
            atol: 1e-6,
            rtol: 1e-5,
        }
    }
}

/// Where analytic and numeric gradients disagree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckError {
    /// `"input"` or `"parameter"`.
    pub what: &'static str,
    /// Sample index (batched checks) or 0.
    pub sample: usize,
    /// For a parameter: the tensor's index in [`Params::tensors`] order; 0 for inputs.
    pub tensor: usize,
    /// Element index inside the tensor or the input.
    pub index: usize,
    /// The backward pass's value.
    pub analytic: f64,
    /// The central difference.
    pub numeric: f64,
}

impl fmt::Display for GradCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient mismatch for {} (sample {}, tensor {}, element {}): analytic {:e}, numeric {:e}",
            self.what, self.sample, self.tensor, self.index, self.analytic, self.numeric
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for GradCheckError {}

/// `|got − want| <= atol + rtol·max(|got|, |want|)`.
pub fn close(got: f64, want: f64, atol: f64, rtol: f64) -> bool {
    (got - want).abs() <= atol + rtol * got.abs().max(want.abs())
}

/// Asserts `|got − want| <= tol·max(1, |want|)` element by element, naming the first mismatch.
///
/// ```
/// constnet::testing::assert_close(&[1.0, 2.0], &[1.0, 2.0 + 1e-12], 1e-9, "example");
/// ```
#[track_caller]
pub fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: length {} vs {}",
        got.len(),
        want.len()
    );
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g:e}, want {w:e} (|diff| {:e} > {tol:e}·max(1,|want|))",
            (g - w).abs()
        );
    }
}

/// A deterministic weight in (-1, 1) for output element `k` (a fixed projection, so the check
/// sees every output).
fn projection<T: Scalar>(k: usize) -> T {
    let v = num_traits::Float::fract((k as f64 + 1.0) * 0.618_033_988_749_895);
    T::from_f64(2.0 * v - 1.0 + 0.05)
}

/// `Σ_k r_k·y_k` over the scalars of a batch of outputs, in order.
fn project<T: Scalar, Y: Scalars<T>>(y: &[Y]) -> f64 {
    let mut s = 0.0;
    for (k, &v) in y.iter().flat_map(|row| row.scalars()).enumerate() {
        s += projection::<T>(k).to_f64() * v.to_f64();
    }
    s
}

/// The scalars of a layer's input or output as one slice: `[T; N]`, and `[[T; N]; M]` (a
/// window of `M` frames, [`Conv1d`](crate::Conv1d)'s input and output) and `[[[T; C]; W]; H]`
/// (an image), so the checks below take any of them.
pub trait Scalars<T>: Copy + Zeros {
    /// The scalars, in memory order.
    fn scalars(&self) -> &[T];
    /// The scalars, writable.
    fn scalars_mut(&mut self) -> &mut [T];
}

impl<T: Scalar, const N: usize> Scalars<T> for [T; N] {
    fn scalars(&self) -> &[T] {
        self
    }
    fn scalars_mut(&mut self) -> &mut [T] {
        self
    }
}

impl<T: Scalar, const N: usize, const M: usize> Scalars<T> for [[T; N]; M] {
    fn scalars(&self) -> &[T] {
        self.as_flattened()
    }
    fn scalars_mut(&mut self) -> &mut [T] {
        self.as_flattened_mut()
    }
}

impl<T: Scalar, const C: usize, const W: usize, const H: usize> Scalars<T> for [[[T; C]; W]; H] {
    fn scalars(&self) -> &[T] {
        self.as_flattened().as_flattened()
    }
    fn scalars_mut(&mut self) -> &mut [T] {
        self.as_flattened_mut().as_flattened_mut()
    }
}

/// Checks a layer's batched backward pass (`forward_train_batch` / `backward_batch`) against
/// central differences, for inputs and every parameter, at the batch `x` (vectors or windows
/// of frames, as in [`grad_check`]).
///
/// ```
/// use constnet::{Dense, Params, Tanh, Zeros};
/// use constnet::testing::{grad_check_batch, GradCheckConfig};
/// let layer = Dense::<3, 2, Tanh, f64>::from_rows([[0.1, -0.4, 0.3], [0.7, 0.2, -0.5]], [0.1, -0.2]);
/// grad_check_batch(&layer, &[[0.5, -1.0, 2.0], [0.3, 0.0, -0.7]], GradCheckConfig::default()).unwrap();
/// ```
pub fn grad_check_batch<L, T, const B: usize>(
    layer: &L,
    x: &[L::Input; B],
    config: GradCheckConfig,
) -> Result<(), GradCheckError>
where
    L: Layer<Scalar = T> + Clone,
    L::Input: Scalars<T>,
    L::Output: Scalars<T>,
    T: Scalar,
{
    let eval = |l: &L, x: &[L::Input; B]| -> f64 {
        let mut l = l.clone();
        let mut y = [L::Output::zeros(); B];
        let mut cache = L::BatchCache::<B>::zeros();
        l.forward_train_batch(x, &mut y, &mut cache, &mut TrainCtx::new(0));
        project(&y)
    };
    let mut work = layer.clone();
    let mut y = [L::Output::zeros(); B];
    let mut cache = L::BatchCache::<B>::zeros();
    work.forward_train_batch(x, &mut y, &mut cache, &mut TrainCtx::new(0));
    let mut dy = [L::Output::zeros(); B];
    for (k, v) in dy.iter_mut().flat_map(|row| row.scalars_mut()).enumerate() {
        *v = projection(k);
    }
    let mut grads = L::zeros();
    let mut dx = [L::Input::zeros(); B];
    layer.backward_batch(x, &y, &mut cache, &dy, &mut dx, &mut grads);
    let h = T::from_f64(config.step);
    let two_h = 2.0 * config.step;
    for b in 0..B {
        for i in 0..x[b].scalars().len() {
            let mut xp = *x;
            xp[b].scalars_mut()[i] += h;
            let mut xm = *x;
            xm[b].scalars_mut()[i] -= h;
            let numeric = (eval(layer, &xp) - eval(layer, &xm)) / two_h;
            let analytic = dx[b].scalars()[i].to_f64();
            if !close(analytic, numeric, config.atol, config.rtol) {
                return Err(GradCheckError {
                    what: "input",
                    sample: b,
                    tensor: 0,
                    index: i,
                    analytic,
                    numeric,
                });
            }
        }
    }
    check_params(layer, &grads, config, |l| eval(l, x))
}

/// Checks a layer's single-sample backward pass (`forward_train` / `backward`) against central
/// differences, for the input and every parameter. The input and the output may be vectors
/// `[T; N]` or windows of frames `[[T; N]; M]` (see [`Scalars`]).
///
/// ```
/// use constnet::{Dense, Gelu};
/// use constnet::testing::{grad_check, GradCheckConfig};
/// let layer = Dense::<2, 2, Gelu, f64>::from_rows([[0.3, -0.2], [0.5, 0.9]], [0.0, 0.1]);
/// grad_check(&layer, &[0.4, -1.3], GradCheckConfig::default()).unwrap();
/// ```
pub fn grad_check<L, T>(
    layer: &L,
    x: &L::Input,
    config: GradCheckConfig,
) -> Result<(), GradCheckError>
where
    L: Layer<Scalar = T> + Clone,
    L::Input: Scalars<T>,
    L::Output: Scalars<T>,
    T: Scalar,
{
    let eval = |l: &L, x: &L::Input| -> f64 {
        let (y, _) = l.forward_train(x, &mut TrainCtx::new(0));
        project(core::slice::from_ref(&y))
    };
    let (_, cache) = layer.forward_train(x, &mut TrainCtx::new(0));
    let mut dy = L::Output::zeros();
    for (k, v) in dy.scalars_mut().iter_mut().enumerate() {
        *v = projection(k);
    }
    let mut grads = L::zeros();
    let dx = layer.backward(&cache, &dy, &mut grads);
    let two_h = 2.0 * config.step;
    let h = T::from_f64(config.step);
    for i in 0..x.scalars().len() {
        let mut xp = *x;
        xp.scalars_mut()[i] += h;
        let mut xm = *x;
        xm.scalars_mut()[i] -= h;
        let numeric = (eval(layer, &xp) - eval(layer, &xm)) / two_h;
        let analytic = dx.scalars()[i].to_f64();
        if !close(analytic, numeric, config.atol, config.rtol) {
            return Err(GradCheckError {
                what: "input",
                sample: 0,
                tensor: 0,
                index: i,
                analytic,
                numeric,
            });
        }
    }
    // backward_params must add exactly the same parameter gradients.
    let mut grads_only = L::zeros();
    layer.backward_params(&cache, &dy, &mut grads_only);
    for (t, (a, b)) in grads.tensors().zip(grads_only.tensors()).enumerate() {
        for (k, (&ga, &gb)) in a.iter().zip(b).enumerate() {
            if ga != gb {
                return Err(GradCheckError {
                    what: "parameter (backward_params)",
                    sample: 0,
                    tensor: t,
                    index: k,
                    analytic: gb.to_f64(),
                    numeric: ga.to_f64(),
                });
            }
        }
    }
    check_params(layer, &grads, config, |l| eval(l, x))
}

/// Central differences over every parameter of `layer` against `grads`.
fn check_params<L: Params + Clone>(
    layer: &L,
    grads: &L,
    config: GradCheckConfig,
    eval: impl Fn(&L) -> f64,
) -> Result<(), GradCheckError> {
    let two_h = 2.0 * config.step;
    let h = L::Scalar::from_f64(config.step);
    for (t, g) in grads.tensors().enumerate() {
        for (k, &analytic) in g.iter().enumerate() {
            let mut plus = layer.clone();
            if let Some(v) = plus.tensors_mut().nth(t) {
                v[k] += h;
            }
            let mut minus = layer.clone();
            if let Some(v) = minus.tensors_mut().nth(t) {
                v[k] -= h;
            }
            let numeric = (eval(&plus) - eval(&minus)) / two_h;
            let analytic = analytic.to_f64();
            if !close(analytic, numeric, config.atol, config.rtol) {
                return Err(GradCheckError {
                    what: "parameter",
                    sample: 0,
                    tensor: t,
                    index: k,
                    analytic,
                    numeric,
                });
            }
        }
    }
    Ok(())
}

/// Checks a loss's gradient against central differences of its value.
///
/// ```
/// use constnet::loss::Mse;
/// use constnet::testing::{grad_check_loss, GradCheckConfig};
/// grad_check_loss(&Mse, &[[0.5f64, -1.0], [2.0, 0.1]], &[[0.0, 1.0], [1.5, 0.1]], GradCheckConfig::default()).unwrap();
/// ```
pub fn grad_check_loss<Lo, T, const N: usize, const B: usize>(
    loss: &Lo,
    prediction: &[[T; N]; B],
    target: &[Lo::Target<N>; B],
    config: GradCheckConfig,
) -> Result<(), GradCheckError>
where
    Lo: Loss<T>,
    T: Scalar,
{
    let mut grad = [[T::zero(); N]; B];
    loss.loss_batch(prediction, target, &mut grad);
    let h = T::from_f64(config.step);
    for b in 0..B {
        for i in 0..N {
            let mut p = *prediction;
            p[b][i] += h;
            let mut m = *prediction;
            m[b][i] -= h;
            let numeric = (loss.value(&p, target).to_f64() - loss.value(&m, target).to_f64())
                / (2.0 * config.step);
            let analytic = grad[b][i].to_f64();
            if !close(analytic, numeric, config.atol, config.rtol) {
                return Err(GradCheckError {
                    what: "prediction",
                    sample: b,
                    tensor: 0,
                    index: i,
                    analytic,
                    numeric,
                });
            }
        }
    }
    Ok(())
}
