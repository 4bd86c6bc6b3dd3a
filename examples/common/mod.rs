//! What the examples share: CSV loading with clear errors, an `indicatif` progress bar as a
//! `constnet::fit::Callback`, SVG training curves drawn with `plotters`, the printed reports,
//! and the tasks of `04_digits`, `05_iris`, `06_sine` and `11_digits_cnn` (data, network,
//! settings), which `tests/fit_quality.rs` and `tests/ptq.rs` include too, so the tests train
//! exactly what the examples train.
#![allow(dead_code)] // each example uses part of it

pub mod amp;
pub mod csv_data;
pub mod digits;
pub mod digits_cnn;
pub mod iris;
pub mod plot;
pub mod progress;
pub mod report;
pub mod sine;
