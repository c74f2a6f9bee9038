//! tend-collector: enrollment, check-in ingest, assets, audit and the analyst API,
//! on an embedded sled store behind HTTPS.
//!
//! Layers, top to bottom: `http` (thin axum handlers) → `service` (the logic, callable
//! without HTTP) → `store` (the only sled user). `server` wires TLS and shutdown;
//! `pki` owns the data dir's keys; `demo` runs the real agent binary beside a collector.
//! The analyst CLI lives in the `tendctl` crate; the server links no agent code.

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
