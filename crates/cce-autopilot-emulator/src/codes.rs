//! The error codes the emulator answers with, each with its HTTP status. Bodies are always
//! `{"error_code": <code>, "error_msg": <message>, "request_id": <the X-Request-Id>}`.
//!
//! The gateway codes are the real API gateway's; the CCE codes follow the service's
//! `CCE.01<status><nnn>` pattern, chosen where the vendor documentation names none.

/// 401 from the gateway: missing, malformed or unknown AK/SK authentication, a bad signature, an
/// `X-Sdk-Date` more than 15 minutes from the emulator's clock ("signature expired"), expired temporary
/// credentials, or a missing, unsigned or wrong `X-Security-Token`. Messages start with
/// `Incorrect IAM authentication information: `.
pub const AUTH_FAILED: &str = "APIGW.0301";
/// 401 from the gateway: an `X-Auth-Token` the emulator was not configured with
/// (message `The token must be updated.`).
pub const TOKEN_INVALID: &str = "APIGW.0307";
/// 404 from the gateway: no API at this method and path.
pub const API_NOT_FOUND: &str = "APIGW.0101";
/// 429 from the gateway, injected by [`Faults`](crate::Faults), with `Retry-After`.
pub const THROTTLED: &str = "APIGW.0308";
/// 503 from the gateway, injected by [`Faults`](crate::Faults), with `Retry-After`.
pub const UNAVAILABLE: &str = "APIGW.0203";
/// 400 from CCE: the body is not JSON, not an object, lacks `duration`, has a `duration` that is not an
/// integer, or one outside `-1` / `1..=1827`; or the body could not be read.
pub const INVALID_REQUEST: &str = "CCE.01400001";
/// 400 from CCE: `Content-Type` missing or not one of the documented types.
pub const UNSUPPORTED_CONTENT_TYPE: &str = "CCE.01400006";
/// 403 from CCE: the project ID in the path is not the emulator's project, or `X-Project-Id` differs from
/// the project ID in the path.
pub const PROJECT_FORBIDDEN: &str = "CCE.01403001";
/// 403 from CCE: the cluster list or show operation, for credentials whose policy does not allow it
/// (when configured with `deny_cluster_listing`).
pub const CLUSTER_LIST_FORBIDDEN: &str = "CCE.01403002";
/// 404 from CCE: no cluster with this ID in the project.
pub const CLUSTER_NOT_FOUND: &str = "CCE.01404001";
/// 500 from CCE: the emulator failed to issue a certificate (should not happen).
pub const INTERNAL_ERROR: &str = "CCE.01500001";
/// 400 from the ECS metadata service: `X-Metadata-Token-Ttl-Seconds` missing or not within 1..=21600.
pub const METADATA_BAD_REQUEST: &str = "ECS.METADATA.0400";
/// 401 from the ECS metadata service: `X-Metadata-Token` missing, unknown or expired, or (message
/// `Please configure Cloud Service Agency first`) the server has no agency, hence no credentials.
pub const METADATA_UNAUTHORIZED: &str = "ECS.METADATA.0401";
/// 404 from the ECS metadata service: no token service (when configured without one).
pub const METADATA_NOT_FOUND: &str = "ECS.METADATA.0404";

// IAM, STS and pod identity, served with an identity file (`emulator serve --identity-file`). Bodies keep
// the shape above (IAM's and STS's own: `error_msg`, `error_code`, `request_id`). Sources: IAM's — the IAM API
// reference's "Obtaining a Token with an OpenID Connect ID Token" (its Open Telekom Cloud copy,
// opentelekomcloud-docs/identity-access-management); STS's — the IAM v5 API reference (AssumeAgency,
// ErrorCode); where no source names a code, the emulator's choice says so.

/// 400 from IAM: a body that is not the documented JSON, a missing field, a duration or session name out of
/// range (IAM: "Request body is invalid.").
pub const IAM_BAD_REQUEST: &str = "IAM.0011";
/// 401 from IAM: an ID token refused (signature, `iss`, `aud`, `exp`, `nbf`, claims), or an unknown or
/// expired IAM token for `OS-CREDENTIAL/securitytokens`.
pub const IAM_UNAUTHORIZED: &str = "IAM.0001";
/// 403 from IAM: the agency does not trust the caller.
pub const IAM_FORBIDDEN: &str = "IAM.0003";
/// 404 from IAM: no such identity provider (`X-Idp-Id`) or agency.
pub const IAM_NOT_FOUND: &str = "IAM.0004";
/// 404 from STS: no agency (or identity provider) at the URN: "the agency '<urn>' cannot be found" (AssumeAgency's
/// documented example; its status is not documented).
pub const STS_NOT_FOUND: &str = "STS5.1106";
/// 403 from STS: the agency does not trust the caller ("access denied: …", the v5 error-code page's example).
pub const STS_ACCESS_DENIED: &str = "PAP5.0001";
/// 400 from STS: a body that is not the documented JSON, a session name or duration out of range, or an ID
/// token refused by `assume-with-oidc` (the official SDK's own OIDC test answers a bad token with 400
/// `IAM.0001`; the emulator's choice for the rest, as no source names a code).
pub const STS_BAD_REQUEST: &str = "IAM.0001";
/// 401 from the pod-identity endpoint: no or a refused `Authorization` token (the emulator's choice: no source
/// documents the agent's errors).
pub const POD_IDENTITY_UNAUTHORIZED: &str = "CCE.01401010";
