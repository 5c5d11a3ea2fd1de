//! Errors of signing and verification. No message ever contains a secret key.

/// Why a request could not be signed (or an `X-Sdk-Date` not parsed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The request to sign has no `X-Sdk-Date` header.
    #[error(
        "the request has no X-Sdk-Date header: add one (UTC, YYYYMMDDTHHMMSSZ, see format_sdk_date) before signing"
    )]
    MissingDate,
    /// An `X-Sdk-Date` value is not a valid `YYYYMMDDTHHMMSSZ` UTC time.
    #[error(
        "invalid X-Sdk-Date `{0}`: expected a UTC time as YYYYMMDDTHHMMSSZ, e.g. 20261128T120000Z"
    )]
    InvalidDate(String),
    /// The access key, region or service cannot be written into an `Authorization` header.
    #[error(
        "{field} `{value}` cannot go into an Authorization header: it must be non-empty, without white space, `/`, `,` or `=`"
    )]
    InvalidCredential {
        /// Which part: `access key`, `region` or `service`.
        field: &'static str,
        /// The offending value (never the secret key).
        value: String,
    },
}

/// Why a signed request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request has no `Authorization` header.
    #[error("the request has no Authorization header: sign it with an AK/SK")]
    MissingAuthorization,
    /// The `Authorization` header is not in either algorithm's format.
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(String),
    /// No secret key is known for this access key.
    #[error("unknown access key `{0}`: check the AK configured in the client")]
    UnknownAccessKey(String),
    /// The request has no `X-Sdk-Date` header.
    #[error("the request has no X-Sdk-Date header")]
    MissingDate,
    /// The `X-Sdk-Date` header is not a valid `YYYYMMDDTHHMMSSZ` UTC time.
    #[error(
        "invalid X-Sdk-Date `{0}`: expected a UTC time as YYYYMMDDTHHMMSSZ, e.g. 20261128T120000Z"
    )]
    InvalidDate(String),
    /// `SignedHeaders` does not list `x-sdk-date`, so the date (and any expiry check) is unprotected.
    #[error("SignedHeaders does not include x-sdk-date: the request date must be signed")]
    DateNotSigned,
    /// A header listed in `SignedHeaders` is not in the request.
    #[error(
        "header `{0}` is listed in SignedHeaders but missing from the request: was it dropped by a proxy?"
    )]
    MissingSignedHeader(String),
    /// The date in a `V11-HMAC-SHA256` credential scope is not the day of `X-Sdk-Date`.
    #[error("the credential scope date {credential_date} is not the day of X-Sdk-Date {sdk_date}")]
    CredentialDateMismatch {
        /// `YYYYMMDD` from `Credential=<AK>/<YYYYMMDD>/...`.
        credential_date: String,
        /// The `X-Sdk-Date` header value.
        sdk_date: String,
    },
    /// The recomputed signature differs from the one sent.
    #[error(
        "signature mismatch: the request was changed after signing, or signed with another secret key"
    )]
    SignatureMismatch,
}
