//! The server's shared state.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::SandboxConfig;
use crate::limits::RateLimiter;
use crate::rng::SplitMix64;
use crate::stats::Stats;
use crate::video::VideoJobs;

/// A cheap, cloneable handle on the sandbox's state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The only API key accepted.
    key: String,
    /// Everything that changes while serving.
    shared: Mutex<Shared>,
}

/// Mutable state, behind one mutex that is never held across an `.await`.
pub(crate) struct Shared {
    /// The fault and limit configuration in force.
    pub config: SandboxConfig,
    /// The fault generator, seeded from `config.seed`.
    pub fault_rng: SplitMix64,
    /// Request and token buckets.
    pub limiter: RateLimiter,
    /// Traffic and billing statistics.
    pub stats: Stats,
    /// Hashes of system prompts already answered, for the prefix cache.
    pub prefix_cache: HashSet<u64>,
    /// Chat completions answered so far, used to make ids unique.
    pub completions: u64,
    /// Video jobs of both API shapes.
    pub videos: VideoJobs,
}

impl Shared {
    fn new(config: SandboxConfig) -> Self {
        Self {
            fault_rng: SplitMix64::new(config.seed),
            limiter: RateLimiter::new(config.rpm, config.tpm),
            config,
            stats: Stats::default(),
            prefix_cache: HashSet::new(),
            completions: 0,
            videos: VideoJobs::default(),
        }
    }
}

impl AppState {
    /// Creates the state for a server accepting `key`, with `config` in force.
    pub fn new(key: impl Into<String>, config: SandboxConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                key: key.into(),
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

    /// The accepted API key.
    pub(crate) fn key(&self) -> &str {
        &self.inner.key
    }

    /// Returns true when `provided` is the accepted key. The comparison takes
    /// the same time wherever the first difference is.
    pub(crate) fn key_matches(&self, provided: &str) -> bool {
        let expected = self.inner.key.as_bytes();
        let provided = provided.as_bytes();
        if expected.len() != provided.len() {
            return false;
        }
        expected
            .iter()
            .zip(provided)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }

    /// The configuration in force.
    pub fn config(&self) -> SandboxConfig {
        self.lock().config.clone()
    }

    /// Replaces the configuration. The fault generator is reseeded and the
    /// rate-limit buckets start full under the new limits.
    pub fn set_config(&self, config: SandboxConfig) {
        let mut shared = self.lock();
        shared.fault_rng = SplitMix64::new(config.seed);
        shared.limiter = RateLimiter::new(config.rpm, config.tpm);
        shared.config = config;
    }

    /// A copy of the statistics, with the video jobs counted as they stand now.
    pub fn stats(&self) -> Stats {
        let shared = self.lock();
        let mut stats = shared.stats.clone();
        stats.video = shared.videos.stats(tokio::time::Instant::now());
        stats
    }

    /// Zeroes the statistics and empties the prefix cache, the rate-limit
    /// buckets and the video jobs. The configuration stays, and the fault generator restarts
    /// from its seed so a run after a reset sees the same fault sequence.
    pub fn reset(&self) {
        let mut shared = self.lock();
        let config = shared.config.clone();
        *shared = Shared::new(config);
    }
}
