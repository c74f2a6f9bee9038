//! The key layout: every record and index of the store as one ordered key space.
//!
//! A key is a short ASCII prefix naming what it holds (`dev/`, `tk.open/`, …)
//! followed by components: strings end in a 0 byte (a 0 inside a string becomes
//! U+FFFD, so it cannot end a component early), numbers are 8 big-endian bytes, so
//! byte order is the order callers want (ids, then time). Index entries carry the
//! record's id (or a compact row) as their value, so nothing parses keys back.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `meta/` | name | JSON (policy, ticket settings, layout version) |
//! | `ctr/` | counter, shard | i64 (sum of the shards) |
//! | `dev/` | device id | device record |
//! | `dev.hw/` `dev.host/` `dev.serial/` `dev.owner/` | value, id | id |
//! | `dev.health/` `dev.plat/` | state, id | id |
//! | `dev.seen/` | last seen, id | id |
//! | `inv/` `hl/` | device id | latest inventory, latest health |
//! | `ev/` | device, time, seq | event |
//! | `ev.t/` | time, device, seq | event key (retention) |
//! | `as/`, `as.serial/` | asset id / serial | asset / id |
//! | `au/`, `au.actor/`, `au.target/` | seq / actor, seq / target, seq | entry / seq key |
//! | `tok/`, `tok.id/` | token hash / token id | token record / hash |
//! | `usr/`, `usr.name/` | user id / lowercase name | user / id |
//! | `usr.pw/` | user id | argon2id PHC string |
//! | `usr.reset/` | user id | pending one-time reset code (SHA-256) |
//! | `notice/` | time, random | security notice for admins (7 days) |
//! | `sess/` | SHA-256 hex of the session cookie | session |
//! | `et/`, `et.id/`, `rr/` | enroll token hash / id, hardware UUID | … |
//! | `tk/` | ticket id | ticket record |
//! | `tk.open/` `tk.last/` | device, problem key | ticket id (the dedup rule) |
//! | `tk.req/` | scope, request id | ticket id (idempotency) |
//! | `tk.created/` | created, id | compact report row |
//! | `tk.status/` `tk.dev/` `tk.asset/` `tk.prob/` `tk.asg/` | value, created, id | id |
//! | `tk.due/` | due, id | id (open tickets not yet noted as breached) |
//! | `tk.pbid/` `tk.pbdev/` | problem, created, id / problem, device | ticket id (problem links) |
//! | `pb.key/` `pb.list/` `pb.cand/` | key / created, id / key | newest problem of a key / list / filing guard |
//! | `seq/` | sequence name | end of the last leased block of numbers (sled) |
//! | `tl/` | ticket id, seq | timeline entry |
//! | `pb/`, `wh/`, `ob/`, `df/` | problems, webhooks, outbox, deflections |
//! | `kb/`, `kbw/` | knowledge-base articles, self-service withdrawals (time, seq) |
//! | `sc/`, `sc.name/` | script id, version / name | script / id |
//! | `jb/`, `jb.q/`, `jb.open/`, `jb.dev/` | jobs, queue, open, history |
//! | `bk/` | bulk actions |
//! | `rl/`, `rl.art/`, `rl.out/` | releases, artifact chunks, outcome claims |

/// A key under construction.
#[derive(Debug, Clone)]
pub struct Key(Vec<u8>);

impl Key {
    /// A key starting with `prefix` (e.g. `"dev/"`).
    pub fn new(prefix: &str) -> Key {
        let mut v = Vec::with_capacity(prefix.len() + 48);
        v.extend_from_slice(prefix.as_bytes());
        Key(v)
    }

    /// Appends a string component.
    pub fn s(mut self, s: &str) -> Key {
        if s.as_bytes().contains(&0) {
            self.0
                .extend_from_slice(s.replace('\0', "\u{fffd}").as_bytes());
        } else {
            self.0.extend_from_slice(s.as_bytes());
        }
        self.0.push(0);
        self
    }

    /// Appends a number component (big-endian: byte order is numeric order).
    pub fn n(mut self, n: u64) -> Key {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends raw bytes (hashes).
    pub fn raw(mut self, b: &[u8]) -> Key {
        self.0.extend_from_slice(b);
        self
    }

    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Shorthand: `prefix` + one string component.
pub fn k1(prefix: &str, a: &str) -> Vec<u8> {
    Key::new(prefix).s(a).build()
}

/// Shorthand: `prefix` + two string components.
pub fn k2(prefix: &str, a: &str, b: &str) -> Vec<u8> {
    Key::new(prefix).s(a).s(b).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_separation() {
        // numbers sort numerically, strings bytewise, components never run together
        assert!(Key::new("x/").n(2).build() < Key::new("x/").n(10).build());
        assert!(k2("x/", "a", "z") < k2("x/", "ab", "a"));
        let weird = k1("x/", "a\0b");
        assert!(!weird[2..weird.len() - 1].contains(&0));
        // prefixes of different record kinds never overlap
        let dev = super::super::kv::Range::prefix(b"dev/");
        assert!(!super::super::kv::Tx::in_range(&dev, &k1("dev.hw/", "a")));
    }
}
