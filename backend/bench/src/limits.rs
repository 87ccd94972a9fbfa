//! The machine's own limits, measured in the same run as the targets:
//! PostgreSQL (pgbench), Redis (redis-benchmark), a minimal WebSocket echo
//! and an in-process linear scan of the same people.

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::procs::{self, run_tool};
use crate::report::{self, Summary};

/// Host, port, user and database of a `postgres://user@host:port/db` URL, as
/// pgbench arguments.
pub fn pg_args(url: &str) -> Vec<String> {
    let u = url::Url::parse(url).expect("valid database URL");
    vec![
        "-h".into(),
        u.host_str().unwrap_or("127.0.0.1").into(),
        "-p".into(),
        u.port().unwrap_or(5432).to_string(),
        "-U".into(),
        if u.username().is_empty() { "postgres".into() } else { u.username().into() },
        u.path().trim_start_matches('/').to_owned(),
    ]
}

async fn pgbench(url: &str, extra: &[&str]) -> anyhow::Result<String> {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend(pg_args(url));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_tool("pgbench", &refs, &[]).await
}

/// `tps = 1234.5 (without initial connection time)` from pgbench's output.
pub fn parse_tps(out: &str) -> Option<f64> {
    out.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Latencies (µs, third field) from a pgbench per-transaction log.
pub fn parse_pgbench_log(text: &str) -> Vec<u64> {
    text.lines().filter_map(|l| l.split_whitespace().nth(2).and_then(|v| v.parse().ok())).collect()
}

/// A single-row commit with one client: p99 in ms.
pub async fn commit_p99(url: &str, secs: u64, dir: &std::path::Path) -> anyhow::Result<Summary> {
    procs::psql(url, "CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, v int NOT NULL)").await?;
    let script = dir.join("commit.sql");
    std::fs::write(&script, "INSERT INTO bench_commit (v) VALUES (1);\n")?;
    let prefix = dir.join("pgcommit");
    let secs = secs.to_string();
    let (script, prefix) = (script.to_string_lossy().into_owned(), prefix.to_string_lossy().into_owned());
    pgbench(url, &["-n", "-c", "1", "-T", &secs, "-f", &script, "-l", "--log-prefix", &prefix]).await?;
    let mut h = report::histogram();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("pgcommit")) {
            for us in parse_pgbench_log(&std::fs::read_to_string(&path)?) {
                h.record(us.clamp(1, h.high()))?;
            }
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(Summary::of(&h))
}

/// `pgbench -N` (TPC-B-like without the contended updates), after `-i`.
pub async fn pgbench_n(url: &str, clients: u32, secs: u64) -> anyhow::Result<f64> {
    pgbench(url, &["-i", "-q", "-s", "10"]).await?;
    let (c, t) = (clients.to_string(), secs.to_string());
    let out = pgbench(url, &["-n", "-N", "-c", &c, "-j", "2", "-T", &t]).await?;
    parse_tps(&out).context("pgbench -N printed no tps")
}

/// The booking statement (`pb_store::bookings::take_slot`, with its lock
/// on the person's row) run raw under pgbench; `pairs` has one (call,
/// person) per transaction. Returns transactions per second.
pub async fn raw_booking(url: &str, clients: u32, per_client: u32, dir: &std::path::Path) -> anyhow::Result<f64> {
    let script = dir.join("booking.sql");
    std::fs::write(
        &script,
        "BEGIN;\n\
         SELECT nextval('bench_pair_seq') AS n \\gset\n\
         SELECT id FROM users WHERE id = (SELECT user_id FROM bench_pairs WHERE n = :n) FOR UPDATE;\n\
         WITH p AS (SELECT shift_id, user_id FROM bench_pairs WHERE n = :n), s AS ( \
             UPDATE shifts SET booked_slots = booked_slots + 1, \
                 status = CASE WHEN booked_slots + 1 >= slots THEN 'filled' ELSE status END, \
                 next_release_at = CASE WHEN booked_slots + 1 >= slots THEN NULL ELSE next_release_at END, \
                 version = version + 1, updated_at = now() \
             WHERE id = (SELECT shift_id FROM p) AND status = 'open' AND booked_slots < slots \
             RETURNING id, booked_slots, org_id, practice_id, starts_at, ends_at, engagement_type, rate_cents \
         ), b AS ( \
             INSERT INTO bookings (shift_id, slot, user_id, org_id, practice_id, during, engagement_type, rate_cents, source) \
             SELECT id, booked_slots, (SELECT user_id FROM p), org_id, practice_id, tstzrange(starts_at, ends_at), \
                 engagement_type, rate_cents, 'accept' FROM s RETURNING * \
         ) SELECT count(*) FROM b;\n\
         COMMIT;\n",
    )?;
    let (c, t) = (clients.to_string(), per_client.to_string());
    let script = script.to_string_lossy().into_owned();
    let out = pgbench(url, &["-n", "-c", &c, "-j", "2", "-t", &t, "-f", &script]).await?;
    parse_tps(&out).context("pgbench printed no tps")
}

/// One row of `redis-benchmark --csv`: (test, rps, p99 ms).
pub fn parse_redis_csv(out: &str) -> Vec<(String, f64, f64)> {
    let mut rows = Vec::new();
    let mut header: Vec<String> = Vec::new();
    for line in out.lines() {
        let fields: Vec<String> = line.split("\",\"").map(|f| f.trim_matches('"').to_owned()).collect();
        if fields.first().is_some_and(|f| f == "test") {
            header = fields;
            continue;
        }
        let col = |name: &str| header.iter().position(|h| h == name).and_then(|i| fields.get(i));
        if let (Some(rps), Some(test)) = (col("rps"), fields.first()) {
            let p99 = col("p99_latency_ms").and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            if let Ok(rps) = rps.parse() {
                rows.push((test.clone(), rps, p99));
            }
        }
    }
    rows
}

pub struct RedisTarget {
    pub host: String,
    pub port: u16,
}

impl RedisTarget {
    pub fn of(url: &str) -> RedisTarget {
        let u = url::Url::parse(url).expect("valid Redis URL");
        RedisTarget { host: u.host_str().unwrap_or("127.0.0.1").into(), port: u.port().unwrap_or(6379) }
    }

    async fn bench(&self, args: &[&str]) -> anyhow::Result<Vec<(String, f64, f64)>> {
        let port = self.port.to_string();
        let mut all = vec!["-h", &self.host, "-p", &port, "--csv"];
        all.extend_from_slice(args);
        Ok(parse_redis_csv(&run_tool("redis-benchmark", &all, &[]).await?))
    }

    /// `redis-benchmark -c 1 -t ping`: (rps, p99 ms) of PING_MBULK.
    pub async fn ping(&self, n: u32) -> anyhow::Result<(f64, f64)> {
        let n = n.to_string();
        let rows = self.bench(&["-c", "1", "-n", &n, "-t", "ping"]).await?;
        rows.iter()
            .find(|r| r.0.contains("MBULK"))
            .or(rows.first())
            .map(|r| (r.1, r.2))
            .context("redis-benchmark printed no PING row")
    }

    /// GEOSEARCH 25 km around a point on `key`: (rps, p99 ms).
    pub async fn geosearch(&self, key: &str, lon: f64, lat: f64, clients: u32, n: u32) -> anyhow::Result<(f64, f64)> {
        let (c, n, lon, lat) = (clients.to_string(), n.to_string(), lon.to_string(), lat.to_string());
        let rows = self
            .bench(&["-c", &c, "-n", &n, "GEOSEARCH", key, "FROMLONLAT", &lon, &lat, "BYRADIUS", "25", "km"])
            .await?;
        rows.first().map(|r| (r.1, r.2)).context("redis-benchmark printed no GEOSEARCH row")
    }
}

/// Round trips through the minimal echo server: p50/p99 in ms.
pub async fn ws_echo(n: u32) -> anyhow::Result<Summary> {
    let server = procs::start_reference("ref-echo").await?;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/", server.addr())).await?;
    let mut h = report::histogram();
    let payload = "x".repeat(200);
    for i in 0..(n + 200) {
        let start = Instant::now();
        ws.send(Message::Text(payload.clone())).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await? {
                Some(Ok(Message::Text(_))) => break,
                Some(Ok(_)) => continue,
                other => anyhow::bail!("echo server: {other:?}"),
            }
        }
        // The first 200 warm up the connection.
        if i >= 200 {
            report::record(&mut h, start.elapsed());
        }
    }
    Ok(Summary::of(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pgbench_output_and_log() {
        let out = "latency average = 0.512 ms\ntps = 1951.234567 (without initial connection time)\n";
        assert_eq!(parse_tps(out), Some(1951.234567));
        assert_eq!(parse_tps("nothing"), None);
        let log = "0 1 512 0 1700000000 123456\n0 2 498 0 1700000000 124000\n";
        assert_eq!(parse_pgbench_log(log), vec![512, 498]);
    }

    #[test]
    fn parses_redis_benchmark_csv() {
        let out = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
                   \"PING_INLINE\",\"40000.00\",\"0.020\",\"0.008\",\"0.023\",\"0.031\",\"0.039\",\"0.5\"\n\
                   \"PING_MBULK\",\"42000.00\",\"0.020\",\"0.008\",\"0.023\",\"0.031\",\"0.041\",\"0.4\"\n";
        let rows = parse_redis_csv(out);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], ("PING_MBULK".to_owned(), 42000.0, 0.041));
    }

    #[test]
    fn pg_args_split_a_url() {
        assert_eq!(
            pg_args("postgres://postgres@127.0.0.1:5432/pb_test_1"),
            vec!["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "pb_test_1"]
        );
    }
}
