//! People and their credentials: users, API tokens (with their lineage), console
//! sessions and passwords, reset codes and security notices, and the request
//! extractors (`auth`) that turn a bearer token, cookie or device token into a caller.

pub mod auth;
pub mod routes;
mod session_store;
pub mod sessions;
mod token_store;
pub mod tokens;
mod user_store;

pub use session_store::{ResetRecord, SessionRecord, NOTICE_MS};
pub use token_store::{new_token, token_hash, TokenKind, TokenRecord};
pub use user_store::UserRecord;
