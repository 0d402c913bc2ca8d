//! Share links in the browser: the passphrase cryptography (WebCrypto), the link's URL, the
//! clipboard, and the review comments kept beside a project.
//!
//! The link format and every check of a decoded link live in [`crate::domain::share`]; this
//! module adds what needs the browser. A protected link is sealed with AES-256-GCM under a key
//! derived by PBKDF2-HMAC-SHA256 ([`PBKDF2_ITERATIONS`] iterations) from the passphrase and a
//! random 16-byte salt, with a random 12-byte nonce, both from `crypto.getRandomValues`. A
//! wrong passphrase fails GCM's authentication, so it cannot be told from a changed link:
//! both give [`ShareError::WrongPassphrase`].
//!
//! Comments that came back in reviews are stored in IndexedDB (`kv`, key
//! `review.comments:{project id}`), merged by comment id, so they stay with their author, time
//! and shot across merges and reloads.
//!
//! ```no_run
//! # async fn example(payload: duanju_studio::domain::share::SharePayload) {
//! use duanju_studio::web::share_link;
//!
//! let fragment = share_link::encode(&payload, "月光").await.unwrap();
//! assert!(fragment.starts_with("ds1k."));
//! let back = share_link::decode(&fragment, Some("月光")).await.unwrap();
//! assert_eq!(back, payload);
//! println!("{}", share_link::link_url(&fragment));
//! # }
//! ```

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::domain::share::{
    compress, decode_body, link_path, parse_fragment, plain_fragment, sealed_fragment, Fragment,
    ShareError, SharePayload, ShotComment, IV_BYTES, PBKDF2_ITERATIONS, SALT_BYTES,
};
use crate::domain::storyboard::merge::merge_comments;
use crate::web::idb::{self, StorageError, KV};

/// The `kv` key prefix of a project's review comments.
pub const COMMENTS_PREFIX: &str = "review.comments:";

/// The link fragment of a payload: plain when `passphrase` is empty (after trimming), else
/// protected.
pub async fn encode(payload: &SharePayload, passphrase: &str) -> Result<String, ShareError> {
    if passphrase.trim().is_empty() {
        return Ok(plain_fragment(payload));
    }
    let salt = random_bytes(SALT_BYTES)?;
    let iv = random_bytes(IV_BYTES)?;
    let key = derive_key(passphrase, &salt).await?;
    let ciphertext = aes_gcm(&key, &iv, &compress(payload), true)
        .await
        .map_err(|_| ShareError::CryptoUnavailable)?;
    Ok(sealed_fragment(&salt, &iv, &ciphertext))
}

/// Decodes a link (the fragment, with its `#`, or a whole URL). A protected link needs its
/// passphrase: without one it gives [`ShareError::NeedsPassphrase`].
pub async fn decode(text: &str, passphrase: Option<&str>) -> Result<SharePayload, ShareError> {
    match parse_fragment(text)? {
        Fragment::Plain(bytes) => decode_body(&bytes),
        Fragment::Sealed {
            salt,
            iv,
            ciphertext,
        } => {
            let passphrase = passphrase
                .filter(|p| !p.is_empty())
                .ok_or(ShareError::NeedsPassphrase)?;
            let key = derive_key(passphrase, &salt).await?;
            let zlib = aes_gcm(&key, &iv, &ciphertext, false)
                .await
                .map_err(|_| ShareError::WrongPassphrase)?;
            decode_body(&zlib)
        }
    }
}

/// Whether a link is protected by a passphrase (without decoding it).
pub fn is_sealed(text: &str) -> bool {
    matches!(parse_fragment(text), Ok(Fragment::Sealed { .. }))
}

/// The full URL of a link: this page's origin, `/view#` and the fragment.
pub fn link_url(fragment: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{}", link_path(fragment))
}

/// Copies text to the clipboard; `false` when the browser refused (the caller then asks the
/// user to copy by hand).
pub async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let has_clipboard = Reflect::get(&navigator, &"clipboard".into())
        .map(|c| !c.is_undefined())
        .unwrap_or(false);
    if !has_clipboard {
        return false;
    }
    JsFuture::from(navigator.clipboard().write_text(text))
        .await
        .is_ok()
}

/// A new random id for a comment: 16 hex digits.
pub fn new_comment_id() -> String {
    let bytes = random_bytes(8).unwrap_or_else(|_| {
        let now = js_sys::Date::now().to_bits().to_le_bytes();
        now.to_vec()
    });
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The review comments kept for a project, oldest first.
pub async fn load_comments(project_id: &str) -> Result<Vec<ShotComment>, StorageError> {
    let db = idb::shared().await?;
    Ok(db
        .get::<Vec<ShotComment>>(KV, &format!("{COMMENTS_PREFIX}{project_id}"))
        .await?
        .unwrap_or_default())
}

/// Adds comments to a project's (each once, by id) and returns them all.
pub async fn add_comments(
    project_id: &str,
    comments: &[ShotComment],
) -> Result<Vec<ShotComment>, StorageError> {
    let db = idb::shared().await?;
    let key = format!("{COMMENTS_PREFIX}{project_id}");
    let stored = db
        .get::<Vec<ShotComment>>(KV, &key)
        .await?
        .unwrap_or_default();
    let merged = merge_comments(&stored, comments);
    if merged.len() != stored.len() {
        db.put(KV, &key, &merged).await?;
    }
    Ok(merged)
}

fn crypto() -> Result<web_sys::Crypto, ShareError> {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or(ShareError::CryptoUnavailable)
}

fn subtle() -> Result<web_sys::SubtleCrypto, ShareError> {
    let crypto = crypto()?;
    let subtle =
        Reflect::get(&crypto, &"subtle".into()).map_err(|_| ShareError::CryptoUnavailable)?;
    if subtle.is_undefined() || subtle.is_null() {
        return Err(ShareError::CryptoUnavailable);
    }
    Ok(subtle.unchecked_into())
}

fn random_bytes(n: usize) -> Result<Vec<u8>, ShareError> {
    let array = Uint8Array::new_with_length(n as u32);
    crypto()?
        .get_random_values_with_js_u8_array(&array)
        .map_err(|_| ShareError::CryptoUnavailable)?;
    Ok(array.to_vec())
}

fn object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object
}

/// PBKDF2-HMAC-SHA256 → an AES-256-GCM key.
async fn derive_key(passphrase: &str, salt: &[u8]) -> Result<web_sys::CryptoKey, ShareError> {
    let subtle = subtle()?;
    let unavailable = |_| ShareError::CryptoUnavailable;
    let secret = Uint8Array::from(passphrase.as_bytes());
    let base = subtle
        .import_key_with_str(
            "raw",
            &secret,
            "PBKDF2",
            false,
            &Array::of1(&"deriveKey".into()),
        )
        .map_err(unavailable)?;
    let base: web_sys::CryptoKey = JsFuture::from(base)
        .await
        .map_err(unavailable)?
        .unchecked_into();
    let algorithm = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", PBKDF2_ITERATIONS.into()),
    ]);
    let target = object(&[("name", "AES-GCM".into()), ("length", 256.into())]);
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key = subtle
        .derive_key_with_object_and_object(&algorithm, &base, &target, false, &usages)
        .map_err(unavailable)?;
    Ok(JsFuture::from(key)
        .await
        .map_err(unavailable)?
        .unchecked_into())
}

/// AES-GCM encryption (`encrypt`) or decryption; a failed tag check is an `Err`.
async fn aes_gcm(
    key: &web_sys::CryptoKey,
    iv: &[u8],
    data: &[u8],
    encrypt: bool,
) -> Result<Vec<u8>, JsValue> {
    let subtle = subtle().map_err(|_| JsValue::from_str("no WebCrypto"))?;
    let algorithm = object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
    ]);
    let data = Uint8Array::from(data);
    let promise = if encrypt {
        subtle.encrypt_with_object_and_js_u8_array(&algorithm, key, &data)?
    } else {
        subtle.decrypt_with_object_and_js_u8_array(&algorithm, key, &data)?
    };
    let buffer = JsFuture::from(promise).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
