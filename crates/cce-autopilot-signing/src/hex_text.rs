//! Lower-case hex of digests and MACs, written straight into a byte buffer: `hex::encode` builds its
//! `String` one `char` at a time, which showed in the per-call profile (three encodings per request).

/// `bytes` as lower-case hex.
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // The buffer is exactly twice as long as the input, the one condition `encode_to_slice` has.
    if hex::encode_to_slice(bytes, &mut out).is_err() {
        return hex::encode(bytes);
    }
    // Hex digits are ASCII.
    String::from_utf8(out).unwrap_or_else(|_| hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_hex_encode() {
        for bytes in [&b""[..], b"\x00\xff\x10", b"any bytes at all \x7f\x80"] {
            assert_eq!(lower_hex(bytes), hex::encode(bytes));
        }
    }
}
