//! Plans in share links: the URL fragment codec.
//!
//! A plan travels after the `#` of a link as `v1.<payload>.<checksum>`: the payload is the plan's
//! compact JSON in base64url without padding (RFC 4648 §5), the checksum the FNV-1a 32-bit hash
//! of that JSON in 8 hex digits. The fragment never reaches a server. The checksum sits at the
//! end, so a link cut short by a chat app or edited by hand is refused with a clear message
//! instead of silently becoming another plan.

use crate::domain::cost::plan::{LinkProblem, PlanError, ProductionPlan};
use crate::domain::encoding::base64url::{decode_base64url, encode_base64url, Base64Error};
use crate::domain::encoding::hash::fnv1a32;
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

// A link's base64url problems, as the plan page tells them.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::plan::{bench_plan_200_series, seed_inventory_plan};

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
}
