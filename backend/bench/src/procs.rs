//! Child processes: server instances (this binary's hidden `serve-instance`
//! subcommand, which runs the personeelsbank library exactly as its own
//! binary does), the mail worker (`worker-instance`, as `personeelsbank
//! worker`), the reference servers, and the external tools.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

use crate::report::Machine;

/// A child process that is killed (and reaped) when dropped.
pub struct Proc {
    pub child: Child,
    pub port: u16,
    pub name: String,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Resident memory in KiB (from /proc).
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// SIGKILL, no goodbye: what a crashed host looks like to its peers.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// Settings for one server instance.
pub struct ServerEnv {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub jwt_keys: String,
    pub data_dir: std::path::PathBuf,
    /// `NOTIFY_IN_SERVER`: false when a separate worker sends the mail.
    pub mail_in_server: bool,
}

/// The JWT key ring every instance and the harness share.
pub const JWT_KID: &str = "bench";
pub const JWT_SECRET: &str = "bench-signing-key-0123456789abcdef0123456789";

/// This binary as a server (`serve-instance`) or a mail worker
/// (`worker-instance`), configured from `env`, optionally under `nice`.
fn instance_command(env: &ServerEnv, subcommand: &str, port: u16, nice: Option<i32>) -> anyhow::Result<Command> {
    let exe = std::env::current_exe()?;
    let mut cmd = match nice {
        Some(n) => {
            let mut c = Command::new("nice");
            c.arg("-n").arg(n.to_string()).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.arg(subcommand)
        .env("DATABASE_URL", &env.database_url)
        .env("MIGRATE_ON_START", "false")
        .env("DEMO_DATA", "false")
        .env("PORT", port.to_string())
        .env("BIND_ADDR", "127.0.0.1")
        .env("JWT_KEYS", &env.jwt_keys)
        .env("JWT_ACTIVE_KID", JWT_KID)
        .env("REDIS_PREFIX", &env.redis_prefix)
        .env("DATA_DIR", &env.data_dir)
        .env("NOTIFY_IN_SERVER", env.mail_in_server.to_string())
        .env("RUST_LOG", std::env::var("PB_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
        .env_remove("SMTP_URL")
        .stdin(Stdio::null())
        // The server logs to stdout: its warnings belong in the run's log.
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    match &env.redis_url {
        Some(u) => cmd.env("REDIS_URL", u),
        None => cmd.env_remove("REDIS_URL"),
    };
    Ok(cmd)
}

/// Start one server instance and wait until `/readyz` answers 200 (the
/// live index is built before the server listens).
pub async fn start_server(env: &ServerEnv, name: &str) -> anyhow::Result<Proc> {
    let port = free_port();
    let child = instance_command(env, "serve-instance", port, None)?.spawn().context("spawning a server instance")?;
    let proc = Proc { child, port, name: name.into() };
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        if let Ok(r) = client.get(&url).timeout(Duration::from_secs(2)).send().await {
            if r.status().is_success() {
                return Ok(proc);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("server instance {name} did not become ready within 300 s")
}

/// Start the notification dispatcher alone (`personeelsbank worker`) at
/// `nice`. It serves no HTTP; it counts as started when it is still running
/// a second later.
pub async fn start_worker(env: &ServerEnv, nice: i32) -> anyhow::Result<Proc> {
    let mut child =
        instance_command(env, "worker-instance", 0, Some(nice))?.spawn().context("spawning the mail worker")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(status) = child.try_wait()? {
        bail!("the mail worker stopped at start: {status}");
    }
    Ok(Proc { child, port: 0, name: "mail worker".into() })
}

/// Start one of this binary's reference servers (`ref-echo`, `ref-broadcast`).
pub async fn start_reference(kind: &str) -> anyhow::Result<Proc> {
    let port = free_port();
    let exe = std::env::current_exe()?;
    let child = Command::new(exe)
        .args([kind, "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {kind}"))?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(Proc { child, port, name: kind.into() });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{kind} did not listen within 20 s")
}

/// Run a tool to completion, returning stdout (stderr on failure).
pub async fn run_tool(program: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(600), cmd.output())
        .await
        .with_context(|| format!("{program} took more than 10 minutes"))?
        .with_context(|| format!("running {program} (is it installed?)"))?;
    if !out.status.success() {
        bail!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run a SQL script file through psql, stopping at the first error.
pub async fn psql_file(url: &str, file: &Path) -> anyhow::Result<()> {
    let file = file.to_string_lossy();
    run_tool("psql", &["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", &file], &[]).await.map(|_| ())
}

pub async fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    run_tool("psql", &["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql], &[]).await
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    Machine { cpu_model, cores, ram_gib: ram_kib / 1024.0 / 1024.0, kernel }
}

/// Raise the open-file limit to the hard limit (children inherit it).
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).unwrap_or(1024),
    }
}
