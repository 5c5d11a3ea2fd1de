//! Test helpers: AK/SK-signed calls to the emulator, as the official Python SDK makes them, and reading
//! the answers.
#![allow(dead_code, missing_docs)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cce_autopilot_emulator::EmulatorHandle;
use cce_autopilot_model::{ErrorBody, Kubeconfig};
use cce_autopilot_signing::{SignableRequest, Signer, format_sdk_date};

/// A client that never goes through a proxy and keeps no connection between tests.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// `X-Sdk-Date` for now plus `offset_secs`.
pub fn sdk_date(offset_secs: i64) -> String {
    format_sdk_date(time::OffsetDateTime::now_utc().unix_timestamp() + offset_secs)
}

/// A call under construction. Headers added with [`Call::header`] are signed; those added with
/// [`Call::unsigned_header`] are sent but left out of the signature.
#[derive(Clone, Debug)]
pub struct Call {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    unsigned: Vec<(String, String)>,
    body: Vec<u8>,
    signer: Option<Signer>,
    tamper_body: Option<Vec<u8>>,
    after_signing: Vec<(String, String)>,
}

impl Call {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Call {
            method: method.to_owned(),
            url: url.into(),
            headers: Vec::new(),
            unsigned: Vec::new(),
            body: Vec::new(),
            signer: None,
            tamper_body: None,
            after_signing: Vec::new(),
        }
    }

    /// `POST .../clustercert` with the Python SDK's headers and body, signed with the emulator's AK/SK.
    pub fn cert(emu: &EmulatorHandle, cluster_id: &str, duration: i64) -> Self {
        Self::cert_in(emu, emu.project_id(), cluster_id)
            .body(format!(r#"{{"duration": {duration}}}"#))
    }

    /// `POST .../clustercert` for any project, without a body yet.
    pub fn cert_in(emu: &EmulatorHandle, project_id: &str, cluster_id: &str) -> Self {
        Call::new(
            "POST",
            format!(
                "{}/autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert",
                emu.url()
            ),
        )
        .header("Content-Type", "application/json")
        .header("User-Agent", "huaweicloud-usdk-python/3.0; emulator-test")
        .header("X-Project-Id", project_id)
        .signed_by(emu.access_key(), emu.secret_key())
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn unsigned_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.unsigned.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn signed_by(mut self, ak: &str, sk: &str) -> Self {
        self.signer = Some(Signer::new(ak, sk));
        self
    }

    pub fn with_signer(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    pub fn unsigned(mut self) -> Self {
        self.signer = None;
        self
    }

    /// Signs the body as given, then sends this one instead.
    pub fn send_body_instead(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.tamper_body = Some(body.into());
        self
    }

    /// Replaces (or adds) a header after signing, as a proxy rewriting it would.
    pub fn after_signing(mut self, name: &str, value: impl Into<String>) -> Self {
        self.after_signing.push((name.to_owned(), value.into()));
        self
    }

    pub async fn send(self) -> reqwest::Response {
        self.send_with(&http_client()).await
    }

    pub async fn send_with(mut self, client: &reqwest::Client) -> reqwest::Response {
        let url = reqwest::Url::parse(&self.url).expect("URL");
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        if !self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("host"))
        {
            self.headers.push(("Host".to_owned(), host));
        }
        if let Some(signer) = &self.signer {
            if !self
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("x-sdk-date"))
            {
                self.headers.push(("X-Sdk-Date".to_owned(), sdk_date(0)));
            }
            let query: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let signature = signer
                .sign(&SignableRequest {
                    method: &self.method,
                    path: url.path(),
                    query: &query,
                    headers: &self.headers,
                    body: &self.body,
                })
                .expect("sign");
            self.headers
                .push(("Authorization".to_owned(), signature.authorization));
        }
        for (name, value) in std::mem::take(&mut self.after_signing) {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            self.headers.push((name, value));
        }
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).expect("method");
        let mut request = client.request(method, url);
        for (name, value) in self.headers.iter().chain(&self.unsigned) {
            request = request.header(name.as_str(), value.as_str());
        }
        request
            .body(self.tamper_body.unwrap_or(self.body))
            .send()
            .await
            .expect("the emulator answers")
    }
}

/// Reads an error answer: status, parsed body, and checks the request id agrees with the header.
pub async fn error_of(response: reqwest::Response) -> (u16, ErrorBody) {
    let status = response.status().as_u16();
    let header_id = request_id(&response);
    let body = response.bytes().await.expect("body");
    let error = ErrorBody::from_slice(&body)
        .unwrap_or_else(|| panic!("not a JSON error body: {}", String::from_utf8_lossy(&body)));
    assert_eq!(error.request_id.as_deref(), Some(header_id.as_str()));
    (status, error)
}

/// Asserts an error answer's status and code; returns its message.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> String {
    let (got_status, body) = error_of(response).await;
    assert_eq!(
        (got_status, body.code.as_deref()),
        (status, Some(code)),
        "message: {:?}",
        body.message
    );
    body.message.unwrap_or_default()
}

/// The `X-Request-Id` header, checked to be 32 hex digits.
pub fn request_id(response: &reqwest::Response) -> String {
    let id = response
        .headers()
        .get("x-request-id")
        .expect("X-Request-Id on every answer")
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    id
}

/// Fetches a kubeconfig, asserting success.
pub async fn fetch_kubeconfig(emu: &EmulatorHandle, cluster_id: &str, duration: i64) -> Kubeconfig {
    let response = Call::cert(emu, cluster_id, duration).send().await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    response.json().await.expect("a kubeconfig")
}

pub fn decode(data: Option<&String>) -> String {
    String::from_utf8(STANDARD.decode(data.expect("data field")).expect("base64"))
        .expect("PEM text")
}

/// The client certificate and key PEM of a kubeconfig.
pub fn client_pems(config: &Kubeconfig) -> (String, String) {
    let user = &config.users[0].user;
    (
        decode(user.client_certificate_data.as_ref()),
        decode(user.client_key_data.as_ref()),
    )
}

/// The DER of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD.decode(body).expect("PEM base64")
}
