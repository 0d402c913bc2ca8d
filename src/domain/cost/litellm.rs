//! Import and export of LiteLLM's `model_prices_and_context_window.json`.
//!
//! The file is a JSON object keyed by model name; each entry holds USD prices per token
//! (`input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
//! `cache_creation_input_token_cost`), per request (`input_cost_per_request`,
//! `output_cost_per_request`) and per second of video (`output_cost_per_video_per_second`), plus
//! `litellm_provider`, `mode`, `max_tokens` and fields we ignore. The `sample_spec` entry is
//! documentation and is skipped.
//!
//! Import never fails as a whole: it returns the entries it could read and a diagnostic for
//! each problem, naming the entry and the field ([`ImportDiagnostic`]). Per-token floats become
//! exact millionths per million tokens through their shortest decimal text, so `4.2e-07` is
//! exactly $0.42/MTok. Python's bare `NaN` and `Infinity` (not JSON, but common in generated
//! files) reject only the entry that holds them.
//!
//! Export writes the same format. Video prices that LiteLLM cannot express (per clip, or
//! different per resolution) travel in an extra `duanju_video` field that LiteLLM ignores and
//! import reads back, together with `duanju_aliases` and `duanju_as_of`.
//!
//! [`import_litellm_catalog`] and [`export_litellm_catalog`] do the same for the catalog's full
//! billing shapes (tiers, batch, reasoning, per-second video, images, speech); see `catalog`.

mod catalog;

pub use catalog::{
    export_litellm_catalog, import_litellm_catalog, LiteLlmCatalogImport, SkippedEntry,
    UnmappedField, ANY_LABEL, BILLING_FIELD,
};

use serde_json::{Map, Value};

use crate::domain::cost::money::{
    decimal_to_json_number, float_text, parse_decimal_rounded, Currency, Micros,
};
use crate::domain::cost::pricing::{caps, ModelPrice, Resolution, VideoPrice, VideoUnit};
use crate::domain::i18n::Lang;

/// The documentation entry LiteLLM keeps at the top of the file.
pub const SAMPLE_SPEC: &str = "sample_spec";
/// The source recorded on imported prices that name none.
pub const DEFAULT_SOURCE: &str = "LiteLLM model_prices_and_context_window.json";

/// What went wrong with one entry (or with the file, when `entry` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportDiagnostic {
    /// The model key, or `None` for a problem with the whole file.
    pub entry: Option<String>,
    /// The field, when one field is at fault.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: ImportProblem,
}

/// The kinds of import problems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportProblem {
    /// The file is not JSON; the parser's explanation follows.
    NotJson(String),
    /// The file, or an entry, is not a JSON object.
    NotAnObject,
    /// A price is not a number.
    NotANumber,
    /// A price is NaN or infinite.
    NotFinite,
    /// A price is negative.
    Negative,
    /// A price is above the cap (in USD per million tokens, per request or per second).
    TooLarge {
        /// The cap, in the field's unit as LiteLLM writes it.
        max: String,
    },
    /// The `duanju_billing` extension is not a billing shape; the parser's explanation follows.
    NotABillingShape(String),
    /// A price had more digits than kept (a millionth of a dollar per million tokens, or per
    /// second/request); it was rounded and the entry imported.
    Rounded,
}

impl ImportDiagnostic {
    /// True when the entry was left out because of this problem (a rounded price is kept).
    pub fn rejects_entry(&self) -> bool {
        !matches!(self.problem, ImportProblem::Rounded)
    }

    /// The message shown to the user, naming the entry and the field.
    pub fn message(&self, lang: Lang) -> String {
        let place = match (&self.entry, &self.field, lang) {
            (None, _, _) => lang.pick("文件", "the file").to_string(),
            (Some(entry), None, Lang::ZhCn) => format!("条目 “{entry}”"),
            (Some(entry), None, Lang::En) => format!("entry \"{entry}\""),
            (Some(entry), Some(field), Lang::ZhCn) => format!("条目 “{entry}” 的字段 {field}"),
            (Some(entry), Some(field), Lang::En) => format!("entry \"{entry}\", field {field}"),
        };
        let what = match (&self.problem, lang) {
            (ImportProblem::NotJson(detail), Lang::ZhCn) => format!("不是有效的 JSON（{detail}）"),
            (ImportProblem::NotJson(detail), Lang::En) => format!("is not valid JSON ({detail})"),
            (ImportProblem::NotAnObject, _) => {
                lang.pick("不是 JSON 对象", "is not a JSON object").into()
            }
            (ImportProblem::NotANumber, _) => lang.pick("不是数字", "is not a number").into(),
            (ImportProblem::NotFinite, _) => {
                lang.pick("是 NaN 或无穷大", "is NaN or infinite").into()
            }
            (ImportProblem::Negative, _) => lang.pick("是负数", "is negative").into(),
            (ImportProblem::TooLarge { max }, Lang::ZhCn) => format!("超过上限 {max}"),
            (ImportProblem::TooLarge { max }, Lang::En) => format!("exceeds the cap of {max}"),
            (ImportProblem::NotABillingShape(detail), Lang::ZhCn) => {
                format!("不是有效的计费方式（{detail}）")
            }
            (ImportProblem::NotABillingShape(detail), Lang::En) => {
                format!("is not a billing shape ({detail})")
            }
            (ImportProblem::Rounded, _) => lang
                .pick(
                    "精度过高，已四舍五入（条目已导入）",
                    "has more digits than kept and was rounded (entry imported)",
                )
                .into(),
        };
        let verdict = if self.rejects_entry() && self.entry.is_some() {
            lang.pick("，该条目未导入", "; the entry was not imported")
        } else {
            ""
        };
        match lang {
            Lang::ZhCn => format!("{place}{what}{verdict}"),
            Lang::En => format!("{place} {what}{verdict}"),
        }
    }
}

/// How a LiteLLM price field maps onto a catalog price.
#[derive(Clone, Copy)]
enum Scale {
    /// USD per token, kept as millionths per million tokens (12 decimals of a dollar per token).
    PerToken,
    /// USD per request or per second, kept as millionths.
    PerUnit,
}

impl Scale {
    fn decimals(self) -> u32 {
        match self {
            Scale::PerToken => 12,
            Scale::PerUnit => 6,
        }
    }
}

/// Reads LiteLLM's price file. Returns every entry that could be read (in key order) and one
/// diagnostic per problem; an entry with an invalid price is left out, the others still import.
pub fn import_litellm(text: &str) -> (Vec<ModelPrice>, Vec<ImportDiagnostic>) {
    let mut diagnostics = Vec::new();
    let root: Value = match serde_json::from_str(&quote_bare_non_finite(text)) {
        Ok(root) => root,
        Err(error) => {
            diagnostics.push(ImportDiagnostic {
                entry: None,
                field: None,
                problem: ImportProblem::NotJson(error.to_string()),
            });
            return (Vec::new(), diagnostics);
        }
    };
    let Value::Object(entries) = root else {
        diagnostics.push(ImportDiagnostic {
            entry: None,
            field: None,
            problem: ImportProblem::NotAnObject,
        });
        return (Vec::new(), diagnostics);
    };
    let mut prices = Vec::new();
    for (name, entry) in &entries {
        if name == SAMPLE_SPEC {
            continue;
        }
        let mut entry_diagnostics = Vec::new();
        let price = import_entry(name, entry, &mut entry_diagnostics);
        let rejected = entry_diagnostics
            .iter()
            .any(ImportDiagnostic::rejects_entry);
        diagnostics.extend(entry_diagnostics);
        if let (Some(price), false) = (price, rejected) {
            prices.push(price);
        }
    }
    (prices, diagnostics)
}

/// Reads one entry, adding its problems to `diagnostics`.
fn import_entry(
    name: &str,
    entry: &Value,
    diagnostics: &mut Vec<ImportDiagnostic>,
) -> Option<ModelPrice> {
    let Value::Object(fields) = entry else {
        diagnostics.push(ImportDiagnostic {
            entry: Some(name.into()),
            field: None,
            problem: ImportProblem::NotAnObject,
        });
        return None;
    };
    let mut read = |field: &str, scale: Scale, cap: Micros| -> Option<Micros> {
        let value = fields.get(field)?;
        match read_price(value, scale, cap) {
            Ok((price, exact)) => {
                if !exact {
                    diagnostics.push(diagnostic(name, field, ImportProblem::Rounded));
                }
                Some(price)
            }
            Err(problem) => {
                diagnostics.push(diagnostic(name, field, problem));
                None
            }
        }
    };
    let input = read("input_cost_per_token", Scale::PerToken, caps::PER_MTOK);
    let output = read("output_cost_per_token", Scale::PerToken, caps::PER_MTOK);
    let cached = read(
        "cache_read_input_token_cost",
        Scale::PerToken,
        caps::PER_MTOK,
    );
    let cache_write = read(
        "cache_creation_input_token_cost",
        Scale::PerToken,
        caps::PER_MTOK,
    );
    let input_request = read("input_cost_per_request", Scale::PerUnit, caps::PER_REQUEST);
    let output_request = read("output_cost_per_request", Scale::PerUnit, caps::PER_REQUEST);
    let per_second = read(
        "output_cost_per_video_per_second",
        Scale::PerUnit,
        caps::VIDEO,
    );
    let mut video = per_second.map(|price| VideoPrice::flat(VideoUnit::PerSecond, price));
    if let Some(extension) = fields.get("duanju_video") {
        video = read_video_extension(name, extension, diagnostics).or(video);
    }
    let per_request = match (input_request, output_request) {
        (None, None) => None,
        (a, b) => Some(Micros(a.unwrap_or_default().0 + b.unwrap_or_default().0)),
    };
    let text = |field: &str| {
        fields
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(ModelPrice {
        model: name.into(),
        aliases: aliases_of(fields),
        provider: text("litellm_provider").unwrap_or_default(),
        currency: Currency::Usd,
        input_per_mtok: input,
        output_per_mtok: output,
        cached_input_per_mtok: cached,
        cache_write_per_mtok: cache_write,
        per_request,
        video,
        max_tokens: fields.get("max_tokens").and_then(Value::as_u64),
        mode: text("mode"),
        source: text("source").unwrap_or_else(|| DEFAULT_SOURCE.into()),
        as_of: text("duanju_as_of").unwrap_or_default(),
    })
}

/// Reads the `duanju_video` extension: `{"unit": "per_clip", "1080p": 0.35}`.
fn read_video_extension(
    name: &str,
    value: &Value,
    diagnostics: &mut Vec<ImportDiagnostic>,
) -> Option<VideoPrice> {
    let field = |key: &str| format!("duanju_video.{key}");
    let Value::Object(video) = value else {
        diagnostics.push(diagnostic(name, "duanju_video", ImportProblem::NotAnObject));
        return None;
    };
    let unit = match video.get("unit").and_then(Value::as_str) {
        Some("per_second") => VideoUnit::PerSecond,
        Some("per_clip") => VideoUnit::PerClip,
        _ => {
            diagnostics.push(diagnostic(name, &field("unit"), ImportProblem::NotANumber));
            return None;
        }
    };
    let mut price = VideoPrice {
        unit,
        p720: None,
        p1080: None,
        p4k: None,
    };
    for resolution in Resolution::ALL {
        let Some(value) = video.get(resolution.as_str()) else {
            continue;
        };
        match read_price(value, Scale::PerUnit, caps::VIDEO) {
            Ok((micros, exact)) => {
                if !exact {
                    diagnostics.push(diagnostic(
                        name,
                        &field(resolution.as_str()),
                        ImportProblem::Rounded,
                    ));
                }
                price.set(resolution, Some(micros));
            }
            Err(problem) => {
                diagnostics.push(diagnostic(name, &field(resolution.as_str()), problem))
            }
        }
    }
    Some(price)
}

fn diagnostic(entry: &str, field: &str, problem: ImportProblem) -> ImportDiagnostic {
    ImportDiagnostic {
        entry: Some(entry.into()),
        field: Some(field.into()),
        problem,
    }
}

/// Reads one price: a finite, non-negative number no larger than `cap` (in millionths per
/// million tokens for per-token prices, millionths otherwise). The flag is false when digits
/// beyond the kept precision were rounded.
fn read_price(value: &Value, scale: Scale, cap: Micros) -> Result<(Micros, bool), ImportProblem> {
    let text = match value {
        Value::Number(number) => match number.as_f64().and_then(float_text) {
            Some(text) => text,
            None => number.to_string(),
        },
        Value::String(text) if is_non_finite_word(text) => return Err(ImportProblem::NotFinite),
        _ => return Err(ImportProblem::NotANumber),
    };
    let too_large = || ImportProblem::TooLarge {
        max: match scale {
            Scale::PerToken => format!("${}/MTok", cap.to_decimal()),
            Scale::PerUnit => format!("${}", cap.to_decimal()),
        },
    };
    let (value, exact) = parse_decimal_rounded(&text, scale.decimals()).map_err(|_| too_large())?;
    if value < 0 {
        return Err(ImportProblem::Negative);
    }
    if value > i128::from(cap.0) {
        return Err(too_large());
    }
    Ok((Micros(value as i64), exact))
}

fn is_non_finite_word(text: &str) -> bool {
    matches!(
        text.trim(),
        "NaN" | "nan" | "Infinity" | "-Infinity" | "inf" | "-inf"
    )
}

/// Turns Python's bare `NaN`, `Infinity` and `-Infinity` (outside strings) into strings, so the
/// rest of the file still parses and only their entries are rejected.
fn quote_bare_non_finite(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let word = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|word| rest.starts_with(word));
        if let Some(word) = word {
            out.push('"');
            out.push_str(word);
            out.push('"');
            rest = &rest[word.len()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

/// The result of an export: the file's text and the models left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiteLlmExport {
    /// The JSON text, pretty-printed.
    pub json: String,
    /// Models priced in yuan, which LiteLLM's dollar-only format cannot hold.
    pub skipped: Vec<String>,
}

/// Writes prices in LiteLLM's format (USD per token). Models priced in yuan are left out and
/// listed in [`LiteLlmExport::skipped`].
pub fn export_litellm(prices: &[ModelPrice]) -> LiteLlmExport {
    let mut root = Map::new();
    let mut skipped = Vec::new();
    for price in prices {
        if price.currency != Currency::Usd {
            skipped.push(price.model.clone());
            continue;
        }
        let mut entry = Map::new();
        let mut put = |key: &str, value: Option<Micros>, decimals: u32| {
            if let Some(value) = value {
                entry.insert(key.into(), number(i128::from(value.0), decimals));
            }
        };
        put("input_cost_per_token", price.input_per_mtok, 12);
        put("output_cost_per_token", price.output_per_mtok, 12);
        put(
            "cache_read_input_token_cost",
            price.cached_input_per_mtok,
            12,
        );
        put(
            "cache_creation_input_token_cost",
            price.cache_write_per_mtok,
            12,
        );
        put("input_cost_per_request", price.per_request, 6);
        if let Some(video) = price.video {
            if video.unit == VideoUnit::PerSecond {
                let per_second = video.p1080.or(video.p720).or(video.p4k);
                put("output_cost_per_video_per_second", per_second, 6);
            }
            entry.insert(
                "duanju_video".into(),
                serde_json::to_value(video).unwrap_or(Value::Null),
            );
        }
        entry.insert(
            "litellm_provider".into(),
            Value::String(price.provider.clone()),
        );
        if let Some(mode) = &price.mode {
            entry.insert("mode".into(), Value::String(mode.clone()));
        }
        if let Some(max_tokens) = price.max_tokens {
            entry.insert("max_tokens".into(), Value::from(max_tokens));
        }
        if !price.source.is_empty() {
            entry.insert("source".into(), Value::String(price.source.clone()));
        }
        if !price.as_of.is_empty() {
            entry.insert("duanju_as_of".into(), Value::String(price.as_of.clone()));
        }
        if !price.aliases.is_empty() {
            entry.insert("duanju_aliases".into(), Value::from(price.aliases.clone()));
        }
        root.insert(price.model.clone(), Value::Object(entry));
    }
    let json = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_else(|_| "{}".into());
    LiteLlmExport { json, skipped }
}

/// The JSON number nearest to `value / 10^decimals`.
fn number(value: i128, decimals: u32) -> Value {
    serde_json::Number::from_f64(decimal_to_json_number(value, decimals))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The `duanju_aliases` an exported entry carries (none when absent or not a list of strings).
fn aliases_of(fields: &Map<String, Value>) -> Vec<String> {
    fields
        .get("duanju_aliases")
        .and_then(Value::as_array)
        .map(|aliases| {
            aliases
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::pricing::PriceSet;

    fn check(
        text: &str,
        models: &[&str],
        expect: &[(&str, &str, ImportProblem)],
    ) -> Vec<ModelPrice> {
        let (prices, diagnostics) = import_litellm(text);
        assert_eq!(
            prices.iter().map(|p| p.model.as_str()).collect::<Vec<_>>(),
            models
        );
        let got: Vec<(String, String, ImportProblem)> = diagnostics
            .into_iter()
            .map(|d| {
                (
                    d.entry.unwrap_or_default(),
                    d.field.unwrap_or_default(),
                    d.problem,
                )
            })
            .collect();
        let expect: Vec<(String, String, ImportProblem)> = expect
            .iter()
            .map(|(e, f, p)| (e.to_string(), f.to_string(), p.clone()))
            .collect();
        assert_eq!(got, expect);
        prices
    }

    #[test]
    fn per_token_floats_become_exact_prices() {
        let prices = check(
            r#"{"sample_spec": {"max_tokens": "LEGACY"},
                "deepseek-v3.2": {"input_cost_per_token": 2.8e-07, "output_cost_per_token": 4.2e-07,
                  "cache_read_input_token_cost": 2.8e-08, "litellm_provider": "deepseek", "mode": "chat",
                  "max_tokens": 8192, "supports_function_calling": true}}"#,
            &["deepseek-v3.2"],
            &[],
        );
        let list = PriceSet::list();
        let expected = list.get("deepseek-v3.2").unwrap();
        assert_eq!(prices[0].input_per_mtok, expected.input_per_mtok);
        assert_eq!(prices[0].output_per_mtok, Some(Micros(420_000)));
        assert_eq!(
            prices[0].cached_input_per_mtok,
            expected.cached_input_per_mtok
        );
        assert_eq!(
            (prices[0].provider.as_str(), prices[0].max_tokens),
            ("deepseek", Some(8192))
        );
    }

    #[test]
    fn invalid_entries_are_named_and_others_still_import() {
        check(
            r#"{"a": {"input_cost_per_token": -1e-06}, "b": "oops",
                "c": {"output_cost_per_token": NaN, "input_cost_per_token": "cheap"},
                "d": {"output_cost_per_token": 0.02}, "e": {"input_cost_per_request": 1e-7},
                "f": {"output_cost_per_token": Infinity, "note": "NaN inside a string stays"}}"#,
            &["e"],
            &[
                ("a", "input_cost_per_token", ImportProblem::Negative),
                ("b", "", ImportProblem::NotAnObject),
                ("c", "input_cost_per_token", ImportProblem::NotANumber),
                ("c", "output_cost_per_token", ImportProblem::NotFinite),
                (
                    "d",
                    "output_cost_per_token",
                    ImportProblem::TooLarge {
                        max: "$10000/MTok".into(),
                    },
                ),
                ("e", "input_cost_per_request", ImportProblem::Rounded),
                ("f", "output_cost_per_token", ImportProblem::NotFinite),
            ],
        );
        check("[1, 2]", &[], &[("", "", ImportProblem::NotAnObject)]);
        let (prices, diagnostics) = import_litellm("{not json");
        assert!(prices.is_empty() && matches!(diagnostics[0].problem, ImportProblem::NotJson(_)));
    }

    #[test]
    fn messages_name_entry_and_field() {
        let d = diagnostic("gpt-x", "input_cost_per_token", ImportProblem::Negative);
        assert_eq!(
            d.message(Lang::En),
            "entry \"gpt-x\", field input_cost_per_token is negative; the entry was not imported"
        );
        assert_eq!(
            d.message(Lang::ZhCn),
            "条目 “gpt-x” 的字段 input_cost_per_token是负数，该条目未导入"
        );
        let rounded = diagnostic("e", "f", ImportProblem::Rounded);
        assert!(!rounded.rejects_entry() && !rounded.message(Lang::En).contains("not imported"));
    }

    #[test]
    fn export_then_import_is_lossless() {
        for set in PriceSet::defaults() {
            let export = export_litellm(&set.prices);
            assert!(export.skipped.is_empty());
            let (back, diagnostics) = import_litellm(&export.json);
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            let mut expected = set.prices.clone();
            expected.sort_by(|a, b| a.model.cmp(&b.model));
            assert_eq!(back, expected);
        }
        let mut yuan =
            ModelPrice::per_token("qwen-max", "alibaba", Micros(2_400_000), Micros(9_600_000));
        yuan.currency = Currency::Cny;
        let export = export_litellm(&[yuan]);
        assert_eq!(
            (export.json.as_str(), export.skipped),
            ("{}", vec!["qwen-max".to_string()])
        );
    }

    #[test]
    fn export_writes_litellm_fields() {
        let export = export_litellm(&PriceSet::list().prices);
        let root: Value = serde_json::from_str(&export.json).unwrap();
        assert_eq!(
            root["gpt-4.1"]["input_cost_per_token"],
            serde_json::json!(2e-06)
        );
        assert_eq!(
            root["claude-sonnet-4.5"]["cache_creation_input_token_cost"],
            serde_json::json!(3.75e-06)
        );
        assert_eq!(
            root["video-gen-2.1"]["output_cost_per_video_per_second"],
            serde_json::json!(0.05)
        );
        assert_eq!(
            root["video-official-openai"]["duanju_video"]["unit"],
            "per_clip"
        );
    }
}
