//! The private development database behind `cargo run --release`.
//!
//! When `DATABASE_URL` is unset we start our own PostgreSQL cluster under
//! `<data dir>/postgres` on its own port (initdb + pg_ctl from the installed
//! PostgreSQL; as root, the server runs as the `postgres` system account),
//! create an owner role for migrations and a separate, unprivileged login for
//! the application, and hand back both URLs. Nothing here runs when
//! `DATABASE_URL` is set.

use pb_store::provision::{self, PrivateCluster};
use std::path::Path;

pub const DATABASE: &str = "personeelsbank";
pub const OWNER_ROLE: &str = "pb_owner";
pub const APP_ROLE: &str = "pb_app_login";

pub struct DevDatabase {
    pub cluster: PrivateCluster,
    pub app_url: String,
    pub owner_url: String,
}

pub async fn start(data_dir: &Path, port: u16) -> Result<DevDatabase, provision::ProvisionError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|source| provision::ProvisionError::Io { context: data_dir.display().to_string(), source })?;
    let dir = std::path::absolute(data_dir.join("postgres")).unwrap_or_else(|_| data_dir.join("postgres"));
    let cluster = PrivateCluster::start(&dir, port).await?;
    let admin = cluster.admin_url("postgres");
    provision::bootstrap_roles(&admin, OWNER_ROLE, APP_ROLE).await?;
    provision::ensure_database(&admin, DATABASE, OWNER_ROLE).await?;
    let owner_url = provision::url_with(&admin, OWNER_ROLE, DATABASE);
    let app_url = provision::url_with(&admin, APP_ROLE, DATABASE);
    Ok(DevDatabase { cluster, app_url, owner_url })
}
