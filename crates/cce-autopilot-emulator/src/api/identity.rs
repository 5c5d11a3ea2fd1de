//! What IAM's, STS's and pod identity's routes share: the world they answer from and their errors, in
//! each service's codes ([`crate::codes`]).

use axum::http::StatusCode;

use super::ApiError;
use crate::codes;
use crate::identity::IdentityWorld;
use crate::identity::token::TokenRefusal;
use crate::state::Shared;

/// Which service answers, so which error codes.
#[derive(Clone, Copy)]
pub(super) enum Service {
    Iam,
    Sts,
}

impl Service {
    /// The identity world; without an identity file there is no provider or agency to find.
    pub(super) fn world(self, shared: &Shared) -> Result<&IdentityWorld, ApiError> {
        shared.identity.as_ref().ok_or_else(|| {
            self.not_found(
                "no identity providers or agencies: start the emulator with an identity file"
                    .to_owned(),
            )
        })
    }

    pub(super) fn bad_request(self, message: impl Into<String>) -> ApiError {
        let code = match self {
            Service::Iam => codes::IAM_BAD_REQUEST,
            Service::Sts => codes::STS_BAD_REQUEST,
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(super) fn not_found(self, message: String) -> ApiError {
        let code = match self {
            Service::Iam => codes::IAM_NOT_FOUND,
            Service::Sts => codes::STS_NOT_FOUND,
        };
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub(super) fn not_trusted(self, agency: &str) -> ApiError {
        match self {
            Service::Iam => ApiError::new(
                StatusCode::FORBIDDEN,
                codes::IAM_FORBIDDEN,
                format!(
                    "Policy doesn't allow the caller to assume agency {agency}: it does not trust the caller."
                ),
            ),
            Service::Sts => ApiError::new(
                StatusCode::FORBIDDEN,
                codes::STS_ACCESS_DENIED,
                format!("access denied: agency {agency} does not trust the caller"),
            ),
        }
    }

    /// An ID token refused: IAM 401, STS 400.
    pub(super) fn refused(self, refusal: TokenRefusal) -> ApiError {
        match self {
            Service::Iam => ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::IAM_UNAUTHORIZED,
                refusal.to_string(),
            ),
            Service::Sts => self.bad_request(refusal.to_string()),
        }
    }

    /// `duration_seconds` within `min..=max` (`default` when absent), as a duration.
    pub(super) fn duration_in(
        self,
        given: Option<i64>,
        min: i64,
        max: i64,
        default: i64,
    ) -> Result<time::Duration, ApiError> {
        let seconds = given.unwrap_or(default);
        if (min..=max).contains(&seconds) {
            Ok(time::Duration::seconds(seconds))
        } else {
            Err(self.bad_request(format!(
                "duration_seconds must be from {min} to {max}, not {seconds}"
            )))
        }
    }
}
