//! The gateway's authentication: AK/SK signatures (permanent or temporary credentials) or `X-Auth-Token`.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use cce_autopilot_signing::{
    Algorithm, HEADER_AUTHORIZATION, HEADER_SECURITY_TOKEN, SignableRequest, VerifyError,
    format_sdk_date, parse_sdk_date, verify,
};

use super::{ApiError, decode_query, header_pairs, read_body};
use crate::codes;
use crate::identity::Principal;
use crate::serve::ConnControl;
use crate::state::{Shared, lock, secrets_equal};

/// How far `X-Sdk-Date` may be from the emulator's clock, either way.
pub(crate) const MAX_SKEW_SECS: i64 = 15 * 60;
const HEADER_AUTH_TOKEN: &str = "X-Auth-Token";

/// Who made an authenticated call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// AK/SK, permanent or temporary, and whom the key acts for.
    AccessKey {
        access_key: String,
        principal: Principal,
        temporary: bool,
    },
    /// The `n`-th configured token (0-based).
    Token(usize),
}

impl Identity {
    /// The common name of the certificates issued to this caller.
    pub(crate) fn common_name(&self) -> String {
        match self {
            Identity::AccessKey { principal, .. } => principal.id(),
            Identity::Token(index) => format!("token-user-{}", index + 1),
        }
    }
}

fn auth_failed(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        codes::AUTH_FAILED,
        format!("Incorrect IAM authentication information: {detail}"),
    )
}

/// The request parts authentication looks at.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// A request read in full and authenticated: its head, its body, and who sent it.
pub(crate) struct Admitted {
    pub(crate) parts: Parts,
    pub(crate) body: Bytes,
    pub(crate) identity: Identity,
}

/// Reads `req`'s body in full, within the read time-out: what unsigned routes (IAM's and STS's federation
/// calls, pod identity) do first.
pub(crate) async fn read_request(
    shared: &Shared,
    req: Request,
) -> Result<(Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let control = parts.extensions.get::<ConnControl>().cloned();
    let body = read_body(body, shared.read_timeout, control).await?;
    super::note_body(&parts, &body);
    Ok((parts, body))
}

/// Reads `req`'s body and authenticates it ([`authenticate`]): what every authenticated route does first.
pub(crate) async fn admit(shared: &Shared, req: Request) -> Result<Admitted, ApiError> {
    let (parts, body) = read_request(shared, req).await?;
    let identity = authenticate_read(shared, &parts, &body)?;
    Ok(Admitted {
        parts,
        body,
        identity,
    })
}

/// [`authenticate`] for a request already read ([`read_request`]), for routes that authenticate only some
/// of their calls (IAM's `assume_role`).
pub(crate) fn authenticate_read(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
) -> Result<Identity, ApiError> {
    authenticate(
        shared,
        &Incoming {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            body,
        },
    )
}

/// Authenticates a call as the API gateway would: a signature when there is an `Authorization` header,
/// else an `X-Auth-Token`, else nothing (401).
pub(crate) fn authenticate(shared: &Shared, req: &Incoming<'_>) -> Result<Identity, ApiError> {
    if req.headers.contains_key(HEADER_AUTHORIZATION) {
        return authenticate_signature(shared, req);
    }
    if let Some(token) = req.headers.get(HEADER_AUTH_TOKEN) {
        let token = token.to_str().unwrap_or_default();
        return shared
            .tokens
            .iter()
            .position(|known| secrets_equal(known, token))
            .map(Identity::Token)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    codes::TOKEN_INVALID,
                    "The token must be updated.",
                )
            });
    }
    Err(auth_failed(
        "the request has neither an Authorization header (AK/SK signature) nor an X-Auth-Token header",
    ))
}

fn authenticate_signature(shared: &Shared, req: &Incoming<'_>) -> Result<Identity, ApiError> {
    let headers = header_pairs(req.headers);
    let query = decode_query(req.uri.query());
    let signable = SignableRequest {
        method: req.method.as_str(),
        path: req.uri.path(),
        query: &query,
        headers: &headers,
        body: req.body,
    };
    let now = shared.clock.now();
    let credentials = lock(&shared.credentials);
    let verified = verify(&signable, |ak| credentials.get(ak).map(|c| &c.secret))
        .map_err(|err| auth_failed(describe(&err)))?;

    let sdk_date = parse_sdk_date(&verified.sdk_date)
        .map_err(|_| auth_failed(format!("invalid X-Sdk-Date {}", verified.sdk_date)))?;
    let skew = sdk_date - now.unix_timestamp();
    if skew.abs() > MAX_SKEW_SECS {
        return Err(auth_failed(format!(
            "signature expired: X-Sdk-Date {} is {} seconds {} the server time {}, more than the 15 minutes allowed; \
             check the client's clock",
            verified.sdk_date,
            skew.abs(),
            if skew < 0 { "behind" } else { "ahead of" },
            format_sdk_date(now.unix_timestamp()),
        )));
    }
    if let Algorithm::V11HmacSha256 { region, .. } = &verified.algorithm
        && *region != shared.region
    {
        return Err(auth_failed(format!(
            "the credential scope names region {region}, but this endpoint serves {}",
            shared.region
        )));
    }

    let credential = credentials
        .get(&verified.access_key)
        .ok_or_else(|| auth_failed("verify aksk signature fail"))?;
    if let Some(temporary) = &credential.temporary {
        if temporary.expires_at <= now {
            return Err(auth_failed(format!(
                "the temporary access key {} has expired; fetch new credentials",
                verified.access_key
            )));
        }
        let token = req
            .headers
            .get(HEADER_SECURITY_TOKEN)
            .map(|v| v.to_str().unwrap_or_default().trim())
            .ok_or_else(|| {
                auth_failed(format!(
                    "the access key {} is temporary: send its security token in X-Security-Token",
                    verified.access_key
                ))
            })?;
        if !verified
            .signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(HEADER_SECURITY_TOKEN))
        {
            return Err(auth_failed(
                "x-security-token must be listed in SignedHeaders",
            ));
        }
        if !secrets_equal(token, &temporary.security_token) {
            return Err(auth_failed(format!(
                "the security token does not belong to the temporary access key {}",
                verified.access_key
            )));
        }
    }
    Ok(Identity::AccessKey {
        principal: credential.principal.clone(),
        temporary: credential.temporary.is_some(),
        access_key: verified.access_key,
    })
}

/// The gateway's wording for each verification failure.
fn describe(err: &VerifyError) -> String {
    match err {
        VerifyError::UnknownAccessKey(ak) => format!("ak {ak} not exist"),
        VerifyError::SignatureMismatch => "verify aksk signature fail".to_owned(),
        VerifyError::MissingDate => "X-Sdk-Date is missing".to_owned(),
        other => other.to_string(),
    }
}
