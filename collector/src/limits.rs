//! In-memory rate limits: token buckets keyed by a source address or a device id,
//! answering how long to wait (the `Retry-After` of a 429). The key map is bounded:
//! past `max_keys` the least recently refilled buckets are dropped, so a flood of
//! made-up keys costs memory for at most that many.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One limit: `burst` requests at once, refilled at `per_s` per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub per_s: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// Token buckets for one kind of request.
#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(rate: Rate, max_keys: usize) -> RateLimiter {
        RateLimiter {
            rate,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now_ms`: `Ok` when allowed, else how long until
    /// one is available.
    pub fn check(&self, key: &str, now_ms: u64) -> Result<(), Duration> {
        let mut map = self.buckets.lock().expect("rate limiter lock poisoned");
        // evict the stalest tenth when full: rare, and bounded work per insert
        make_room(&mut map, key, self.max_keys, |b| b.at_ms);
        let b = map.entry(key.to_string()).or_insert(Bucket {
            tokens: self.rate.burst,
            at_ms: now_ms,
        });
        let elapsed_s = now_ms.saturating_sub(b.at_ms) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed_s * self.rate.per_s).min(self.rate.burst);
        b.at_ms = b.at_ms.max(now_ms);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait_s = (1.0 - b.tokens) / self.rate.per_s.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait_s.clamp(0.001, 86_400.0)))
        }
    }

    /// Whether `key` has a token at `now_ms`, without taking it (a key never seen
    /// has a full bucket): `Err` with the wait when it has none.
    pub fn peek(&self, key: &str, now_ms: u64) -> Result<(), Duration> {
        let map = self.buckets.lock().expect("rate limiter lock poisoned");
        let Some(b) = map.get(key) else {
            return Ok(());
        };
        let elapsed_s = now_ms.saturating_sub(b.at_ms) as f64 / 1000.0;
        let tokens = (b.tokens + elapsed_s * self.rate.per_s).min(self.rate.burst);
        if tokens >= 1.0 {
            Ok(())
        } else {
            let wait_s = (1.0 - tokens) / self.rate.per_s.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait_s.clamp(0.001, 86_400.0)))
        }
    }

    /// Keys currently tracked.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .expect("rate limiter lock poisoned")
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The collector's limits, one limiter per kind.
#[derive(Debug)]
pub struct RateLimits {
    /// Failed enrollments per source address.
    pub enroll_failures: RateLimiter,
    /// Refused requests (401) audited per source address; beyond it they are counted.
    pub refusal_audits: RateLimiter,
    /// Check-ins per device.
    pub checkins: RateLimiter,
    /// Ticket filings per device.
    pub device_tickets: RateLimiter,
    /// Job results per device.
    pub job_results: RateLimiter,
    /// Tickets an employee files through `tend help`, per device: a budget of their
    /// own, so the person at a laptop never uses up its automatic tickets' allowance.
    pub user_tickets: RateLimiter,
    /// Failed sign-ins per (name, source address): five, then one every two minutes.
    pub sign_in_failures: RateLimiter,
    /// Failed sign-ins per source address, whatever the name.
    pub sign_in_sources: RateLimiter,
    /// Failed sign-ins per name from anywhere: slowed down, never locked, so nobody
    /// locks the owner out by guessing.
    pub sign_in_names: Slowdown,
    /// Enrollments per source address (each makes a device record).
    pub enrollments: RateLimiter,
    /// Repeated refusals collapsed into one audit entry per key and minute.
    pub refusal_collapse: Collapse,
}

impl RateLimits {
    pub fn new(r: &RateConfig) -> RateLimits {
        RateLimits {
            enroll_failures: RateLimiter::new(r.enroll_failures, 100_000),
            refusal_audits: RateLimiter::new(r.refusal_audits, 100_000),
            checkins: RateLimiter::new(r.checkins, 1_000_000),
            device_tickets: RateLimiter::new(r.device_tickets, 1_000_000),
            job_results: RateLimiter::new(r.job_results, 1_000_000),
            user_tickets: RateLimiter::new(r.device_tickets, 1_000_000),
            sign_in_failures: RateLimiter::new(r.sign_in_failures, 100_000),
            sign_in_sources: RateLimiter::new(r.sign_in_sources, 100_000),
            sign_in_names: Slowdown::new(100_000),
            enrollments: RateLimiter::new(r.enrollments, 100_000),
            refusal_collapse: Collapse::new(100_000),
        }
    }
}

/// The rates, tunable per collector (tests tighten them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateConfig {
    pub enroll_failures: Rate,
    pub refusal_audits: Rate,
    pub checkins: Rate,
    pub device_tickets: Rate,
    pub job_results: Rate,
    pub sign_in_failures: Rate,
    pub sign_in_sources: Rate,
    pub enrollments: Rate,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            // 10 wrong secrets, then one a minute per address
            enroll_failures: Rate {
                burst: 10.0,
                per_s: 1.0 / 60.0,
            },
            refusal_audits: Rate {
                burst: 20.0,
                per_s: 1.0 / 30.0,
            },
            // a healthy agent checks in every minute and on state changes
            checkins: Rate {
                burst: 30.0,
                per_s: 1.0,
            },
            device_tickets: Rate {
                burst: 20.0,
                per_s: 1.0 / 30.0,
            },
            job_results: Rate {
                burst: 60.0,
                per_s: 2.0,
            },
            // 5 wrong passwords, then one every 2 minutes per address and per name
            sign_in_failures: Rate {
                burst: 5.0,
                per_s: 1.0 / 120.0,
            },
            sign_in_sources: Rate {
                burst: 30.0,
                per_s: 1.0 / 20.0,
            },
            enrollments: Rate {
                burst: 200.0,
                per_s: 2.0,
            },
        }
    }
}

/// Evicts the oldest tenth of `map` when it is full and `key` is new.
fn make_room<V>(map: &mut HashMap<String, V>, key: &str, max: usize, at: impl Fn(&V) -> u64) {
    if map.contains_key(key) || map.len() < max {
        return;
    }
    let mut ages: Vec<(u64, String)> = map.iter().map(|(k, v)| (at(v), k.clone())).collect();
    ages.sort_unstable();
    for (_, k) in ages.into_iter().take(max / 10 + 1) {
        map.remove(&k);
    }
}

/// Failures per key that slow the next attempt down instead of refusing it: past
/// [`Slowdown::FREE`] recent failures each attempt waits twice as long as the last
/// (250 ms up to [`Slowdown::MAX_DELAY`]); one failure is forgiven a minute.
#[derive(Debug)]
pub struct Slowdown {
    max_keys: usize,
    failures: Mutex<HashMap<String, (f64, u64)>>,
}

impl Slowdown {
    pub const FREE: f64 = 5.0;
    pub const MAX_DELAY: Duration = Duration::from_secs(4);

    pub fn new(max_keys: usize) -> Slowdown {
        Slowdown {
            max_keys: max_keys.max(1),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn decayed(entry: (f64, u64), now_ms: u64) -> f64 {
        (entry.0 - now_ms.saturating_sub(entry.1) as f64 / 60_000.0).max(0.0)
    }

    /// Counts a failure for `key`.
    pub fn fail(&self, key: &str, now_ms: u64) {
        let mut map = self.failures.lock().expect("slowdown lock poisoned");
        make_room(&mut map, key, self.max_keys, |v| v.1);
        let e = map.entry(key.to_string()).or_insert((0.0, now_ms));
        *e = (Self::decayed(*e, now_ms) + 1.0, now_ms.max(e.1));
    }

    /// How long an attempt for `key` waits now.
    pub fn delay(&self, key: &str, now_ms: u64) -> Duration {
        let map = self.failures.lock().expect("slowdown lock poisoned");
        let n = map.get(key).map_or(0.0, |e| Self::decayed(*e, now_ms));
        if n <= Self::FREE {
            return Duration::ZERO;
        }
        let steps = (n - Self::FREE).ceil().min(8.0) as u32;
        (Duration::from_millis(250) * 2u32.pow(steps - 1)).min(Self::MAX_DELAY)
    }
}

/// Repeated refusals of one kind from one source become one audit entry a window
/// with the count of those left out: `note` says whether to write an entry now, and
/// how many were left out since the last one.
#[derive(Debug)]
pub struct Collapse {
    max_keys: usize,
    seen: Mutex<HashMap<String, (u64, u64)>>,
}

impl Collapse {
    pub const WINDOW_MS: u64 = 60_000;

    pub fn new(max_keys: usize) -> Collapse {
        Collapse {
            max_keys: max_keys.max(1),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(left_out)` when an entry is due for `key` (none in the last window),
    /// `None` when this one is counted and left out.
    pub fn note(&self, key: &str, now_ms: u64) -> Option<u64> {
        let mut map = self.seen.lock().expect("collapse lock poisoned");
        make_room(&mut map, key, self.max_keys, |v| v.0);
        match map.get_mut(key) {
            Some((written, left_out)) if now_ms.saturating_sub(*written) < Self::WINDOW_MS => {
                *left_out += 1;
                None
            }
            Some((written, left_out)) => {
                let n = *left_out;
                *written = now_ms;
                *left_out = 0;
                Some(n)
            }
            None => {
                map.insert(key.to_string(), (now_ms, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_and_say_how_long_to_wait() {
        let l = RateLimiter::new(
            Rate {
                burst: 2.0,
                per_s: 1.0,
            },
            10,
        );
        assert!(l.check("a", 0).is_ok());
        assert!(l.check("a", 0).is_ok());
        let wait = l.check("a", 0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert!(l.check("b", 0).is_ok(), "keys are separate");
        assert!(l.check("a", 1_000).is_ok(), "refilled after a second");
    }

    #[test]
    fn the_key_map_stays_bounded() {
        let l = RateLimiter::new(
            Rate {
                burst: 1.0,
                per_s: 1.0,
            },
            100,
        );
        for i in 0..10_000u64 {
            let _ = l.check(&format!("k{i}"), i);
        }
        assert!(l.len() <= 100);
    }

    #[test]
    fn slowdown_grows_and_forgives_and_collapse_counts() {
        let s = Slowdown::new(10);
        for _ in 0..5 {
            s.fail("name:admin", 0);
        }
        assert_eq!(s.delay("name:admin", 0), Duration::ZERO);
        s.fail("name:admin", 0);
        assert_eq!(s.delay("name:admin", 0), Duration::from_millis(250));
        s.fail("name:admin", 0);
        assert_eq!(s.delay("name:admin", 0), Duration::from_millis(500));
        for _ in 0..20 {
            s.fail("name:admin", 0);
        }
        assert_eq!(s.delay("name:admin", 0), Slowdown::MAX_DELAY);
        // a minute forgives one failure; half an hour all of them
        assert_eq!(s.delay("name:admin", 30 * 60_000), Duration::ZERO);

        let c = Collapse::new(10);
        assert_eq!(c.note("k", 0), Some(0));
        assert_eq!(c.note("k", 1_000), None);
        assert_eq!(c.note("k", 2_000), None);
        assert_eq!(c.note("k", 61_000), Some(2));
        assert_eq!(c.note("other", 61_000), Some(0));
    }
}
