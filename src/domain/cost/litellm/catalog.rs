//! The LiteLLM map read onto and written from the catalog's full [`BillingShape`]s.
//!
//! [`import_litellm_catalog`] picks each entry's shape by its `mode` and the price fields it
//! holds (the fields below are every price field of litellm 1.110.2's
//! `model_prices_and_context_window_backup.json` that a shape can hold):
//!
//! | mode | shape | fields read |
//! |---|---|---|
//! | `video_generation` | [`BillingShape::PerSecond`] | `output_cost_per_second_<res>` (one row per resolution label, as written: `720p`, `1080p`, `4k`…); `output_cost_per_video_per_second`, else `output_cost_per_second`, as the row labelled [`ANY_LABEL`] |
//! | `image_generation`, `image_edit` | [`BillingShape::PerImageToken`] | `input_cost_per_token` (text in), `input_cost_per_image_token` (image in; when absent the text input price, as LiteLLM bills it), `output_cost_per_image_token` |
//! | same, without image-token prices | [`BillingShape::PerImage`] | `output_cost_per_image_<size>` (one row per size label: `1K`, `2K`, `512`…); `output_cost_per_image` as the row of the size in the key (`1024-x-1024/…` → `1024x1024`), else [`ANY_LABEL`] |
//! | `audio_speech` | [`BillingShape::Speech`] | `input_cost_per_character` → per million characters; `output_cost_per_second` → per second |
//! | any other (chat, completion, responses, embedding, realtime…), and the above when they hold only token prices | [`BillingShape::PerToken`] | `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`, `cache_creation_input_token_cost` (→ [`CacheWrite::Stated`]), `output_cost_per_reasoning_token`, each with `_batches` (→ [`BatchPrices`]) and `_above_<N>k_tokens[_batches]` (→ a [`TokenTier`] above N × 1000 prompt tokens) |
//!
//! **The `any` label.** LiteLLM's flat per-second (or per-image) price names no resolution.
//! It becomes a row labelled [`ANY_LABEL`], next to the rows of the resolutions the entry
//! names; billing finds it for a request whose resolution (size) is `any`, i.e. a caller that
//! has no resolution the entry prices asks for `any` and gets LiteLLM's own default price.
//! Nothing is copied under labels the entry does not state.
//!
//! **Tiers are complete price sets.** A tier the file states only in part (Gemini 2.5 Pro
//! states input, output and cached read above 200k, not the batch prices) takes each missing
//! price from the base set: that is how LiteLLM itself prices such a request.
//!
//! **What is not read is listed.** Every price field (a key containing `cost`) of an entry
//! that its shape does not read — flex and priority tiers, 1-hour cache writes, audio tokens,
//! per-pixel and per-query prices, and all price fields of an entry no shape fits — is one
//! [`UnmappedField`]; [`LiteLlmCatalogImport::unmapped_summary`] counts them by field name.
//!
//! **Export** ([`export_litellm_catalog`]) writes the same fields. When those fields would not
//! read back as the same shape (per-clip, base-plus-per-second, video-token and credit shapes,
//! rows by tier or audio, allowed durations, a cache write billed as input, a tier not a
//! multiple of 1000 tokens…), the shape's own JSON goes in a `duanju_billing` field that
//! LiteLLM ignores and import reads first. Entries priced in yuan are left out and listed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{
    diagnostic, number, quote_bare_non_finite, read_price, ImportDiagnostic, ImportProblem,
    LiteLlmExport, Scale, DEFAULT_SOURCE, SAMPLE_SPEC,
};
use crate::domain::cost::billing::{
    AllowedDurations, BatchPrices, BillingShape, CacheWrite, ImageRate, ImageRates,
    ImageTokenRates, PerSecondRates, SecondRate, SpeechRates, TokenPrices, TokenRates, TokenTier,
};
use crate::domain::cost::catalog::{CatalogEntry, Retirement};
use crate::domain::cost::money::{Currency, Micros};
use crate::domain::cost::pricing::caps;

/// The label of a row priced by LiteLLM's flat per-second or per-image field, which names no
/// resolution or size.
pub const ANY_LABEL: &str = "any";
/// The extension field holding a shape LiteLLM's fields cannot express.
pub const BILLING_FIELD: &str = "duanju_billing";

const INPUT: &str = "input_cost_per_token";
const OUTPUT: &str = "output_cost_per_token";
const CACHE_READ: &str = "cache_read_input_token_cost";
const CACHE_WRITE: &str = "cache_creation_input_token_cost";
const REASONING: &str = "output_cost_per_reasoning_token";
/// The per-token fields that have batch and long-prompt variants.
const TOKEN_STEMS: [&str; 5] = [INPUT, OUTPUT, CACHE_READ, CACHE_WRITE, REASONING];
const VIDEO_PER_SECOND: &str = "output_cost_per_video_per_second";
const PER_SECOND: &str = "output_cost_per_second";
const PER_IMAGE: &str = "output_cost_per_image";
const IMAGE_INPUT: &str = "input_cost_per_image_token";
const IMAGE_OUTPUT: &str = "output_cost_per_image_token";
const PER_CHARACTER: &str = "input_cost_per_character";

/// What [`import_litellm_catalog`] read.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LiteLlmCatalogImport {
    /// The entries read, in key order.
    pub entries: Vec<CatalogEntry>,
    /// One per problem; an entry with a rejecting problem is left out.
    pub diagnostics: Vec<ImportDiagnostic>,
    /// Price fields present in the file that no shape read.
    pub unmapped: Vec<UnmappedField>,
    /// Entries with valid prices that fit no shape (an embedding priced per input token only,
    /// a transcription priced per second of input…); their price fields are in `unmapped`.
    pub skipped: Vec<SkippedEntry>,
}

/// A price field the map did not read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnmappedField {
    /// The model key.
    pub entry: String,
    /// The field.
    pub field: String,
}

/// An entry no shape fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The model key.
    pub entry: String,
    /// Its `mode`, if any.
    pub mode: Option<String>,
}

impl LiteLlmCatalogImport {
    /// The distinct unmapped field names with how many entries hold each, most frequent first
    /// (then by name).
    pub fn unmapped_summary(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for field in &self.unmapped {
            *counts.entry(field.field.as_str()).or_default() += 1;
        }
        let mut summary: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(name, count)| (name.to_string(), count))
            .collect();
        summary.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        summary
    }

    /// How many entries were read per shape, by the shape's tag.
    pub fn shape_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for entry in &self.entries {
            *counts.entry(entry.billing.name()).or_default() += 1;
        }
        counts
    }

    /// How many entries were left out because of a problem with their prices (the file counts
    /// as one when it is not a JSON object).
    pub fn rejected(&self) -> usize {
        let mut entries = BTreeSet::new();
        for d in self.diagnostics.iter().filter(|d| d.rejects_entry()) {
            entries.insert(d.entry.clone());
        }
        entries.len()
    }
}

/// A field that holds a price: every LiteLLM price field's name contains `cost`, but for the
/// `tiered_pricing` and `off_peak_pricing` tables.
fn is_price_field(field: &str) -> bool {
    (field.contains("cost") || field.ends_with("_pricing")) && !field.starts_with("duanju_")
}

/// Reads LiteLLM's price file onto catalog entries with their full billing shapes.
pub fn import_litellm_catalog(json: &str) -> LiteLlmCatalogImport {
    let mut out = LiteLlmCatalogImport::default();
    let root: Value = match serde_json::from_str(&quote_bare_non_finite(json)) {
        Ok(root) => root,
        Err(error) => {
            out.diagnostics.push(ImportDiagnostic {
                entry: None,
                field: None,
                problem: ImportProblem::NotJson(error.to_string()),
            });
            return out;
        }
    };
    let Value::Object(root) = root else {
        out.diagnostics.push(ImportDiagnostic {
            entry: None,
            field: None,
            problem: ImportProblem::NotAnObject,
        });
        return out;
    };
    for (name, value) in &root {
        if name == SAMPLE_SPEC {
            continue;
        }
        let Value::Object(fields) = value else {
            out.diagnostics.push(ImportDiagnostic {
                entry: Some(name.clone()),
                field: None,
                problem: ImportProblem::NotAnObject,
            });
            continue;
        };
        let mut reader = Reader::new(name, fields);
        let billing = reader.shape();
        let rejected = reader
            .diagnostics
            .iter()
            .any(ImportDiagnostic::rejects_entry);
        out.diagnostics.append(&mut reader.diagnostics);
        if rejected {
            continue;
        }
        let unread = fields
            .keys()
            .filter(|field| is_price_field(field))
            .filter(|field| billing.is_none() || !reader.used.contains(field.as_str()));
        out.unmapped.extend(unread.map(|field| UnmappedField {
            entry: name.clone(),
            field: field.clone(),
        }));
        match billing {
            Some(billing) => out.entries.push(entry_of(name, fields, billing)),
            None => out.skipped.push(SkippedEntry {
                entry: name.clone(),
                mode: text(fields, "mode"),
            }),
        }
    }
    out
}

fn text(fields: &Map<String, Value>, field: &str) -> Option<String> {
    fields
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The catalog entry around a shape: provider, source, retirement and the `duanju_` fields.
fn entry_of(name: &str, fields: &Map<String, Value>, billing: BillingShape) -> CatalogEntry {
    let retired = text(fields, "deprecation_date").map(|on| Retirement {
        on,
        note: text(fields, "duanju_retirement_note")
            .or_else(|| text(fields, "successor_model").map(|m| format!("replaced by {m}")))
            .unwrap_or_default(),
    });
    CatalogEntry {
        model: name.into(),
        aliases: super::aliases_of(fields),
        provider: text(fields, "litellm_provider").unwrap_or_default(),
        billing,
        source: text(fields, "source").unwrap_or_else(|| DEFAULT_SOURCE.into()),
        read_on: text(fields, "duanju_read_on").unwrap_or_default(),
        retired,
        seed_only: fields
            .get("duanju_seed_only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        max_tokens: fields.get("max_tokens").and_then(Value::as_u64),
    }
}

/// The unit and cap of a price field, from its name.
fn unit_of(field: &str) -> (Scale, Micros) {
    if field.contains("token") || field.contains("character") {
        (Scale::PerToken, caps::PER_MTOK)
    } else if field.contains("per_image") {
        (Scale::PerUnit, caps::PER_REQUEST)
    } else {
        (Scale::PerUnit, caps::VIDEO)
    }
}

/// One entry's fields, read at most once each, with the fields the chosen shape used.
struct Reader<'a> {
    name: &'a str,
    fields: &'a Map<String, Value>,
    values: HashMap<String, Option<Micros>>,
    used: BTreeSet<String>,
    diagnostics: Vec<ImportDiagnostic>,
    /// Put before field names in diagnostics (`tiered_pricing[1].` inside a table).
    prefix: String,
}

impl<'a> Reader<'a> {
    fn new(name: &'a str, fields: &'a Map<String, Value>) -> Reader<'a> {
        Reader {
            name,
            fields,
            values: HashMap::new(),
            used: BTreeSet::new(),
            diagnostics: Vec::new(),
            prefix: String::new(),
        }
    }

    /// The field's price, without marking it used (a diagnostic once per field).
    fn peek(&mut self, field: &str) -> Option<Micros> {
        if let Some(value) = self.values.get(field) {
            return *value;
        }
        let value = self.fields.get(field).and_then(|value| {
            let (scale, cap) = unit_of(field);
            match read_price(value, scale, cap) {
                Ok((price, exact)) => {
                    if !exact {
                        let field = format!("{}{field}", self.prefix);
                        self.diagnostics.push(diagnostic(
                            self.name,
                            &field,
                            ImportProblem::Rounded,
                        ));
                    }
                    Some(price)
                }
                Err(problem) => {
                    let field = format!("{}{field}", self.prefix);
                    self.diagnostics
                        .push(diagnostic(self.name, &field, problem));
                    None
                }
            }
        });
        self.values.insert(field.to_string(), value);
        value
    }

    /// The field's price, marked used when present.
    fn take(&mut self, field: &str) -> Option<Micros> {
        let value = self.peek(field);
        self.mark(field);
        value
    }

    fn mark(&mut self, field: &str) {
        if self.fields.contains_key(field) {
            self.used.insert(field.to_string());
        }
    }

    /// The entry's shape: the `duanju_billing` extension, else by mode and fields.
    fn shape(&mut self) -> Option<BillingShape> {
        if let Some(value) = self.fields.get(BILLING_FIELD) {
            return match serde_json::from_value::<BillingShape>(value.clone()) {
                Ok(shape) => {
                    // The plain fields are LiteLLM's view of this shape: read.
                    let fields: Vec<String> = self.fields.keys().cloned().collect();
                    fields.iter().for_each(|field| self.mark(field));
                    Some(shape)
                }
                Err(error) => {
                    self.diagnostics.push(diagnostic(
                        self.name,
                        BILLING_FIELD,
                        ImportProblem::NotABillingShape(error.to_string()),
                    ));
                    None
                }
            };
        }
        let mode = self
            .fields
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let media = match mode {
            "video_generation" => self.per_second(),
            "image_generation" | "image_edit" => self.image_tokens().or_else(|| self.per_image()),
            "audio_speech" => self.speech(),
            _ => None,
        };
        media.or_else(|| self.per_token().map(BillingShape::PerToken))
    }

    fn per_second(&mut self) -> Option<BillingShape> {
        let mut rates = Vec::new();
        let labelled: Vec<(String, String)> = labelled_fields(self.fields, PER_SECOND);
        for (field, label) in labelled {
            if let Some(price) = self.take(&field) {
                rates.push(SecondRate::new(&label, price));
            }
        }
        let flat = match self.peek(VIDEO_PER_SECOND) {
            Some(price) => Some((VIDEO_PER_SECOND, price)),
            None => self.peek(PER_SECOND).map(|price| (PER_SECOND, price)),
        };
        if let Some((field, price)) = flat {
            self.mark(field);
            rates.push(SecondRate::new(ANY_LABEL, price));
        }
        (!rates.is_empty()).then_some(BillingShape::PerSecond(PerSecondRates {
            currency: Currency::Usd,
            rates,
            durations: AllowedDurations::Any,
        }))
    }

    fn image_tokens(&mut self) -> Option<BillingShape> {
        let text_input = self.peek(INPUT)?;
        let image_output = self.peek(IMAGE_OUTPUT)?;
        self.mark(INPUT);
        self.mark(IMAGE_OUTPUT);
        // No image-input price: reference images are billed as input tokens (LiteLLM's rule).
        let image_input = self.take(IMAGE_INPUT).unwrap_or(text_input);
        Some(BillingShape::PerImageToken(ImageTokenRates {
            currency: Currency::Usd,
            text_input_per_mtok: text_input,
            image_input_per_mtok: image_input,
            image_output_per_mtok: image_output,
        }))
    }

    fn per_image(&mut self) -> Option<BillingShape> {
        let mut rates = Vec::new();
        for (field, label) in labelled_fields(self.fields, PER_IMAGE) {
            if let Some(price) = self.take(&field) {
                rates.push(ImageRate {
                    size: label,
                    quality: None,
                    per_image: price,
                });
            }
        }
        if let Some(price) = self.take(PER_IMAGE) {
            rates.push(ImageRate {
                size: size_in_key(self.name),
                quality: None,
                per_image: price,
            });
        }
        (!rates.is_empty()).then_some(BillingShape::PerImage(ImageRates {
            currency: Currency::Usd,
            rates,
        }))
    }

    fn speech(&mut self) -> Option<BillingShape> {
        let per_million_characters = self.take(PER_CHARACTER);
        let per_second = self.take(PER_SECOND);
        (per_million_characters.is_some() || per_second.is_some()).then_some(BillingShape::Speech(
            SpeechRates {
                currency: Currency::Usd,
                per_million_characters,
                per_second,
            },
        ))
    }

    fn per_token(&mut self) -> Option<TokenRates> {
        let Some(base) = self.token_prices("", None) else {
            return self.tiered_pricing();
        };
        let mut tiers = Vec::new();
        for thousands in tier_thresholds(self.fields) {
            let suffix = format!("_above_{thousands}k_tokens");
            if let Some(prices) = self.token_prices(&suffix, Some(&base)) {
                tiers.push(TokenTier {
                    above_prompt_tokens: thousands * 1000,
                    prices,
                });
            }
        }
        Some(TokenRates {
            currency: Currency::Usd,
            base,
            tiers,
        })
    }

    /// DashScope's `tiered_pricing` table, `[{"input_cost_per_token": …, "range": [0, 256000]},
    /// {…, "range": [256000, 1000000]}]`: the row from 0 is the base set, every other row a
    /// tier above its range's start (the whole request at that row's prices, as DashScope
    /// bills), completed from the base set. Read only when the entry has no flat token prices,
    /// and only whole: a row without a whole start or a price leaves the table unread.
    fn tiered_pricing(&mut self) -> Option<TokenRates> {
        let rows = self.fields.get("tiered_pricing")?.as_array()?;
        let mut starts = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            let Value::Object(fields) = row else {
                return None;
            };
            let start = fields.get("range")?.as_array()?.first()?.as_f64()?;
            if start < 0.0 || start.fract() != 0.0 || start > 1e12 {
                return None;
            }
            starts.push((start as u64, index, fields));
        }
        starts.sort_by_key(|(start, index, _)| (*start, *index));
        let mut base = None;
        let mut tiers = Vec::new();
        let mut diagnostics = Vec::new();
        for (start, index, fields) in starts {
            let mut row = Reader::new(self.name, fields);
            row.prefix = format!("tiered_pricing[{index}].");
            let prices = row.token_prices("", base.as_ref());
            diagnostics.append(&mut row.diagnostics);
            match (prices, &base) {
                (Some(prices), None) if start == 0 => base = Some(prices),
                (Some(prices), Some(_)) if start > 0 => tiers.push(TokenTier {
                    above_prompt_tokens: start,
                    prices,
                }),
                _ => {
                    self.diagnostics.append(&mut diagnostics);
                    return None;
                }
            }
        }
        self.diagnostics.append(&mut diagnostics);
        self.mark("tiered_pricing");
        Some(TokenRates {
            currency: Currency::Usd,
            base: base?,
            tiers,
        })
    }

    /// The prices of fields ending in `suffix` (`""` for the base set). A tier (`base` given)
    /// takes every price it does not state from the base set, so it is complete; the base set
    /// needs an input and an output price.
    fn token_prices(&mut self, suffix: &str, base: Option<&TokenPrices>) -> Option<TokenPrices> {
        let field = |stem: &str| format!("{stem}{suffix}");
        let batch_field = |stem: &str| format!("{stem}{suffix}_batches");
        let input = self
            .peek(&field(INPUT))
            .or(base.map(|b| b.input_per_mtok))?;
        let output = self
            .peek(&field(OUTPUT))
            .or(base.map(|b| b.output_per_mtok))?;
        self.mark(&field(INPUT));
        self.mark(&field(OUTPUT));
        let cached_read = self
            .take(&field(CACHE_READ))
            .or(base.and_then(|b| b.cached_read_per_mtok));
        let cache_write = match self.take(&field(CACHE_WRITE)) {
            Some(per_mtok) => CacheWrite::Stated { per_mtok },
            // A tier stating no write price keeps the base set's (NotStated for the base).
            None => base.map_or(CacheWrite::NotStated, |b| b.cache_write),
        };
        let reasoning = self
            .take(&field(REASONING))
            .or(base.and_then(|b| b.reasoning_per_mtok));
        let base_batch = base.and_then(|b| b.batch);
        let batch_input = self
            .peek(&batch_field(INPUT))
            .or(base_batch.map(|b| b.input_per_mtok));
        let batch_output = self
            .peek(&batch_field(OUTPUT))
            .or(base_batch.map(|b| b.output_per_mtok));
        let batch = match (batch_input, batch_output) {
            (Some(input_per_mtok), Some(output_per_mtok)) => {
                self.mark(&batch_field(INPUT));
                self.mark(&batch_field(OUTPUT));
                Some(BatchPrices {
                    input_per_mtok,
                    output_per_mtok,
                    cached_read_per_mtok: self
                        .take(&batch_field(CACHE_READ))
                        .or(base_batch.and_then(|b| b.cached_read_per_mtok)),
                    cache_write_per_mtok: self
                        .take(&batch_field(CACHE_WRITE))
                        .or(base_batch.and_then(|b| b.cache_write_per_mtok)),
                    reasoning_per_mtok: self
                        .take(&batch_field(REASONING))
                        .or(base_batch.and_then(|b| b.reasoning_per_mtok)),
                })
            }
            // Half a batch price (input without output) is no batch price: left unread.
            _ => None,
        };
        Some(TokenPrices {
            input_per_mtok: input,
            output_per_mtok: output,
            cached_read_per_mtok: cached_read,
            cache_write,
            reasoning_per_mtok: reasoning,
            batch,
        })
    }
}

/// The fields `<stem>_<label>` with their labels (`output_cost_per_second_720p` → `720p`),
/// leaving out the per-second fields that are not labels (`…_per_second_above_8s_interval`).
fn labelled_fields(fields: &Map<String, Value>, stem: &str) -> Vec<(String, String)> {
    fields
        .keys()
        .filter_map(|field| {
            let label = field.strip_prefix(stem)?.strip_prefix('_')?;
            let plain = !label.is_empty()
                && !label.contains("above")
                && !label.contains("token")
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
            plain.then(|| (field.clone(), label.to_string()))
        })
        .collect()
}

/// The image size a LiteLLM key names in a `1024-x-1024` segment, else [`ANY_LABEL`].
fn size_in_key(name: &str) -> String {
    name.split('/')
        .find_map(|segment| {
            let (width, height) = segment.split_once("-x-")?;
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            (digits(width) && digits(height)).then(|| format!("{width}x{height}"))
        })
        .unwrap_or_else(|| ANY_LABEL.to_string())
}

/// The long-prompt thresholds (in thousands of tokens) the per-token fields name.
fn tier_thresholds(fields: &Map<String, Value>) -> BTreeSet<u64> {
    let mut thresholds = BTreeSet::new();
    for field in fields.keys() {
        for stem in TOKEN_STEMS {
            let Some(rest) = field
                .strip_prefix(stem)
                .and_then(|rest| rest.strip_prefix("_above_"))
            else {
                continue;
            };
            let Some((digits, tail)) = rest.split_once("k_tokens") else {
                continue;
            };
            if (tail.is_empty() || tail == "_batches")
                && !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
            {
                if let Ok(thousands) = digits.parse() {
                    thresholds.insert(thousands);
                }
            }
        }
    }
    thresholds
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/// Writes catalog entries in LiteLLM's format; a shape its fields cannot express also goes in
/// `duanju_billing`. Entries priced in another currency than USD are left out and listed.
pub fn export_litellm_catalog(entries: &[CatalogEntry]) -> LiteLlmExport {
    let mut root = Map::new();
    let mut skipped = Vec::new();
    for entry in entries {
        if entry.billing.currency() != Currency::Usd {
            skipped.push(entry.model.clone());
            continue;
        }
        let mut fields = Map::new();
        write_shape(&entry.model, &entry.billing, &mut fields);
        fields.insert(
            "litellm_provider".into(),
            Value::String(entry.provider.clone()),
        );
        if let Some(max_tokens) = entry.max_tokens {
            fields.insert("max_tokens".into(), Value::from(max_tokens));
        }
        if entry.source != DEFAULT_SOURCE {
            fields.insert("source".into(), Value::String(entry.source.clone()));
        }
        if !entry.read_on.is_empty() {
            fields.insert(
                "duanju_read_on".into(),
                Value::String(entry.read_on.clone()),
            );
        }
        if !entry.aliases.is_empty() {
            fields.insert("duanju_aliases".into(), Value::from(entry.aliases.clone()));
        }
        if let Some(retired) = &entry.retired {
            fields.insert("deprecation_date".into(), Value::String(retired.on.clone()));
            if !retired.note.is_empty() {
                fields.insert(
                    "duanju_retirement_note".into(),
                    Value::String(retired.note.clone()),
                );
            }
        }
        if entry.seed_only {
            fields.insert("duanju_seed_only".into(), Value::Bool(true));
        }
        // What the plain fields cannot say travels as the shape itself.
        if Reader::new(&entry.model, &fields).shape().as_ref() != Some(&entry.billing) {
            fields.insert(
                BILLING_FIELD.into(),
                serde_json::to_value(&entry.billing).unwrap_or(Value::Null),
            );
        }
        root.insert(entry.model.clone(), Value::Object(fields));
    }
    let json = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_else(|_| "{}".into());
    LiteLlmExport { json, skipped }
}

fn put(fields: &mut Map<String, Value>, field: &str, value: Option<Micros>) {
    if let Some(value) = value {
        let (scale, _) = unit_of(field);
        fields.insert(field.into(), number(i128::from(value.0), scale.decimals()));
    }
}

fn mode(fields: &mut Map<String, Value>, mode: &str) {
    fields.insert("mode".into(), Value::String(mode.into()));
}

/// Writes the LiteLLM fields of a shape (as far as they go).
fn write_shape(model: &str, shape: &BillingShape, fields: &mut Map<String, Value>) {
    match shape {
        BillingShape::PerToken(rates) => {
            mode(fields, "chat");
            write_token_prices(fields, "", &rates.base);
            for tier in &rates.tiers {
                if tier.above_prompt_tokens % 1000 == 0 {
                    let suffix = format!("_above_{}k_tokens", tier.above_prompt_tokens / 1000);
                    write_token_prices(fields, &suffix, &tier.prices);
                }
            }
        }
        BillingShape::PerSecond(rates) => {
            mode(fields, "video_generation");
            for row in rates
                .rates
                .iter()
                .filter(|r| r.tier.is_none() && r.audio.is_none())
            {
                if row.resolution == ANY_LABEL {
                    put(fields, PER_SECOND, Some(row.per_second));
                } else {
                    put(
                        fields,
                        &format!("{PER_SECOND}_{}", row.resolution),
                        Some(row.per_second),
                    );
                }
            }
        }
        BillingShape::PerImage(rates) => {
            mode(fields, "image_generation");
            let key_size = size_in_key(model);
            for row in rates.rates.iter().filter(|r| r.quality.is_none()) {
                if row.size == key_size {
                    put(fields, PER_IMAGE, Some(row.per_image));
                } else {
                    put(
                        fields,
                        &format!("{PER_IMAGE}_{}", row.size),
                        Some(row.per_image),
                    );
                }
            }
        }
        BillingShape::PerImageToken(rates) => {
            mode(fields, "image_generation");
            put(fields, INPUT, Some(rates.text_input_per_mtok));
            put(fields, IMAGE_INPUT, Some(rates.image_input_per_mtok));
            put(fields, IMAGE_OUTPUT, Some(rates.image_output_per_mtok));
        }
        BillingShape::Speech(rates) => {
            mode(fields, "audio_speech");
            put(fields, PER_CHARACTER, rates.per_million_characters);
            put(fields, PER_SECOND, rates.per_second);
        }
        BillingShape::PerClip(_)
        | BillingShape::BasePlusPerSecond(_)
        | BillingShape::PerVideoToken(_) => mode(fields, "video_generation"),
        BillingShape::Credits(rates) => match rates.per.media() {
            crate::domain::cost::billing::MediaKind::Image => mode(fields, "image_generation"),
            _ => mode(fields, "video_generation"),
        },
    }
}

fn write_token_prices(fields: &mut Map<String, Value>, suffix: &str, prices: &TokenPrices) {
    let field = |stem: &str| format!("{stem}{suffix}");
    let batch_field = |stem: &str| format!("{stem}{suffix}_batches");
    put(fields, &field(INPUT), Some(prices.input_per_mtok));
    put(fields, &field(OUTPUT), Some(prices.output_per_mtok));
    put(fields, &field(CACHE_READ), prices.cached_read_per_mtok);
    if let CacheWrite::Stated { per_mtok } = prices.cache_write {
        put(fields, &field(CACHE_WRITE), Some(per_mtok));
    }
    put(fields, &field(REASONING), prices.reasoning_per_mtok);
    if let Some(batch) = prices.batch {
        put(fields, &batch_field(INPUT), Some(batch.input_per_mtok));
        put(fields, &batch_field(OUTPUT), Some(batch.output_per_mtok));
        put(fields, &batch_field(CACHE_READ), batch.cached_read_per_mtok);
        put(
            fields,
            &batch_field(CACHE_WRITE),
            batch.cache_write_per_mtok,
        );
        put(fields, &batch_field(REASONING), batch.reasoning_per_mtok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> LiteLlmCatalogImport {
        import_litellm_catalog(json)
    }

    #[test]
    fn keys_labels_and_thresholds() {
        assert_eq!(
            size_in_key("1024-x-1792/50-steps/bedrock/amazon.nova-canvas-v1:0"),
            "1024x1792"
        );
        assert_eq!(size_in_key("gpt-image-1"), ANY_LABEL);
        let fields: Map<String, Value> = serde_json::from_str(
            r#"{"output_cost_per_second_720p": 1, "output_cost_per_second_above_8s_interval": 1,
                "input_cost_per_token_above_128k_tokens": 1,
                "cache_read_input_token_cost_above_200k_tokens_batches": 1,
                "cache_creation_input_token_cost_above_1hr_above_100k_tokens": 1,
                "input_cost_per_token_above_272k_tokens_priority": 1}"#,
        )
        .unwrap();
        let labels: Vec<String> = labelled_fields(&fields, PER_SECOND)
            .into_iter()
            .map(|(_, label)| label)
            .collect();
        assert_eq!(labels, ["720p"]);
        assert_eq!(
            tier_thresholds(&fields).into_iter().collect::<Vec<_>>(),
            [128, 200]
        );
    }

    #[test]
    fn a_partial_tier_falls_back_and_half_a_batch_is_unread() {
        let import = one(
            r#"{"m": {"mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                "cache_creation_input_token_cost": 1.25e-06, "input_cost_per_token_batches": 5e-07,
                "input_cost_per_token_above_128k_tokens": 2e-06}}"#,
        );
        assert!(import.diagnostics.is_empty());
        let BillingShape::PerToken(rates) = &import.entries[0].billing else {
            panic!()
        };
        assert_eq!(rates.base.batch, None);
        let tier = &rates.tiers[0];
        assert_eq!(tier.above_prompt_tokens, 128_000);
        assert_eq!(tier.prices.input_per_mtok, Micros(2_000_000));
        assert_eq!(tier.prices.output_per_mtok, Micros(2_000_000));
        assert_eq!(
            tier.prices.cache_write,
            CacheWrite::Stated {
                per_mtok: Micros(1_250_000)
            }
        );
        assert_eq!(
            import.unmapped_summary(),
            [("input_cost_per_token_batches".to_string(), 1)]
        );
    }

    #[test]
    fn a_bad_extension_rejects_its_entry() {
        let import = one(r#"{"m": {"mode": "chat", "duanju_billing": {"shape": "nope"}}}"#);
        assert!(import.entries.is_empty());
        assert_eq!(import.rejected(), 1);
        assert!(matches!(
            import.diagnostics[0].problem,
            ImportProblem::NotABillingShape(_)
        ));
        assert!(import.diagnostics[0]
            .message(crate::domain::i18n::Lang::En)
            .contains("duanju_billing is not a billing shape"));
    }
}
