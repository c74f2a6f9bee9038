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
        if !map.contains_key(key) && map.len() >= self.max_keys {
            // evict the stalest tenth: rare, and bounded work per insert
            let mut ages: Vec<(u64, String)> =
                map.iter().map(|(k, b)| (b.at_ms, k.clone())).collect();
            ages.sort_unstable();
            for (_, k) in ages.into_iter().take(self.max_keys / 10 + 1) {
                map.remove(&k);
            }
        }
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
    /// Failed sign-ins per source address and per user name.
    pub sign_in_failures: RateLimiter,
}

impl RateLimits {
    pub fn new(r: &RateConfig) -> RateLimits {
        RateLimits {
            enroll_failures: RateLimiter::new(r.enroll_failures, 100_000),
            refusal_audits: RateLimiter::new(r.refusal_audits, 100_000),
            checkins: RateLimiter::new(r.checkins, 1_000_000),
            device_tickets: RateLimiter::new(r.device_tickets, 1_000_000),
            job_results: RateLimiter::new(r.job_results, 1_000_000),
            sign_in_failures: RateLimiter::new(r.sign_in_failures, 100_000),
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
}
