//! base64url without padding (RFC 4648 §5), the text form of plan links and share links.
//! Decoding accepts `=` padding and says where a character outside the alphabet stands.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes bytes as base64url without padding.
pub fn encode_base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (i, &byte)| {
            word | u32::from(byte) << (16 - 8 * i)
        });
        // A chunk of n bytes yields n + 1 characters.
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(word >> (18 - 6 * i) & 0x3f) as usize] as char);
        }
    }
    out
}

/// Why base64url text could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Error {
    /// A character outside the alphabet, at this byte offset.
    BadCharacter(usize),
    /// A length no encoding produces (one character past a multiple of four).
    BadLength,
}

/// Decodes base64url, with or without `=` padding.
pub fn decode_base64url(text: &str) -> Result<Vec<u8>, Base64Error> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return Err(Base64Error::BadLength);
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut word = 0u32;
    let mut bits = 0;
    for (position, byte) in text.bytes().enumerate() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return Err(Base64Error::BadCharacter(position)),
        };
        word = word << 6 | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((word >> bits) as u8);
            word &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_base64url(plain.as_bytes()), encoded);
            assert_eq!(decode_base64url(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode_base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode_base64url("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64url("Zm9vY"), Err(Base64Error::BadLength));
        assert_eq!(decode_base64url("Zm+v"), Err(Base64Error::BadCharacter(2)));
    }

    proptest! {
        #[test]
        fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let encoded = encode_base64url(&bytes);
            prop_assert_eq!(encoded.len(), (bytes.len() * 4).div_ceil(3));
            prop_assert_eq!(decode_base64url(&encoded).unwrap(), bytes);
        }
    }
}
