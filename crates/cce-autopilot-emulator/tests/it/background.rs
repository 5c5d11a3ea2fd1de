//! An emulator on its own runtime, for tests that block their thread.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use cce_autopilot_emulator::{Emulator, EmulatorError};

/// A raw HTTP/1.1 exchange, the way a synchronous test (or a CLI under test) would make it.
fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn background_emulator_serves_synchronous_callers() {
    let emu = Emulator::builder().start_background().unwrap();
    let answer = get(emu.local_addr(), "/nowhere");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id: "),
        "{answer}"
    );
    assert!(answer.contains("APIGW.0101"), "{answer}");
    assert_eq!(emu.request_count(), 1);
    let addr = emu.local_addr();
    drop(emu);
    // The runtime winds down in the background: wait (boundedly) until nothing answers.
    let stopped = (0..50).any(|_| {
        let answered = answers(addr);
        if answered {
            std::thread::sleep(Duration::from_millis(50));
        }
        !answered
    });
    assert!(stopped, "dropping the handle stops the emulator");
}

/// Whether an HTTP answer comes back from `addr`, without panicking on a closed port.
fn answers(addr: std::net::SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).is_ok() && answer.starts_with("HTTP/1.1")
}

#[tokio::test]
async fn background_emulator_survives_a_blocked_test_thread_and_drops_cleanly_in_async_code() {
    let emu = Emulator::builder().start_background().unwrap();
    let addr = emu.local_addr();
    // Blocking this single-threaded runtime would stall an emulator started with `start()`.
    let answer = get(addr, "/nowhere");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    drop(emu);
}

#[test]
fn background_start_reports_configuration_errors() {
    let err = Emulator::builder()
        .cluster("a")
        .cluster("a")
        .start_background()
        .unwrap_err();
    assert!(matches!(err, EmulatorError::InvalidConfig { .. }), "{err}");
}
