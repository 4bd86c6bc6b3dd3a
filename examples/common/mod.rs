//! What the examples share: CSV loading with clear errors, an `indicatif` progress bar as a
//! `constnet::fit::Callback`, SVG training curves drawn with `plotters`, the printed reports,
//! and the tasks of `04_digits`, `05_iris` and `06_sine` (data, network, settings), which
//! `tests/fit_quality.rs` includes too, so the quality tests train exactly what the examples
//! train.
#![allow(dead_code)] // each example uses part of it

pub mod amp;
pub mod csv_data;
pub mod digits;
pub mod iris;
pub mod plot;
pub mod progress;
pub mod report;
pub mod sine;
