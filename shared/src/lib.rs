//! tend-shared: the v1 wire protocol between tend-agent, tend-collector and tendctl.
//!
//! Every `Serialize` here is a compatibility promise to agents already in the field:
//! unknown fields are ignored on input, new fields get `#[serde(default)]`, and the
//! JSON shape is pinned by the round-trip tests in `tests` below each module and in
//! `shared/tests/wire.rs`. Only this crate defines wire types.

pub mod api;
pub mod assets;
pub mod bundle;
pub mod checkin;
pub mod console;
pub mod devices;
pub mod diagnostics;
pub mod enroll;
pub mod health;
pub mod inventory;
pub mod jobs;
pub mod kb;
pub mod local;
pub mod policy;
pub mod releases;
pub mod reports;
pub mod signing;
pub mod tickets;

/// Current protocol version spoken by this build (path prefix `/api/v1`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Milliseconds since the Unix epoch, the time unit used on the wire.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
