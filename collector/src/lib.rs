//! tend-collector: enrollment, check-in ingest, tickets, jobs, releases, assets, audit
//! and the analyst API, on an embedded sled store (or PostgreSQL) behind HTTPS.
//!
//! One folder per feature (`accounts`, `assets`, `checkin`, `devices`, `enroll`,
//! `fleet`, `jobs`, `kb`, `policy`, `releases`, `tickets`, `users`, `webhooks`, …), each
//! holding its routes, its logic and its store records; `http` is the router and
//! middleware above them, `store` the engine and unit of work below them. Uses point
//! down those layers and never run in a circle (ARCHITECTURE.md; `tests/tests/shape.rs`).
//! `server` wires TLS and shutdown; `demo` runs the real agent binary beside a
//! collector. The analyst CLI lives in the `tendctl` crate.

pub mod accounts;
pub mod admin;
pub mod assets;
pub mod audit;
pub mod checkin;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod devices;
pub mod enroll;
pub mod error;
pub mod fleet;
pub mod http;
pub mod jobs;
pub mod kb;
pub mod limits;
pub mod metrics;
pub mod pki;
pub mod policy;
pub mod releases;
pub mod server;
pub mod settings;
pub mod state;
pub mod store;
pub mod sweep;
pub mod text;
pub mod tickets;
pub mod users;
pub mod webhooks;

pub use http::app;
pub use server::Collector;
pub use state::AppState;
