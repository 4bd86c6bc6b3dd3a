//! An `indicatif` progress bar over a `Fit` run: one bar of epochs, hidden when standard
//! error is not a terminal or under CI (the `CI` environment variable), so the printed
//! figures are the same everywhere.

use constnet::fit::{Callback, Control, EpochRecord};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar that advances once per epoch and shows the latest losses.
pub struct EpochBar {
    bar: ProgressBar,
}

impl EpochBar {
    /// A hidden-or-shown bar, sized when training begins.
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), draw_target());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg}")
                .expect("a valid template"),
        );
        EpochBar { bar }
    }
}

fn draw_target() -> ProgressDrawTarget {
    if std::env::var_os("CI").is_some() {
        ProgressDrawTarget::hidden()
    } else {
        // Hidden by indicatif itself when standard error is not a terminal.
        ProgressDrawTarget::stderr()
    }
}

impl<M> Callback<M> for EpochBar {
    fn on_train_begin(&mut self, epochs: usize, _batches: usize) {
        self.bar.set_length(epochs as u64);
    }

    fn on_epoch_end(&mut self, record: &EpochRecord) -> Control {
        let validation = match (record.val_loss, record.val_metrics) {
            (Some(loss), Some(metrics)) => format!(", validation loss {loss:.4} {metrics}"),
            _ => String::new(),
        };
        self.bar
            .set_message(format!("loss {:.4}{validation}", record.train_loss));
        self.bar.inc(1);
        Control::Continue
    }
}

impl Drop for EpochBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
