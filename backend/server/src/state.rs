//! Everything a handler needs, built once at start-up and shared by all
//! workers. No global statics: tests build their own state.

use std::sync::Arc;

use crate::auth::{jwt::TokenService, password::PasswordHasher};
use crate::config::Config;
use crate::mail::Mailer;
use pb_store::Db;

pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: TokenService,
    pub hasher: PasswordHasher,
    pub mailer: Mailer,
    pub redis: Option<redis::aio::ConnectionManager>,
    /// WebSocket hub and the bus that pokes it (see `realtime`).
    pub realtime: crate::realtime::Realtime,
    /// The live availability index behind matching (see `matching`).
    pub index: crate::matching::LiveIndex,
    /// People to re-match in the background after a booking (see `refresher`).
    pub refresher: crate::refresher::Refresher,
    /// Signed-in callers' rows, dropped when PostgreSQL says they changed (see `auth::cache`).
    pub auth_cache: Arc<crate::auth::cache::AuthCache>,
}
