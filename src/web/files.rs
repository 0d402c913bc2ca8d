//! Files in and out: downloading generated text (CSV, JSON) and reading a picked file as text,
//! with a size cap so a huge or hostile file is refused before it is read.

use crate::domain::i18n::Lang;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Offers `text` as a file download named `filename`.
pub fn download_text(filename: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let anchor: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

/// Why a picked file could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum FileError {
    /// Larger than the cap, in bytes.
    TooLarge { size: f64, cap: f64 },
    /// The browser failed to read it.
    Unreadable,
}

/// Bytes in whole KiB, rounded.
fn kib(bytes: f64) -> u64 {
    (bytes / 1024.0).round() as u64
}

impl FileError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            FileError::TooLarge { size, cap } => {
                // Whole KB (integers: the start-up module links no float formatting).
                let (size, cap) = (kib(*size), kib(*cap));
                match lang {
                    Lang::ZhCn => format!("文件太大（{size} KB，上限 {cap} KB），未读取。"),
                    Lang::En => {
                        format!(
                            "The file is too large ({size} KB, limit {cap} KB) and was not read."
                        )
                    }
                }
            }
            FileError::Unreadable => lang
                .pick("无法读取该文件。", "The file could not be read.")
                .into(),
        }
    }
}

/// Reads a picked file as UTF-8 text, refusing files over `cap_bytes`.
pub async fn read_text(file: &web_sys::File, cap_bytes: f64) -> Result<String, FileError> {
    let size = file.size();
    if size > cap_bytes {
        return Err(FileError::TooLarge {
            size,
            cap: cap_bytes,
        });
    }
    let text = JsFuture::from(file.text())
        .await
        .map_err(|_| FileError::Unreadable)?;
    text.as_string().ok_or(FileError::Unreadable)
}

/// The first file of an `<input type="file">` change event.
pub fn picked_file(event: &web_sys::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = event.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}
