//! Fault injection: refused calls, dropped connections, truncated bodies, latency.

use crate::common;

use std::time::{Duration, Instant};

use cce_autopilot_emulator::{
    Emulator, EmulatorHandle, FaultKind, FaultScope, Faults, RejectStatus, Trigger, codes, demo,
};
use common::{Call, expect_error};

const CLUSTER: &str = demo::PRIVATE_CLUSTER_ID;

async fn with_faults(faults: Faults) -> EmulatorHandle {
    Emulator::builder().faults(faults).start().await.unwrap()
}

async fn iam_status(emu: &EmulatorHandle) -> u16 {
    Call::new("GET", format!("{}/v3/projects?name=cn-north-4", emu.url()))
        .signed_by(emu.access_key(), emu.secret_key())
        .send()
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn first_calls_are_refused_with_retry_after() {
    let emu = with_faults(
        Faults::default()
            .with_reject(Trigger::First(2), RejectStatus::ServiceUnavailable)
            .with_retry_after(Duration::from_secs(3)),
    )
    .await;
    for _ in 0..2 {
        let response = Call::cert(&emu, CLUSTER, 30).send().await;
        assert_eq!(response.headers()["retry-after"], "3");
        expect_error(response, 503, codes::UNAVAILABLE).await;
    }
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(emu.issued(CLUSTER), 1);
    let faults: Vec<Option<FaultKind>> = emu.requests().iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        [Some(FaultKind::Rejected), Some(FaultKind::Rejected), None]
    );
}

#[tokio::test]
async fn throttling_answers_429() {
    let emu =
        with_faults(Faults::default().with_reject(Trigger::Always, RejectStatus::TooManyRequests))
            .await;
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.headers()["retry-after"], "1");
    expect_error(response, 429, codes::THROTTLED).await;
}

async fn statuses(faults: Faults, calls: usize) -> Vec<u16> {
    let emu = with_faults(faults).await;
    let mut out = Vec::new();
    for _ in 0..calls {
        out.push(Call::cert(&emu, CLUSTER, 30).send().await.status().as_u16());
    }
    out
}

#[tokio::test]
async fn a_share_of_calls_is_refused_reproducibly() {
    let faults = Faults::default()
        .with_reject(Trigger::Share(0.5), RejectStatus::TooManyRequests)
        .with_seed(7);
    let first = statuses(faults.clone(), 24).await;
    let second = statuses(faults.clone(), 24).await;
    assert_eq!(first, second, "same seed, same sequence");
    assert!(first.contains(&429) && first.contains(&200), "{first:?}");
    assert!(first.iter().all(|s| *s == 429 || *s == 200));
    let reseeded = statuses(faults.with_seed(8), 24).await;
    assert_ne!(first, reseeded);
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let emu = with_faults(Faults::default().with_drop_connection(Trigger::First(1))).await;
    let client = common::http_client();
    let url = format!(
        "{}/autopilot/v3/projects/{}/clusters/{CLUSTER}/clustercert",
        emu.url(),
        emu.project_id()
    );
    let result = client.post(&url).body("{}").send().await;
    let err = result.expect_err("no answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.status(), 200);
    let log = emu.requests();
    assert_eq!(log[0].status, None);
    assert_eq!(log[0].fault, Some(FaultKind::Dropped));
    assert_eq!(log[1].status, Some(200));
}

#[tokio::test]
async fn truncated_bodies_advertise_their_full_length() {
    let emu = with_faults(Faults::default().with_truncate_body(Trigger::First(1))).await;
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.status(), 200);
    let advertised: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(advertised > 1000, "{advertised}");
    common::request_id(&response);
    let body = response.bytes().await;
    assert!(body.is_err(), "the body ends early: {body:?}");

    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.status(), 200);
    let full = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&full).is_ok());
    assert_eq!(emu.requests()[0].fault, Some(FaultKind::Truncated));
}

#[tokio::test]
async fn truncation_sends_exactly_half_the_body() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let emu = with_faults(
        Faults::default()
            .with_truncate_body(Trigger::Always)
            .with_scope(FaultScope::All),
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    stream
        .write_all(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .expect("Content-Length")
        .parse()
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert_eq!(body.len(), length / 2, "{text}");
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let emu = with_faults(Faults::default().with_latency(Duration::from_millis(300))).await;
    let start = Instant::now();
    let response = Call::cert(&emu, CLUSTER, 30).send().await;
    assert_eq!(response.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn faults_can_be_changed_at_run_time() {
    let emu = Emulator::builder().start().await.unwrap();
    assert_eq!(Call::cert(&emu, CLUSTER, 30).send().await.status(), 200);
    let faults = Faults::default().with_reject(Trigger::First(1), RejectStatus::ServiceUnavailable);
    emu.set_faults(faults.clone());
    assert_eq!(emu.faults(), faults);
    assert_eq!(Call::cert(&emu, CLUSTER, 30).send().await.status(), 503);
    assert_eq!(Call::cert(&emu, CLUSTER, 30).send().await.status(), 200);
    emu.set_faults(faults);
    assert_eq!(
        Call::cert(&emu, CLUSTER, 30).send().await.status(),
        503,
        "counting starts again"
    );
    emu.set_faults(Faults::none());
    assert_eq!(Call::cert(&emu, CLUSTER, 30).send().await.status(), 200);
    assert_eq!(emu.request_count(), 5);
}

#[tokio::test]
async fn faults_hit_the_certificate_route_only_by_default() {
    let emu =
        with_faults(Faults::default().with_reject(Trigger::Always, RejectStatus::TooManyRequests))
            .await;
    assert_eq!(iam_status(&emu).await, 200);
    assert_eq!(Call::cert(&emu, CLUSTER, 30).send().await.status(), 429);
}

#[tokio::test]
async fn gateway_scope_covers_iam_too() {
    let faults = Faults::default().with_reject(Trigger::Always, RejectStatus::TooManyRequests);
    let emu = with_faults(faults.clone().with_scope(FaultScope::Gateway)).await;
    assert_eq!(iam_status(&emu).await, 429);
    let token = common::http_client()
        .put(format!("{}/meta-data/latest/api/token", emu.url()))
        .header("X-Metadata-Token-Ttl-Seconds", "60")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);

    let emu = with_faults(faults.with_scope(FaultScope::All)).await;
    let token = common::http_client()
        .put(format!("{}/meta-data/latest/api/token", emu.url()))
        .header("X-Metadata-Token-Ttl-Seconds", "60")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 429);
}

#[tokio::test]
async fn faults_come_before_authentication_as_at_the_gateway() {
    let emu = with_faults(
        Faults::default().with_reject(Trigger::First(1), RejectStatus::TooManyRequests),
    )
    .await;
    let response = Call::cert(&emu, CLUSTER, 30).unsigned().send().await;
    assert_eq!(response.status(), 429);
    let response = Call::cert(&emu, CLUSTER, 30).unsigned().send().await;
    assert_eq!(response.status(), 401);
}
