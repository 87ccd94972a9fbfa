//! Typed configuration, read once from the environment (and `.env` via
//! dotenvy in `main`). Every variable is documented in `.env.sample`.
//! Secrets are `SecretString`s: they never appear in `Debug` output or logs.

use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub notify: NotifyConfig,
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key and channel, so several deployments (or
    /// test runs) can share one Redis.
    pub redis_prefix: String,
    pub data_dir: PathBuf,
    pub log: LogConfig,
    /// Load the demo region into an empty database at start-up.
    pub demo_data: bool,
    /// With the demo region, also six months of past calls, bookings and hours.
    pub demo_history: bool,
    /// Recent events each instance keeps in memory, so a resuming WebSocket
    /// gets its backlog without a database read (0: always read the log).
    pub ws_recent_events: usize,
    /// How often each instance reads the event log with no poke for it
    /// (pokes from other instances are lost when Redis is away).
    pub ws_reader_poll: Duration,
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind_addr: IpAddr,
    pub port: u16,
    /// Where users reach the app; used in mail links and the WebSocket `Origin` check.
    pub public_url: String,
    pub json_limit_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The application's connection (a non-owner, non-superuser role). `None`
    /// means: start a private PostgreSQL under `data_dir` (development).
    pub url: Option<SecretString>,
    /// The schema owner's connection, for migrations. Defaults to `url`.
    pub owner_url: Option<SecretString>,
    pub pool_size: usize,
    pub pool_wait: Duration,
    pub migrate_on_start: bool,
    /// Port of the private development PostgreSQL.
    pub dev_port: u16,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Signing keys by key id. `None` means: generate a random key at start
    /// (development only; access tokens then do not survive a restart).
    pub jwt_keys: Option<Vec<(String, SecretString)>>,
    pub jwt_active_kid: Option<String>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub invitation_ttl: Duration,
    pub hash_concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// lettre's URL forms: `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS), or plain `smtp://host:25` for a
    /// local relay only (no encryption). `None`: write `.eml` files.
    pub smtp_url: Option<SecretString>,
    pub from: String,
}

/// The outbox dispatcher (see `notify`).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Run the dispatcher inside `serve` (`NOTIFY_IN_SERVER`, default true);
    /// turn it off when `personeelsbank worker` processes do the sending.
    pub in_server: bool,
    /// Fallback poll when no NOTIFY arrives (`NOTIFY_POLL_MS`, default 5000).
    pub poll: Duration,
    /// First retry delay after a temporary failure; doubles per attempt, with
    /// jitter (`NOTIFY_RETRY_BASE_MS`, default 30000).
    pub retry_base: Duration,
    /// Longest retry delay (`NOTIFY_RETRY_MAX_SECS`, default 3600).
    pub retry_max: Duration,
    /// Attempts before a temporarily failing mail is dead-lettered
    /// (`NOTIFY_MAX_ATTEMPTS`, default 12).
    pub max_attempts: u32,
    /// Instant mails per person per hour before further ones wait for the
    /// digest (`NOTIFY_RATE_PER_HOUR`, default 20).
    pub rate_per_hour: u32,
    /// A call still unfilled this many hours before its start is reported to
    /// the practice (`NOTIFY_UNFILLED_HOURS`, default 24).
    pub unfilled_hours: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            in_server: true,
            poll: Duration::from_secs(5),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            max_attempts: 12,
            rate_per_hour: 20,
            unfilled_hours: 24,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub json: bool,
    /// `LOG_SPAN_TIMES`: a line when each span closes, with the time it was
    /// busy and idle (to see where a request's time goes; verbose).
    pub span_times: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Longest access-token life we accept (reliability rule: at most 15 minutes).
pub const MAX_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: e.to_string() }),
    }
}

fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    flag_value(name, var(name).as_deref(), default)
}

/// A yes/no setting's value; anything but the usual words is an error, so
/// a typo does not silently mean "no".
fn flag_value(name: &'static str, raw: Option<&str>, default: bool) -> Result<bool, ConfigError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError::Invalid { name, reason: format!("expected true or false, got {other:?}") }),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let bind_addr = parse("BIND_ADDR", IpAddr::from([127, 0, 0, 1]))?;
        let port = parse("PORT", 8080u16)?;
        let public_url = var("PUBLIC_URL").unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        url::Url::parse(&public_url).map_err(|e| ConfigError::Invalid { name: "PUBLIC_URL", reason: e.to_string() })?;

        let access_ttl = Duration::from_secs(parse("ACCESS_TOKEN_TTL_SECS", 900u64)?);
        if access_ttl > MAX_ACCESS_TTL || access_ttl.is_zero() {
            return Err(ConfigError::Invalid {
                name: "ACCESS_TOKEN_TTL_SECS",
                reason: "must be between 1 and 900 seconds".into(),
            });
        }
        let jwt_keys = match var("JWT_KEYS") {
            None => None,
            Some(raw) => Some(parse_key_ring(&raw)?),
        };
        let database_url = var("DATABASE_URL").map(SecretString::from);
        Ok(Config {
            http: HttpConfig { bind_addr, port, public_url, json_limit_bytes: parse("JSON_LIMIT_BYTES", 64 * 1024)? },
            database: DatabaseConfig {
                migrate_on_start: flag("MIGRATE_ON_START", database_url.is_none())?,
                url: database_url,
                owner_url: var("DATABASE_OWNER_URL").map(SecretString::from),
                pool_size: parse("DB_POOL_SIZE", 16usize)?,
                pool_wait: Duration::from_millis(parse("DB_POOL_WAIT_MS", 5000u64)?),
                dev_port: parse("DEV_PG_PORT", 54329u16)?,
            },
            auth: AuthConfig {
                jwt_active_kid: var("JWT_ACTIVE_KID"),
                jwt_keys,
                issuer: var("JWT_ISSUER").unwrap_or_else(|| "personeelsbank".into()),
                audience: var("JWT_AUDIENCE").unwrap_or_else(|| "personeelsbank-api".into()),
                access_ttl,
                refresh_ttl: Duration::from_secs(parse("REFRESH_TOKEN_TTL_DAYS", 30u64)? * 86_400),
                invitation_ttl: Duration::from_secs(parse("INVITATION_TTL_DAYS", 14u64)? * 86_400),
                hash_concurrency: parse("PASSWORD_HASH_CONCURRENCY", 2usize)?.max(1),
            },
            mail: MailConfig {
                smtp_url: var("SMTP_URL").map(SecretString::from),
                from: var("MAIL_FROM").unwrap_or_else(|| "Personeelsbank <noreply@personeelsbank.localhost>".into()),
            },
            notify: NotifyConfig {
                in_server: flag("NOTIFY_IN_SERVER", true)?,
                poll: Duration::from_millis(parse("NOTIFY_POLL_MS", 5000u64)?.max(50)),
                retry_base: Duration::from_millis(parse("NOTIFY_RETRY_BASE_MS", 30_000u64)?.max(10)),
                retry_max: Duration::from_secs(parse("NOTIFY_RETRY_MAX_SECS", 3600u64)?.max(1)),
                max_attempts: parse("NOTIFY_MAX_ATTEMPTS", 12u32)?.max(1),
                rate_per_hour: parse("NOTIFY_RATE_PER_HOUR", 20u32)?,
                unfilled_hours: parse("NOTIFY_UNFILLED_HOURS", 24u32)?,
            },
            redis_url: var("REDIS_URL").map(SecretString::from),
            redis_prefix: var("REDIS_PREFIX").unwrap_or_else(|| "pb".into()),
            data_dir: PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into())),
            log: LogConfig {
                json: var("LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
                span_times: flag("LOG_SPAN_TIMES", false)?,
            },
            // Demo accounts share a published password: only by default in development.
            demo_data: flag("DEMO_DATA", var("DATABASE_URL").is_none())?,
            demo_history: flag("DEMO_HISTORY", true)?,
            ws_recent_events: parse("WS_RECENT_EVENTS", 50_000usize)?,
            ws_reader_poll: Duration::from_millis(parse("WS_READER_POLL_MS", 1000u64)?.max(50)),
        })
    }

    /// The owner URL for migrations: explicit, or the application URL.
    pub fn migration_url(&self) -> Option<&str> {
        self.database.owner_url.as_ref().or(self.database.url.as_ref()).map(|s| s.expose_secret())
    }
}

/// `kid1:secret1,kid2:secret2`; each secret at least 32 bytes.
fn parse_key_ring(raw: &str) -> Result<Vec<(String, SecretString)>, ConfigError> {
    let mut keys = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kid, secret) = part.split_once(':').ok_or_else(|| ConfigError::Invalid {
            name: "JWT_KEYS",
            reason: "expected kid:secret pairs separated by commas".into(),
        })?;
        if secret.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "JWT_KEYS",
                reason: format!("key {kid:?} is shorter than 32 bytes"),
            });
        }
        keys.push((kid.to_owned(), SecretString::from(secret.to_owned())));
    }
    if keys.is_empty() {
        return Err(ConfigError::Invalid { name: "JWT_KEYS", reason: "no keys".into() });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_takes_the_usual_words_and_refuses_others() {
        assert!(!flag_value("LOG_SPAN_TIMES", None, false).unwrap());
        assert!(flag_value("LOG_SPAN_TIMES", None, true).unwrap());
        for yes in ["1", "true", "TRUE", "yes", "on"] {
            assert!(flag_value("LOG_SPAN_TIMES", Some(yes), false).unwrap(), "{yes}");
        }
        for no in ["0", "false", "No", "off"] {
            assert!(!flag_value("LOG_SPAN_TIMES", Some(no), true).unwrap(), "{no}");
        }
        match flag_value("LOG_SPAN_TIMES", Some("sometimes"), false) {
            Err(ConfigError::Invalid { name, reason }) => {
                assert_eq!(name, "LOG_SPAN_TIMES");
                assert!(reason.contains("sometimes"), "{reason}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn key_ring_parses_and_rejects_short_keys() {
        let ring = parse_key_ring("a:0123456789abcdef0123456789abcdef, b:ffffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(ring.len(), 2);
        assert_eq!(ring[1].0, "b");
        assert!(parse_key_ring("a:short").is_err());
        assert!(parse_key_ring("nocolon").is_err());
        assert!(parse_key_ring(" , ").is_err());
    }
}
