//! Embedded migrations from the top-level `migrations/` folder. They run as the
//! schema owner (never as the application role) from `personeelsbank migrate`,
//! at start-up in development, and when tests build their template database.

use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot connect to run migrations: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("migration failed: {0}")]
    Run(String),
    #[error("migration task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Apply every pending migration; returns the versions applied.
pub async fn run_pending(owner_url: &str) -> Result<Vec<String>, MigrateError> {
    let conn = AsyncPgConnection::establish(owner_url).await?;
    // The harness blocks on the runtime internally; keep it off async workers.
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| MigrateError::Run(e.to_string()))
    })
    .await?
}

/// Revert the most recent migration (used by the "every migration reverts" test).
pub async fn revert_last(owner_url: &str) -> Result<String, MigrateError> {
    let conn = AsyncPgConnection::establish(owner_url).await?;
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        harness.revert_last_migration(MIGRATIONS).map(|v| v.to_string()).map_err(|e| MigrateError::Run(e.to_string()))
    })
    .await?
}

/// Apply exactly one pending migration.
pub async fn run_next(owner_url: &str) -> Result<Option<String>, MigrateError> {
    let conn = AsyncPgConnection::establish(owner_url).await?;
    tokio::task::spawn_blocking(move || {
        let mut harness = AsyncMigrationHarness::new(conn);
        let pending = harness.pending_migrations(MIGRATIONS).map_err(|e| MigrateError::Run(e.to_string()))?;
        let Some(next) = pending.into_iter().next() else { return Ok(None) };
        harness.run_migration(&*next).map(|v| Some(v.to_string())).map_err(|e| MigrateError::Run(e.to_string()))
    })
    .await?
}

/// A fingerprint of the embedded migrations' names and SQL (computed by
/// build.rs), so a test template built from an older set is never reused.
pub fn fingerprint() -> &'static str {
    env!("PB_MIGRATIONS_FINGERPRINT")
}
