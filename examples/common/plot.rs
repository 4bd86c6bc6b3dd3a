//! Training curves as an SVG file under `target/`, drawn with `plotters` (SVG backend only).

use std::path::PathBuf;

use constnet::fit::History;
use plotters::prelude::*;

/// Where the examples write their pictures: `target/constnet-examples/` in the repository.
pub fn output_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("constnet-examples");
    dir.join(name)
}

/// Draws the training and validation losses (left) and a metric per epoch (right, when
/// `metric` gives one) into an SVG file; returns its path.
pub fn training_curves(
    history: &History,
    title: &str,
    metric_name: &str,
    metric: impl Fn(&constnet::fit::EpochRecord) -> Option<f64>,
    file: &str,
) -> Result<PathBuf, String> {
    let path = output_path(file);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    }
    draw(history, title, metric_name, &metric, &path)
        .map_err(|error| format!("cannot draw {}: {error}", path.display()))?;
    Ok(path)
}

fn draw(
    history: &History,
    title: &str,
    metric_name: &str,
    metric: &dyn Fn(&constnet::fit::EpochRecord) -> Option<f64>,
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(480);
    let epochs = history.epochs.len() as f64;

    let train: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .map(|e| (e.epoch as f64, e.train_loss))
        .collect();
    let validation: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .filter_map(|e| e.val_loss.map(|v| (e.epoch as f64, v)))
        .collect();
    let top = train
        .iter()
        .chain(&validation)
        .map(|&(_, v)| v)
        .fold(0.0f64, f64::max)
        * 1.05;
    let mut chart = ChartBuilder::on(&left)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .caption("loss", ("sans-serif", 16))
        .build_cartesian_2d(1.0..epochs.max(2.0), 0.0..top.max(1e-9))?;
    chart.configure_mesh().x_desc("epoch").draw()?;
    chart
        .draw_series(LineSeries::new(train, &BLUE))?
        .label("training")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(validation, &RED))?
        .label("validation")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    chart.configure_series_labels().border_style(BLACK).draw()?;

    let scores: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .filter_map(|e| metric(e).map(|m| (e.epoch as f64, m)))
        .collect();
    let (low, high) = scores
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(_, v)| {
            (l.min(v), h.max(v))
        });
    if scores.is_empty() {
        return Ok(());
    }
    let margin = ((high - low) * 0.05).max(1e-6);
    let mut chart = ChartBuilder::on(&right)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .caption(metric_name, ("sans-serif", 16))
        .build_cartesian_2d(1.0..epochs.max(2.0), (low - margin)..(high + margin))?;
    chart.configure_mesh().x_desc("epoch").draw()?;
    chart.draw_series(LineSeries::new(scores, &RED))?;
    root.present()?;
    Ok(())
}
