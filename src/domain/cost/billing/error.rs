//! Why a request cannot be priced, in zh-CN and en.

use super::{MediaKind, VideoRequest};
use crate::domain::i18n::Lang;

/// Why a request cannot be priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BillingError {
    /// The shape bills another kind of media than the request is.
    WrongUsage {
        /// What the shape bills.
        shape: MediaKind,
        /// What the request is.
        usage: MediaKind,
    },
    /// The shape has no price for what the request needs.
    MissingRate(MissingRate),
    /// The request lacks a quantity the shape bills on.
    MissingUsage(UsageField),
    /// The shape's allowed durations allow nothing (an empty list, or `min > max`).
    NoAllowedDurations,
    /// The amount is too large to hold.
    Overflow,
}

/// A price a request needs and the shape lacks, with the request's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingRate {
    /// Which price.
    pub rate: RateKind,
    /// The resolution or image size asked for.
    pub resolution: Option<String>,
    /// The tier asked for.
    pub tier: Option<String>,
    /// The image quality asked for.
    pub quality: Option<String>,
    /// Audio on or off, when prices depend on it.
    pub audio: Option<bool>,
    /// With or without input video, when prices depend on it.
    pub video_input: Option<bool>,
    /// The tier threshold the prompt exceeded, for token prices.
    pub above_prompt_tokens: Option<u64>,
}

impl MissingRate {
    pub(super) fn of(rate: RateKind) -> MissingRate {
        MissingRate {
            rate,
            resolution: None,
            tier: None,
            quality: None,
            audio: None,
            video_input: None,
            above_prompt_tokens: None,
        }
    }

    pub(super) fn video(rate: RateKind, request: &VideoRequest) -> MissingRate {
        MissingRate {
            resolution: Some(request.resolution.clone()),
            tier: request.tier.clone(),
            ..MissingRate::of(rate)
        }
    }
}

/// The prices a shape can lack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateKind {
    /// The cached-read token price.
    CachedRead,
    /// The cache-write token price.
    CacheWrite,
    /// The batch prices.
    Batch,
    /// A per-second video price.
    VideoPerSecond,
    /// A per-clip price.
    Clip,
    /// A base + per-second price.
    VideoBase,
    /// A per-video-token price.
    VideoToken,
    /// A per-image price.
    Image,
    /// A credits-per-unit figure.
    Credits,
    /// Any speech price.
    Speech,
}

impl RateKind {
    /// The price's name in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            RateKind::CachedRead => lang.pick("缓存命中价格", "cached-input price"),
            RateKind::CacheWrite => lang.pick("缓存写入价格", "cache-write price"),
            RateKind::Batch => lang.pick("批处理价格", "batch price"),
            RateKind::VideoPerSecond => lang.pick("每秒视频价格", "per-second video price"),
            RateKind::Clip => lang.pick("每段视频价格", "per-clip price"),
            RateKind::VideoBase => lang.pick("起步价加每秒价格", "base + per-second price"),
            RateKind::VideoToken => lang.pick("视频 token 价格", "video-token price"),
            RateKind::Image => lang.pick("每张图像价格", "per-image price"),
            RateKind::Credits => lang.pick("积分单价", "credits per unit"),
            RateKind::Speech => lang.pick("语音价格", "speech price"),
        }
    }
}

/// A quantity a request can lack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UsageField {
    /// The image tokens of a token-priced image model.
    ImageTokens,
    /// The length of generated speech.
    SpeechDuration,
    /// The frame size and fps of a video-token-priced request.
    VideoSize,
}

impl UsageField {
    /// The quantity's name in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            UsageField::ImageTokens => lang.pick("图像 token 数", "image token counts"),
            UsageField::SpeechDuration => lang.pick("语音时长", "speech duration"),
            UsageField::VideoSize => lang.pick("画面宽高与帧率", "frame width, height and fps"),
        }
    }
}

impl BillingError {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            BillingError::WrongUsage { shape, usage } => match lang {
                Lang::ZhCn => format!(
                    "该计费方式用于{}，不能为{}计价",
                    shape.label(lang),
                    usage.label(lang)
                ),
                Lang::En => format!(
                    "this billing shape prices {}, not {}",
                    shape.label(lang),
                    usage.label(lang)
                ),
            },
            BillingError::MissingRate(missing) => {
                let keys = missing.keys(lang);
                let rate = missing.rate.label(lang);
                match (lang, keys.is_empty()) {
                    (Lang::ZhCn, true) => format!("缺少{rate}"),
                    (Lang::ZhCn, false) => format!("缺少{rate}（{keys}）"),
                    (Lang::En, true) => format!("no {rate} is given"),
                    (Lang::En, false) => format!("no {rate} is given for {keys}"),
                }
            }
            BillingError::MissingUsage(field) => match lang {
                Lang::ZhCn => format!("请求缺少{}，无法计价", field.label(lang)),
                Lang::En => format!(
                    "the request has no {}, so it cannot be priced",
                    field.label(lang)
                ),
            },
            BillingError::NoAllowedDurations => lang
                .pick(
                    "该模型允许的时长为空",
                    "the model's allowed durations are empty",
                )
                .to_string(),
            BillingError::Overflow => lang.pick("金额过大", "the amount is too large").to_string(),
        }
    }
}

impl MissingRate {
    /// The request's keys, joined: `1080p, tier pro, audio on`.
    fn keys(&self, lang: Lang) -> String {
        let mut keys: Vec<String> = Vec::new();
        if let Some(resolution) = &self.resolution {
            keys.push(resolution.clone());
        }
        if let Some(tier) = &self.tier {
            keys.push(format!("{} {tier}", lang.pick("档位", "tier")));
        }
        if let Some(quality) = &self.quality {
            keys.push(format!("{} {quality}", lang.pick("质量", "quality")));
        }
        if let Some(audio) = self.audio {
            keys.push(
                match audio {
                    true => lang.pick("有声", "audio on"),
                    false => lang.pick("无声", "audio off"),
                }
                .to_string(),
            );
        }
        if let Some(video_input) = self.video_input {
            keys.push(
                match video_input {
                    true => lang.pick("含参考视频", "with input video"),
                    false => lang.pick("无参考视频", "without input video"),
                }
                .to_string(),
            );
        }
        if let Some(threshold) = self.above_prompt_tokens {
            keys.push(match lang {
                Lang::ZhCn => format!("提示超过 {threshold} tokens"),
                Lang::En => format!("prompts above {threshold} tokens"),
            });
        }
        keys.join(lang.pick("，", ", "))
    }
}
