//! Plans in share links: the URL fragment codec.
//!
//! A plan travels after the `#` of a link as `v1.<payload>.<checksum>`: the payload is the plan's
//! compact JSON in base64url without padding (RFC 4648 §5), the checksum the FNV-1a 32-bit hash
//! of that JSON in 8 hex digits. The fragment never reaches a server. The checksum sits at the
//! end, so a link cut short by a chat app or edited by hand is refused with a clear message
//! instead of silently becoming another plan.

use crate::domain::cost::plan::{LinkProblem, PlanError, ProductionPlan};
use crate::domain::i18n::Lang;

/// The prefix of version-1 plan fragments.
pub const FRAGMENT_PREFIX: &str = "v1.";

/// The fragment (without `#`) that carries `plan`.
pub fn plan_to_fragment(plan: &ProductionPlan) -> String {
    let json = plan.to_compact_json();
    format!(
        "{FRAGMENT_PREFIX}{}.{:08x}",
        encode_base64url(json.as_bytes()),
        fnv1a32(json.as_bytes())
    )
}

/// Reads a plan from a fragment. Accepts the fragment alone, with its `#`, or a whole URL.
pub fn plan_from_fragment(fragment: &str) -> Result<ProductionPlan, PlanError> {
    let fragment = fragment.trim();
    let fragment = fragment
        .rsplit_once('#')
        .map_or(fragment, |(_, after)| after);
    let body = fragment
        .strip_prefix(FRAGMENT_PREFIX)
        .ok_or(PlanError::Link(LinkProblem::UnknownFormat))?;
    let (payload, checksum) = body
        .rsplit_once('.')
        .ok_or(PlanError::Link(LinkProblem::Truncated))?;
    let bytes = decode_base64url(payload).map_err(|problem| PlanError::Link(problem.into()))?;
    if checksum.len() != 8 || format!("{:08x}", fnv1a32(&bytes)) != checksum.to_ascii_lowercase() {
        return Err(PlanError::Link(LinkProblem::ChecksumMismatch));
    }
    let json = String::from_utf8(bytes).map_err(|_| PlanError::Link(LinkProblem::NotText))?;
    ProductionPlan::from_json(&json)
}

/// The FNV-1a 32-bit hash: a checksum against accidents, not an authenticator.
fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

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

impl Base64Error {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        LinkProblem::from(*self).message(lang)
    }
}

impl From<Base64Error> for LinkProblem {
    fn from(error: Base64Error) -> LinkProblem {
        match error {
            Base64Error::BadCharacter(position) => LinkProblem::BadCharacter { position },
            Base64Error::BadLength => LinkProblem::Truncated,
        }
    }
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
    use crate::domain::cost::plan::{bench_plan_200_series, seed_inventory_plan};
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

    #[test]
    fn plans_round_trip_through_fragments() {
        for plan in [seed_inventory_plan(), bench_plan_200_series()] {
            let fragment = plan_to_fragment(&plan);
            assert!(fragment.starts_with("v1."));
            assert!(fragment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
            assert_eq!(plan_from_fragment(&fragment).unwrap(), plan);
            assert_eq!(
                plan_from_fragment(&format!("https://studio.example/#/estimate#{fragment}"))
                    .unwrap(),
                plan
            );
        }
    }

    #[test]
    fn damaged_fragments_say_what_happened() {
        let fragment = plan_to_fragment(&seed_inventory_plan());
        let check = |fragment: &str, expect: LinkProblem| {
            assert_eq!(
                plan_from_fragment(fragment),
                Err(PlanError::Link(expect)),
                "{fragment}"
            );
        };
        check("", LinkProblem::UnknownFormat);
        check("v2.abc.00000000", LinkProblem::UnknownFormat);
        check(&fragment[..fragment.len() / 2], LinkProblem::Truncated);
        check(
            &fragment[..fragment.len() - 3],
            LinkProblem::ChecksumMismatch,
        );
        check(
            &fragment.replacen("v1.ey", "v1.ez", 1),
            LinkProblem::ChecksumMismatch,
        );
        check(
            &fragment.replacen("v1.ey", "v1.e!", 1),
            LinkProblem::BadCharacter { position: 1 },
        );
        let text = format!(
            "v1.{}.{:08x}",
            encode_base64url(&[0xff, 0xfe]),
            fnv1a32(&[0xff, 0xfe])
        );
        check(&text, LinkProblem::NotText);
        // A well-formed link whose plan is invalid reports the plan's own problems.
        let json = r#"{"version":1,"studios":-1}"#;
        let bad = format!(
            "v1.{}.{:08x}",
            encode_base64url(json.as_bytes()),
            fnv1a32(json.as_bytes())
        );
        let error = plan_from_fragment(&bad).unwrap_err();
        assert_eq!(
            error.field_errors()[0].describe(Lang::En),
            "studios: must not be negative"
        );
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
