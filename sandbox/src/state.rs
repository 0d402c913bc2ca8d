//! The server's shared state.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::billing::BillingMode;
use crate::config::{FaultRng, SandboxConfig};
use crate::limits::RateLimiter;
use crate::rng::SplitMix64;
use crate::stats::Stats;
use crate::video::VideoJobs;

/// What is fixed for the life of a server: its keys, its control token and
/// its billing mode.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// The API keys accepted (at least one).
    pub keys: Vec<String>,
    /// The token the `/_sandbox/*` control routes require in the
    /// `x-sandbox-control` header.
    pub control_token: String,
    /// How chat requests are billed.
    pub billing: BillingMode,
}

impl ServerSettings {
    /// One key, a random control token ([`random_token`]) and `complete` billing.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            keys: vec![key.into()],
            control_token: random_token(),
            billing: BillingMode::Complete,
        }
    }
}

/// A fresh random token of 32 hexadecimal digits. The randomness comes from
/// the standard library's per-process random hash keys (seeded by the
/// operating system), mixed with the time and the process id.
pub fn random_token() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut words = [0u64; 2];
    for (index, word) in words.iter_mut().enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(now);
        hasher.write_u32(std::process::id());
        hasher.write_usize(index);
        // One more round of mixing, so the two words share no structure.
        *word = SplitMix64::new(hasher.finish()).next_u64();
    }
    format!("{:016x}{:016x}", words[0], words[1])
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(expected: &[u8], provided: &[u8]) -> bool {
    if expected.len() != provided.len() {
        return false;
    }
    expected
        .iter()
        .zip(provided)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// The most prefix hashes a [`PrefixCache`] remembers.
pub const PREFIX_CACHE_CAPACITY: usize = 100_000;

/// A set of prompt-prefix hashes that forgets its oldest entry once it holds
/// [`PREFIX_CACHE_CAPACITY`] of them. Each hash can be read from the moment
/// the response of the request that wrote it began, as at the providers: a
/// request sent while the first is still being processed misses (Anthropic:
/// "a cache entry only becomes available after the first response begins").
#[derive(Clone, Debug, Default)]
pub(crate) struct PrefixCache {
    ready_at: HashMap<u64, Instant>,
    order: VecDeque<u64>,
}

impl PrefixCache {
    /// Whether `hash` can be read at `now`.
    pub fn contains(&self, hash: u64, now: Instant) -> bool {
        self.ready_at.get(&hash).is_some_and(|ready| *ready <= now)
    }

    /// Remembers `hash`, readable from `ready` (a hash already remembered
    /// keeps its age and the earlier time), evicting the oldest hash when the
    /// cache is full.
    pub fn insert(&mut self, hash: u64, ready: Instant) {
        if let Some(known) = self.ready_at.get_mut(&hash) {
            *known = (*known).min(ready);
            return;
        }
        self.ready_at.insert(hash, ready);
        self.order.push_back(hash);
        if self.order.len() > PREFIX_CACHE_CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.ready_at.remove(&oldest);
            }
        }
    }

    /// How many hashes are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.order.len()
    }
}

/// A cheap, cloneable handle on the sandbox's state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Keys, control token and billing mode.
    settings: ServerSettings,
    /// Everything that changes while serving.
    shared: Mutex<Shared>,
}

/// Mutable state, behind one mutex that is never held across an `.await`.
pub(crate) struct Shared {
    /// The fault and limit configuration in force.
    pub config: SandboxConfig,
    /// The fault generator, seeded from `config.seed`.
    pub fault_rng: FaultRng,
    /// Request and token buckets.
    pub limiter: RateLimiter,
    /// Traffic and billing statistics.
    pub stats: Stats,
    /// Hashes (with the model) of the chat completion prompt prefixes at
    /// each cache boundary of the prompts that reached generation (see
    /// [`crate::chat`]).
    pub prefix_cache: PrefixCache,
    /// Hashes of Messages prompt prefixes written at a `cache_control`
    /// breakpoint (see [`crate::messages`]); apart from `prefix_cache`.
    pub message_cache: PrefixCache,
    /// Chat completions answered so far, used to make ids unique.
    pub completions: u64,
    /// Messages requests answered so far, used to make ids unique.
    pub messages_answered: u64,
    /// Video jobs of both API shapes.
    pub videos: VideoJobs,
    /// Counts the resets: a bill opened before a reset does not write into
    /// the statistics after it.
    pub epoch: u64,
}

impl Shared {
    fn new(config: SandboxConfig) -> Self {
        Self {
            fault_rng: FaultRng::new(config.seed),
            limiter: RateLimiter::new(config.rpm, config.tpm),
            config,
            stats: Stats::default(),
            prefix_cache: PrefixCache::default(),
            message_cache: PrefixCache::default(),
            completions: 0,
            messages_answered: 0,
            videos: VideoJobs::default(),
            epoch: 0,
        }
    }
}

impl AppState {
    /// Creates the state for a server accepting `key`, with `config` in force,
    /// `complete` billing and a random control token ([`Self::control_token`]).
    pub fn new(key: impl Into<String>, config: SandboxConfig) -> Self {
        Self::with_settings(ServerSettings::new(key), config)
    }

    /// Creates the state for a server with these settings and `config` in force.
    ///
    /// # Panics
    ///
    /// When `settings.keys` is empty.
    pub fn with_settings(settings: ServerSettings, config: SandboxConfig) -> Self {
        assert!(!settings.keys.is_empty(), "the sandbox needs a key");
        Self {
            inner: Arc::new(Inner {
                settings,
                shared: Mutex::new(Shared::new(config)),
            }),
        }
    }

    /// Locks the mutable state. A poisoned lock is recovered: every update
    /// leaves the state consistent, so a panic elsewhere cannot corrupt it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the accepted key equal to `provided`, if any. Every key is
    /// compared, each in time that does not depend on where the first
    /// difference is.
    pub(crate) fn key_matches(&self, provided: &str) -> Option<&str> {
        let mut found = None;
        for key in &self.inner.settings.keys {
            if constant_time_eq(key.as_bytes(), provided.as_bytes()) && found.is_none() {
                found = Some(key.as_str());
            }
        }
        found
    }

    /// Returns true when `provided` is the control token (compared like a key).
    pub(crate) fn control_token_matches(&self, provided: &[u8]) -> bool {
        constant_time_eq(self.inner.settings.control_token.as_bytes(), provided)
    }

    /// The token the control routes require in `x-sandbox-control`.
    pub fn control_token(&self) -> &str {
        &self.inner.settings.control_token
    }

    /// The billing mode, fixed for the life of the server.
    pub fn billing(&self) -> BillingMode {
        self.inner.settings.billing
    }

    /// The configuration in force.
    pub fn config(&self) -> SandboxConfig {
        self.lock().config.clone()
    }

    /// Replaces the configuration. The fault generator is reseeded and the
    /// rate-limit buckets start full under the new limits.
    pub fn set_config(&self, config: SandboxConfig) {
        let mut shared = self.lock();
        shared.fault_rng = FaultRng::new(config.seed);
        shared.limiter = RateLimiter::new(config.rpm, config.tpm);
        shared.config = config;
    }

    /// A copy of the statistics, with the video jobs counted as they stand now.
    pub fn stats(&self) -> Stats {
        let shared = self.lock();
        let mut stats = shared.stats.clone();
        stats.billing = self.billing();
        stats.video = shared.videos.stats(tokio::time::Instant::now());
        stats
    }

    /// Zeroes the statistics and empties the prefix caches, the rate-limit
    /// buckets and the video jobs. The configuration stays, and the fault generator restarts
    /// from its seed so a run after a reset sees the same fault sequence. Replies still
    /// being generated bill nothing more.
    pub fn reset(&self) {
        let mut shared = self.lock();
        let config = shared.config.clone();
        let epoch = shared.epoch + 1;
        *shared = Shared::new(config);
        shared.epoch = epoch;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_32_hex_digits_and_differ() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_prefix_cache_forgets_its_oldest_hash_when_full() {
        let mut cache = PrefixCache::default();
        let now = Instant::now();
        for hash in 0..PREFIX_CACHE_CAPACITY as u64 {
            cache.insert(hash, now);
        }
        cache.insert(0, now); // already there: it keeps its age
        assert_eq!(cache.len(), PREFIX_CACHE_CAPACITY);
        cache.insert(u64::MAX, now);
        assert_eq!(cache.len(), PREFIX_CACHE_CAPACITY);
        assert!(!cache.contains(0, now));
        assert!(cache.contains(1, now) && cache.contains(u64::MAX, now));
    }

    #[test]
    fn a_prefix_is_read_only_once_its_writer_s_response_has_begun() {
        let mut cache = PrefixCache::default();
        let now = Instant::now();
        let begins = now + std::time::Duration::from_millis(300);
        cache.insert(7, begins);
        assert!(
            !cache.contains(7, now),
            "read while the writer is still processing"
        );
        assert!(cache.contains(7, begins));
        // A second writer whose response begins earlier makes it readable earlier, never later.
        cache.insert(7, now + std::time::Duration::from_millis(100));
        assert!(cache.contains(7, now + std::time::Duration::from_millis(100)));
        cache.insert(7, begins + std::time::Duration::from_secs(5));
        assert!(cache.contains(7, begins));
    }

    #[test]
    fn keys_and_tokens_are_matched_exactly() {
        let settings = ServerSettings {
            keys: vec!["sk-one".into(), "sk-two".into()],
            control_token: "secret".into(),
            billing: BillingMode::Real,
        };
        let state = AppState::with_settings(settings, SandboxConfig::default());
        assert_eq!(state.key_matches("sk-two"), Some("sk-two"));
        assert_eq!(state.key_matches("sk-tw"), None);
        assert_eq!(state.key_matches(""), None);
        assert!(state.control_token_matches(b"secret"));
        assert!(!state.control_token_matches(b"secreT"));
        assert!(!state.control_token_matches(b"secret "));
        assert_eq!(state.billing(), BillingMode::Real);
        assert_eq!(state.stats().billing, BillingMode::Real);
    }
}
