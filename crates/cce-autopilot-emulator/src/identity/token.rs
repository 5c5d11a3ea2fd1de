//! ID tokens checked as IAM and STS check them: an RS256 signature by a key of the provider's JWK set (the
//! header's `kid`, else any of its keys), `iss` equal to the provider's issuer, `aud` naming its client id,
//! and `exp` / `nbf` against the emulator's clock (so `--clock-offset` moves them too).

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use time::OffsetDateTime;

use super::Provider;

/// How far ahead of the emulator's clock a token's `nbf` may be (issuers' clocks run a little ahead).
const NBF_LEEWAY_SECS: i64 = 60;

/// The claims of an ID token that the identity world uses.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    pub(crate) sub: String,
    exp: i64,
    nbf: Option<i64>,
}

/// Why an ID token was refused; the message never quotes the token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    /// Not a JWT, not RS256, or no key of the provider verifies its signature.
    Signature(String),
    /// `iss` is not the provider's issuer.
    Issuer,
    /// `aud` does not name the provider's client id.
    Audience,
    /// `exp` has passed.
    Expired,
    /// `nbf` is still ahead.
    NotYetValid,
    /// A required claim (`iss`, `aud`, `sub`, `exp`) is missing or malformed.
    Claims(String),
}

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRefusal::Signature(why) => write!(f, "the id_token signature is invalid: {why}"),
            TokenRefusal::Issuer => {
                f.write_str("the id_token issuer (iss) is not the identity provider's")
            }
            TokenRefusal::Audience => f.write_str(
                "the id_token audience (aud) does not contain the identity provider's client id",
            ),
            TokenRefusal::Expired => f.write_str("the id_token has expired (exp)"),
            TokenRefusal::NotYetValid => f.write_str("the id_token is not valid yet (nbf)"),
            TokenRefusal::Claims(why) => write!(f, "the id_token claims are invalid: {why}"),
        }
    }
}

/// Verifies `token` as an ID token of `provider` at `now`.
pub(crate) fn verify(
    provider: &Provider,
    token: &str,
    now: OffsetDateTime,
) -> Result<Claims, TokenRefusal> {
    let header = decode_header(token).map_err(|e| TokenRefusal::Signature(e.to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenRefusal::Signature(format!(
            "algorithm {:?} is not RS256",
            header.alg
        )));
    }
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => provider.keys.find(kid).into_iter().collect(),
        None => provider.keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(TokenRefusal::Signature(
            "no signing key of the identity provider has this kid".to_owned(),
        ));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&provider.issuer]);
    validation.set_audience(&[&provider.client_id]);
    validation.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
    // Checked below against the emulator's clock, not the machine's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let mut last = TokenRefusal::Signature("no key verifies it".to_owned());
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match decode::<Claims>(token, &key, &validation) {
            Ok(data) => return check_times(data.claims, now),
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind;
                last = match e.kind() {
                    ErrorKind::InvalidIssuer => TokenRefusal::Issuer,
                    ErrorKind::InvalidAudience => TokenRefusal::Audience,
                    ErrorKind::MissingRequiredClaim(c) => {
                        TokenRefusal::Claims(format!("{c} is missing"))
                    }
                    ErrorKind::Json(_) => TokenRefusal::Claims("not the expected JSON".to_owned()),
                    ErrorKind::InvalidSignature => {
                        TokenRefusal::Signature("no key verifies it".to_owned())
                    }
                    other => TokenRefusal::Signature(format!("{other:?}")),
                };
                if !matches!(last, TokenRefusal::Signature(_)) {
                    // The signature held (claims are checked after it): this key is the signer.
                    return Err(last);
                }
            }
        }
    }
    Err(last)
}

fn check_times(claims: Claims, now: OffsetDateTime) -> Result<Claims, TokenRefusal> {
    let now = now.unix_timestamp();
    if claims.exp <= now {
        return Err(TokenRefusal::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + NBF_LEEWAY_SECS) {
        return Err(TokenRefusal::NotYetValid);
    }
    if claims.sub.is_empty() {
        return Err(TokenRefusal::Claims("sub is empty".to_owned()));
    }
    Ok(claims)
}
