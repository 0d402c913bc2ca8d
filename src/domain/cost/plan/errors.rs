//! What can be wrong with a plan, a field of it or its share link, and the messages shown.

use serde::Serialize;

use crate::domain::cost::plan::PLAN_VERSION;
use crate::domain::cost::profile::ProfileError;
use crate::domain::i18n::Lang;

/// One problem at one field of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's path: `studios`, `stages[2].output_tokens`, `profiles[1].cny_per_usd`.
    pub path: String,
    /// What is wrong.
    #[serde(skip)]
    pub problem: FieldProblem,
}

impl FieldError {
    /// The message shown beside the field (without the path).
    pub fn message(&self, lang: Lang) -> String {
        self.problem.message(lang)
    }

    /// The path and the message, for lists of problems.
    pub fn describe(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!("{}：{}", self.path, self.message(lang)),
            Lang::En => format!("{}: {}", self.path, self.message(lang)),
        }
    }
}

/// What can be wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// A required field is absent.
    Missing,
    /// The field is empty.
    Empty,
    /// The field must be text.
    NotText,
    /// The field must be a number.
    NotANumber,
    /// The field must be a whole number.
    NotAWholeNumber,
    /// The field must not be negative.
    Negative,
    /// The field has more decimals than kept.
    TooPrecise {
        /// Decimal places kept.
        decimals: u32,
    },
    /// The value is above the field's cap.
    TooLarge {
        /// The cap.
        max: String,
    },
    /// The value is below the field's minimum.
    TooSmall {
        /// The minimum.
        min: String,
    },
    /// The value lies outside a range.
    OutOfRange {
        /// The minimum.
        min: String,
        /// The maximum.
        max: String,
    },
    /// A product of this field with others exceeds a total cap.
    TotalTooLarge {
        /// The cap on the total.
        max: String,
    },
    /// Text longer than allowed.
    TooLong {
        /// Characters allowed.
        max: usize,
    },
    /// A list has too many entries.
    TooMany {
        /// Entries allowed.
        max: usize,
    },
    /// The field must be a JSON object.
    NotAnObject,
    /// The field must be a list.
    NotAList,
    /// The value is not one of the allowed words.
    UnknownOption {
        /// The allowed words.
        allowed: &'static str,
    },
    /// The plan's version is not one this code reads.
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// No profile of that id exists.
    UnknownProfile(String),
    /// A profile is listed twice.
    DuplicateProfile(String),
    /// A profile is referred to but not among the compared profiles.
    NotCompared(String),
    /// Cached and cache-write tokens exceed the input tokens they are part of.
    CachedExceedsInput,
    /// A line has neither a model nor a price per clip.
    NeedsModelOrPrice,
    /// `video` was listed among the text stages.
    VideoIsASection,
    /// An inline profile is invalid.
    Profile(ProfileError),
}

impl FieldProblem {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        use FieldProblem as P;
        let fixed = |zh: &str, en: &str| lang.pick(zh, en).to_string();
        match (self, lang) {
            (P::Missing, _) => fixed("必填", "is required"),
            (P::Empty, _) => fixed("不能为空", "must not be empty"),
            (P::NotText, _) => fixed("必须是文本", "must be text"),
            (P::NotANumber, _) => fixed("必须是数字", "must be a number"),
            (P::NotAWholeNumber, _) => fixed("必须是整数", "must be a whole number"),
            (P::Negative, _) => fixed("不能为负数", "must not be negative"),
            (P::TooPrecise { decimals }, Lang::ZhCn) => format!("最多 {decimals} 位小数"),
            (P::TooPrecise { decimals }, Lang::En) => {
                format!("allows at most {decimals} decimal places")
            }
            (P::TooLarge { max }, Lang::ZhCn) => format!("不能超过 {max}"),
            (P::TooLarge { max }, Lang::En) => format!("must not exceed {max}"),
            (P::TooSmall { min }, Lang::ZhCn) => format!("不能小于 {min}"),
            (P::TooSmall { min }, Lang::En) => format!("must be at least {min}"),
            (P::OutOfRange { min, max }, Lang::ZhCn) => format!("必须在 {min} 到 {max} 之间"),
            (P::OutOfRange { min, max }, Lang::En) => format!("must be between {min} and {max}"),
            (P::TotalTooLarge { max }, Lang::ZhCn) => {
                format!("与其他数量相乘后的总量超过上限 {max}")
            }
            (P::TotalTooLarge { max }, Lang::En) => {
                format!("makes the period's total exceed the cap of {max}")
            }
            (P::TooLong { max }, Lang::ZhCn) => format!("最多 {max} 个字符"),
            (P::TooLong { max }, Lang::En) => format!("allows at most {max} characters"),
            (P::TooMany { max }, Lang::ZhCn) => format!("最多 {max} 项"),
            (P::TooMany { max }, Lang::En) => format!("allows at most {max} entries"),
            (P::NotAnObject, _) => fixed("必须是 JSON 对象", "must be a JSON object"),
            (P::NotAList, _) => fixed("必须是列表", "must be a list"),
            (P::UnknownOption { allowed }, Lang::ZhCn) => format!("必须是以下之一：{allowed}"),
            (P::UnknownOption { allowed }, Lang::En) => format!("must be one of: {allowed}"),
            (P::UnsupportedVersion { found }, Lang::ZhCn) => {
                format!("不支持的版本 {found}（本应用读取版本 {PLAN_VERSION}）")
            }
            (P::UnsupportedVersion { found }, Lang::En) => {
                format!("version {found} is not supported (this app reads version {PLAN_VERSION})")
            }
            (P::UnknownProfile(id), Lang::ZhCn) => format!("没有名为 “{id}” 的配置"),
            (P::UnknownProfile(id), Lang::En) => format!("there is no profile \"{id}\""),
            (P::DuplicateProfile(id), Lang::ZhCn) => format!("配置 “{id}” 重复"),
            (P::DuplicateProfile(id), Lang::En) => format!("profile \"{id}\" is listed twice"),
            (P::NotCompared(id), Lang::ZhCn) => format!("配置 “{id}” 不在对比列表中"),
            (P::NotCompared(id), Lang::En) => {
                format!("profile \"{id}\" is not among the compared profiles")
            }
            (P::CachedExceedsInput, _) => fixed(
                "缓存命中与缓存写入的 token 之和不能超过输入 token",
                "cached and cache-write tokens must not exceed the input tokens",
            ),
            (P::NeedsModelOrPrice, _) => {
                fixed("请填写模型或单片价格", "give a model or a price per clip")
            }
            (P::VideoIsASection, _) => fixed(
                "视频不属于文本阶段，请在 video 部分填写",
                "video is not a text stage: use the video section",
            ),
            (P::Profile(problem), _) => problem.message(lang),
        }
    }
}

/// Why a plan could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// The text is not JSON; the parser's explanation follows.
    NotJson(String),
    /// Fields are invalid; each error names its field.
    Invalid(Vec<FieldError>),
    /// A share link could not be read.
    Link(LinkProblem),
}

impl PlanError {
    /// The message shown to the user; field errors are listed one per line with their paths.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PlanError::NotJson(detail), Lang::ZhCn) => format!("方案不是有效的 JSON：{detail}"),
            (PlanError::NotJson(detail), Lang::En) => {
                format!("the plan is not valid JSON: {detail}")
            }
            (PlanError::Invalid(errors), _) => {
                let head = lang.pick("方案有以下问题：", "the plan has problems:");
                let lines: Vec<String> = errors
                    .iter()
                    .map(|error| format!("- {}", error.describe(lang)))
                    .collect();
                format!("{head}\n{}", lines.join("\n"))
            }
            (PlanError::Link(problem), _) => problem.message(lang),
        }
    }

    /// The field errors, if this is a validation failure.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            PlanError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for PlanError {}

/// Why a share link (URL fragment) could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkProblem {
    /// The fragment does not start with a known version prefix (`v1.`).
    UnknownFormat,
    /// The fragment contains a character outside base64url at this byte position.
    BadCharacter {
        /// Byte offset in the payload.
        position: usize,
    },
    /// The payload's length cannot be base64url (it was cut).
    Truncated,
    /// The checksum does not match: the link was cut or edited.
    ChecksumMismatch,
    /// The payload is not UTF-8 text.
    NotText,
}

impl LinkProblem {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (LinkProblem::UnknownFormat, _) => lang
                .pick(
                    "链接不是本应用的方案链接（缺少 v1. 前缀）",
                    "the link is not a plan link from this app (no v1. prefix)",
                )
                .into(),
            (LinkProblem::BadCharacter { position }, Lang::ZhCn) => {
                format!("链接已损坏：第 {position} 个字符无效")
            }
            (LinkProblem::BadCharacter { position }, Lang::En) => {
                format!("the link is damaged: invalid character at position {position}")
            }
            (LinkProblem::Truncated, _) => lang
                .pick(
                    "链接不完整，可能被截断了，请重新复制",
                    "the link is incomplete (probably cut off): copy it again",
                )
                .into(),
            (LinkProblem::ChecksumMismatch, _) => lang
                .pick(
                    "链接校验失败：内容被截断或改动，请向发送者索取新链接",
                    "the link failed its checksum: it was cut or edited; ask for a new link",
                )
                .into(),
            (LinkProblem::NotText, _) => lang
                .pick("链接内容不是文本", "the link's content is not text")
                .into(),
        }
    }
}
