//! One bound on the calls in flight for a whole run, and one progress bar that counts them.

use std::io::IsTerminal as _;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;

/// Shared by every task of a run: cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Runner {
    permits: Arc<Semaphore>,
    bar: ProgressBar,
}

impl Runner {
    /// At most `concurrency` calls at once; the bar is drawn only when `visible` and stderr is a terminal,
    /// never on a pipe or a file.
    pub(crate) fn new(concurrency: usize, visible: bool) -> Self {
        let target = if visible && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg} {pos}/{len} {wide_bar} {elapsed}")
        {
            bar.set_style(style);
        }
        Runner {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            bar,
        }
    }

    /// Says what the calls are for, and that `calls` more are coming.
    pub(crate) fn expect(&self, calls: usize, what: &'static str) {
        self.bar.set_message(what);
        self.bar.inc_length(calls as u64);
    }

    /// Runs `call` once a slot is free, and counts it.
    pub(crate) async fn call<F: Future>(&self, call: F) -> F::Output {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await;
        let out = call.await;
        self.bar.inc(1);
        out
    }

    /// Clears the bar, before the report is printed.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
