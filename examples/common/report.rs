//! The examples' printed reports: epochs, the kept epoch, a confusion matrix.

use constnet::fit::{EpochRecord, History};

/// A loss as `0.1234`, or `1.234e-5` below 0.01.
pub fn loss_text(loss: f64) -> String {
    if loss.abs() >= 0.01 || loss == 0.0 || !loss.is_finite() {
        format!("{loss:.4}")
    } else {
        format!("{loss:.3e}")
    }
}

/// One line per epoch record: training and validation loss and metrics, learning rate.
pub fn print_epoch(record: &EpochRecord) {
    println!(
        "epoch {:3}: train loss {} {}, validation loss {} {}, lr {:.2e}",
        record.epoch,
        loss_text(record.train_loss),
        record.train_metrics,
        loss_text(record.val_loss.unwrap_or(f64::NAN)),
        record.val_metrics.map_or(String::new(), |m| m.to_string()),
        record.lr,
    );
}

/// Every `every`-th epoch, the last one and the kept one, in order.
pub fn print_epochs(history: &History, every: usize) {
    let kept = history.kept().map(|record| record.epoch);
    let last = history.epochs.len();
    for record in &history.epochs {
        if record.epoch % every == 0 || record.epoch == last || Some(record.epoch) == kept {
            print_epoch(record);
        }
    }
}

/// Which epoch's parameters the model holds, and why the run ended.
pub fn print_kept(history: &History) {
    let ran = history.epochs.len();
    let end = if history.stopped_early {
        format!("stopped early after epoch {ran}")
    } else {
        format!("ran all {ran} epochs")
    };
    match (history.restored_epoch, history.best_epoch) {
        (Some(epoch), _) => println!("kept epoch {epoch} (lowest validation loss); {end}"),
        (None, Some(best)) if best == ran => {
            println!("kept the last epoch, {ran} (lowest validation loss); {end}")
        }
        (None, _) => println!("kept the last epoch, {ran}; {end}"),
    }
}

/// A confusion matrix, rows the true class, columns the predicted one.
pub fn print_confusion<const N: usize>(matrix: &[[u32; N]; N], names: &[&str; N]) {
    let width = names
        .iter()
        .map(|name| name.len())
        .max()
        .unwrap_or(1)
        .max(4);
    print!("{:width$} ", "");
    for name in names {
        print!(" {name:>width$}");
    }
    println!();
    for (name, row) in names.iter().zip(matrix) {
        print!("{name:>width$} ");
        for count in row {
            print!(" {count:>width$}");
        }
        println!();
    }
}
