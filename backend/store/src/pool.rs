//! The connection pool and the one way to run work in a scoped transaction.

use crate::{error::StoreError, scope::Scope};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AnsiTransactionManager, AsyncConnection, AsyncPgConnection, TransactionManager};
use std::sync::Arc;
use std::time::Duration;

pub type PooledConnection = Object<AsyncPgConnection>;

/// Shared handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    url: Arc<str>,
}

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    /// How long a request waits for a free connection before it gets a 503.
    pub wait_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_size: 16, wait_timeout: Duration::from_secs(5), connect_timeout: Duration::from_secs(5) }
    }
}

impl Db {
    pub fn connect(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        // No test query when a connection is taken from the pool (it was a
        // round trip for every transaction): a connection that died while
        // idle fails its BEGIN, and `tx` retries that once on a new one.
        let mut config = ManagerConfig::default();
        config.recycling_method = RecyclingMethod::Fast;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(settings.max_size)
            .runtime(deadpool_runtime())
            .wait_timeout(Some(settings.wait_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Db { pool, url: url.into() })
    }

    pub async fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool.get().await.map_err(StoreError::from)
    }

    /// Run `work` in one transaction that carries `scope` for row-level security.
    /// Commits when `work` returns `Ok`, rolls back otherwise. If the future is
    /// dropped half-way, diesel-async's transaction manager marks the
    /// connection broken and the pool discards it instead of reusing it.
    pub async fn tx<T, E, F>(&self, scope: &Scope, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        self.tx_planned(scope, Planning::Auto, work).await
    }

    /// [`tx`](Db::tx) for work that only looks rows up by their keys, one or
    /// a few at a time (`= ANY($1)` over ids, indexes without a predicate on
    /// a bound value): each prepared statement is planned once per connection
    /// and kept. PostgreSQL's default re-plans a statement with `= ANY($1)`
    /// on every execution, because for an array of one or a few ids the
    /// custom plan looks cheaper than the generic one; re-reading one person
    /// for the live index spent more time planning than running its seven
    /// reads.
    ///
    /// Not for statements that need the bound value to choose their plan: a
    /// partial index whose predicate compares with a bound value (diesel
    /// binds `.eq("open")` as `$n`) is out of a generic plan's reach. Not
    /// for arrays of thousands (the generic plan is costed for ten). And
    /// only with prepared statements: one diesel does not cache (`update`,
    /// `sql_query`) would get a generic plan made for it on every call.
    pub async fn tx_of_lookups<T, E, F>(&self, scope: &Scope, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        self.tx_planned(scope, Planning::GenericOnce, work).await
    }

    #[tracing::instrument(level = "debug", name = "db_tx", skip_all)]
    async fn tx_planned<T, E, F>(&self, scope: &Scope, planning: Planning, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut conn = self.conn().await?;
        if let Err(e) = begin(&mut conn, scope, planning).await {
            // Nothing ran yet: a connection that died while idle in the pool
            // (the server restarted, an idle timeout) is dropped, and the
            // work gets one fresh connection before the error is returned.
            tracing::debug!(error = %e, "BEGIN failed on a pooled connection; retrying on a new one");
            drop(Object::take(conn));
            conn = self.conn().await?;
            begin(&mut conn, scope, planning).await?;
        }
        run_begun(&mut conn, work).await
    }

    /// A connection of its own, outside the pool, for a long-lived task that
    /// must not queue behind requests (the event reader). Use it with
    /// [`tx_on`]; after an error, drop it and open another.
    pub async fn dedicated(&self) -> Result<AsyncPgConnection, StoreError> {
        AsyncPgConnection::establish(&self.url).await.map_err(|e| StoreError::Pool(e.to_string()))
    }

    pub fn status(&self) -> deadpool_status::Status {
        let s = self.pool.status();
        deadpool_status::Status { size: s.size, available: s.available, max_size: s.max_size, waiting: s.waiting }
    }
}

/// [`Db::tx`] on a connection the caller holds.
pub async fn tx_on<T, E, F>(conn: &mut AsyncPgConnection, scope: &Scope, work: F) -> Result<T, E>
where
    F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, E>,
    E: From<StoreError>,
{
    begin(conn, scope, Planning::Auto).await?;
    run_begun(conn, work).await
}

/// How the statements of a transaction are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planning {
    /// PostgreSQL's default: custom plans until a generic one looks as good.
    Auto,
    /// A generic plan, made once per connection (see [`Db::tx_of_lookups`]).
    GenericOnce,
}

/// BEGIN, the scope and the planning mode in one round trip.
async fn begin(conn: &mut AsyncPgConnection, scope: &Scope, planning: Planning) -> Result<(), StoreError> {
    let mut sql = scope.begin_sql();
    if planning == Planning::GenericOnce {
        sql.push_str("; SET LOCAL plan_cache_mode = force_generic_plan");
    }
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(conn, &sql).await {
        // The batch may have begun a transaction that the manager does not
        // count (BEGIN ran, the settings failed): end it here, or the
        // connection would go back to the pool inside an aborted transaction.
        let _ = diesel_async::SimpleAsyncConnection::batch_execute(conn, "ROLLBACK").await;
        return Err(StoreError::from(e));
    }
    Ok(())
}

/// Run `work` in the transaction `begin` opened: commit on `Ok`, roll back otherwise.
async fn run_begun<T, E, F>(conn: &mut AsyncPgConnection, work: F) -> Result<T, E>
where
    F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, E>,
    E: From<StoreError>,
{
    match work(conn).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await.map_err(StoreError::from)?;
            Ok(value)
        }
        Err(e) => {
            // The work's own error is what the caller needs; a failed
            // rollback leaves a broken connection the pool will drop.
            let _ = AnsiTransactionManager::rollback_transaction(conn).await;
            Err(e)
        }
    }
}

pub mod deadpool_status {
    #[derive(Debug, Clone, Copy, serde::Serialize)]
    pub struct Status {
        pub size: usize,
        pub available: usize,
        pub max_size: usize,
        pub waiting: usize,
    }
}

fn deadpool_runtime() -> deadpool::Runtime {
    deadpool::Runtime::Tokio1
}
