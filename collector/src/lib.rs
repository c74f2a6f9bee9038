//! tend-collector: enrollment, check-in ingest, assets, audit and the analyst API,
//! on an embedded sled store behind HTTPS.
//!
//! Layers, top to bottom: `http` (thin axum handlers) → `service` (the logic, callable
//! without HTTP) → `store` (the only sled user). `server` wires TLS and shutdown;
//! `pki` owns the data dir's keys; `demo` runs the real agent binary beside a collector.
//! The analyst CLI lives in the `tendctl` crate; the server links no agent code.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod pki;
pub mod releases;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
pub mod tickets;

pub use http::app;
pub use server::Collector;
pub use state::AppState;
