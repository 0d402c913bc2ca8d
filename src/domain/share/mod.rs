//! Storyboards shared by link or file: the payload, its codec, and the checks every decoded
//! link or file goes through before anything is shown or saved.
//!
//! **The link.** `{origin}/view#<header>.<body>`. The fragment never reaches a server.
//!
//! - The header is `ds1` for a plain link and `ds1k` for one protected by a passphrase: `ds`,
//!   the format version, and `k` when the body is encrypted. A header `ds2`… comes from a newer
//!   build and is refused with a message saying so.
//! - A plain body is the base64url text (RFC 4648 §5, no padding) of the payload's compact JSON
//!   compressed as a zlib stream (RFC 1950: deflate with an Adler-32 checksum, what
//!   `CompressionStream("deflate")` writes). The checksum makes a link changed by hand or cut
//!   short fail loudly instead of decoding into other text.
//! - A protected body is the base64url text of `salt (16 bytes) ‖ iv (12 bytes) ‖ ciphertext`,
//!   where the ciphertext is the same zlib stream encrypted with AES-256-GCM under a key derived
//!   from the passphrase by PBKDF2-HMAC-SHA256 with the salt and [`PBKDF2_ITERATIONS`]. GCM's
//!   tag authenticates it: a wrong passphrase and a changed link give the same clear error.
//!   The browser's WebCrypto does the cryptography (`crate::web::share_link`); this module lays
//!   the bytes out and checks them.
//!
//! **What a link holds.** A [`Storyboard`]: the project's id and name, its frame and style, the
//! cast, and the episodes, scenes and shots in the chosen [`ShareScope`], with each scene's
//! picked dialogue take. Its types have no field for an API key, the ledger (costs, models),
//! video jobs or clips, so none can be shared by mistake; they also refuse unknown fields, so a
//! link crafted with extra data is rejected. A review sent back adds the collaborator's
//! [`ShotComment`]s and, for each field they changed, its value before the change
//! ([`FieldEdit`]), which is what lets the merge tell their edits from yours.
//!
//! **Decoding** ([`decode_plain`], [`payload_from_json`]) checks, in this order, and stops at
//! the first failure with a [`ShareError`]: the link's length ([`MAX_LINK_CHARS`]), the header,
//! the base64url text, the compressed stream (inflating stops at [`MAX_PAYLOAD_BYTES`], so a
//! decompression bomb costs at most that much memory, and the checksum must match), UTF-8, JSON
//! syntax, the format tag and version, the fields (types, no unknown fields), then the rules
//! serde cannot express ([`validate`]: unique ids, sizes, references). Nothing decoded is ever
//! rendered as HTML: the viewer puts every string in a text node.
//!
//! Links longer than [`LINK_FILE_THRESHOLD`] characters are cut by some chat apps: the app then
//! offers a `.duanju.json` file ([`share_file_text`], read back by [`read_share_file`]).
//!
//! ```
//! use duanju_studio::domain::project::sample::sample_series;
//! use duanju_studio::domain::share::{decode_plain, plain_fragment, SharePayload, ShareScope};
//!
//! let series = sample_series(1, 6);
//! let scene = ShareScope::Scene { id: series.episodes[0].scenes[0].id.clone() };
//! let payload = SharePayload::storyboard(&series, &scene, 1_000.0).unwrap();
//! let fragment = plain_fragment(&payload);
//! assert!(fragment.starts_with("ds1."));
//! assert_eq!(decode_plain(&fragment).unwrap(), payload);
//! ```
//!
//! **Where things are.** `codec` lays out and reads the bytes of links and share files (the
//! header and its version, base64url, the zlib stream and its cap, the protected layout, the
//! files) and says why one could not be opened ([`ShareError`]); `payload` is what a shared
//! storyboard contains (its scope, cast, episodes, scenes, shots and picked takes) and the rules
//! [`validate`] checks; `review` is what a collaborator sends back: [`ShotComment`]s and the
//! fields they changed ([`FieldEdit`]), each field named by a [`ShotField`] and valued by a
//! [`FieldValue`]. Merging a review into the project is [`crate::domain::storyboard::merge`],
//! which builds on this module, never the other way round.

mod codec;
mod payload;
mod review;

pub use codec::{
    compress, decode_body, decode_plain, inflate, inflate_capped, link_path, parse_fragment,
    payload_from_json, plain_fragment, read_share_file, sealed_file_text, sealed_fragment,
    share_file_name, share_file_text, Fragment, Rule, ShareError, ShareFile, HEADER_PLAIN,
    HEADER_SEALED, IV_BYTES, LINK_FILE_THRESHOLD, MAX_LINK_CHARS, MAX_PAYLOAD_BYTES,
    PBKDF2_ITERATIONS, SALT_BYTES, SEALED_FILE_FORMAT, SHARE_FORMAT, SHARE_VERSION, TAG_BYTES,
};
pub use payload::{
    validate, ShareKind, SharePayload, ShareScope, SharedCharacter, SharedEpisode, SharedScene,
    SharedShot, SharedTake, Storyboard, MAX_AUTHOR_CHARS, MAX_COMMENTS, MAX_COMMENT_CHARS,
    MAX_ID_CHARS, MAX_LIST_ITEMS, MAX_SHOTS, MAX_SHOT_SECONDS, MAX_TEXT_CHARS,
};
pub use review::{
    format_seconds, review_edits, status_from_tag, status_label, status_tag, FieldEdit, FieldKind,
    FieldValue, InputError, ShotComment, ShotField, STATUSES,
};

#[cfg(test)]
mod tests {
    use super::{SharePayload, ShareScope};
    use crate::domain::project::sample::sample_series;

    /// Scene 2 of episode 2 of a two-episode sample, shared.
    pub(super) fn scene_payload() -> SharePayload {
        let series = sample_series(2, 12);
        let scope = ShareScope::Scene {
            id: series.episodes[1].scenes[1].id.clone(),
        };
        SharePayload::storyboard(&series, &scope, 5.0).unwrap()
    }
}
