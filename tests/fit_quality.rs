//! Seeded quality checks of `constnet::fit::Fit` on the examples' tasks: digits (test
//! accuracy ≥ 0.97 on the last 360 rows), iris (≥ 0.93 on the last 30 rows) and sine
//! regression (test MSE ≤ 1e-3).
//!
//! The data preparation, the networks and their settings are not repeated here: this file
//! includes the examples' shared module (`examples/common/`), so it trains exactly what
//! `04_digits`, `05_iris` and `06_sine` train, with the same seeds and settings (in a debug
//! build: digits about 7 s, sine about 5 s, iris well under a second). Each test prints its
//! figure (`cargo test --test fit_quality -- --nocapture`).

#[path = "../examples/common/mod.rs"]
mod common;

use constnet::fit;
use constnet::loss::Mse;

use common::{digits, iris, sine};

#[test]
fn digits_test_accuracy_is_at_least_97_percent() {
    let data = digits::load().unwrap();
    let (net, history) = digits::train(&data, &digits::SETTINGS, &mut ()).unwrap();
    let accuracy = fit::accuracy(&net, &data.test_x, &data.test_y);
    let kept = history.kept().unwrap().epoch;
    println!("digits: test accuracy {accuracy:.4} (epoch {kept} kept)");
    assert!(
        accuracy >= digits::MINIMUM_ACCURACY,
        "digits: test accuracy {accuracy:.4} is below {}",
        digits::MINIMUM_ACCURACY
    );
}

#[test]
fn iris_test_accuracy_is_at_least_93_percent() {
    let data = iris::load().unwrap();
    let (net, history) = iris::train(&data, &iris::SETTINGS, &mut ()).unwrap();
    let accuracy = fit::accuracy(&net, &data.test_x, &data.test_y);
    let kept = history.kept().unwrap().epoch;
    println!("iris: test accuracy {accuracy:.4} (epoch {kept} kept)");
    assert!(
        accuracy >= iris::MINIMUM_ACCURACY,
        "iris: test accuracy {accuracy:.4} is below {}",
        iris::MINIMUM_ACCURACY
    );
}

#[test]
fn sine_test_mse_is_at_most_1e_3() {
    let data = sine::data();
    let (net, history) = sine::train(&data, &sine::SETTINGS, &mut ()).unwrap();
    let mse = fit::evaluate(&net, &Mse, &data.test_x, &data.test_y)
        .metrics
        .mse()
        .unwrap();
    let kept = history.kept().unwrap().epoch;
    println!("sine: test MSE {mse:.3e} (epoch {kept} kept)");
    assert!(
        mse <= sine::MAXIMUM_MSE,
        "sine: test MSE {mse:.3e} is above {:e}",
        sine::MAXIMUM_MSE
    );
}
