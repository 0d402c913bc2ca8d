//! The shipped catalog of real models: each entry's full [`BillingShape`], where its price was
//! read and when, and whether the model is retired.
//!
//! The catalog is data (`catalog.json` beside this file) read only by the lazy chunks that need
//! it (the catalog editor, the media estimate), so the start-up module carries neither the data
//! nor the billing shapes' readers. The start-up estimator keeps its flat [`ModelPrice`]s;
//! [`CatalogEntry::model_price`] projects an entry onto one where the flat fields can hold it.

use serde::{Deserialize, Serialize};

use crate::domain::cost::billing::{BillingShape, CacheWrite};
use crate::domain::cost::pricing::{ModelPrice, Resolution, VideoPrice, VideoUnit};
use crate::domain::i18n::Lang;

/// The shipped catalog's data: real models with the prices PROVIDERS.md states (read 2026-12),
/// then the seeds' own video prices (read from the seed articles, 2026-02).
const SHIPPED_JSON: &str = include_str!("catalog.json");

/// One model on one route, with its complete billing shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The model id requests use (`sora-2`, `MiniMax-Hailuo-02`).
    pub model: String,
    /// Other ids for the same model on the same route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Who serves it on this route (`openai`, `minimax`, `openrouter`, a relay).
    pub provider: String,
    /// How it is billed.
    pub billing: BillingShape,
    /// Where the price was read (a price page's address or name).
    pub source: String,
    /// When the price was read (`2026-12-01`).
    pub read_on: String,
    /// Set when the model's API is (or will be) retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<Retirement>,
    /// True for an entry that exists only in the seed articles (no such vendor or model).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub seed_only: bool,
    /// The model's output limit, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

/// A model's retirement: the date its API ends (or ended) and what the vendor said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    /// The end date, `YYYY-MM` or `YYYY-MM-DD`.
    pub on: String,
    /// The vendor's announcement or the replacement to use, in English.
    #[serde(default)]
    pub note: String,
}

/// The shipped catalog, in file order: the LLMs the presets' routes use, then video, image and
/// speech models, then the seeds' video prices. A model whose price was not stated when the
/// catalog was read ships its billing shape without rates ([`CatalogEntry::is_priced`]), so a
/// request for it is a missing-rate error, never a silent zero.
pub fn shipped() -> Vec<CatalogEntry> {
    serde_json::from_str(SHIPPED_JSON).expect("catalog.json is valid (a unit test parses it)")
}

/// The entry for `model`, by id first, then by alias.
pub fn find<'a>(catalog: &'a [CatalogEntry], model: &str) -> Option<&'a CatalogEntry> {
    catalog
        .iter()
        .find(|entry| entry.model == model)
        .or_else(|| catalog.iter().find(|entry| entry.answers_to(model)))
}

/// The entry for `model` served by `provider` (the same model can ship on several routes, such
/// as Seedance 2.0 on BytePlus in dollars and on Volcengine in yuan).
pub fn find_on<'a>(
    catalog: &'a [CatalogEntry],
    model: &str,
    provider: &str,
) -> Option<&'a CatalogEntry> {
    catalog
        .iter()
        .find(|entry| entry.provider == provider && entry.answers_to(model))
}

impl CatalogEntry {
    /// True when `name` is this entry's model id or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.model == name || self.aliases.iter().any(|alias| alias == name)
    }

    /// True when the price is the seed articles' own figure (their price set), not a vendor's.
    pub fn is_seed_price(&self) -> bool {
        self.seed_only || self.source.starts_with("Seed ")
    }

    /// False when the shape ships without a single rate (the price was not stated when read):
    /// every request for it is a missing-rate error until the user enters one.
    pub fn is_priced(&self) -> bool {
        match &self.billing {
            BillingShape::PerToken(_) | BillingShape::PerImageToken(_) => true,
            BillingShape::PerSecond(r) => !r.rates.is_empty(),
            BillingShape::PerClip(r) => !r.clips.is_empty(),
            BillingShape::BasePlusPerSecond(r) => !r.rates.is_empty(),
            BillingShape::PerVideoToken(r) => !r.rates.is_empty(),
            BillingShape::PerImage(r) => !r.rates.is_empty(),
            BillingShape::Speech(r) => r.per_million_characters.is_some() || r.per_second.is_some(),
            BillingShape::Credits(r) => !r.credits.is_empty(),
        }
    }

    /// True when the model's API has ended by `today` (`YYYY-MM` or `YYYY-MM-DD`). The dates
    /// are compared as text on their common prefix, so a retirement in `2026-09` counts from
    /// the first of that month, and `2026-09` counts as on or after `2026-09-24`.
    pub fn is_retired(&self, today: &str) -> bool {
        self.retired.as_ref().is_some_and(|retirement| {
            let (on, today) = (retirement.on.trim(), today.trim());
            let common = on.len().min(today.len());
            !on.is_empty() && !today.is_empty() && today.get(..common) >= on.get(..common)
        })
    }

    /// What a plan naming this model must say, in the user's language: a retired (or
    /// retiring) API, a price that is only the seed articles' own, or a price not shipped.
    /// None for a current, priced, real model.
    pub fn warning(&self, today: &str, lang: Lang) -> Option<String> {
        let model = &self.model;
        if let Some(retirement) = &self.retired {
            let vendor = vendor_name(&self.provider);
            let on = &retirement.on;
            return Some(match (self.is_retired(today), lang) {
                (true, Lang::ZhCn) => {
                    format!("{model}：{vendor} 已于 {on} 停止该 API，使用它的方案无法生成")
                }
                (true, Lang::En) => format!(
                    "{model}: {vendor} ended this API in {on}; a plan that uses it cannot be produced"
                ),
                (false, Lang::ZhCn) => {
                    format!("{model}：{vendor} 将于 {on} 停止该 API，之后使用它的方案无法生成")
                }
                (false, Lang::En) => format!(
                    "{model}: {vendor} ends this API in {on}; after that a plan that uses it cannot be produced"
                ),
            });
        }
        if self.seed_only {
            let anthropic = self.provider == "anthropic";
            return Some(match (anthropic, lang) {
                (true, Lang::ZhCn) => format!(
                    "{model}：这是种子文章自己的数字，Anthropic 没有视频 API，该价格无法实际购买"
                ),
                (true, Lang::En) => format!(
                    "{model}: this is the seed article's own figure; Anthropic has no video API, so no one sells this price"
                ),
                (false, Lang::ZhCn) => {
                    format!("{model}：这是种子文章自己的数字，不是任何模型的公开价格")
                }
                (false, Lang::En) => format!(
                    "{model}: this is the seed article's own figure, not any model's list price"
                ),
            });
        }
        if !self.is_priced() {
            return Some(match lang {
                Lang::ZhCn => format!("{model}：目录未收录其价格（读取时未公布），请按账单填写"),
                Lang::En => format!(
                    "{model}: the catalog ships no price for it (none was stated when read); enter the one on your invoice"
                ),
            });
        }
        None
    }

    /// The entry as a flat [`ModelPrice`], where the flat fields can hold it: a per-token
    /// entry's base prices (tiers, batch and reasoning prices are left behind; a cache write
    /// billed as input, or not stated, becomes "none", which the flat price reads as the input
    /// price), or per-second or per-clip video at the `720p`, `1080p` and `4k` labels (rows
    /// with a tier or an audio condition are left out, and so are per-clip resolutions priced
    /// at several lengths; the model's allowed lengths are not carried). None for every other
    /// shape, or when no row lands on a flat field.
    pub fn model_price(&self) -> Option<ModelPrice> {
        let mut price = match &self.billing {
            BillingShape::PerToken(rates) => {
                let base = &rates.base;
                let mut price = ModelPrice::per_token(
                    &self.model,
                    &self.provider,
                    base.input_per_mtok,
                    base.output_per_mtok,
                );
                price.cached_input_per_mtok = base.cached_read_per_mtok;
                price.cache_write_per_mtok = match base.cache_write {
                    CacheWrite::Stated { per_mtok } => Some(per_mtok),
                    CacheWrite::Input | CacheWrite::NotStated => None,
                };
                price.max_tokens = self.max_tokens;
                price
            }
            BillingShape::PerSecond(rates) => {
                let rows = rates
                    .rates
                    .iter()
                    .filter(|row| row.tier.is_none() && row.audio.is_none())
                    .map(|row| (row.resolution.as_str(), row.per_second));
                self.flat_video(VideoUnit::PerSecond, rows)?
            }
            BillingShape::PerClip(rates) => {
                let plain: Vec<_> = rates
                    .clips
                    .iter()
                    .filter(|row| row.tier.is_none())
                    .collect();
                let single_length = |resolution: &str| {
                    plain
                        .iter()
                        .filter(|row| row.resolution.eq_ignore_ascii_case(resolution))
                        .count()
                        == 1
                };
                let rows = plain
                    .iter()
                    .filter(|row| single_length(&row.resolution))
                    .map(|row| (row.resolution.as_str(), row.per_clip));
                self.flat_video(VideoUnit::PerClip, rows)?
            }
            _ => return None,
        };
        price.aliases = self.aliases.clone();
        price.currency = self.billing.currency();
        price.source = self.source.clone();
        price.as_of = self.read_on.clone();
        Some(price)
    }

    fn flat_video<'a>(
        &self,
        unit: VideoUnit,
        rows: impl Iterator<Item = (&'a str, crate::domain::cost::money::Micros)>,
    ) -> Option<ModelPrice> {
        let mut video = VideoPrice {
            unit,
            p720: None,
            p1080: None,
            p4k: None,
        };
        let mut any = false;
        for (label, rate) in rows {
            if let Some(resolution) = Resolution::parse(label) {
                if video.at(resolution).is_none() {
                    video.set(resolution, Some(rate));
                    any = true;
                }
            }
        }
        any.then(|| ModelPrice::video(&self.model, &self.provider, video))
    }
}

/// The vendor's name as written in a sentence.
fn vendor_name(provider: &str) -> &str {
    match provider {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "google" => "Google",
        "minimax" => "MiniMax",
        "deepseek" => "DeepSeek",
        "runway" => "Runway",
        "kling" => "Kling",
        "byteplus" => "BytePlus",
        "volcengine" => "Volcengine",
        "vidu" => "Vidu",
        other => other,
    }
}

#[cfg(test)]
mod tests;
