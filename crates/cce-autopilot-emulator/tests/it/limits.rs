//! Slow and idle clients: a request head, body or TLS handshake that does not arrive within the read
//! time-out closes the connection; a body declared larger than the limit is refused at once; and a bound
//! on connections never lets slow clients keep the others out for longer than the time-out.

use std::time::{Duration, Instant};

use cce_autopilot_emulator::{Emulator, EmulatorHandle, demo};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(3);

fn address(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned()
}

/// Sends `text` one byte a second until the server closes the connection; returns how long that took
/// (`None`: still open after `give_up`).
async fn trickle(addr: String, text: &'static [u8], give_up: Duration) -> Option<Duration> {
    let started = Instant::now();
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        for byte in text.iter().cycle() {
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(give_up, async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok();
    writer.abort();
    closed
}

async fn emulator() -> EmulatorHandle {
    Emulator::builder()
        .read_timeout(READ_TIMEOUT)
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_sending_a_byte_a_second_are_all_closed_within_the_read_time_out() {
    let emu = emulator().await;
    let give_up = READ_TIMEOUT + SLACK;
    let head: &'static [u8] = b"GET /v3/projects?name=cn-north-4 HTTP/1.1\r\nHost: x\r\n";
    let clients: Vec<_> = (0..200)
        .map(|_| tokio::spawn(trickle(address(emu.url()), head, give_up)))
        .collect();
    let mut slowest = Duration::ZERO;
    for client in clients {
        let closed = client.await.unwrap();
        let closed =
            closed.unwrap_or_else(|| panic!("a slow client still connected after {give_up:?}"));
        slowest = slowest.max(closed);
    }
    assert!(
        slowest >= READ_TIMEOUT - Duration::from_millis(500),
        "closed by the time-out: {slowest:?}"
    );
    // The emulator still serves.
    let ok = reqwest::get(format!("{}/v3/projects?name=x", emu.url()))
        .await
        .unwrap();
    assert_eq!(ok.status(), 401, "an answer, not a hang");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_is_cut_off_and_a_huge_declared_one_is_refused_at_once() {
    let emu = emulator().await;
    let path = format!(
        "/autopilot/v3/projects/{}/clusters/{}/clustercert",
        demo::PROJECT_ID,
        demo::PRIVATE_CLUSTER_ID
    );
    // A complete head announcing 20 bytes, then the body a byte a second.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n",
        demo::TOKEN
    );
    let mut stream = TcpStream::connect(address(emu.url())).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickled = trickle_on(stream, READ_TIMEOUT + SLACK).await;
    assert!(
        trickled.is_some(),
        "still open after {:?}",
        READ_TIMEOUT + SLACK
    );
    assert!(started.elapsed() >= READ_TIMEOUT - Duration::from_millis(500));

    // 1 GB declared, 3 bytes sent: refused without waiting for the rest.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{{\"d",
        demo::TOKEN
    );
    let mut stream = TcpStream::connect(address(emu.url())).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within {READ_TIMEOUT:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// Reads from an already-started request until the server closes it, sending a byte a second meanwhile.
async fn trickle_on(stream: TcpStream, give_up: Duration) -> Option<()> {
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        loop {
            if write.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(give_up, async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok();
    writer.abort();
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_hold_their_slots_no_longer_than_the_read_time_out() {
    let emu = Emulator::builder()
        .read_timeout(READ_TIMEOUT)
        .max_connections(4)
        .start()
        .await
        .unwrap();
    // Four connections that never send a byte take every slot …
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(address(emu.url())).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // … so a real request waits, and is served once the time-out has freed them.
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(format!("{}/v3/projects?name=x", emu.url()))
        .timeout(READ_TIMEOUT + SLACK)
        .send()
        .await
        .expect("served once the idle connections were closed");
    assert_eq!(answer.status(), 401);
    let waited = started.elapsed();
    assert!(
        waited >= READ_TIMEOUT - Duration::from_millis(700),
        "it waited for a slot: {waited:?}"
    );
    // The idle connections were closed by the emulator.
    for mut stream in idle {
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(SLACK, stream.read(&mut buf)).await;
        assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "closed: {n:?}");
    }
}
