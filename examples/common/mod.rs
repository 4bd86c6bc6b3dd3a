//! What the examples share: CSV loading with clear errors, an `indicatif` progress bar as a
//! `constnet::fit::Callback`, and SVG training curves drawn with `plotters`.
#![allow(dead_code)] // each example uses part of it

pub mod csv_data;
pub mod plot;
pub mod progress;
