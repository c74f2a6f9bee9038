//! tend-agent: inventory and health probes, policy-driven checks, enrollment, and the
//! check-in loop with its offline spool.
//!
//! `platform` runs commands and reads files; `parse` turns their output into data and
//! is pure; `inventory` and `checks` build reports; `daemon` ships them through
//! `transport`, spooling to disk while the collector is unreachable.

pub mod checks;
pub mod config;
pub mod daemon;
pub mod enroll;
pub mod identity;
pub mod inventory;
pub mod jobs;
pub mod local;
pub mod notify;
pub mod parse;
pub mod platform;
pub mod remediate;
pub mod report;
pub mod results;
pub mod spool;
pub mod state;
pub mod update;
pub mod watch;

/// The pinned-CA HTTPS client, shared with `tendctl` (crate `tend-client`).
pub use tend_client as transport;

/// This agent's version: the crate version, unless the build sets
/// `TEND_AGENT_VERSION` (release pipelines stamp builds; the update tests build a
/// second version from the same source this way).
pub const VERSION: &str = match option_env!("TEND_AGENT_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};
