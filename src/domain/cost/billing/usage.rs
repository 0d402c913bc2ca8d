//! What a request consumed or asks for, by media kind.

use crate::domain::i18n::Lang;

/// What one request consumed or asks for, by media kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A language-model call.
    Llm(LlmCall),
    /// A video generation.
    Video(VideoRequest),
    /// An image generation.
    Image(ImageRequest),
    /// A speech generation.
    Speech(SpeechRequest),
}

impl Usage {
    /// The kind of media.
    pub fn media(&self) -> MediaKind {
        match self {
            Usage::Llm(_) => MediaKind::Llm,
            Usage::Video(_) => MediaKind::Video,
            Usage::Image(_) => MediaKind::Image,
            Usage::Speech(_) => MediaKind::Speech,
        }
    }
}

/// The tokens of one language-model call, each counted once.
///
/// From Anthropic's `usage`: `input_tokens`, `cache_read_input_tokens`,
/// `cache_creation_input_tokens`, `output_tokens`. From OpenAI's: `input` = `prompt_tokens` −
/// `cached_tokens` (which are inside `prompt_tokens`), and `output` = `completion_tokens` −
/// `reasoning_tokens`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LlmCall {
    /// Uncached input tokens.
    pub input: u64,
    /// Input tokens read from the prompt cache.
    pub cached_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// Output tokens, reasoning excluded.
    pub output: u64,
    /// Reasoning tokens.
    pub reasoning: u64,
    /// Sent through the batch API.
    pub batch: bool,
}

impl LlmCall {
    /// The prompt's size for tier thresholds: uncached + cached read + cache write.
    pub fn prompt_tokens(&self) -> u64 {
        self.input
            .saturating_add(self.cached_read)
            .saturating_add(self.cache_write)
    }
}

/// One video generation.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VideoRequest {
    /// The shot's duration in whole seconds (fitted to the model's lengths before billing).
    pub seconds: u32,
    /// Frame width in pixels (the video-token formula).
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// The resolution label prices are looked up by (`720p`, `1024x1792`, `768P`).
    pub resolution: String,
    /// The tier (`standard`, `fast`, `pro`), if the model has several.
    pub tier: Option<String>,
    /// Audio generated with the video.
    pub audio: bool,
    /// Seconds of reference video sent with the request.
    pub input_video_seconds: u32,
}

impl VideoRequest {
    /// A request at a resolution for a duration, with no size, tier, audio or input video.
    pub fn new(resolution: &str, seconds: u32) -> VideoRequest {
        VideoRequest {
            seconds,
            resolution: resolution.to_string(),
            ..VideoRequest::default()
        }
    }
}

/// One image generation.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ImageRequest {
    /// The size (`1024x1536`).
    pub size: String,
    /// The quality (`low`, `medium`, `high`, `standard`, `hd`), if the API takes one.
    pub quality: Option<String>,
    /// How many images (`n`).
    pub count: u32,
    /// The tokens a token-priced image model bills, when known (from its `usage`).
    pub image_tokens: Option<ImageTokens>,
}

/// The tokens of one image call (gpt-image-1's `usage`), for all its images together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ImageTokens {
    /// Text input tokens.
    pub text_input: u64,
    /// Image input tokens (reference images).
    pub image_input: u64,
    /// Image output tokens.
    pub image_output: u64,
}

/// One speech generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SpeechRequest {
    /// Characters of input text (a Chinese line is counted in characters, not words).
    pub characters: u64,
    /// The audio's length in milliseconds, when known.
    pub milliseconds: Option<u64>,
}

/// The kinds of media a shape bills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Language-model tokens.
    Llm,
    /// Video.
    Video,
    /// Images.
    Image,
    /// Speech.
    Speech,
}

impl MediaKind {
    /// The kind's name (plural in English) in the user's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            MediaKind::Llm => lang.pick("语言模型调用", "language-model calls"),
            MediaKind::Video => lang.pick("视频生成", "video generations"),
            MediaKind::Image => lang.pick("图像生成", "image generations"),
            MediaKind::Speech => lang.pick("语音生成", "speech generations"),
        }
    }
}
