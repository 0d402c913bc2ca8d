//! An incremental decoder for chat completion streams (server-sent events).
//!
//! The adapter feeds whatever text its `TextDecoder` produced, split anywhere (mid-line, mid
//! `\r\n`), to [`SseDecoder::push`] and gets back the [`StreamEvent`]s that became complete.
//! [`SseDecoder::finish`] then says how the stream ended: complete, cut (with what arrived and an
//! estimated usage), or failed. The format follows OpenAI's streams as relays send them:
//!
//! - lines end in `\n`, `\r\n` or `\r`; a leading byte-order mark is dropped;
//! - lines starting with `:` are keep-alive comments, blank lines end an event, fields other than
//!   `data` (`event:`, `id:`, `retry:`) are ignored;
//! - `data: {json}` (with or without the space) carries a chunk; `data: [DONE]` ends the stream;
//! - a chunk's `choices` may be null, missing or empty; the chunk carrying `usage` (asked for
//!   with `stream_options.include_usage`) comes last, with `choices: []`;
//! - an `{"error":{…}}` chunk is an error event; a `data:` line that is not JSON is
//!   [`ApiError::Malformed`].
//!
//! The line handling (`SseLines`, crate-internal) and the way a stream ends are shared with
//! the Anthropic Messages decoder ([`crate::domain::provider::messages::MessagesDecoder`]).
//!
//! A JSON object spread over several `data:` lines of one event is joined, as the SSE
//! specification says; a relay that omits the blank lines between events still works, since
//! each complete line is decoded as soon as it parses.
//!
//! ```
//! use duanju_studio::domain::provider::sse::{SseDecoder, StreamEvent};
//!
//! let mut decoder = SseDecoder::new("deepseek-v3.2", 10);
//! let mut events = decoder.push("data: {\"choices\":[{\"delta\":{\"content\":\"你\"}}]}\n\nda");
//! events.extend(decoder.push("ta: {\"choices\":[{\"delta\":{\"content\":\"好\"}}]}\n\ndata: [DONE]\n\n"));
//! assert_eq!(events[0], StreamEvent::Content("你".into()));
//! assert_eq!(events.last(), Some(&StreamEvent::Done));
//! let completion = decoder.finish().unwrap();
//! assert_eq!(completion.content, "你好");
//! // The relay sent no usage, so it is estimated and says so.
//! assert!(completion.usage.unwrap().estimated);
//! ```

use serde_json::Value;

use crate::domain::provider::api_error::{self, ApiError};
use crate::domain::provider::chat::{ChatRequest, Completion, Usage, WireChunk};

/// One thing a stream said.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// The model that is answering (first chunk that names one).
    Model(String),
    /// The speaker of the reply (`assistant`), sent once at the start.
    Role(String),
    /// A piece of the reply text.
    Content(String),
    /// A piece of visible reasoning (DeepSeek's `reasoning_content`, Anthropic's `thinking`).
    Reasoning(String),
    /// Why generation stopped (`stop`, `length`, `content_filter`…).
    FinishReason(String),
    /// The billed usage (normally from the last chunk, before `[DONE]`).
    Usage(Usage),
    /// The provider reported an error inside the stream, or a chunk was not valid JSON. No
    /// further events follow.
    Error(ApiError),
    /// `data: [DONE]` (Anthropic: `message_stop`). No further events follow.
    Done,
}

/// Folds one event into a completion. [`Completion`] is the accumulated state: the UI can fold
/// events into it as they arrive to show the reply growing.
pub fn apply_event(completion: &mut Completion, event: &StreamEvent) {
    match event {
        StreamEvent::Model(model) => completion.model = Some(model.clone()),
        StreamEvent::Content(text) => completion.content.push_str(text),
        StreamEvent::Reasoning(text) => completion.reasoning.push_str(text),
        StreamEvent::FinishReason(reason) => completion.finish_reason = Some(reason.clone()),
        StreamEvent::Usage(usage) => completion.usage = Some(usage.clone()),
        StreamEvent::Role(_) | StreamEvent::Error(_) | StreamEvent::Done => {}
    }
}

/// Folds a sequence of events into the completion they describe (usage stays `None` when none
/// was sent; [`SseDecoder::finish`] estimates it).
pub fn accumulate<'a>(events: impl IntoIterator<Item = &'a StreamEvent>) -> Completion {
    let mut completion = Completion::default();
    for event in events {
        apply_event(&mut completion, event);
    }
    completion
}

/// The longest line (and the longest event's data) accepted, in bytes: a real chunk is a few
/// hundred bytes, so a longer one is a broken or hostile stream, not worth holding in memory.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// One `data:` payload of an SSE stream, as [`SseLines`] delivers it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SseData {
    /// A complete JSON value (possibly joined from several `data:` lines of one event).
    Json(Value),
    /// `data: [DONE]`.
    Done,
    /// The stream is broken (invalid or incomplete JSON, an endless line).
    Broken(ApiError),
}

/// The protocol-independent half of SSE decoding, shared by the OpenAI and the Anthropic
/// decoders so the subtle parts live once: a leading byte-order mark, `\n` / `\r\n` / `\r` line
/// endings split anywhere (a `\r` at the end of a piece waits for a possible `\n`), comments,
/// fields other than `data` (`event:` is redundant for both protocols: Anthropic repeats the
/// event name as the data's `type`), `data:` lines joined until they form complete JSON, and the
/// [`MAX_LINE_BYTES`] cap.
#[derive(Clone, Debug, Default)]
pub(crate) struct SseLines {
    /// Text received but not yet split into complete lines.
    buffer: String,
    /// `data:` lines of the current event that do not yet form complete JSON.
    pending: Option<String>,
    started: bool,
}

impl SseLines {
    /// Feeds the next piece of text and returns the payloads it completed.
    pub(crate) fn push(&mut self, text: &str) -> Vec<SseData> {
        let mut out = Vec::new();
        let text = if self.started || text.is_empty() {
            text
        } else {
            self.started = true;
            text.strip_prefix('\u{feff}').unwrap_or(text)
        };
        self.buffer.push_str(text);
        let buffer = std::mem::take(&mut self.buffer);
        let mut consumed = 0;
        while let Some(at) = buffer[consumed..].find(['\n', '\r']) {
            let end = consumed + at;
            let terminator = match buffer.as_bytes()[end] {
                b'\r' if end + 1 == buffer.len() => break, // A `\n` may follow in the next piece.
                b'\r' if buffer.as_bytes()[end + 1] == b'\n' => 2,
                _ => 1,
            };
            self.line(&buffer[consumed..end], false, &mut out);
            consumed = end + terminator;
        }
        self.buffer = buffer[consumed..].to_string();
        let pending = self.pending.as_ref().map_or(0, String::len);
        if self.buffer.len() > MAX_LINE_BYTES || pending > MAX_LINE_BYTES {
            self.buffer.clear();
            self.pending = None;
            let detail = format!("a stream line longer than {} MiB", MAX_LINE_BYTES >> 20);
            out.push(SseData::Broken(ApiError::malformed(detail)));
        }
        out
    }

    /// Ends the input: a final line without a line ending counts when it is complete; one that
    /// is not complete JSON is a cut, not a broken stream, so it yields nothing.
    pub(crate) fn finish(&mut self) -> Vec<SseData> {
        let mut out = Vec::new();
        let last = std::mem::take(&mut self.buffer);
        if !last.is_empty() {
            self.line(last.trim_end_matches('\r'), true, &mut out);
        }
        out
    }

    /// True when no text is held back (for tests of the memory cap).
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.pending.is_none()
    }

    /// Handles one complete line. At the end of input (`at_eof`), a line that is not complete
    /// JSON is a cut, not a malformed stream.
    fn line(&mut self, line: &str, at_eof: bool, out: &mut Vec<SseData>) {
        if line.is_empty() {
            // The event ends: data that never became valid JSON is malformed.
            if self.pending.take().is_some() {
                let error = ApiError::malformed("incomplete JSON in stream");
                out.push(SseData::Broken(error));
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field != "data" {
            return;
        }
        let data = match self.pending.take() {
            Some(previous) => format!("{previous}\n{value}"),
            None if value.trim().is_empty() => return,
            None => value.to_string(),
        };
        if data.trim() == "[DONE]" {
            out.push(SseData::Done);
            return;
        }
        match serde_json::from_str::<Value>(&data) {
            Ok(value) => out.push(SseData::Json(value)),
            Err(e) if e.is_eof() && !at_eof => self.pending = Some(data),
            Err(_) if at_eof => {}
            Err(e) => out.push(SseData::Broken(ApiError::malformed(format!(
                "invalid JSON in stream ({e})"
            )))),
        }
    }
}

/// What every stream decoder tracks besides its protocol's own details: the line splitter,
/// whether the stream ended or failed, the completion folded so far, and what to estimate usage
/// from. Shared so both protocols end streams (complete, cut, failed) the same way.
#[derive(Clone, Debug)]
pub(crate) struct StreamState {
    pub(crate) lines: SseLines,
    pub(crate) done: bool,
    pub(crate) error: Option<ApiError>,
    pub(crate) completion: Completion,
    /// The requested model, for estimates when no usage arrives.
    pub(crate) model: String,
    /// The estimated prompt tokens, for estimates when no usage arrives.
    prompt_tokens: u64,
}

impl StreamState {
    pub(crate) fn new(model: &str, prompt_tokens: u64) -> StreamState {
        StreamState {
            lines: SseLines::default(),
            done: false,
            error: None,
            completion: Completion::default(),
            model: model.to_string(),
            prompt_tokens,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.done || self.error.is_some()
    }

    /// Folds `event` into the completion and reports it.
    pub(crate) fn emit(&mut self, event: StreamEvent, events: &mut Vec<StreamEvent>) {
        apply_event(&mut self.completion, &event);
        events.push(event);
    }

    /// Ends the stream as finished properly (`[DONE]`, `message_stop`).
    pub(crate) fn end(&mut self, events: &mut Vec<StreamEvent>) {
        self.done = true;
        events.push(StreamEvent::Done);
    }

    /// Ends the stream with an error.
    pub(crate) fn fail(&mut self, error: ApiError, events: &mut Vec<StreamEvent>) {
        events.push(StreamEvent::Error(error.clone()));
        self.error = Some(error);
    }

    /// Splits `text` and hands each JSON payload to `chunk`, until the stream finishes; input
    /// after the end is ignored.
    pub(crate) fn push(
        &mut self,
        text: &str,
        mut chunk: impl FnMut(&mut StreamState, &Value, &mut Vec<StreamEvent>),
    ) -> Vec<StreamEvent> {
        let mut events = Vec::new();
        if self.is_finished() {
            return events;
        }
        let items = self.lines.push(text);
        self.handle(items, &mut chunk, &mut events);
        events
    }

    /// Ends the input: a complete final line without a line ending is still handled.
    pub(crate) fn end_input(
        &mut self,
        mut chunk: impl FnMut(&mut StreamState, &Value, &mut Vec<StreamEvent>),
    ) {
        if !self.is_finished() {
            let items = self.lines.finish();
            self.handle(items, &mut chunk, &mut Vec::new());
        }
    }

    /// How the stream ended, after [`Self::end_input`]: the completion when it
    /// `ended_properly`, with usage estimated and flagged when none was sent;
    /// [`ApiError::StreamError`] with the error and what arrived before it; else
    /// [`ApiError::StreamCut`] with what arrived.
    pub(crate) fn outcome(self, ended_properly: bool) -> Result<Completion, ApiError> {
        let completion = self
            .completion
            .with_usage_or_estimate(&self.model, self.prompt_tokens);
        if let Some(error) = self.error {
            // The reply had begun: what was generated before the error is billed.
            return Err(ApiError::StreamError {
                cause: Box::new(error),
                partial: Box::new(completion),
            });
        }
        if ended_properly {
            Ok(completion)
        } else {
            Err(ApiError::StreamCut {
                partial: Box::new(completion),
            })
        }
    }

    fn handle(
        &mut self,
        items: Vec<SseData>,
        chunk: &mut impl FnMut(&mut StreamState, &Value, &mut Vec<StreamEvent>),
        events: &mut Vec<StreamEvent>,
    ) {
        for item in items {
            if self.is_finished() {
                return;
            }
            match item {
                SseData::Json(value) => chunk(self, &value, events),
                SseData::Done => self.end(events),
                SseData::Broken(error) => self.fail(error, events),
            }
        }
    }
}

/// The incremental decoder. Create one per request, feed it text, then call [`Self::finish`].
#[derive(Clone, Debug)]
pub struct SseDecoder {
    state: StreamState,
}

impl SseDecoder {
    /// A decoder for a stream answering a request to `model` whose prompt is estimated at
    /// `prompt_tokens` tokens (used only if the stream reports no usage).
    pub fn new(model: &str, prompt_tokens: u64) -> SseDecoder {
        SseDecoder {
            state: StreamState::new(model, prompt_tokens),
        }
    }

    /// A decoder for the stream answering `request`.
    pub fn for_request(request: &ChatRequest) -> SseDecoder {
        SseDecoder::new(&request.model, request.estimated_prompt_tokens())
    }

    /// True once `[DONE]` or an error arrived: the adapter may stop reading.
    pub fn is_finished(&self) -> bool {
        self.state.is_finished()
    }

    /// Everything received so far, folded.
    pub fn completion_so_far(&self) -> &Completion {
        &self.state.completion
    }

    /// Feeds the next piece of text and returns the events it completed. Input after `[DONE]`
    /// or an error is ignored.
    pub fn push(&mut self, text: &str) -> Vec<StreamEvent> {
        self.state.push(text, chat_chunk)
    }

    /// Ends the stream. Returns the completion when it ended properly (`[DONE]`, or a
    /// `finish_reason` from a relay that omits `[DONE]`), with usage estimated and flagged when
    /// none was sent; [`ApiError::StreamCut`] with what arrived when it was cut; or
    /// [`ApiError::StreamError`] with the error the stream reported (or the way it was broken)
    /// and what arrived before it. A final line without a line ending is accepted when it is
    /// complete.
    pub fn finish(mut self) -> Result<Completion, ApiError> {
        self.state.end_input(chat_chunk);
        let ended = self.state.done || self.state.completion.finish_reason.is_some();
        self.state.outcome(ended)
    }
}

/// Turns one parsed chat-completion chunk into events.
fn chat_chunk(state: &mut StreamState, value: &Value, events: &mut Vec<StreamEvent>) {
    if let Some(error) = api_error::embedded_error(value, 200) {
        return state.fail(error, events);
    }
    let chunk = match WireChunk::from_value(value) {
        Ok(chunk) => chunk,
        Err(error) => return state.fail(error, events),
    };
    if let Some(model) = chunk.model.as_ref().filter(|m| !m.is_empty()) {
        if state.completion.model.is_none() {
            state.emit(StreamEvent::Model(model.clone()), events);
        }
    }
    if let Some(choice) = chunk.first_choice() {
        if let Some(delta) = choice.delta.as_ref().or(choice.message.as_ref()) {
            if let Some(role) = delta.role.as_ref().filter(|r| !r.is_empty()) {
                state.emit(StreamEvent::Role(role.clone()), events);
            }
            if let Some(text) = delta.reasoning_content.as_ref().filter(|t| !t.is_empty()) {
                state.emit(StreamEvent::Reasoning(text.clone()), events);
            }
            let text = delta.text();
            if !text.is_empty() {
                state.emit(StreamEvent::Content(text), events);
            }
        }
        if let Some(reason) = choice.finish_reason.as_ref().filter(|r| !r.is_empty()) {
            state.emit(StreamEvent::FinishReason(reason.clone()), events);
        }
    }
    if let Some(usage) = chunk.usage.as_ref().filter(|u| !u.is_empty()) {
        state.emit(StreamEvent::Usage(usage.normalize()), events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `stream` pushed in `pieces` and returns every event plus the outcome's kind or
    /// content.
    fn decode(pieces: &[&str]) -> (Vec<StreamEvent>, Result<Completion, ApiError>) {
        let mut decoder = SseDecoder::new("deepseek-v3.2", 20);
        let mut events = Vec::new();
        for piece in pieces {
            events.extend(decoder.push(piece));
        }
        (events, decoder.finish())
    }

    fn check(stream: &str, expect_events: &[StreamEvent], expect: Result<Completion, &str>) {
        let (events, outcome) = decode(&[stream]);
        assert_eq!(events, expect_events, "{stream:?}");
        assert_eq!(outcome.map_err(|e| e.kind()), expect, "{stream:?}");
    }

    fn content(text: &str) -> StreamEvent {
        StreamEvent::Content(text.into())
    }

    const OPENAI_STREAM: &str = concat!(
        ": OPENROUTER PROCESSING\n\n",
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"雨夜\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data:{\"id\":\"c1\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"，天台。\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-4.1\",\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":5,\"total_tokens\":35,\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n",
        "data: [DONE]\n\n",
    );

    fn openai_completion() -> Completion {
        Completion {
            content: "雨夜，天台。".into(),
            finish_reason: Some("stop".into()),
            model: Some("gpt-4.1".into()),
            usage: Some(Usage {
                prompt: 30,
                completion: 5,
                total: 35,
                ..Usage::default()
            }),
            ..Completion::default()
        }
    }

    fn openai_events() -> Vec<StreamEvent> {
        vec![
            StreamEvent::Model("gpt-4.1".into()),
            StreamEvent::Role("assistant".into()),
            content("雨夜"),
            content("，天台。"),
            StreamEvent::FinishReason("stop".into()),
            StreamEvent::Usage(Usage {
                prompt: 30,
                completion: 5,
                total: 35,
                ..Usage::default()
            }),
            StreamEvent::Done,
        ]
    }

    #[test]
    fn openai_stream_with_usage() {
        check(OPENAI_STREAM, &openai_events(), Ok(openai_completion()));
        // The same stream with CRLF and with bare CR line endings.
        check(
            &OPENAI_STREAM.replace('\n', "\r\n"),
            &openai_events(),
            Ok(openai_completion()),
        );
        check(
            &OPENAI_STREAM.replace('\n', "\r"),
            &openai_events(),
            Ok(openai_completion()),
        );
        // Split right inside a CRLF.
        let crlf = OPENAI_STREAM.replace('\n', "\r\n");
        let at = crlf.find("\r\n").unwrap() + 1;
        let (events, outcome) = decode(&[&crlf[..at], &crlf[at..]]);
        assert_eq!(events, openai_events());
        assert_eq!(outcome, Ok(openai_completion()));
    }

    #[test]
    fn relay_quirks() {
        // choices null or missing, events not separated by blank lines, a BOM, event/id fields,
        // an empty data line, DeepSeek's reasoning_content and cache-hit usage.
        let stream = concat!(
            "\u{feff}event: message\nid: 1\n",
            "data: {\"choices\":null}\n",
            "data:\n",
            "data: {\"model\":\"deepseek-reasoner\"}\n",
            "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"想\"}}]}\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"好\"},\"finish_reason\":\"stop\"}]}\n",
            "data: {\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":9,\"total_tokens\":109,\"prompt_cache_hit_tokens\":64,\"prompt_cache_miss_tokens\":36}}\n",
            "data: [DONE]",
        );
        let usage = Usage {
            prompt: 100,
            cached: 64,
            completion: 9,
            total: 109,
            ..Usage::default()
        };
        check(
            stream,
            &[
                StreamEvent::Model("deepseek-reasoner".into()),
                StreamEvent::Reasoning("想".into()),
                content("好"),
                StreamEvent::FinishReason("stop".into()),
                StreamEvent::Usage(usage.clone()),
                // The final `[DONE]` has no line ending, so only finish() sees it.
            ],
            Ok(Completion {
                content: "好".into(),
                reasoning: "想".into(),
                finish_reason: Some("stop".into()),
                model: Some("deepseek-reasoner".into()),
                usage: Some(usage),
            }),
        );
        // A JSON object split over two data lines of one event is joined.
        check(
            "data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n",
            &[content("a"), StreamEvent::Done],
            Ok(Completion {
                content: "a".into(),
                usage: Some(Usage::estimated(20, 1)),
                ..Completion::default()
            }),
        );
        // Nothing after [DONE] counts.
        let (events, _) =
            decode(&["data: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"]);
        assert_eq!(events, vec![StreamEvent::Done]);
    }

    #[test]
    fn errors_inside_the_stream() {
        check(
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"error\",\"code\":429}}\n\ndata: [DONE]\n\n",
            &[
                content("a"),
                StreamEvent::Error(ApiError::RateLimited {
                    retry_after_ms: None,
                }),
            ],
            Err("stream_error"),
        );
        check(
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: <html>oops</html>\n\n",
            &[
                content("a"),
                StreamEvent::Error(ApiError::malformed(
                    "invalid JSON in stream (expected value at line 1 column 1)",
                )),
            ],
            Err("stream_error"),
        );
        check(
            "data: {\"choices\":[\n\n",
            &[StreamEvent::Error(ApiError::malformed(
                "incomplete JSON in stream",
            ))],
            Err("stream_error"),
        );
        check(
            "data: [1,2]\n\n",
            &[StreamEvent::Error(ApiError::malformed("not a JSON object"))],
            Err("stream_error"),
        );
    }

    #[test]
    fn a_stream_error_keeps_its_cause_and_what_arrived() {
        let (_, outcome) = decode(&[
            "data: {\"choices\":[{\"delta\":{\"content\":\"雨夜\"}}]}\n\n",
            "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n",
        ]);
        let Err(ApiError::StreamError { cause, partial }) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(cause.kind(), "server_error");
        assert_eq!(partial.content, "雨夜");
        assert!(partial.usage.as_ref().is_some_and(|u| u.estimated));
    }

    #[test]
    fn an_endless_line_is_refused_without_holding_it() {
        let mut decoder = SseDecoder::new("gpt-4.1", 20);
        let piece = "x".repeat(64 * 1024);
        let mut events = decoder.push("data: ");
        for _ in 0..=(MAX_LINE_BYTES / piece.len()) {
            events.extend(decoder.push(&piece));
        }
        assert!(decoder.is_finished());
        assert!(decoder.state.lines.is_empty());
        assert!(
            matches!(&events[..], [StreamEvent::Error(ApiError::Malformed { detail })] if detail.contains("1 MiB")),
            "{events:?}"
        );
        assert_eq!(decoder.finish().map_err(|e| e.kind()), Err("stream_error"));
    }

    #[test]
    fn cut_streams_estimate_usage() {
        // Cut mid-reply: what arrived is kept and usage is estimated from it (DeepSeek: 4 CJK
        // characters × 0.6 = 2.4 → 3 completion tokens; the prompt estimate given is 20).
        let (events, outcome) = decode(&[
            "data: {\"choices\":[{\"delta\":{\"content\":\"雨夜天台\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"cont",
        ]);
        assert_eq!(events, vec![content("雨夜天台")]);
        let Err(ApiError::StreamCut { partial }) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(partial.content, "雨夜天台");
        assert_eq!(partial.usage, Some(Usage::estimated(20, 3)));
        // An empty stream is cut too.
        assert_eq!(decode(&[]).1.map_err(|e| e.kind()), Err("stream_cut"));
        // A relay that closes after finish_reason without [DONE] finished properly.
        let (_, outcome) = decode(&[
            "data: {\"choices\":[{\"delta\":{\"content\":\"ab\"},\"finish_reason\":\"stop\"}]}\n\n",
        ]);
        let completion = outcome.unwrap();
        assert_eq!(completion.usage, Some(Usage::estimated(20, 1)));
    }

    /// Builds a valid stream from reply pieces, in one of several line-ending and spacing styles.
    fn build_stream(pieces: &[String], eol: &str, space: bool, comments: bool) -> String {
        let prefix = if space { "data: " } else { "data:" };
        let mut out = String::new();
        let mut line = |text: &str| {
            out.push_str(text);
            out.push_str(eol);
            out.push_str(eol);
        };
        if comments {
            line(": keep-alive");
        }
        line(&format!(
            "{prefix}{{\"model\":\"deepseek-v3.2\",\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}}}}],\"usage\":null}}"
        ));
        for piece in pieces {
            let text = serde_json::to_string(piece).unwrap();
            line(&format!(
                "{prefix}{{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{text}}},\"finish_reason\":null}}],\"usage\":null}}"
            ));
            if comments {
                line(":");
            }
        }
        line(&format!(
            "{prefix}{{\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}"
        ));
        line(&format!(
            "{prefix}{{\"choices\":[],\"usage\":{{\"prompt_tokens\":7,\"completion_tokens\":{},\"total_tokens\":{}}}}}",
            pieces.len(),
            pieces.len() + 7
        ));
        line(&format!("{prefix}[DONE]"));
        out
    }

    /// Cuts `text` at the given fractions, moved down to character boundaries.
    fn split_at(text: &str, cuts: &[usize]) -> Vec<String> {
        let mut points: Vec<usize> = cuts
            .iter()
            .map(|&c| {
                let mut at = c % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                at
            })
            .collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for point in points {
            pieces.push(text[start..point].to_string());
            start = point;
        }
        pieces.push(text[start..].to_string());
        pieces
    }

    fn stream_strategy() -> impl Strategy<Value = (Vec<String>, String)> {
        (
            prop::collection::vec("[a-z 你好，。\"\\\\\n😀é]{0,6}", 0..8),
            prop::sample::select(vec!["\n", "\r\n", "\r"]),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(pieces, eol, space, comments)| {
                let stream = build_stream(&pieces, eol, space, comments);
                (pieces, stream)
            })
    }

    proptest! {
        #[test]
        fn any_split_decodes_like_the_whole(
            (pieces, stream) in stream_strategy(),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
        ) {
            let (whole_events, whole) = decode(&[&stream]);
            let split = split_at(&stream, &cuts);
            let split: Vec<&str> = split.iter().map(String::as_str).collect();
            let (split_events, outcome) = decode(&split);
            prop_assert_eq!(&split_events, &whole_events);
            prop_assert_eq!(&outcome, &whole);
            let completion = whole.unwrap();
            prop_assert_eq!(&completion.content, &pieces.concat());
            prop_assert_eq!(&accumulate(&whole_events).usage, &completion.usage);
            prop_assert!(completion.usage.is_some_and(|u| !u.estimated));
        }

        #[test]
        fn a_cut_before_the_end_keeps_a_prefix(
            (pieces, stream) in stream_strategy(),
            cut in any::<usize>(),
        ) {
            let end = stream.find("\"finish_reason\":\"stop\"").unwrap();
            let at = split_at(&stream[..end], &[cut])[0].len();
            let (_, outcome) = decode(&[&stream[..at]]);
            let Err(ApiError::StreamCut { partial }) = outcome else {
                return Err(TestCaseError::fail(format!("{outcome:?}")));
            };
            prop_assert!(pieces.concat().starts_with(&partial.content));
            prop_assert!(partial.usage.unwrap().estimated);
        }
    }
}
