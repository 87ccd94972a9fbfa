//! Provisioning PostgreSQL for development, CI and tests: finding the server
//! binaries, running a private throw-away cluster, creating the roles the
//! application needs, and handing every test its own migrated database.
//!
//! The role layout it sets up is the one row-level security depends on:
//!
//! - `pb_app`: NOLOGIN, owns nothing; migrations grant it DML.
//! - an *owner* LOGIN role that owns the database and runs migrations.
//! - an *app* LOGIN role, member of `pb_app`, that is not a superuser, cannot
//!   bypass RLS, owns nothing and is not a member of the owner, so every
//!   policy applies to it.
//!
//! This module must never run while serving requests, never hand the
//! application a role that can bypass row-level security, and never demote or
//! alter a superuser (it refuses instead). Role and database names are ours,
//! not user input, but they are still validated before being spliced into SQL
//! (Postgres cannot bind identifiers as parameters).
//!
//! Test databases are coordinated through Postgres (advisory locks, atomic
//! renames), not through statics: nextest runs every test in its own process,
//! concurrently.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Admin URL used by tests when `PB_TEST_ADMIN_URL` is not set.
pub const DEFAULT_TEST_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The role that owns test databases and runs their migrations.
pub const TEST_OWNER_ROLE: &str = "pb_test_owner";
/// The role tests connect as, like the application does in production.
pub const TEST_APP_ROLE: &str = "pb_test_app";
/// The NOLOGIN group role the migrations grant privileges to.
const APP_GROUP_ROLE: &str = "pb_app";

/// Advisory lock keys (arbitrary, fixed). Every process that creates roles or
/// builds the template takes the same key, so concurrent test processes wait
/// for each other instead of racing on the catalogs.
const ROLES_LOCK: i64 = 0x7062_5072_6f6c_6573; // "pbProles"
const TEMPLATE_LOCK: i64 = 0x7062_5474_6d70_6c00; // "pbTtmpl"

/// How long one connection attempt may take before we give up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a process waits for another one building the template; a build
/// runs every migration, so this is generous.
const LOCK_TIMEOUT: &str = "180s";
/// Test databases older than this are dropped by the next test process: they
/// were left behind by a test that panicked or was killed.
const STALE_TEST_DATABASE_AGE: Duration = Duration::from_secs(2 * 60 * 60);

/// What can go wrong while provisioning. Messages say what to do about it,
/// because the reader is usually a developer whose tests just failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: {detail}. Install them with \
         `apt-get install postgresql` (Debian/Ubuntu). Searched: PG_BIN_DIR, `pg_config --bindir`, \
         /usr/lib/postgresql/<version>/bin and PATH; set PG_BIN_DIR to the folder holding initdb \
         and pg_ctl to override"
    )]
    PgBinariesNotFound { detail: String },
    #[error(
        "running as root, but there is no `postgres` system user to run PostgreSQL as (initdb and \
         postgres refuse to run as root): install the postgresql package, which creates it, or run \
         as a normal user"
    )]
    NoPostgresUser,
    #[error(
        "port {port} on 127.0.0.1 is already in use by another process; choose another port (DEV_PG_PORT for the development database)"
    )]
    PortInUse { port: u16 },
    #[error("{path}: {reason}")]
    BadDataDir { path: PathBuf, reason: String },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: diesel::ConnectionError,
    },
    #[error("`{statement}` failed: {source}")]
    Query {
        statement: String,
        #[source]
        source: diesel::result::Error,
    },
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
    #[error("`{0}` is not an acceptable role or database name (expected ^[a-z_][a-z0-9_]*$, at most 63 bytes)")]
    InvalidIdentifier(String),
    #[error("refusing to use role `{role}`: {reason}")]
    UnsafeRole { role: String, reason: String },
    #[error("timed out {0}")]
    Timeout(String),
}

// ---------------------------------------------------------------------------
// Server binaries and a private cluster
// ---------------------------------------------------------------------------

/// Find the folder holding `initdb` and `pg_ctl`: `PG_BIN_DIR`, then
/// `pg_config --bindir`, then the highest `/usr/lib/postgresql/<v>/bin`
/// (Debian keeps the server binaries off PATH), then `initdb` on PATH.
pub fn find_pg_bin_dir() -> Result<PathBuf, ProvisionError> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        // An explicit override that is wrong is an error, not a hint to guess.
        return if has_server_tools(&dir) {
            Ok(dir)
        } else {
            Err(ProvisionError::PgBinariesNotFound {
                detail: format!("PG_BIN_DIR={} holds no initdb and pg_ctl", dir.display()),
            })
        };
    }
    if let Ok(out) = StdCommand::new("pg_config").arg("--bindir").stderr(Stdio::null()).output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        // libpq-dev ships pg_config without the server, so check.
        if out.status.success() && has_server_tools(&dir) {
            return Ok(dir);
        }
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let version = name.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        versions.sort();
        if let Some((_, dir)) = versions.into_iter().rev().find(|(_, dir)| has_server_tools(dir)) {
            return Ok(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if initdb.is_file() {
                // Follow symlinks (e.g. /usr/local/bin/initdb) to the real
                // folder, where `postgres` lives next to it.
                let real = initdb.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf));
                if let Some(real) = real.filter(|d| has_server_tools(d)) {
                    return Ok(real);
                }
                if has_server_tools(&dir) {
                    return Ok(dir);
                }
            }
        }
    }
    Err(ProvisionError::PgBinariesNotFound { detail: "no folder holds both initdb and pg_ctl".into() })
}

fn has_server_tools(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// A PostgreSQL cluster of our own in a folder, listening only on 127.0.0.1,
/// with its unix socket inside the data folder and trust authentication.
/// For fault-injection tests (stop it hard, start it again) and for machines
/// without a shared server.
///
/// The handle that started the server stops it (immediately) when dropped, so
/// a panicking test does not leave a postmaster behind; a handle that merely
/// found it running leaves it alone.
#[derive(Debug)]
pub struct PrivateCluster {
    pub data_dir: PathBuf,
    /// The port it listens on (of the running server, when one was reused).
    pub port: u16,
    /// The cluster's bootstrap superuser.
    pub superuser: String,
    bin_dir: PathBuf,
    /// `Some("postgres")` when we are root: initdb and postgres refuse root.
    run_as: Option<String>,
    stop_on_drop: AtomicBool,
}

impl PrivateCluster {
    /// Initialise `dir` if it holds no cluster yet, then start the server on
    /// `port` (or reuse it when it is already running there).
    pub async fn start(dir: &Path, port: u16) -> Result<PrivateCluster, ProvisionError> {
        let bin_dir = find_pg_bin_dir()?;
        let run_as = if effective_uid() == Some(0) {
            let exists = StdCommand::new("id").args(["-u", "postgres"]).output().is_ok_and(|o| o.status.success());
            if !exists {
                return Err(ProvisionError::NoPostgresUser);
            }
            Some("postgres".to_owned())
        } else {
            None
        };
        let superuser = match &run_as {
            Some(user) => user.clone(),
            None => current_user_name()?,
        };

        std::fs::create_dir_all(dir)
            .map_err(|source| ProvisionError::Io { context: format!("creating {}", dir.display()), source })?;
        let data_dir = dir
            .canonicalize()
            .map_err(|source| ProvisionError::Io { context: format!("resolving {}", dir.display()), source })?;
        let bad = |reason: &str| ProvisionError::BadDataDir { path: data_dir.clone(), reason: reason.to_owned() };
        // The path goes into pg_ctl's `-o`, which a shell parses; we quote it
        // with single quotes, so it must not contain one.
        if data_dir.to_string_lossy().contains('\'') {
            return Err(bad("the path must not contain a single quote"));
        }
        // Unix socket paths are limited to 107 bytes; the socket lives here.
        if data_dir.as_os_str().len() + "/.s.PGSQL.65535".len() > 107 {
            return Err(bad("the path is too long to hold the server's unix socket; use a shorter one"));
        }
        if let Some(user) = &run_as {
            make_ancestors_traversable(&data_dir)?;
            let mut chown = StdCommand::new("chown");
            chown.arg("-R").arg(format!("{user}:")).arg(&data_dir);
            run_checked(chown).await?;
        }

        let mut cluster =
            PrivateCluster { data_dir, port, superuser, bin_dir, run_as, stop_on_drop: AtomicBool::new(false) };
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.initdb().await?;
        } else if cluster.data_dir.join("postmaster.pid").exists() && cluster.is_running().await? {
            if let Some(running) = cluster.running_port() {
                if running != port {
                    tracing::warn!(requested = port, running, "reusing a running private cluster on another port");
                }
                cluster.port = running;
            }
            return Ok(cluster);
        }
        cluster.launch().await?;
        Ok(cluster)
    }

    /// URL for the superuser (trust authentication, so no password).
    pub fn admin_url(&self, database: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{}", self.superuser, self.port, database)
    }

    /// Stop the server: `fast` rolls back sessions and checkpoints;
    /// `immediate` is a simulated crash (no checkpoint; recovery replays WAL
    /// at the next start). Stopping a stopped server is fine.
    pub async fn stop(&self, immediate: bool) -> Result<(), ProvisionError> {
        if !self.data_dir.join("postmaster.pid").exists() {
            self.stop_on_drop.store(false, Ordering::SeqCst);
            return Ok(());
        }
        let mode = if immediate { "immediate" } else { "fast" };
        let out = self
            .run_pg(
                "pg_ctl",
                [
                    OsStr::new("stop"),
                    "-D".as_ref(),
                    self.data_dir.as_os_str(),
                    "-m".as_ref(),
                    mode.as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                ],
                Duration::from_secs(90),
            )
            .await?;
        if out.status.success() {
            // Stopped on purpose: dropping the handle must not touch it again.
            self.stop_on_drop.store(false, Ordering::SeqCst);
            Ok(())
        } else {
            Err(ProvisionError::Command { command: format!("pg_ctl stop -m {mode}"), detail: describe(&out) })
        }
    }

    /// Start the server again with the same settings, e.g. after
    /// [`stop`](Self::stop) with `immediate` or after killing it.
    pub async fn restart_after_crash(&self) -> Result<(), ProvisionError> {
        self.launch().await
    }

    /// A port that was free a moment ago on 127.0.0.1. Another process may
    /// take it before we do; that shows up as [`ProvisionError::PortInUse`].
    ///
    /// # Panics
    /// When no port can be bound at all, which means the machine is broken.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("binding 127.0.0.1:0 to find a free port")
    }

    async fn initdb(&self) -> Result<(), ProvisionError> {
        let mut detail = String::new();
        // C.UTF-8 keeps sorting byte-wise but still UTF-8; not every system
        // has it, and plain C is an acceptable fallback for tests.
        for locale in ["C.UTF-8", "C"] {
            let locale_arg = format!("--locale={locale}");
            let superuser_arg = format!("--username={}", self.superuser);
            let args: [&OsStr; 8] = [
                "-D".as_ref(),
                self.data_dir.as_os_str(),
                superuser_arg.as_ref(),
                "--auth=trust".as_ref(),
                "--encoding=UTF8".as_ref(),
                locale_arg.as_ref(),
                // These clusters are disposable; we only ever simulate a crash
                // of the server, not of the machine, so skip the final fsync.
                "--no-sync".as_ref(),
                "--no-instructions".as_ref(),
            ];
            let out = self.run_pg("initdb", args, Duration::from_secs(180)).await?;
            if out.status.success() {
                return Ok(());
            }
            detail = describe(&out);
            tracing::warn!(locale, %detail, "initdb failed");
        }
        Err(ProvisionError::Command { command: "initdb".into(), detail })
    }

    async fn is_running(&self) -> Result<bool, ProvisionError> {
        let out = self
            .run_pg("pg_ctl", [OsStr::new("status"), "-D".as_ref(), self.data_dir.as_os_str()], Duration::from_secs(30))
            .await?;
        // 0 = running, 3 = not running, 4 = no cluster.
        Ok(out.status.success())
    }

    /// The port recorded by the running postmaster (line 4 of postmaster.pid).
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    async fn launch(&self) -> Result<(), ProvisionError> {
        // postgres would only log "could not bind"; say it plainly instead.
        if let Err(e) = std::net::TcpListener::bind(("127.0.0.1", self.port)) {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                return Err(ProvisionError::PortInUse { port: self.port });
            }
        }
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k '{}'", self.port, self.data_dir.display());
        let log = self.data_dir.join("server.log");
        let args: [&OsStr; 10] = [
            "start".as_ref(),
            "-D".as_ref(),
            self.data_dir.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "-o".as_ref(),
            options.as_ref(),
        ];
        let out = self.run_pg("pg_ctl", args, Duration::from_secs(90)).await?;
        if out.status.success() {
            self.stop_on_drop.store(true, Ordering::SeqCst);
            return Ok(());
        }
        // pg_ctl only says "could not start server"; the reason is in the log.
        let log_tail = std::fs::read_to_string(&log)
            .map(|text| {
                text.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
            })
            .unwrap_or_default();
        Err(ProvisionError::Command {
            command: "pg_ctl start".into(),
            detail: format!("{}\nserver.log:\n{log_tail}", describe(&out)),
        })
    }

    /// A command running `tool` from the server binaries, as the postgres
    /// user when we are root.
    fn pg_command<I, S>(&self, tool: &str, args: I) -> StdCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let program = self.bin_dir.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                // runuser (util-linux) needs no password and no PAM prompt as root.
                let mut cmd = StdCommand::new("runuser");
                cmd.arg("-u").arg(user).arg("--").arg(program);
                cmd
            }
            None => StdCommand::new(program),
        };
        // Our working directory may not be readable by the postgres user,
        // which initdb and postgres complain about.
        cmd.args(args).current_dir("/").stdin(Stdio::null());
        cmd
    }

    async fn run_pg<I, S>(&self, tool: &str, args: I, limit: Duration) -> Result<Output, ProvisionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_output(self.pg_command(tool, args), limit).await
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if !AtomicBool::load(&self.stop_on_drop, Ordering::SeqCst) || !self.data_dir.join("postmaster.pid").exists() {
            return;
        }
        // Blocking on purpose: Drop cannot await, and a leaked postmaster
        // would outlive the test process. Immediate mode takes milliseconds.
        let mut cmd = self.pg_command(
            "pg_ctl",
            [
                OsStr::new("stop"),
                "-D".as_ref(),
                self.data_dir.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "30".as_ref(),
            ],
        );
        if let Err(e) = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status() {
            tracing::warn!(error = %e, data_dir = %self.data_dir.display(), "could not stop private cluster");
        }
    }
}

/// Run a command to completion with a time limit, killing it when exceeded.
async fn run_output(cmd: StdCommand, limit: Duration) -> Result<Output, ProvisionError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    match tokio::time::timeout(limit, cmd.output()).await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(source)) => Err(ProvisionError::Io { context: format!("running {program}"), source }),
        Err(_) => Err(ProvisionError::Timeout(format!("waiting for {program}"))),
    }
}

async fn run_checked(mut cmd: StdCommand) -> Result<(), ProvisionError> {
    let description = format!("{cmd:?}");
    cmd.stdin(Stdio::null());
    let out = run_output(cmd, Duration::from_secs(60)).await?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ProvisionError::Command { command: description, detail: describe(&out) })
    }
}

fn describe(out: &Output) -> String {
    format!(
        "{}; stdout: {}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// Effective uid without libc: /proc first, `id -u` where there is no /proc.
fn effective_uid() -> Option<u32> {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find_map(|l| l.strip_prefix("Uid:")) {
            // real, effective, saved, filesystem
            return line.split_whitespace().nth(1)?.parse().ok();
        }
    }
    let out = StdCommand::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn current_user_name() -> Result<String, ProvisionError> {
    if let Ok(out) = StdCommand::new("id").arg("-un").output() {
        let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !name.is_empty() {
            return Ok(name);
        }
    }
    std::env::var("USER").ok().filter(|u| !u.is_empty()).ok_or_else(|| ProvisionError::Command {
        command: "id -un".into(),
        detail: "cannot tell the current user name, and USER is not set".into(),
    })
}

/// The postgres user must be able to reach its data folder. Adding o+x to an
/// ancestor lets others pass through it, not list or read it.
fn make_ancestors_traversable(dir: &Path) -> Result<(), ProvisionError> {
    use std::os::unix::fs::PermissionsExt;
    for ancestor in dir.ancestors().skip(1) {
        let io = |source| ProvisionError::Io { context: format!("making {} traversable", ancestor.display()), source };
        let mut perms = std::fs::metadata(ancestor).map_err(io)?.permissions();
        if perms.mode() & 0o001 == 0 {
            tracing::warn!(path = %ancestor.display(), "adding o+x so the postgres user can reach the data folder");
            perms.set_mode(perms.mode() | 0o001);
            std::fs::set_permissions(ancestor, perms).map_err(io)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Roles and databases
// ---------------------------------------------------------------------------

#[derive(diesel::QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

#[derive(diesel::QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct RoleAttributes {
    #[diesel(sql_type = Bool)]
    rolsuper: bool,
    #[diesel(sql_type = Bool)]
    rolbypassrls: bool,
    #[diesel(sql_type = Bool)]
    rolcanlogin: bool,
    #[diesel(sql_type = Bool)]
    rolcreatedb: bool,
    #[diesel(sql_type = Bool)]
    rolcreaterole: bool,
    #[diesel(sql_type = Bool)]
    rolinherit: bool,
}

#[derive(diesel::QueryableByName)]
struct Confinement {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    rolsuper: bool,
    #[diesel(sql_type = Bool)]
    rolbypassrls: bool,
    #[diesel(sql_type = Bool)]
    escapes: bool,
    #[diesel(sql_type = BigInt)]
    owned: i64,
}

/// Check that the role behind `app_url` is held by row-level security: not
/// a superuser, not BYPASSRLS, not a member of such a role, and not the
/// owner (nor a member of the owner) of anything in the `public` schema,
/// since owners are exempt from their tables' policies. The server runs this
/// before it serves anything and refuses to start otherwise, so a
/// `DATABASE_URL` naming the owner or a superuser cannot quietly switch the
/// second wall off.
pub async fn check_app_role_confined(app_url: &str) -> Result<(), ProvisionError> {
    let mut conn = connect(app_url).await?;
    let statement = "SELECT current_user::text AS name, r.rolsuper, r.rolbypassrls, \
         EXISTS (SELECT FROM pg_roles o WHERE o.oid <> r.oid AND (o.rolsuper OR o.rolbypassrls) \
                 AND pg_has_role(r.oid, o.oid, 'MEMBER')) AS escapes, \
         (SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace \
                 AND pg_has_role(r.oid, c.relowner, 'MEMBER')) AS owned \
         FROM pg_roles r WHERE r.rolname = current_user";
    let me: Confinement = diesel::sql_query(statement)
        .get_result(&mut conn)
        .await
        .map_err(|source| ProvisionError::Query { statement: statement.into(), source })?;
    let reason = if me.rolsuper {
        Some("it is a superuser, and superusers bypass row-level security".to_string())
    } else if me.rolbypassrls {
        Some("it has BYPASSRLS".to_string())
    } else if me.escapes {
        Some("it is a member of a superuser or BYPASSRLS role".to_string())
    } else if me.owned > 0 {
        Some(format!(
            "it owns (or belongs to the owner of) {} relations in the schema, and owners are exempt from \
             row-level security; connect as a login role that is a member of {APP_GROUP_ROLE} and owns nothing, \
             and give the owner to DATABASE_OWNER_URL",
            me.owned
        ))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ProvisionError::UnsafeRole { role: me.name, reason }),
        None => Ok(()),
    }
}

/// Create (or check and correct) the three roles the application needs:
/// NOLOGIN `pb_app`; the LOGIN `owner` that owns databases and runs
/// migrations; the LOGIN `app_login`, a member of `pb_app` that is no
/// superuser, cannot bypass RLS, create databases or roles. No passwords are
/// set: this is for trust-authenticated development and test servers.
///
/// Idempotent and safe to run from many processes at once (they take turns on
/// an advisory lock). Refuses to touch an existing superuser or the admin
/// role itself, and refuses an app role that could become the owner.
#[tracing::instrument(skip_all, fields(owner = %owner, app_login = %app_login))]
pub async fn bootstrap_roles(admin_url: &str, owner: &str, app_login: &str) -> Result<(), ProvisionError> {
    quote_ident(owner)?;
    let app_q = quote_ident(app_login)?;
    if owner == app_login || owner == APP_GROUP_ROLE || app_login == APP_GROUP_ROLE {
        return Err(ProvisionError::UnsafeRole {
            role: app_login.to_owned(),
            reason: format!("owner, app and {APP_GROUP_ROLE} must be three different roles"),
        });
    }
    let mut conn = connect(admin_url).await?;
    let me = query_text(&mut conn, "SELECT current_user::text AS name").await?;
    for role in [owner, app_login] {
        if role == me {
            return Err(ProvisionError::UnsafeRole {
                role: role.to_owned(),
                reason: "it is the admin role itself".into(),
            });
        }
    }
    advisory_lock(&mut conn, ROLES_LOCK).await?;

    ensure_role(&mut conn, APP_GROUP_ROLE, "NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE", |a| {
        (a.rolcanlogin || a.rolbypassrls || a.rolcreatedb || a.rolcreaterole)
            .then_some("NOLOGIN NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    })
    .await?;
    ensure_role(&mut conn, owner, "LOGIN NOSUPERUSER NOCREATEROLE", |a| (!a.rolcanlogin).then_some("LOGIN")).await?;
    ensure_role(&mut conn, app_login, "LOGIN INHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE", |a| {
        (!a.rolcanlogin || !a.rolinherit || a.rolbypassrls || a.rolcreatedb || a.rolcreaterole)
            .then_some("LOGIN INHERIT NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    })
    .await?;

    // Membership in the owner would hand the app the owner's privileges, and
    // owners are exempt from RLS; membership in a superuser or BYPASSRLS role
    // would let it SET ROLE around every policy.
    let escapes = diesel::sql_query(
        "SELECT EXISTS (SELECT FROM pg_roles r WHERE r.rolname <> $1 \
         AND (r.rolname = $2 OR r.rolsuper OR r.rolbypassrls) AND pg_has_role($1, r.oid, 'MEMBER')) AS found",
    )
    .bind::<Text, _>(app_login)
    .bind::<Text, _>(owner)
    .get_result::<Found>(&mut conn)
    .await
    .map_err(query_error("checking the app role's memberships"))?;
    if escapes.found {
        return Err(ProvisionError::UnsafeRole {
            role: app_login.to_owned(),
            reason: format!("it is a member of `{owner}` or of a superuser/BYPASSRLS role"),
        });
    }

    let member = diesel::sql_query(
        "SELECT EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
         JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = $1 AND u.rolname = $2) AS found",
    )
    .bind::<Text, _>(APP_GROUP_ROLE)
    .bind::<Text, _>(app_login)
    .get_result::<Found>(&mut conn)
    .await
    .map_err(query_error("checking pb_app membership"))?;
    if !member.found {
        exec(&mut conn, &format!("GRANT {} TO {app_q}", quote_ident(APP_GROUP_ROLE)?)).await?;
    }
    advisory_unlock(&mut conn, ROLES_LOCK).await
}

/// Create `name` with `create_attrs` unless it exists; if it exists, refuse a
/// superuser and apply the `ALTER ROLE` attributes `fix` asks for.
async fn ensure_role(
    conn: &mut AsyncPgConnection,
    name: &str,
    create_attrs: &str,
    fix: impl Fn(&RoleAttributes) -> Option<&'static str>,
) -> Result<(), ProvisionError> {
    let quoted = quote_ident(name)?;
    // The advisory lock serialises our own processes; the handler covers
    // anyone else (a migration creating pb_app) creating it at the same time.
    exec(
        conn,
        &format!(
            "DO $pb$ BEGIN \
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN \
                 CREATE ROLE {quoted} {create_attrs}; \
               END IF; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; \
             END $pb$"
        ),
    )
    .await?;
    let attrs = diesel::sql_query(
        "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreatedb, rolcreaterole, rolinherit \
         FROM pg_roles WHERE rolname = $1",
    )
    .bind::<Text, _>(name)
    .get_result::<RoleAttributes>(conn)
    .await
    .map_err(query_error("reading role attributes"))?;
    if attrs.rolsuper {
        // Demoting a superuser could lock a DBA out; pick another name instead.
        return Err(ProvisionError::UnsafeRole {
            role: name.to_owned(),
            reason: "it exists and is a superuser".into(),
        });
    }
    if let Some(alter) = fix(&attrs) {
        tracing::warn!(role = name, alter, "correcting attributes of an existing role");
        exec(conn, &format!("ALTER ROLE {quoted} {alter}")).await?;
    }
    Ok(())
}

/// Create database `name` owned by `owner` unless it exists. Returns whether
/// it was created. An existing database is left as it is (owner included).
#[tracing::instrument(skip_all, fields(name = %name, owner = %owner))]
pub async fn ensure_database(admin_url: &str, name: &str, owner: &str) -> Result<bool, ProvisionError> {
    let name_q = quote_ident(name)?;
    let owner_q = quote_ident(owner)?;
    let mut conn = connect(admin_url).await?;
    if database_exists(&mut conn, name).await? {
        return Ok(false);
    }
    match exec(&mut conn, &format!("CREATE DATABASE {name_q} OWNER {owner_q}")).await {
        Ok(()) => Ok(true),
        // Someone else created it between our check and our CREATE; asking
        // again avoids depending on the (localised) error message.
        Err(e) => match database_exists(&mut conn, name).await {
            Ok(true) => Ok(false),
            _ => Err(e),
        },
    }
}

/// `base_admin_url` with another user and database: same scheme, host, port
/// and query string; the password is dropped (it belonged to the other user).
/// Expects `postgres://user[:pw]@host:port/db[?query]`.
pub fn url_with(base_admin_url: &str, user: &str, database: &str) -> String {
    let (scheme, rest) = base_admin_url.split_once("://").unwrap_or(("postgres", base_admin_url));
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let authority = rest.split_once('/').map_or(rest, |(authority, _)| authority);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let mut url = format!("{scheme}://{user}@{host}/{database}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

// ---------------------------------------------------------------------------
// Test databases
// ---------------------------------------------------------------------------

/// One test's own database, cloned from the migrated template. Drop it with
/// [`TestDatabase::drop_database`]; leftovers of crashed tests are removed by
/// a later test process (see [`cleanup_stale_test_databases`]).
#[derive(Debug)]
pub struct TestDatabase {
    pub name: String,
    /// Connects as `pb_test_app`: subject to row-level security, like the app.
    pub app_url: String,
    /// Connects as `pb_test_owner`: owns the schema, runs migrations.
    pub owner_url: String,
    admin_url: String,
}

impl TestDatabase {
    /// The superuser URL the database was created with (for tests that need
    /// to look behind the app's back, e.g. at `pg_stat_activity`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Drop the database, ending any connection still open to it. Best
    /// effort: failures are logged, and stale-database cleanup catches them.
    pub async fn drop_database(self) {
        let result = async {
            let mut conn = connect(&self.admin_url).await?;
            exec(&mut conn, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name)?)).await
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, database = %self.name, "could not drop test database");
        }
    }
}

/// The server tests use: `PB_TEST_ADMIN_URL`, else [`DEFAULT_TEST_ADMIN_URL`].
pub fn test_admin_url() -> String {
    std::env::var("PB_TEST_ADMIN_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_ADMIN_URL.to_owned())
}

/// Create a fresh, migrated database for one test on the test server
/// (`PB_TEST_ADMIN_URL`). The migrated template is built once per migration
/// set by whichever process gets there first; every test then clones it,
/// which takes milliseconds instead of re-running migrations.
#[tracing::instrument]
pub async fn create_test_database() -> Result<TestDatabase, ProvisionError> {
    static CLEANED: AtomicBool = AtomicBool::new(false);

    let admin_url = test_admin_url();
    bootstrap_roles(&admin_url, TEST_OWNER_ROLE, TEST_APP_ROLE).await?;
    if !CLEANED.swap(true, Ordering::SeqCst) {
        // Once per process is plenty; it is only housekeeping.
        match tokio::time::timeout(Duration::from_secs(30), cleanup_stale_at(&admin_url, STALE_TEST_DATABASE_AGE)).await
        {
            Ok(Ok(0)) => {}
            Ok(Ok(dropped)) => tracing::info!(dropped, "dropped stale test databases"),
            Ok(Err(error)) => tracing::warn!(%error, "stale test database cleanup failed"),
            Err(_) => tracing::warn!("stale test database cleanup timed out"),
        }
    }

    let mut conn = connect(&admin_url).await?;
    // Best effort: English messages make `is_busy` reliable; needs superuser.
    let _ = exec(&mut conn, "SET lc_messages = 'C'").await;
    let mut template = ensure_template(&admin_url, &mut conn).await?;

    const ATTEMPTS: u32 = 6;
    let owner_q = quote_ident(TEST_OWNER_ROLE)?;
    for attempt in 1..=ATTEMPTS {
        let name = new_test_database_name();
        let statement =
            format!("CREATE DATABASE {} TEMPLATE {} OWNER {owner_q}", quote_ident(&name)?, quote_ident(&template)?);
        let error = match exec(&mut conn, &statement).await {
            Ok(()) => {
                return Ok(TestDatabase {
                    app_url: url_with(&admin_url, TEST_APP_ROLE, &name),
                    owner_url: url_with(&admin_url, TEST_OWNER_ROLE, &name),
                    name,
                    admin_url,
                })
            }
            Err(error) => error,
        };
        if attempt == ATTEMPTS {
            return Err(error);
        }
        if !template_ready(&mut conn, &template).await? {
            // Another checkout with other migrations replaced it; rebuild.
            template = ensure_template(&admin_url, &mut conn).await?;
        } else if is_busy(&error) || database_exists(&mut conn, &name).await? {
            // Nobody should be connected to the template (connections to it
            // are disabled), so this is only a safety net.
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        } else {
            return Err(error);
        }
    }
    unreachable!("the last attempt returns")
}

/// Drop test databases (named `pb_test_<unix secs>_<hex>`) created more than
/// `older_than` ago on the test server: leftovers of tests that panicked or
/// were killed before dropping theirs. Returns how many were dropped; a
/// database that cannot be dropped is skipped.
pub async fn cleanup_stale_test_databases(older_than: Duration) -> Result<usize, ProvisionError> {
    cleanup_stale_at(&test_admin_url(), older_than).await
}

async fn cleanup_stale_at(admin_url: &str, older_than: Duration) -> Result<usize, ProvisionError> {
    let mut conn = connect(admin_url).await?;
    let names = diesel::sql_query("SELECT datname::text AS name FROM pg_database WHERE left(datname, 8) = 'pb_test_'")
        .load::<Named>(&mut conn)
        .await
        .map_err(query_error("listing test databases"))?;
    let now = unix_now();
    let mut dropped = 0;
    for Named { name } in names {
        let Some(created) = test_database_created_at(&name) else { continue };
        if now.saturating_sub(created) < older_than.as_secs() {
            continue;
        }
        match exec(&mut conn, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&name)?)).await {
            Ok(()) => dropped += 1,
            Err(error) => tracing::warn!(%error, database = %name, "could not drop stale test database"),
        }
    }
    Ok(dropped)
}

/// Make sure `pb_tmpl_<fingerprint>` exists and is a finished template;
/// returns its name. Building happens under a name ending in `_building`, and
/// the finished database is renamed, so no one ever clones a half-built one.
async fn ensure_template(admin_url: &str, conn: &mut AsyncPgConnection) -> Result<String, ProvisionError> {
    let fingerprint = crate::migrate::fingerprint();
    let template = format!("pb_tmpl_{fingerprint}");
    if template_ready(conn, &template).await? {
        return Ok(template);
    }
    advisory_lock(conn, TEMPLATE_LOCK).await?;
    // On error the connection is dropped by the caller, which releases the lock.
    if !template_ready(conn, &template).await? {
        build_template(admin_url, conn, &template).await?;
        drop_other_templates(conn, &template).await;
    }
    advisory_unlock(conn, TEMPLATE_LOCK).await?;
    Ok(template)
}

async fn build_template(admin_url: &str, conn: &mut AsyncPgConnection, template: &str) -> Result<(), ProvisionError> {
    let building = format!("{template}_building");
    let started = std::time::Instant::now();
    // We hold the lock, so a leftover of either name is from a process that
    // died half-way (or before it marked the template); nobody uses it.
    for stale in [&building, template] {
        if database_exists(conn, stale).await? {
            drop_database_force(conn, stale).await?;
        }
    }
    exec(conn, &format!("CREATE DATABASE {} OWNER {}", quote_ident(&building)?, quote_ident(TEST_OWNER_ROLE)?)).await?;
    let migrated = crate::migrate::run_pending(&url_with(admin_url, TEST_OWNER_ROLE, &building)).await;
    if let Err(error) = migrated {
        let _ = drop_database_force(conn, &building).await;
        return Err(error.into());
    }
    // The migration connection closes asynchronously; renaming a database
    // someone is still connected to fails.
    wait_until_unused(conn, &building, Duration::from_secs(15)).await?;
    // Mark it a template before the rename, so it appears under its final
    // name complete; ALLOW_CONNECTIONS false keeps anyone from connecting,
    // which would make every clone fail.
    exec(conn, &format!("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false", quote_ident(&building)?))
        .await?;
    exec(conn, &format!("ALTER DATABASE {} RENAME TO {}", quote_ident(&building)?, quote_ident(template)?)).await?;
    tracing::info!(template, elapsed_ms = started.elapsed().as_millis() as u64, "built test template database");
    Ok(())
}

/// Best effort: remove templates of other migration sets that nobody is
/// using, so the server does not fill up with them.
async fn drop_other_templates(conn: &mut AsyncPgConnection, keep: &str) {
    let listed = diesel::sql_query(
        "SELECT d.datname::text AS name FROM pg_database d WHERE left(d.datname, 8) = 'pb_tmpl_' \
         AND d.datname <> $1 AND NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .bind::<Text, _>(keep)
    .load::<Named>(conn)
    .await;
    let Ok(names) = listed else { return };
    // A clone in progress holds a lock on its template; don't wait for it.
    let _ = exec(conn, "SET lock_timeout = '2s'").await;
    for Named { name } in names {
        let Ok(quoted) = quote_ident(&name) else { continue };
        let _ = exec(conn, &format!("ALTER DATABASE {quoted} WITH IS_TEMPLATE false")).await;
        if let Err(error) = exec(conn, &format!("DROP DATABASE IF EXISTS {quoted}")).await {
            tracing::debug!(%error, database = %name, "left an old template in place");
            let _ = exec(conn, &format!("ALTER DATABASE {quoted} WITH IS_TEMPLATE true")).await;
        }
    }
    let _ = exec(conn, "RESET lock_timeout").await;
}

async fn drop_database_force(conn: &mut AsyncPgConnection, name: &str) -> Result<(), ProvisionError> {
    let quoted = quote_ident(name)?;
    // A template cannot be dropped until it stops being one.
    exec(conn, &format!("ALTER DATABASE {quoted} WITH IS_TEMPLATE false")).await?;
    exec(conn, &format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")).await
}

async fn wait_until_unused(conn: &mut AsyncPgConnection, name: &str, limit: Duration) -> Result<(), ProvisionError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let busy = diesel::sql_query("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = $1) AS found")
            .bind::<Text, _>(name)
            .get_result::<Found>(conn)
            .await
            .map_err(query_error("checking connections to the template"))?;
        if !busy.found {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ProvisionError::Timeout(format!("waiting for connections to {name} to close")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn new_test_database_name() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("pb_test_{}_{}", unix_now(), &random[..8])
}

/// The creation time encoded in a test database's name (Postgres does not
/// record when a database was created).
fn test_database_created_at(name: &str) -> Option<u64> {
    let (secs, random) = name.strip_prefix("pb_test_")?.split_once('_')?;
    let well_formed = random.len() == 8 && random.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then(|| secs.parse().ok()).flatten()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

// ---------------------------------------------------------------------------
// Small SQL helpers
// ---------------------------------------------------------------------------

/// Validate a role or database name and quote it. Identifiers cannot be bound
/// as parameters, so only this conservative shape is ever spliced into SQL.
fn quote_ident(name: &str) -> Result<String, ProvisionError> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    let rest_ok = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if first_ok && rest_ok && name.len() <= 63 {
        Ok(format!("\"{name}\""))
    } else {
        Err(ProvisionError::InvalidIdentifier(name.to_owned()))
    }
}

async fn connect(url: &str) -> Result<AsyncPgConnection, ProvisionError> {
    let target = redact(url);
    match tokio::time::timeout(CONNECT_TIMEOUT, AsyncPgConnection::establish(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(source)) => Err(ProvisionError::Connect { target, source }),
        Err(_) => Err(ProvisionError::Timeout(format!("connecting to {target}"))),
    }
}

/// The URL without its password, for error messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        _ => url.to_owned(),
    }
}

async fn exec(conn: &mut AsyncPgConnection, statement: &str) -> Result<(), ProvisionError> {
    diesel::sql_query(statement)
        .execute(conn)
        .await
        .map(drop)
        .map_err(|source| ProvisionError::Query { statement: statement.to_owned(), source })
}

fn query_error(what: &'static str) -> impl FnOnce(diesel::result::Error) -> ProvisionError {
    move |source| ProvisionError::Query { statement: what.to_owned(), source }
}

async fn query_text(conn: &mut AsyncPgConnection, statement: &str) -> Result<String, ProvisionError> {
    diesel::sql_query(statement)
        .get_result::<Named>(conn)
        .await
        .map(|row| row.name)
        .map_err(|source| ProvisionError::Query { statement: statement.to_owned(), source })
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, ProvisionError> {
    diesel::sql_query("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1) AS found")
        .bind::<Text, _>(name)
        .get_result::<Found>(conn)
        .await
        .map(|row| row.found)
        .map_err(query_error("checking whether a database exists"))
}

async fn template_ready(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, ProvisionError> {
    diesel::sql_query("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1 AND datistemplate) AS found")
        .bind::<Text, _>(name)
        .get_result::<Found>(conn)
        .await
        .map(|row| row.found)
        .map_err(query_error("checking for the template database"))
}

/// Session-level advisory lock. Released explicitly, or by Postgres when the
/// connection ends (so a crashed holder never blocks the others for good).
async fn advisory_lock(conn: &mut AsyncPgConnection, key: i64) -> Result<(), ProvisionError> {
    exec(conn, &format!("SET lock_timeout = '{LOCK_TIMEOUT}'")).await?;
    let locked = diesel::sql_query("SELECT pg_advisory_lock($1)").bind::<BigInt, _>(key).execute(conn).await;
    let _ = exec(conn, "RESET lock_timeout").await;
    locked.map(drop).map_err(query_error("waiting for the provisioning lock"))
}

async fn advisory_unlock(conn: &mut AsyncPgConnection, key: i64) -> Result<(), ProvisionError> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn)
        .await
        .map(drop)
        .map_err(query_error("releasing the provisioning lock"))
}

/// SQLSTATE 55006 (object in use), recognised by its message because diesel
/// does not expose SQLSTATEs; we ask for English messages on the admin
/// connection (`lc_messages = 'C'`).
fn is_busy(error: &ProvisionError) -> bool {
    matches!(error, ProvisionError::Query { source: diesel::result::Error::DatabaseError(_, info), .. }
        if info.message().contains("is being accessed by other users"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_swaps_user_and_database_and_keeps_host_port_and_query() {
        assert_eq!(
            url_with("postgres://postgres@127.0.0.1:5432/postgres", "pb_test_app", "pb_test_1"),
            "postgres://pb_test_app@127.0.0.1:5432/pb_test_1"
        );
        assert_eq!(
            url_with("postgresql://admin:s3cret@db.local:6543/postgres?sslmode=disable&application_name=x", "u", "d"),
            "postgresql://u@db.local:6543/d?sslmode=disable&application_name=x"
        );
        assert_eq!(url_with("postgres://127.0.0.1:5432", "u", "d"), "postgres://u@127.0.0.1:5432/d");
        assert_eq!(url_with("postgres://a@h/db?x=1", "u", "d"), "postgres://u@h/d?x=1");
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("postgres://a:pw@h:1/db"), "postgres://a:***@h:1/db");
        assert_eq!(redact("postgres://a@h:1/db"), "postgres://a@h:1/db");
    }

    #[test]
    fn identifiers_are_validated() {
        assert_eq!(quote_ident("pb_test_app").unwrap(), "\"pb_test_app\"");
        for bad in ["", "1abc", "Upper", "a-b", "a\"b", "a;drop", &"x".repeat(64)] {
            assert!(quote_ident(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn test_database_names_carry_their_creation_time() {
        let name = new_test_database_name();
        let created = test_database_created_at(&name).expect("parsable");
        assert!(unix_now().abs_diff(created) < 5);
        assert!(name.len() <= 63);
        assert_eq!(test_database_created_at("pb_test_1700000000_0123abcd"), Some(1_700_000_000));
        assert_eq!(test_database_created_at("pb_test_owner"), None);
        assert_eq!(test_database_created_at("pb_test_1700000000_xyz"), None);
        assert_eq!(test_database_created_at("pb_tmpl_1700000000_0123abcd"), None);
    }

    #[derive(diesel::QueryableByName)]
    struct Identity {
        #[diesel(sql_type = Text)]
        user_name: String,
        #[diesel(sql_type = Bool)]
        rolsuper: bool,
        #[diesel(sql_type = Bool)]
        rolbypassrls: bool,
    }

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// Checks on a test database; errors are returned (not panicked) so the
    /// caller can drop the database before failing.
    async fn check_app_role_is_confined(db: &TestDatabase) -> Result<(), String> {
        let mut app = connect(&db.app_url).await.map_err(|e| e.to_string())?;
        let me = diesel::sql_query(
            "SELECT current_user::text AS user_name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .get_result::<Identity>(&mut app)
        .await
        .map_err(|e| e.to_string())?;
        if me.user_name != TEST_APP_ROLE || me.rolsuper || me.rolbypassrls {
            return Err(format!(
                "app connects as {} (super {}, bypassrls {})",
                me.user_name, me.rolsuper, me.rolbypassrls
            ));
        }
        let count = diesel::sql_query("SELECT count(*) AS n FROM organisations")
            .get_result::<Count>(&mut app)
            .await
            .map_err(|e| format!("organisations not readable: {e}"))?;
        if count.n != 0 {
            return Err(format!("fresh database has {} organisations visible", count.n));
        }
        // Succeeds only when CREATE TABLE fails with SQLSTATE 42501; the
        // RAISE (P0001) is not caught and fails the statement otherwise.
        exec(
            &mut app,
            "DO $t$ BEGIN CREATE TABLE pb_should_not_exist (id int); RAISE EXCEPTION 'app role created a table'; \
             EXCEPTION WHEN insufficient_privilege THEN NULL; END $t$",
        )
        .await
        .map_err(|e| format!("app role could create a table, or failed differently: {e}"))?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn test_database_is_migrated_and_the_app_role_is_confined() {
        let outcome = tokio::time::timeout(Duration::from_secs(180), async {
            let db = create_test_database().await.expect("create test database");
            assert!(db.owner_url.contains("pb_test_owner@"));
            let checked = check_app_role_is_confined(&db).await;
            let (name, admin_url) = (db.name.clone(), db.admin_url().to_owned());
            db.drop_database().await;
            let mut admin = connect(&admin_url).await.expect("admin connection");
            let gone = !database_exists(&mut admin, &name).await.expect("check");
            (checked, gone)
        })
        .await
        .expect("test timed out");
        outcome.0.unwrap();
        assert!(outcome.1, "test database was not dropped");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_test_databases_are_distinct() {
        let dbs = tokio::time::timeout(Duration::from_secs(180), async {
            let (a, b, c) = tokio::join!(create_test_database(), create_test_database(), create_test_database());
            let dbs = [a, b, c];
            let names: Vec<String> = dbs.iter().filter_map(|d| d.as_ref().ok().map(|d| d.name.clone())).collect();
            let errors: Vec<String> = dbs.iter().filter_map(|d| d.as_ref().err().map(ToString::to_string)).collect();
            for db in dbs.into_iter().flatten() {
                db.drop_database().await;
            }
            (names, errors)
        })
        .await
        .expect("test timed out");
        assert!(dbs.1.is_empty(), "{:?}", dbs.1);
        let mut names = dbs.0;
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 3);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn bootstrap_refuses_to_touch_the_admin_role() {
        let admin_url = test_admin_url();
        let mut conn = connect(&admin_url).await.expect("admin connection");
        let me = query_text(&mut conn, "SELECT current_user::text AS name").await.expect("current_user");
        let err = bootstrap_roles(&admin_url, &me, TEST_APP_ROLE).await.expect_err("must refuse");
        assert!(matches!(err, ProvisionError::UnsafeRole { .. }), "{err}");
        let err = bootstrap_roles(&admin_url, TEST_OWNER_ROLE, "Robert'); DROP").await.expect_err("must refuse");
        assert!(matches!(err, ProvisionError::InvalidIdentifier(_)), "{err}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn stale_test_databases_are_cleaned_up_and_fresh_ones_kept() {
        tokio::time::timeout(Duration::from_secs(120), async {
            let fresh = create_test_database().await.expect("create test database");
            let admin_url = fresh.admin_url().to_owned();
            let mut admin = connect(&admin_url).await.expect("admin connection");
            // Named as if created in 2001: a leftover of a long-gone test.
            let random = uuid::Uuid::new_v4().simple().to_string();
            let stale = format!("pb_test_1000000000_{}", &random[..8]);
            exec(&mut admin, &format!("CREATE DATABASE {stale}")).await.expect("create stale");

            let dropped = cleanup_stale_test_databases(Duration::from_secs(3600)).await.expect("cleanup");
            let stale_gone = !database_exists(&mut admin, &stale).await.expect("check stale");
            let fresh_kept = database_exists(&mut admin, &fresh.name).await.expect("check fresh");
            fresh.drop_database().await;
            assert!(dropped >= 1 && stale_gone, "stale database survived");
            assert!(fresh_kept, "cleanup dropped a fresh test database");
        })
        .await
        .expect("test timed out");
    }

    /// Removes the folder when the test ends, however it ends. Declared before
    /// the cluster, so the cluster (dropped first) is stopped by then.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn private_cluster_keeps_committed_data_across_an_immediate_stop() {
        let dir = TempDir(std::env::temp_dir().join(format!("pb-cluster-{}", uuid::Uuid::new_v4().simple())));
        tokio::time::timeout(Duration::from_secs(240), async {
            let cluster = PrivateCluster::start(&dir.0, PrivateCluster::free_port()).await.expect("start cluster");
            let url = cluster.admin_url("postgres");
            let mut conn = connect(&url).await.expect("connect");
            exec(&mut conn, "CREATE TABLE kept (v text)").await.expect("create");
            exec(&mut conn, "INSERT INTO kept VALUES ('survives')").await.expect("insert");
            drop(conn);

            cluster.stop(true).await.expect("immediate stop");
            assert!(connect(&url).await.is_err(), "server still answers after stop");
            cluster.restart_after_crash().await.expect("restart");

            let mut conn = connect(&url).await.expect("reconnect");
            let value = query_text(&mut conn, "SELECT v AS name FROM kept").await.expect("select");
            assert_eq!(value, "survives");
            drop(conn);

            // A second handle finds it running and reuses it without owning it.
            let again = PrivateCluster::start(&dir.0, cluster.port).await.expect("reuse running cluster");
            assert_eq!(again.port, cluster.port);
            drop(again);
            assert!(connect(&url).await.is_ok(), "dropping a reusing handle stopped the server");

            cluster.stop(false).await.expect("fast stop");
            let squatter = std::net::TcpListener::bind(("127.0.0.1", cluster.port)).expect("bind freed port");
            let err = cluster.restart_after_crash().await.expect_err("port is taken");
            assert!(matches!(err, ProvisionError::PortInUse { .. }), "{err}");
            drop(squatter);
        })
        .await
        .expect("test timed out");
    }
}
