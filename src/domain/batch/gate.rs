//! A connection's gate: one ceiling for every call made through a connection, whichever panel
//! or runner makes it.
//!
//! Each [`Batch`](super::Batch) paces its own lanes, which is enough for one run. Two runs on
//! one connection at once (a storyboard and a clips run, a batch and the Playground) would each
//! pace themselves to the connection's rpm and together send twice as much. The page therefore
//! keeps one [`ConnectionGate`] per connection and asks it, as an [`Admission`], before each
//! request leaves: the gate's limiter holds the rpm and tpm windows of every request on the
//! connection, and its count of requests in flight the concurrency.
//!
//! The gate is the page's, not the batch's: it is not stored. After a reload each batch's own
//! lanes still honour the windows of what they sent before (they are stored with the batch).
//!
//! Every time is a Unix time in milliseconds supplied by the caller.

use std::collections::VecDeque;

use super::limiter::{LaneLimiter, LimiterConfig, Limits};

/// How long a caller first in line keeps its turn once the gate has room and someone else
/// asks: callers wake when the gate said it would have room, so a live one asks well within
/// this; one that no longer asks (paused, finished) loses its place after it.
pub const TURN_HOLD_MS: f64 = 250.0;

/// What a dispatcher asks before a request leaves: may a request charged `tokens` (estimated
/// input plus `max_tokens`; 0 for a video submit or poll) leave now — and if so it is counted —
/// and if not, when to ask again.
pub trait Admission {
    /// Admits a request charged `tokens` at `now_ms` if it may leave now, counting it in the
    /// windows and as in flight (until [`ConnectionGate::release`]); false when it may not.
    fn try_admit(&mut self, now_ms: f64, tokens: u64) -> bool;
    /// When to ask again for a request charged `tokens` (at or before `now_ms`: now), or
    /// `None` when only a request in flight ending can let it go (the concurrency is full).
    fn ready_at(&self, now_ms: f64, tokens: u64) -> Option<f64>;
}

/// No ceiling beyond the batch's own lanes (a batch driven alone, as in the domain's tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unlimited;

impl Admission for Unlimited {
    fn try_admit(&mut self, _now_ms: f64, _tokens: u64) -> bool {
        true
    }

    fn ready_at(&self, now_ms: f64, _tokens: u64) -> Option<f64> {
        Some(now_ms)
    }
}

/// A caller refused by the gate, waiting for its turn.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Want {
    caller: u64,
    /// When the gate first had room while this caller was first in line and another asked.
    passed_over_ms: Option<f64>,
}

/// The gate of one connection: its rpm, tpm and concurrency over every call made on it, and
/// the turns of the callers it refused (first refused, first served), so that two runs on one
/// connection share it rather than the first to wake taking every place.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionGate {
    limiter: LaneLimiter,
    config: LimiterConfig,
    in_flight: u32,
    line: VecDeque<Want>,
}

impl ConnectionGate {
    /// A gate with `limits`, nothing sent, nothing in flight.
    pub fn new(limits: Limits) -> ConnectionGate {
        ConnectionGate {
            limiter: LaneLimiter::new(limits),
            config: LimiterConfig::default(),
            in_flight: 0,
            line: VecDeque::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limiter.limits
    }

    /// Replaces the limits (the user changed them in Settings). What was sent still counts in
    /// the windows, and the requests in flight stay in flight.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limiter.limits = limits;
    }

    /// Requests admitted and not yet released.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// A request admitted before has ended (answered, failed or abandoned).
    pub fn release(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Holds every request on the connection until `until_ms` (a 429's `retry-after` seen by
    /// one of its runs holds the others too).
    pub fn pause_until(&mut self, until_ms: f64) {
        self.limiter.pause_until(until_ms);
    }

    /// Requests admitted within `window_ms` before `now_ms` (for tests and the page's view).
    pub fn sent_within(&self, now_ms: f64, window_ms: f64) -> usize {
        self.limiter.sent_within(now_ms, window_ms)
    }

    /// The gate as seen by `caller` (any id unique among the callers of this gate).
    pub fn turn(&mut self, caller: u64) -> Turn<'_> {
        Turn { gate: self, caller }
    }

    /// `caller` no longer asks (its run ended or closed): it leaves the line.
    pub fn forget(&mut self, caller: u64) {
        self.line.retain(|want| want.caller != caller);
    }

    fn has_room(&self, now_ms: f64, tokens: u64) -> bool {
        !self.concurrency_full() && self.limiter.can_send(now_ms, tokens, &self.config)
    }

    fn concurrency_full(&self) -> bool {
        self.in_flight >= self.limiter.max_concurrency()
    }

    fn join_line(&mut self, caller: u64) {
        if !self.line.iter().any(|want| want.caller == caller) {
            self.line.push_back(Want {
                caller,
                passed_over_ms: None,
            });
        }
    }

    /// Whether `caller` may take a place the gate has at `now_ms`: the line is empty, it is
    /// first, or the first has not asked within [`TURN_HOLD_MS`] of being passed over (it is
    /// then dropped from the line).
    fn my_turn(&mut self, caller: u64, now_ms: f64) -> bool {
        while let Some(first) = self.line.front_mut() {
            if first.caller == caller {
                return true;
            }
            match first.passed_over_ms {
                None => {
                    first.passed_over_ms = Some(now_ms);
                    return false;
                }
                Some(at) if now_ms - at < TURN_HOLD_MS => return false,
                Some(_) => {
                    self.line.pop_front();
                }
            }
        }
        true
    }
}

/// A [`ConnectionGate`] as one caller sees it ([`ConnectionGate::turn`]): the [`Admission`] a
/// batch dispatches through.
pub struct Turn<'a> {
    gate: &'a mut ConnectionGate,
    caller: u64,
}

impl Admission for Turn<'_> {
    fn try_admit(&mut self, now_ms: f64, tokens: u64) -> bool {
        let gate = &mut *self.gate;
        if !gate.has_room(now_ms, tokens) || !gate.my_turn(self.caller, now_ms) {
            gate.join_line(self.caller);
            return false;
        }
        gate.forget(self.caller);
        gate.limiter.record_send(now_ms, tokens, &gate.config);
        gate.in_flight += 1;
        true
    }

    fn ready_at(&self, now_ms: f64, tokens: u64) -> Option<f64> {
        let gate = &*self.gate;
        if gate.concurrency_full() {
            return None;
        }
        let open = gate.limiter.ready_at(now_ms, tokens, &gate.config);
        Some(match gate.line.front() {
            // Another caller's turn: ask again when its hold has passed (by then it has taken
            // the place, or lost its turn).
            Some(first) if first.caller != self.caller => {
                let passed_over = first.passed_over_ms.unwrap_or(open.max(now_ms));
                open.max(passed_over + TURN_HOLD_MS)
            }
            _ => open,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::batch::limiter::{MINUTE_MS, SECOND_MS};

    #[test]
    fn callers_share_the_rate_and_take_turns() {
        // 120 rpm: two per second at most, one emission interval of 500 ms.
        let mut gate = ConnectionGate::new(Limits::rpm(120));
        let mut sent: Vec<(f64, u64)> = Vec::new();
        let mut now = 0.0;
        // Two callers asking in the same order every 10 ms for 10 s; each request ends at once.
        while now < 10_000.0 {
            for caller in [1, 2] {
                if gate.turn(caller).try_admit(now, 0) {
                    gate.release();
                    sent.push((now, caller));
                }
            }
            now += 10.0;
        }
        for (i, &(t, _)) in sent.iter().enumerate() {
            let in_second = sent[i..]
                .iter()
                .take_while(|&&(u, _)| u < t + SECOND_MS)
                .count();
            assert!(
                in_second <= 2,
                "{in_second} requests in the second from {t}"
            );
        }
        // 10 s at 2 per second, plus the half-second burst's one extra request.
        assert!((19..=21).contains(&sent.len()), "{} sent", sent.len());
        // The second caller is never starved by the first asking first: they alternate.
        let second = sent.iter().filter(|(_, c)| *c == 2).count();
        assert!(
            second * 2 + 2 >= sent.len(),
            "caller 2 sent {second} of {}",
            sent.len()
        );
    }

    #[test]
    fn a_caller_that_stops_asking_loses_its_turn() {
        let mut gate = ConnectionGate::new(Limits::rpm(60));
        assert!(gate.turn(1).try_admit(0.0, 0));
        gate.release();
        // Caller 2 is refused (the rate), joins the line, and then never asks again.
        assert!(!gate.turn(2).try_admit(10.0, 0));
        let open = gate.turn(1).ready_at(10.0, 0).unwrap();
        // At the next opening caller 1 is passed over for 2, then gets the place after the hold.
        assert!(!gate.turn(1).try_admit(open, 0));
        assert!(gate.turn(1).ready_at(open, 0).unwrap() >= open + TURN_HOLD_MS);
        assert!(gate.turn(1).try_admit(open + TURN_HOLD_MS, 0));
        // A caller that says it is gone leaves the line at once.
        gate.release();
        assert!(!gate.turn(3).try_admit(open + TURN_HOLD_MS + 1.0, 0));
        gate.forget(3);
        let next = gate.turn(1).ready_at(open + 2_000.0, 0).unwrap();
        assert!(gate.turn(1).try_admit(next, 0));
    }

    #[test]
    fn concurrency_waits_for_a_release_not_a_time() {
        let mut gate = ConnectionGate::new(Limits {
            rpm: None,
            tpm: None,
            max_concurrency: 2,
        });
        assert!(gate.turn(1).try_admit(0.0, 0));
        assert!(gate.turn(1).try_admit(0.0, 0));
        assert!(!gate.turn(2).try_admit(0.0, 0));
        assert_eq!(gate.turn(2).ready_at(5_000.0, 0), None);
        gate.release();
        // The place that came back is caller 2's, who waited.
        assert!(!gate.turn(1).try_admit(1.0, 0));
        assert!(gate.turn(2).try_admit(2.0, 0));
        assert_eq!(gate.in_flight(), 2);
    }

    #[test]
    fn tokens_per_minute_hold_and_a_pause_holds_everyone() {
        let mut gate = ConnectionGate::new(Limits {
            rpm: None,
            tpm: Some(6_000),
            max_concurrency: 8,
        });
        // 6,000 tpm is 100 tokens per second: a 100-token request fits now, the next later.
        assert!(gate.turn(1).try_admit(0.0, 100));
        gate.release();
        let next = gate.turn(1).ready_at(0.0, 100).unwrap();
        assert!(next >= 500.0, "next at {next}");
        // Within a minute at most 6,000 tokens, however often the callers ask.
        let mut now = 0.0;
        let mut tokens = 100;
        while now < MINUTE_MS {
            for caller in [1, 2] {
                if gate.turn(caller).try_admit(now, 100) {
                    gate.release();
                    tokens += 100;
                }
            }
            now += 5.0;
        }
        assert!(tokens <= 6_000 + 100, "{tokens} tokens in a minute");
        gate.pause_until(MINUTE_MS + 30_000.0);
        assert!(!gate.turn(1).try_admit(MINUTE_MS + 10_000.0, 1));
        let after = gate.turn(1).ready_at(MINUTE_MS + 10_000.0, 1).unwrap();
        assert!(after >= MINUTE_MS + 30_000.0, "ready at {after}");
    }

    #[test]
    fn new_limits_keep_what_was_sent() {
        let mut gate = ConnectionGate::new(Limits::rpm(600));
        for i in 0..5 {
            assert!(gate.turn(1).try_admit(f64::from(i), 0));
            gate.release();
        }
        gate.set_limits(Limits::rpm(60));
        assert_eq!(gate.limits().rpm, Some(60));
        assert_eq!(gate.sent_within(10.0, SECOND_MS), 5);
        assert!(
            !gate.turn(1).try_admit(10.0, 0),
            "60 rpm's second is already spent"
        );
    }

    #[test]
    fn unlimited_admits_everything() {
        let mut open = Unlimited;
        assert!(open.try_admit(0.0, u64::MAX));
        assert_eq!(open.ready_at(3.0, 1), Some(3.0));
    }
}
