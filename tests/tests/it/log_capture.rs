//! The one subscriber of this test binary (tracing allows one global subscriber per process): every event
//! of every test at TRACE, kept in memory for the tests that check what logs may hold. Installed by the
//! first call of [`logs`] or [`install`].

use std::sync::{Arc, LazyLock, Mutex};

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static LOGS: LazyLock<Captured> = LazyLock::new(|| {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("the only subscriber of this binary");
    captured
});

/// Installs the subscriber (before the events a test wants to see).
pub fn install() {
    LazyLock::force(&LOGS);
}

/// Everything logged so far, by every test of the binary.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.0.lock().unwrap()).into_owned()
}
