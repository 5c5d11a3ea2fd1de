//! The one redactor every quoted body and service message passes through before it reaches an error, so
//! that an error answer echoing a request (or a misbehaving proxy page) cannot put a secret on a terminal.
//!
//! Removed: PEM blocks; the values of `Authorization`, `X-Auth-Token`, `X-Security-Token` and other token
//! headers; the values of any field whose name says key data, token, secret, password, signature or
//! credential (`client-key-data: …`, `"securitytoken": "…"`, `sk = …`); JWTs (`eyJ….….…`, ID tokens); and
//! every run of 40 or more base64/hex characters, the shape of secret keys, tokens and key material.

use std::sync::LazyLock;

use regex::Regex;

/// How much of a body is looked at: error pages are small; a huge one is cut before the redactor runs.
const SCAN_LIMIT: usize = 64 * 1024;
/// How much of a redacted body an error keeps.
pub(crate) const EXCERPT_LEN: usize = 512;

struct Rule {
    pattern: Regex,
    replacement: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replacement| Rule {
        // The patterns are constants, tested below.
        pattern: Regex::new(pattern).unwrap_or_else(|e| panic!("redaction pattern {pattern}: {e}")),
        replacement,
    };
    vec![
        rule(
            r"(?s)-----BEGIN ([A-Z0-9 ]{1,40})-----.*?(?:-----END [A-Z0-9 ]{1,40}-----|\z)",
            "-----BEGIN ${1}----- REDACTED -----END ${1}-----",
        ),
        rule(
            r"(?im)^([ \t]*(?:authorization|proxy-authorization|x-auth-token|x-subject-token|x-security-token|x-metadata-token|cookie|set-cookie)[ \t]*[:=][ \t]*).*$",
            "${1}REDACTED",
        ),
        rule(
            r#"(?i)(["']?(?:[\w.-]*(?:key[-_]?data|token|secret|password|passwd|signature|credentials?|private[-_]?key)[\w.-]*|\bsk)["']?[ \t]*[:=][ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,;&}\]<>"']+)"#,
            r#"${1}"REDACTED""#,
        ),
        // A JWT (an ID token) whatever the length of its parts: `eyJ` is a base64url JSON object's start.
        rule(
            r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?",
            "REDACTED",
        ),
        rule(r"[A-Za-z0-9+=_-]{40,}", "REDACTED"),
    ]
});

/// `text` with every secret-looking part replaced (see the module docs).
pub(crate) fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for rule in RULES.iter() {
        if rule.pattern.is_match(&out) {
            out = rule
                .pattern
                .replace_all(&out, rule.replacement)
                .into_owned();
        }
    }
    out
}

/// The start of an error body as text: redacted first, then cut to [`EXCERPT_LEN`] on a character
/// boundary, so that the cut never leaves a piece of a secret too short to be recognised.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SCAN_LIMIT)]);
    let text = redact(&text);
    let text = text.trim();
    let mut end = text.len().min(EXCERPT_LEN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].trim_end().to_owned();
    if text.len() > end || body.len() > SCAN_LIMIT {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUxaL2Z4";
    const SK: &str = "exampleSecretKey0000000000000000000000000";

    #[test]
    fn key_data_tokens_and_passwords_lose_their_values() {
        for (text, secret) in [
            (format!(r#"{{"client-key-data": "{KEY_B64}"}}"#), KEY_B64),
            (format!("client-key-data: {KEY_B64}\n"), KEY_B64),
            (
                r#"{"securitytoken":"tok/with+chars"}"#.to_owned(),
                "tok/with+chars",
            ),
            ("X-Auth-Token: short-token\n".to_owned(), "short-token"),
            ("password=hunter2&user=x".to_owned(), "hunter2"),
            ("sk = abcdefgh\n".to_owned(), "abcdefgh"),
            (r#"{"id-token": 'quoted'}"#.to_owned(), "quoted"),
        ] {
            let out = redact(&text);
            assert!(!out.contains(secret), "{text:?} -> {out:?}");
            assert!(out.contains("REDACTED"), "{out}");
        }
    }

    #[test]
    fn authorization_lines_and_pem_blocks_are_removed_whole() {
        let text = "GET / HTTP/1.1\nAuthorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=0a1b\n\
             -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\nend";
        let out = redact(text);
        assert!(
            !out.contains("Signature=0a1b") && !out.contains("MHcCAQEE"),
            "{out}"
        );
        assert!(out.contains("Authorization: REDACTED"), "{out}");
        assert!(
            out.contains("-----BEGIN EC PRIVATE KEY----- REDACTED"),
            "{out}"
        );
        assert!(out.ends_with("end"), "{out}");
    }

    #[test]
    fn secret_key_shaped_runs_are_removed_but_ids_stay() {
        let text = format!(
            "<html>502 Bad Gateway {SK} request 4a6ab5c2b8c6e3d1f0e9a8b7c6d5e4f3 cluster 3f0c9a1e-2b4d-4c6e-8f10-123456789abc</html>"
        );
        let out = redact(&text);
        assert!(!out.contains(SK), "{out}");
        assert!(out.contains("4a6ab5c2b8c6e3d1f0e9a8b7c6d5e4f3"), "{out}");
        assert!(
            out.contains("3f0c9a1e-2b4d-4c6e-8f10-123456789abc"),
            "{out}"
        );
        assert!(out.contains("502 Bad Gateway"), "{out}");
    }

    #[test]
    fn id_tokens_are_removed_whatever_the_length_of_their_parts() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        let out = redact(&format!("invalid id_token {jwt}, try again"));
        assert_eq!(out, "invalid id_token REDACTED, try again");
    }

    #[test]
    fn excerpts_are_redacted_before_they_are_cut() {
        let body = format!("{}{KEY_B64}{KEY_B64}", "x ".repeat(240));
        let out = excerpt(body.as_bytes());
        assert!(!out.contains(&KEY_B64[..20]), "{out}");
        let body = "é".repeat(600);
        let out = excerpt(body.as_bytes());
        assert!(out.ends_with('…'));
        assert!(out.len() <= EXCERPT_LEN + '…'.len_utf8());
        assert_eq!(excerpt(b"  <html>502</html>\n"), "<html>502</html>");
    }
}
