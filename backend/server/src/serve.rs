//! Starting the product: resolve the database (private one in development),
//! migrate, load demo data, build the state, serve HTTP until a signal.

use actix_web::{web, HttpServer};
use anyhow::Context;
use pb_store::pool::PoolSettings;
use pb_store::{Db, Scope};
use secrecy::ExposeSecret;
use std::sync::Arc;

use crate::auth::{jwt::TokenService, password::PasswordHasher};
use crate::config::Config;
use crate::devdb;
use crate::mail::Mailer;
use crate::state::AppState;

/// The database the process will use.
pub struct Database {
    pub app_url: String,
    pub owner_url: Option<String>,
    pub dev: Option<devdb::DevDatabase>,
}

pub async fn resolve_database(config: &Config) -> anyhow::Result<Database> {
    match &config.database.url {
        Some(url) => Ok(Database {
            app_url: url.expose_secret().to_owned(),
            owner_url: config.migration_url().map(str::to_owned),
            dev: None,
        }),
        None => {
            tracing::info!(port = config.database.dev_port, "DATABASE_URL unset: starting a private PostgreSQL");
            let dev = devdb::start(&config.data_dir, config.database.dev_port)
                .await
                .context("could not start the private development PostgreSQL")?;
            Ok(Database { app_url: dev.app_url.clone(), owner_url: Some(dev.owner_url.clone()), dev: Some(dev) })
        }
    }
}

pub async fn migrate(owner_url: &str) -> anyhow::Result<()> {
    let applied = pb_store::migrate::run_pending(owner_url).await.context("migrations failed")?;
    if applied.is_empty() {
        tracing::info!("database schema is up to date");
    } else {
        tracing::info!(count = applied.len(), "applied migrations");
    }
    Ok(())
}

pub async fn build_state(config: Arc<Config>, app_url: &str) -> anyhow::Result<AppState> {
    // Row-level security only binds a role that owns nothing and cannot
    // bypass it: refuse to serve through any other.
    pb_store::provision::check_app_role_confined(app_url).await.context("DATABASE_URL")?;
    let db = Db::connect(
        app_url,
        &PoolSettings {
            max_size: config.database.pool_size,
            wait_timeout: config.database.pool_wait,
            ..Default::default()
        },
    )?;
    let tokens = TokenService::from_config(&config.auth).map_err(|e| anyhow::anyhow!("JWT configuration: {e}"))?;
    let hasher = PasswordHasher::new(config.auth.hash_concurrency);
    let mailer = Mailer::from_config(&config.mail, &config.data_dir)?;
    let redis = match &config.redis_url {
        Some(url) => {
            let client = redis::Client::open(url.expose_secret()).context("REDIS_URL")?;
            Some(pb_live::connect_redis(client).await.context("cannot connect to Redis")?)
        }
        None => None,
    };
    let hub_settings = crate::realtime::hub::HubSettings {
        recent_events: config.ws_recent_events,
        ..crate::realtime::hub::HubSettings::default()
    };
    let realtime = match &config.redis_url {
        Some(url) => {
            let client = redis::Client::open(url.expose_secret()).context("REDIS_URL")?;
            let bus = pb_live::RedisBus::connect(client, &config.redis_prefix)
                .await
                .map_err(|e| anyhow::anyhow!("cannot subscribe to Redis: {e}"))?;
            let used = crate::realtime::tickets::UsedTickets::Redis {
                conn: Box::new(redis.clone().context("Redis connection")?),
                prefix: config.redis_prefix.clone(),
            };
            crate::realtime::Realtime::new(crate::realtime::AppBus::Redis(bus), hub_settings, used)
        }
        None => crate::realtime::Realtime::new(
            crate::realtime::AppBus::InProcess(pb_live::InProcessBus::new()),
            hub_settings,
            crate::realtime::tickets::UsedTickets::in_process(),
        ),
    };
    let index = match &redis {
        Some(conn) => crate::matching::LiveIndex::Redis(Box::new(pb_live::RedisIndex::new(
            conn.clone(),
            format!("{}:live", config.redis_prefix),
        ))),
        None => crate::matching::LiveIndex::InProcess(pb_live::InProcessIndex::new()),
    };
    Ok(AppState {
        config,
        db,
        tokens,
        hasher,
        mailer,
        redis,
        realtime,
        index,
        refresher: Default::default(),
        auth_cache: Default::default(),
    })
}

/// Load the demo region into an empty database. Returns whether it did.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<bool> {
    let hash = state.hasher.hash(crate::demo::DEMO_PASSWORD).await?;
    let today = crate::local_today();
    let seeded = state
        .db
        .tx(&Scope::System, async |c| -> Result<bool, pb_store::StoreError> {
            crate::demo::seed(c, &hash, today, state.config.demo_history).await.map_err(pb_store::StoreError::from)
        })
        .await?;
    Ok(seeded)
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let database = resolve_database(&config).await?;
    if config.database.migrate_on_start {
        let owner = database.owner_url.as_deref().context("no database URL for migrations")?;
        migrate(owner).await?;
    }
    let state = web::Data::new(build_state(config.clone(), &database.app_url).await?);
    if config.demo_data && seed_demo(&state).await? {
        tracing::info!("demo data loaded");
    }
    // Hub reader and pruner; stopped when this guard drops at the end of `run`.
    let _background = start_background(&state).await?;
    let addr = (config.http.bind_addr, config.http.port);
    let server = HttpServer::new({
        let state = state.clone();
        move || crate::create_app(state.clone())
    })
    .bind(addr)
    .with_context(|| format!("cannot listen on {}:{}", addr.0, addr.1))?
    .shutdown_timeout(20)
    .run();
    print_banner(&config);
    server.await?;
    if let Some(dev) = database.dev {
        tracing::info!("stopping the private PostgreSQL");
        let _ = dev.cluster.stop(false).await;
    }
    Ok(())
}

fn print_banner(config: &Config) {
    let url = format!("http://{}:{}", config.http.bind_addr, config.http.port);
    println!("\nPersoneelsbank is listening on {url}");
    println!("  web app:  {url}/");
    println!("  API:      {url}/api/v1  (OpenAPI: {url}/api/v1/openapi.json)");
    if config.demo_data {
        println!("  demo logins (password \"{}\"):", crate::demo::DEMO_PASSWORD);
        for a in crate::demo::demo_accounts() {
            println!("    {:<18} {}", a.role, a.email);
        }
    }
    println!();
}

/// What runs beside the HTTP server in every process; dropping it stops them.
pub struct Background {
    _realtime: crate::realtime::Tasks,
    _jobs: crate::jobs::Jobs,
    _notify: crate::notify::dispatch::Dispatcher,
    _refresher: crate::refresher::Workers,
    _auth_listener: AbortOnDrop,
}

/// A task that stops when this handle drops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fill the live index from Postgres, then start push delivery and the
/// matching jobs. Used by `run` and by the test harness.
pub async fn start_background(state: &web::Data<AppState>) -> anyhow::Result<Background> {
    // An in-process index starts empty; a shared Redis index another instance
    // keeps is rebuilt only when it was lost (a rolling restart must not wipe it).
    let needed = match &state.index {
        crate::matching::LiveIndex::InProcess(_) => true,
        crate::matching::LiveIndex::Redis(_) => !state.index.is_intact().await.unwrap_or(false),
    };
    if needed {
        crate::matching::rebuild(state).await.map_err(|e| anyhow::anyhow!("building the live index: {e}"))?;
    }
    let notify = if state.config.notify.in_server {
        crate::notify::dispatch::start(state)
    } else {
        crate::notify::dispatch::Dispatcher::none()
    };
    Ok(Background {
        _realtime: crate::realtime::start(state),
        _jobs: crate::jobs::start(state),
        _notify: notify,
        _refresher: crate::refresher::start(state),
        _auth_listener: AbortOnDrop(tokio::spawn(crate::auth::cache::run_listener(
            state.db.clone(),
            state.auth_cache.clone(),
        ))),
    })
}
