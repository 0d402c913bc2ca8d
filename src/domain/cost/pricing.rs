//! The price catalog: what each model costs, in which unit, according to whom.
//!
//! A [`PriceSet`] is a named, editable list of [`ModelPrice`]s. Two sets ship: `seed` (the
//! seeds' blended $/MTok, where input = output) and `list` (the providers' public list prices
//! with input, output and cache prices split). Token prices are exact millionths of the model's
//! currency per million tokens ([`Micros`]); video prices carry their unit explicitly
//! ([`VideoUnit`]).

use crate::domain::encoding::wire_names::wire_enum;
use serde::{Deserialize, Serialize};

use crate::domain::cost::money::{Currency, Micros, Money, UNITS_PER_MICRO};
use crate::domain::i18n::Lang;

wire_enum! {
    /// A video resolution the generation APIs accept. `ALL` is lowest first; `as_str` is the
    /// name used in APIs and plans.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub enum Resolution {
        /// 720p.
        P720 = "720p",
        /// 1080p: the seeds' default.
        #[default]
        P1080 = "1080p",
        /// 4K.
        P4k = "4k",
    }
}

impl Resolution {
    /// Parses `720p`, `1080p` or `4k` (case-insensitive).
    pub fn parse(text: &str) -> Option<Resolution> {
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

wire_enum! {
    /// What a video price is counted per.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum VideoUnit {
        /// Per second of generated video (the API's `cost_per_second`).
        PerSecond = "per_second",
        /// Per generated clip, whatever its length.
        PerClip = "per_clip",
    }
}

/// A video generation price: one unit, a price per resolution (a missing resolution is not
/// offered at a known price).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoPrice {
    /// What the price is counted per.
    pub unit: VideoUnit,
    /// Price at 720p.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "720p")]
    pub p720: Option<Micros>,
    /// Price at 1080p.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "1080p")]
    pub p1080: Option<Micros>,
    /// Price at 4K.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "4k")]
    pub p4k: Option<Micros>,
}

impl VideoPrice {
    /// The same price at every resolution.
    pub fn flat(unit: VideoUnit, price: Micros) -> VideoPrice {
        VideoPrice {
            unit,
            p720: Some(price),
            p1080: Some(price),
            p4k: Some(price),
        }
    }

    /// The price at `resolution`, if offered.
    pub fn at(&self, resolution: Resolution) -> Option<Micros> {
        match resolution {
            Resolution::P720 => self.p720,
            Resolution::P1080 => self.p1080,
            Resolution::P4k => self.p4k,
        }
    }

    /// Sets the price at `resolution`.
    pub fn set(&mut self, resolution: Resolution, price: Option<Micros>) {
        match resolution {
            Resolution::P720 => self.p720 = price,
            Resolution::P1080 => self.p1080 = price,
            Resolution::P4k => self.p4k = price,
        }
    }
}

/// Caps on prices: anything above is a typo, and the caps keep every estimate far from
/// overflowing (see `docs/plan-format.md`).
pub mod caps {
    use super::Micros;

    /// At most 10,000 per million tokens.
    pub const PER_MTOK: Micros = Micros::whole(10_000);
    /// At most 1,000 per request.
    pub const PER_REQUEST: Micros = Micros::whole(1_000);
    /// At most 100 per second of video or per clip (the dearest real models charge under 1).
    pub const VIDEO: Micros = Micros::whole(100);
}

/// One model's prices in one price set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// The model name requests use (`deepseek-v3.2`).
    pub model: String,
    /// Other names for the same model (`claude-sonnet-4-5` for `claude-sonnet-4.5`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Who serves it (`deepseek`, `openai`, a relay).
    #[serde(default)]
    pub provider: String,
    /// The currency of every price below.
    #[serde(default)]
    pub currency: Currency,
    /// Per million uncached input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_per_mtok: Option<Micros>,
    /// Per million output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_per_mtok: Option<Micros>,
    /// Per million input tokens read from the prompt cache; none means the input price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_per_mtok: Option<Micros>,
    /// Per million input tokens written to the prompt cache; none means the input price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<Micros>,
    /// A fixed price per request, on top of tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_request: Option<Micros>,
    /// Video generation prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoPrice>,
    /// The model's output limit, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// LiteLLM's `mode` (`chat`, `video_generation`…), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Where the price comes from.
    #[serde(default)]
    pub source: String,
    /// When the price was read (`2026-11`).
    #[serde(default)]
    pub as_of: String,
}

/// One priced field of a [`ModelPrice`], for editing and for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceField {
    /// Input per million tokens.
    Input,
    /// Output per million tokens.
    Output,
    /// Cached input per million tokens.
    CachedInput,
    /// Cache write per million tokens.
    CacheWrite,
    /// Per request.
    PerRequest,
    /// Video at a resolution.
    Video(Resolution),
}

impl PriceField {
    /// The field's name in the user's language.
    pub fn label(self, lang: Lang) -> String {
        match self {
            PriceField::Input => lang.pick("输入价格", "input price").into(),
            PriceField::Output => lang.pick("输出价格", "output price").into(),
            PriceField::CachedInput => lang.pick("缓存命中价格", "cached-input price").into(),
            PriceField::CacheWrite => lang.pick("缓存写入价格", "cache-write price").into(),
            PriceField::PerRequest => lang.pick("每次请求价格", "per-request price").into(),
            PriceField::Video(resolution) => match lang {
                Lang::ZhCn => format!("{} 视频价格", resolution.as_str()),
                Lang::En => format!("{} video price", resolution.as_str()),
            },
        }
    }

    fn cap(self) -> Micros {
        match self {
            PriceField::Input
            | PriceField::Output
            | PriceField::CachedInput
            | PriceField::CacheWrite => caps::PER_MTOK,
            PriceField::PerRequest => caps::PER_REQUEST,
            PriceField::Video(_) => caps::VIDEO,
        }
    }
}

/// What a model was used for: the quantities a price applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Usage {
    /// Input tokens, including the cached ones (as APIs report `prompt_tokens`).
    pub input_tokens: u64,
    /// The part of `input_tokens` read from the prompt cache.
    pub cached_input_tokens: u64,
    /// Input tokens written to the prompt cache (billed at the cache-write price instead of
    /// the input price; also part of `input_tokens`).
    pub cache_write_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Requests made.
    pub requests: u64,
    /// Video clips generated.
    pub clips: u64,
    /// Seconds per clip.
    pub seconds_per_clip: u64,
    /// Resolution of the clips.
    pub resolution: Resolution,
}

/// A price a usage needed that the catalog does not have; that part is counted as zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPrice {
    /// Input tokens were used but the model has no input price.
    Input,
    /// Output tokens were used but the model has no output price.
    Output,
    /// Clips were generated but the model has no video price at this resolution.
    Video(Resolution),
}

impl ModelPrice {
    /// A model priced per token, with input and output prices.
    pub fn per_token(model: &str, provider: &str, input: Micros, output: Micros) -> ModelPrice {
        ModelPrice {
            model: model.into(),
            aliases: Vec::new(),
            provider: provider.into(),
            currency: Currency::Usd,
            input_per_mtok: Some(input),
            output_per_mtok: Some(output),
            cached_input_per_mtok: None,
            cache_write_per_mtok: None,
            per_request: None,
            video: None,
            max_tokens: None,
            mode: Some("chat".into()),
            source: String::new(),
            as_of: String::new(),
        }
    }

    /// A video model.
    pub fn video(model: &str, provider: &str, price: VideoPrice) -> ModelPrice {
        ModelPrice {
            input_per_mtok: None,
            output_per_mtok: None,
            video: Some(price),
            mode: Some("video_generation".into()),
            ..ModelPrice::per_token(model, provider, Micros(0), Micros(0))
        }
    }

    /// True when `name` is this model's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.model == name || self.aliases.iter().any(|alias| alias == name)
    }

    /// The current value of a priced field.
    pub fn get(&self, field: PriceField) -> Option<Micros> {
        match field {
            PriceField::Input => self.input_per_mtok,
            PriceField::Output => self.output_per_mtok,
            PriceField::CachedInput => self.cached_input_per_mtok,
            PriceField::CacheWrite => self.cache_write_per_mtok,
            PriceField::PerRequest => self.per_request,
            PriceField::Video(resolution) => self.video.and_then(|video| video.at(resolution)),
        }
    }

    /// Every problem with this entry; empty when it can be used.
    pub fn problems(&self) -> Vec<PriceError> {
        let mut problems = Vec::new();
        if self.model.trim().is_empty() {
            problems.push(PriceError::EmptyModel);
        }
        let mut fields = vec![
            PriceField::Input,
            PriceField::Output,
            PriceField::CachedInput,
            PriceField::CacheWrite,
            PriceField::PerRequest,
        ];
        fields.extend(Resolution::ALL.map(PriceField::Video));
        for field in fields {
            if let Some(problem) = self.get(field).and_then(|price| check_price(field, price)) {
                problems.push(PriceError::Field {
                    model: self.model.clone(),
                    field,
                    problem,
                });
            }
        }
        problems
    }

    /// What `usage` costs at these prices, in the model's currency, exactly; plus the prices it
    /// needed and did not find (those parts count as zero).
    pub fn cost_of(&self, usage: &Usage) -> (Money, Vec<MissingPrice>) {
        let mut missing = Vec::new();
        let mut price_for =
            |tokens: u64, price: Option<Micros>, fallback: Option<Micros>, gap: MissingPrice| {
                if tokens == 0 {
                    return 0i128;
                }
                match price.or(fallback) {
                    Some(price) => i128::from(tokens) * i128::from(price.0),
                    None => {
                        if !missing.contains(&gap) {
                            missing.push(gap);
                        }
                        0
                    }
                }
            };
        let special = usage
            .cached_input_tokens
            .saturating_add(usage.cache_write_tokens);
        let plain_input = usage.input_tokens.saturating_sub(special);
        // Tokens × millionths per million tokens = 10⁻¹² of the currency per token.
        let token_picos = price_for(plain_input, self.input_per_mtok, None, MissingPrice::Input)
            + price_for(
                usage.cached_input_tokens,
                self.cached_input_per_mtok,
                self.input_per_mtok,
                MissingPrice::Input,
            )
            + price_for(
                usage.cache_write_tokens,
                self.cache_write_per_mtok,
                self.input_per_mtok,
                MissingPrice::Input,
            )
            + price_for(
                usage.output_tokens,
                self.output_per_mtok,
                None,
                MissingPrice::Output,
            );
        let mut micros = self
            .per_request
            .map_or(0, |price| i128::from(usage.requests) * i128::from(price.0));
        if usage.clips > 0 {
            match self
                .video
                .and_then(|video| Some((video.unit, video.at(usage.resolution)?)))
            {
                Some((VideoUnit::PerSecond, price)) => {
                    micros += i128::from(usage.clips)
                        * i128::from(usage.seconds_per_clip)
                        * i128::from(price.0);
                }
                Some((VideoUnit::PerClip, price)) => {
                    micros += i128::from(usage.clips) * i128::from(price.0)
                }
                None => missing.push(MissingPrice::Video(usage.resolution)),
            }
        }
        let units = token_picos * 1_000_000 + micros * UNITS_PER_MICRO;
        (Money::from_units(self.currency, units), missing)
    }
}

/// Checks one price against zero and its cap.
pub(crate) fn check_price(field: PriceField, price: Micros) -> Option<PriceProblem> {
    if price.0 < 0 {
        Some(PriceProblem::Negative)
    } else if price > field.cap() {
        Some(PriceProblem::TooLarge { max: field.cap() })
    } else {
        None
    }
}

/// What is wrong with one price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceProblem {
    /// The price is below zero.
    Negative,
    /// The price is above its cap.
    TooLarge {
        /// The cap, in the model's currency.
        max: Micros,
    },
}

impl PriceProblem {
    /// The message shown beside the price field.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PriceProblem::Negative, _) => lang.pick("不能为负数", "must not be negative").into(),
            (PriceProblem::TooLarge { max }, Lang::ZhCn) => format!("不能超过 {max}"),
            (PriceProblem::TooLarge { max }, Lang::En) => format!("must not exceed {max}"),
        }
    }
}

/// Why a catalog edit was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriceError {
    /// The model name is empty.
    EmptyModel,
    /// No model of that name (or alias) is in the set.
    UnknownModel(String),
    /// A price is invalid.
    Field {
        /// The model.
        model: String,
        /// The price.
        field: PriceField,
        /// What is wrong.
        problem: PriceProblem,
    },
}

impl PriceError {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PriceError::EmptyModel, _) => lang
                .pick("模型名称不能为空", "the model name must not be empty")
                .into(),
            (PriceError::UnknownModel(model), Lang::ZhCn) => format!("价格表中没有模型 {model}"),
            (PriceError::UnknownModel(model), Lang::En) => {
                format!("no model {model} in this price set")
            }
            (
                PriceError::Field {
                    model,
                    field,
                    problem,
                },
                _,
            ) => {
                let (field, problem) = (field.label(lang), problem.message(lang));
                match lang {
                    Lang::ZhCn => format!("{model} 的{field}{problem}"),
                    Lang::En => format!("{model}: the {field} {problem}"),
                }
            }
        }
    }
}

/// A named, editable list of model prices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceSet {
    /// Stable identifier used by profiles (`seed`, `list`).
    pub id: String,
    /// Name shown to the user.
    pub name: String,
    /// The prices, one entry per model.
    pub prices: Vec<ModelPrice>,
}

impl PriceSet {
    /// The entry for `model` (by name or alias).
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.prices
            .iter()
            .find(|price| price.model == model)
            .or_else(|| self.prices.iter().find(|price| price.answers_to(model)))
    }

    /// Adds an entry, or replaces the entry of the same model; refused if it is invalid.
    pub fn upsert(&mut self, price: ModelPrice) -> Result<(), PriceError> {
        if let Some(problem) = price.problems().into_iter().next() {
            return Err(problem);
        }
        match self
            .prices
            .iter_mut()
            .find(|existing| existing.model == price.model)
        {
            Some(existing) => *existing = price,
            None => self.prices.push(price),
        }
        Ok(())
    }

    /// Changes one price of a model (`None` removes it); refused if the value is invalid.
    pub fn set_price(
        &mut self,
        model: &str,
        field: PriceField,
        value: Option<Micros>,
    ) -> Result<(), PriceError> {
        let entry = self
            .prices
            .iter_mut()
            .find(|price| price.answers_to(model))
            .ok_or_else(|| PriceError::UnknownModel(model.into()))?;
        if let Some(problem) = value.and_then(|price| check_price(field, price)) {
            return Err(PriceError::Field {
                model: entry.model.clone(),
                field,
                problem,
            });
        }
        match field {
            PriceField::Input => entry.input_per_mtok = value,
            PriceField::Output => entry.output_per_mtok = value,
            PriceField::CachedInput => entry.cached_input_per_mtok = value,
            PriceField::CacheWrite => entry.cache_write_per_mtok = value,
            PriceField::PerRequest => entry.per_request = value,
            PriceField::Video(resolution) => {
                let video = entry.video.get_or_insert(VideoPrice {
                    unit: VideoUnit::PerSecond,
                    p720: None,
                    p1080: None,
                    p4k: None,
                });
                video.set(resolution, value);
            }
        }
        Ok(())
    }

    /// Removes a model's entry and returns it.
    pub fn remove(&mut self, model: &str) -> Option<ModelPrice> {
        let index = self.prices.iter().position(|price| price.model == model)?;
        Some(self.prices.remove(index))
    }

    /// Both shipped price sets: `seed`, then `list`.
    pub fn defaults() -> Vec<PriceSet> {
        vec![PriceSet::seed(), PriceSet::list()]
    }

    /// The seeds' blended prices: one $/MTok per model, used for input and output alike
    /// (they are the output prices), and the seeds' video prices.
    pub fn seed() -> PriceSet {
        let source = "Seed articles 000/001 (blended $/MTok as quoted)";
        let blended = |model: &str, provider: &str, price: &str| {
            let price = micros(price);
            ModelPrice {
                source: source.into(),
                as_of: "2026-02".into(),
                ..ModelPrice::per_token(model, provider, price, price)
            }
        };
        let mut prices = vec![
            blended("deepseek-v3.2", "deepseek", "0.42"),
            blended("gemini-2.5-flash", "google", "2.50"),
            blended("gpt-4.1", "openai", "8.00"),
            blended("claude-sonnet-4.5", "anthropic", "15.00"),
            ModelPrice {
                source:
                    "Seed 001: native_video cost_per_second 0.05 (one price for every resolution)"
                        .into(),
                as_of: "2026-02".into(),
                ..ModelPrice::video(
                    "video-gen-2.1",
                    "holysheep",
                    VideoPrice::flat(VideoUnit::PerSecond, micros("0.05")),
                )
            },
        ];
        prices[3].aliases.push("claude-sonnet-4-5".into());
        prices.extend(official_clip_prices());
        PriceSet {
            id: "seed".into(),
            name: "The seeds' blended prices (not a price list)".into(),
            prices,
        }
    }

    /// The providers' public list prices (input / output / cache split).
    pub fn list() -> PriceSet {
        let source = "Provider price pages (list prices)";
        let listed = |model: &str, provider: &str, input: &str, output: &str| ModelPrice {
            source: source.into(),
            as_of: "2026-11".into(),
            ..ModelPrice::per_token(model, provider, micros(input), micros(output))
        };
        let mut deepseek = listed("deepseek-v3.2", "deepseek", "0.28", "0.42");
        deepseek.cached_input_per_mtok = Some(micros("0.028"));
        let mut gemini = listed("gemini-2.5-flash", "google", "0.30", "2.50");
        gemini.cached_input_per_mtok = Some(micros("0.03"));
        let mut gpt = listed("gpt-4.1", "openai", "2.00", "8.00");
        gpt.cached_input_per_mtok = Some(micros("0.50"));
        let mut claude = listed("claude-sonnet-4.5", "anthropic", "3.00", "15.00");
        claude.cached_input_per_mtok = Some(micros("0.30"));
        claude.cache_write_per_mtok = Some(micros("3.75"));
        claude.aliases.push("claude-sonnet-4-5".into());
        let mut prices = vec![
            deepseek,
            gemini,
            gpt,
            claude,
            ModelPrice {
                source: "Relay price page: video-gen-2.1 per second".into(),
                as_of: "2026-11".into(),
                ..ModelPrice::video(
                    "video-gen-2.1",
                    "holysheep",
                    VideoPrice::flat(VideoUnit::PerSecond, micros("0.05")),
                )
            },
        ];
        prices.extend(official_clip_prices());
        PriceSet {
            id: "list".into(),
            name: "Official list prices".into(),
            prices,
        }
    }
}

/// The per-clip video prices the seeds quote for official providers (5-second 1080p clips).
fn official_clip_prices() -> Vec<ModelPrice> {
    let clip = |model: &str, provider: &str, price: &str, source: &str| {
        let price = micros(price);
        ModelPrice {
            source: source.into(),
            as_of: "2026-02".into(),
            ..ModelPrice::video(
                model,
                provider,
                VideoPrice {
                    unit: VideoUnit::PerClip,
                    p720: None,
                    p1080: Some(price),
                    p4k: None,
                },
            )
        }
    };
    vec![
        clip(
            "video-official-openai",
            "openai",
            "0.35",
            "Seed 001: official OpenAI video, average per 5-second clip",
        ),
        clip(
            "video-official-anthropic",
            "anthropic",
            "0.42",
            "Seed 001's own figure: Anthropic has no video API; kept only to reproduce the seed",
        ),
        clip(
            "video-previous-providers",
            "previous providers",
            "0.40",
            "Seed 001 ROI report: previous providers' video API, per clip",
        ),
    ]
}

/// Parses a price written in the source code; the texts are constants, so failure is a bug.
fn micros(text: &str) -> Micros {
    Micros::parse(text).expect("price constants are valid decimals")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_sets_are_valid_and_complete() {
        for set in PriceSet::defaults() {
            for price in &set.prices {
                assert!(
                    price.problems().is_empty(),
                    "{} {:?}",
                    set.id,
                    price.problems()
                );
                assert!(!price.source.is_empty() && !price.as_of.is_empty());
            }
            for model in [
                "deepseek-v3.2",
                "gemini-2.5-flash",
                "gpt-4.1",
                "claude-sonnet-4.5",
                "claude-sonnet-4-5",
                "video-gen-2.1",
            ] {
                assert!(set.get(model).is_some(), "{} lacks {model}", set.id);
            }
        }
        let seed = PriceSet::seed();
        assert_eq!(
            seed.get("gpt-4.1").unwrap().input_per_mtok,
            Some(Micros::whole(8))
        );
        let list = PriceSet::list();
        assert_eq!(
            list.get("claude-sonnet-4-5").unwrap().cache_write_per_mtok,
            Some(micros("3.75"))
        );
    }

    #[test]
    fn costs_follow_units() {
        let list = PriceSet::list();
        let claude = list.get("claude-sonnet-4.5").unwrap();
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 400_000,
            cache_write_tokens: 100_000,
            output_tokens: 200_000,
            ..Usage::default()
        };
        // 500K × $3 + 400K × $0.30 + 100K × $3.75 + 200K × $15.
        let (cost, missing) = claude.cost_of(&usage);
        // Exactly $4.995, which the display rule rounds half away from zero.
        assert_eq!(cost.display(), "$5.00");
        assert!(missing.is_empty());

        let video = list.get("video-gen-2.1").unwrap();
        let clips = Usage {
            clips: 10,
            seconds_per_clip: 5,
            resolution: Resolution::P4k,
            ..Usage::default()
        };
        assert_eq!(video.cost_of(&clips).0.display(), "$2.50");
        let openai = list.get("video-official-openai").unwrap();
        assert_eq!(
            openai
                .cost_of(&Usage {
                    clips: 2_256,
                    ..clips
                })
                .1,
            [MissingPrice::Video(Resolution::P4k)]
        );
        let hd = Usage {
            resolution: Resolution::P1080,
            clips: 2_256,
            ..clips
        };
        assert_eq!(openai.cost_of(&hd).0.display(), "$789.60");

        let no_output = ModelPrice {
            output_per_mtok: None,
            ..claude.clone()
        };
        assert_eq!(no_output.cost_of(&usage).1, [MissingPrice::Output]);
    }

    #[test]
    fn one_token_is_exact() {
        let seed = PriceSet::seed();
        let usage = Usage {
            output_tokens: 1,
            ..Usage::default()
        };
        let (cost, _) = seed.get("deepseek-v3.2").unwrap().cost_of(&usage);
        // $0.42 per million tokens is 0.42 µ$ per token: 4.2 × 10¹¹ grid units.
        assert_eq!(cost.units(), 420_000_000_000);
    }

    #[test]
    fn edits_are_validated() {
        let mut set = PriceSet::seed();
        assert_eq!(
            set.set_price("gpt-4.1", PriceField::Input, Some(Micros(-1))),
            Err(PriceError::Field {
                model: "gpt-4.1".into(),
                field: PriceField::Input,
                problem: PriceProblem::Negative
            })
        );
        let too_much = set.set_price("gpt-4.1", PriceField::Output, Some(Micros::whole(10_001)));
        assert!(matches!(
            too_much,
            Err(PriceError::Field {
                problem: PriceProblem::TooLarge { .. },
                ..
            })
        ));
        set.set_price("gpt-4.1", PriceField::Input, Some(Micros::whole(2)))
            .unwrap();
        assert_eq!(
            set.get("gpt-4.1").unwrap().input_per_mtok,
            Some(Micros::whole(2))
        );
        set.set_price(
            "video-gen-2.1",
            PriceField::Video(Resolution::P4k),
            Some(micros("0.1")),
        )
        .unwrap();
        assert_eq!(
            set.get("video-gen-2.1")
                .unwrap()
                .get(PriceField::Video(Resolution::P4k)),
            Some(micros("0.1"))
        );
        assert_eq!(
            set.set_price("nope", PriceField::Input, None),
            Err(PriceError::UnknownModel("nope".into()))
        );

        let count = set.prices.len();
        set.upsert(ModelPrice::per_token(
            "qwen-max",
            "alibaba",
            micros("1.6"),
            micros("6.4"),
        ))
        .unwrap();
        set.upsert(ModelPrice::per_token(
            "qwen-max",
            "alibaba",
            micros("1.2"),
            micros("6.4"),
        ))
        .unwrap();
        assert_eq!(set.prices.len(), count + 1);
        assert_eq!(
            set.get("qwen-max").unwrap().input_per_mtok,
            Some(micros("1.2"))
        );
        assert_eq!(
            set.upsert(ModelPrice::per_token(" ", "", Micros(0), Micros(0))),
            Err(PriceError::EmptyModel)
        );
        assert!(set.remove("qwen-max").is_some());
        assert_eq!(set.prices.len(), count);

        for error in [
            PriceError::EmptyModel,
            PriceError::UnknownModel("x".into()),
            too_much.unwrap_err(),
        ] {
            assert!(!error.message(Lang::ZhCn).is_empty());
            assert!(error.message(Lang::En).contains(' '));
        }
    }

    #[test]
    fn catalog_round_trips_through_json() {
        let set = PriceSet::list();
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(serde_json::from_str::<PriceSet>(&json).unwrap(), set);
        assert!(json.contains(r#""unit":"per_clip","1080p":0.35"#), "{json}");
    }
}
