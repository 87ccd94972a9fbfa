//! One benchmark run: limits first, then the scenarios of each target,
//! then the report.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::datagen::{self, Scale};
use crate::limits::{self, RedisTarget};
use crate::procs;
use crate::report::{fmt_num, Bound, Figure, Limit, Report, Verdict};
use crate::scenarios::{self as sc, Env, Tokens};

#[derive(clap::Args, Debug, Clone)]
pub struct Opts {
    /// Region scale with short phases: proves the harness works (CI).
    #[arg(long)]
    pub quick: bool,
    /// Where to write `performance.md` and `performance/*.json`
    /// (default: the repository's `docs/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also measure matching at Headroom scale (100,000 people).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub headroom: bool,
    /// Seconds of posting at 100/s for the post-to-push target.
    #[arg(long)]
    pub post_secs: Option<f64>,
    /// Run only these phases (comma-separated: match, post, book, fan, two,
    /// headroom); the limits are always measured. For working on one
    /// target; a report for `docs/` comes from a run of every phase.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<Phase>,
    /// Send the mail from one `personeelsbank worker` process of its own, at
    /// this nice level (0: the servers' priority), with every server
    /// instance started with `NOTIFY_IN_SERVER=false`: the deployment that
    /// section 5 of docs/performance.md recommends for scale-out. Without
    /// it every instance sends mail itself (the default configuration).
    #[arg(long, value_name = "NICE")]
    pub mail_worker: Option<i32>,
    /// Redis for the Redis-engine phases (keys under a private prefix).
    #[arg(long, env = "PB_TEST_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
}

/// The phases of a run, each measuring one or more targets.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Target 3: candidates over HTTP at the run's scale.
    Match,
    /// Target 1: post to push, one instance, in-process engine.
    Post,
    /// Target 4: booking throughput and contention.
    Book,
    /// Target 2: fan-out against the reference broadcast server.
    Fan,
    /// Target 5: two instances, then a kill.
    Two,
    /// Target 3 at Headroom scale.
    Headroom,
}

struct Ctx {
    quick: bool,
    only: Vec<Phase>,
    tmp: PathBuf,
    epoch: Instant,
    tokens: Tokens,
    redis_url: String,
    prefix: String,
    /// `--mail-worker`: the nice level of the separate mail worker.
    mail_worker: Option<i32>,
    report: Report,
}

impl Ctx {
    fn limit(&mut self, name: &str, value: f64, unit: &str, how: &str) {
        println!("limit  {name}: {} {unit}", fmt_num(value));
        self.report.limits.push(Limit { name: name.into(), value, unit: unit.into(), how: how.into() });
    }

    /// A limit measured earlier in this run.
    fn limit_value(&self, name: &str) -> f64 {
        self.report.limits.iter().find(|l| l.name == name).map_or(0.0, |l| l.value)
    }

    fn verdict(&mut self, v: Verdict) {
        println!(
            "target {} {}: {} {} (limit {} {}, ratio {}) {}",
            v.target,
            v.what,
            fmt_num(v.measured),
            v.unit,
            fmt_num(v.limit),
            v.unit,
            fmt_num(v.ratio),
            if v.met { "met" } else { "MISSED" }
        );
        self.report.verdicts.push(v);
    }

    fn figure(&mut self, section: &str, name: &str, value: String) {
        println!("       {section} / {name}: {value}");
        self.report.figures.push(Figure { section: section.into(), name: name.into(), value });
    }

    /// Settings for a server instance of this run: the mail is sent by the
    /// instance itself unless a separate worker does it.
    fn server_env(&self, env: &Env, redis: Option<(&str, &str)>, data_dir: &Path) -> procs::ServerEnv {
        let mut senv = env.server_env(redis, data_dir);
        senv.mail_in_server = self.mail_worker.is_none();
        senv
    }

    fn wants(&self, phase: Phase) -> bool {
        self.only.is_empty() || self.only.contains(&phase)
    }

    fn secs(&self, quick: f64, full: f64) -> f64 {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

pub async fn run(opts: Opts, args: Vec<String>) -> anyhow::Result<()> {
    let fds = procs::raise_fd_limit();
    let scale = if opts.quick { datagen::REGION } else { datagen::NL };
    let tmp = std::env::temp_dir().join(format!("pb-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&tmp)?;
    let command = format!(
        "cargo run {}-p pb-bench --{}",
        if cfg!(debug_assertions) { "" } else { "--release " },
        args.iter().skip(1).map(|a| format!(" {a}")).collect::<String>()
    );
    let mut scales = vec![scale.name.to_owned()];
    if opts.headroom && !opts.quick && (opts.only.is_empty() || opts.only.contains(&Phase::Headroom)) {
        scales.push(datagen::HEADROOM.name.into());
    }
    let mut ctx = Ctx {
        quick: opts.quick,
        only: opts.only.clone(),
        tmp: tmp.clone(),
        epoch: Instant::now(),
        tokens: Tokens::new(),
        redis_url: opts.redis_url.clone(),
        prefix: format!("pbbench:{}", uuid::Uuid::new_v4().simple()),
        mail_worker: opts.mail_worker,
        report: Report {
            command,
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            machine: procs::machine(),
            scales,
            limits: Vec::new(),
            verdicts: Vec::new(),
            figures: Vec::new(),
            notes: Vec::new(),
        },
    };
    println!("pb-bench: {} scale, open-file limit {fds}, work dir {}", scale.name, tmp.display());
    ctx.figure(
        "Machine",
        "mail sent by",
        match opts.mail_worker {
            None => "every server instance (the default)".into(),
            Some(nice) => {
                format!("one worker process of its own at nice {nice} (instances with NOTIFY_IN_SERVER=false)")
            }
        },
    );
    let load_before = loadavg();
    let outcome = run_scales(&mut ctx, scale, &opts).await;
    // Other work on the machine shares its cores: say how busy it was.
    ctx.figure("Machine", "load average (1, 5, 15 min) at start", load_before);
    ctx.figure("Machine", "load average (1, 5, 15 min) at end", loadavg());
    let _ = sc::del_key(&ctx.redis_url, &format!("{}*", ctx.prefix)).await;
    if let Err(e) = &outcome {
        ctx.report.notes.push(format!("the run stopped early: {e:#}"));
    }
    let out = opts.out.clone().unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs")));
    write_report(&ctx.report, &out, opts.quick)?;
    let _ = std::fs::remove_dir_all(&tmp);
    outcome
}

async fn run_scales(ctx: &mut Ctx, scale: Scale, opts: &Opts) -> anyhow::Result<()> {
    let (env, loaded_in) = sc::load(scale, &ctx.tmp).await?;
    ctx.figure(
        "Data",
        &format!("{} scale loaded with COPY", scale.name),
        format!(
            "{} people, {} practices, {} open calls, {} availability windows, {} past bookings in {:.1} s",
            env.data.people.len(),
            env.data.practices.len(),
            env.data.calls.len(),
            env.data.people.iter().map(|p| p.windows.len()).sum::<usize>(),
            env.data.history.len(),
            loaded_in.as_secs_f64()
        ),
    );
    let result = run_main(ctx, &env, opts).await;
    env.drop().await;
    result?;
    if opts.headroom && !ctx.quick && ctx.wants(Phase::Headroom) {
        let nl_rate = ctx.report.figures.iter().find(|f| f.name == "matches/s (nl)").map(|f| f.value.clone());
        let (henv, loaded_in) = sc::load(datagen::HEADROOM, &ctx.tmp).await?;
        ctx.figure(
            "Data",
            "headroom scale loaded with COPY",
            format!(
                "{} people, {} open calls, {} past bookings in {:.1} s",
                henv.data.people.len(),
                henv.data.calls.len(),
                henv.data.history.len(),
                loaded_in.as_secs_f64()
            ),
        );
        let r = headroom(ctx, &henv, nl_rate).await;
        henv.drop().await;
        r?;
    }
    Ok(())
}

/// Slices of people reserved for the booking phases, so they never collide.
struct Reserved<'a> {
    raw: &'a [datagen::Person],
    tp8: &'a [datagen::Person],
    tp16: &'a [datagen::Person],
    failover: &'a [datagen::Person],
}

fn reserve(people: &[datagen::Person], raw: usize, tp: usize, failover: usize) -> Reserved<'_> {
    let n = people.len();
    let start = n - raw - 2 * tp - failover;
    Reserved {
        raw: &people[start..start + raw],
        tp8: &people[start + raw..start + raw + tp],
        tp16: &people[start + raw + tp..start + raw + 2 * tp],
        failover: &people[start + raw + 2 * tp..n],
    }
}

async fn run_main(ctx: &mut Ctx, env: &Env, opts: &Opts) -> anyhow::Result<()> {
    let quick = ctx.quick;
    let scale = env.data.scale;
    let (raw_per_client, tp, failover_n) = if quick { (40u32, 60usize, 100usize) } else { (400, 1500, 500) };
    let reserved = reserve(&env.data.people, 8 * raw_per_client as usize, tp, failover_n);

    // ---- The limits -------------------------------------------------------
    let commit = limits::commit_p99(&env.su_url, ctx.secs(3.0, 10.0) as u64, &ctx.tmp).await?;
    ctx.limit("single-row commit p99, 1 client", commit.p99_ms, "ms", "pgbench -c 1, custom script: one INSERT");
    let redis = RedisTarget::of(&ctx.redis_url);
    let (ping_rps, ping_p99) = redis.ping(if quick { 5_000 } else { 50_000 }).await?;
    ctx.limit("Redis round trip p99", ping_p99, "ms", "redis-benchmark -c 1 -t ping (PING_MBULK)");
    let echo = limits::ws_echo(if quick { 1_000 } else { 10_000 }).await?;
    ctx.limit("WebSocket echo round trip p99", echo.p99_ms, "ms", "minimal tokio-tungstenite echo server, 1 client");
    let f = crate::report::floor_f(commit.p99_ms, ping_p99, echo.p99_ms);
    ctx.limit("F = commit + Redis + echo (p99)", f, "ms", "sum of the three above");
    ctx.figure("Limits in detail", "single-row commit", commit.cell());
    ctx.figure("Limits in detail", "Redis PING, 1 client", format!("{} /s", fmt_num(ping_rps)));
    ctx.figure("Limits in detail", "WebSocket echo", echo.cell());
    let tps_n = limits::pgbench_n(&env.su_url, 8, ctx.secs(3.0, 10.0) as u64).await?;
    ctx.limit("pgbench -N, 8 clients", tps_n, "tx/s", "pgbench -i -s 10, then -N -c 8 -j 2");
    let pair_calls = sc::raw_booking_pairs(env, reserved.raw).await?;
    let raw_tps = limits::raw_booking(&env.su_url, 8, raw_per_client, &ctx.tmp).await?;
    sc::raw_booking_cleanup(env, &pair_calls).await?;
    ctx.limit("booking statement raw, 8 clients", raw_tps, "tx/s", "pgbench -c 8: row lock + take_slot CTE, commit");
    let geo_key = format!("{}:geo", ctx.prefix);
    sc::geo_key(&ctx.redis_url, &geo_key, &env.data.people).await?;
    // Utrecht: central, dense, the ordinary case for a national index.
    let (geo_rps, geo_p99) = redis.geosearch(&geo_key, 5.122, 52.091, 8, if quick { 5_000 } else { 50_000 }).await?;
    ctx.limit("GEOSEARCH 25 km, same people, 8 clients", geo_rps, "/s", "redis-benchmark -c 8, one key, from Utrecht");
    ctx.figure("Limits in detail", "GEOSEARCH p99", format!("{} ms", fmt_num(geo_p99)));
    let engine = sc::engine_figures(env, if quick { 50 } else { 300 }).await?;
    ctx.limit(
        "linear scan p99 (rank over everyone)",
        engine.linear.p99_ms,
        "ms",
        "pb_domain::matching::rank in this process",
    );
    ctx.figure("Matching engine in process", "linear scan", engine.linear.cell());
    ctx.figure("Matching engine in process", "in-process index", engine.index.cell());
    ctx.figure(
        "Matching engine in process",
        "people / calls sampled",
        format!("{} / {} (index and scan agree on every call)", engine.people, engine.calls),
    );

    let data_dir = ctx.tmp.join("data");
    std::fs::create_dir_all(&data_dir)?;
    // Sends the mail of every phase below; stopped when this returns.
    let _mail_worker = match ctx.mail_worker {
        Some(nice) => Some(procs::start_worker(&ctx.server_env(env, None, &data_dir), nice).await?),
        None => None,
    };

    // ---- One instance, in-process engine: targets 3, 1, 4 -----------------
    let users = sc::client_users(&env.data, scale.clients);
    let post_secs = opts.post_secs.unwrap_or(if quick { 3.0 } else { 10.0 });
    let mut single_first_p99 = None;
    if ctx.wants(Phase::Match) || ctx.wants(Phase::Post) || ctx.wants(Phase::Book) {
        let server = procs::start_server(&ctx.server_env(env, None, &data_dir), "single").await?;
        if ctx.wants(Phase::Match) {
            match_phase(ctx, env, &server, &engine).await?;
        }
        if ctx.wants(Phase::Post) {
            single_first_p99 = Some(post_phase(ctx, env, &server, &users, post_secs, f).await?);
            if ctx.wants(Phase::Book) {
                settle(ctx, env, "the posts").await?;
            }
        }
        if ctx.wants(Phase::Book) {
            book_phase(ctx, env, &server, &reserved, tps_n, raw_tps).await?;
            if ctx.wants(Phase::Fan) || ctx.wants(Phase::Two) {
                settle(ctx, env, "the bookings").await?;
            }
        }
    }
    if ctx.wants(Phase::Fan) {
        fan_phase(ctx, env, &data_dir).await?;
    }
    if ctx.wants(Phase::Two) {
        two_phase(ctx, env, &data_dir, &users, post_secs, single_first_p99, &reserved).await?;
    }
    Ok(())
}

/// Wait, with the server still running, until it has sent the mail the
/// phase before queued (a post mails every offered person, a booking its
/// person), so that the next phase is timed on its own work and not on the
/// tail of the last one. Bounded; what was left is reported.
async fn settle(ctx: &mut Ctx, env: &Env, after: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let limit = Duration::from_secs(if ctx.quick { 30 } else { 180 });
    let queued = env.mail_due().await?;
    let mut left = queued;
    while left > 0 && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        left = env.mail_due().await?;
    }
    ctx.figure(
        "Between phases",
        &format!("mail due after {after}"),
        format!("{queued} rows, {left} left after {:.1} s", started.elapsed().as_secs_f64()),
    );
    Ok(())
}

async fn match_phase(ctx: &mut Ctx, env: &Env, server: &procs::Proc, engine: &sc::EngineFigures) -> anyhow::Result<()> {
    let scale = env.data.scale;
    let geo_rps = ctx.limit_value("GEOSEARCH 25 km, same people, 8 clients");
    let m = sc::match_rate(env, &ctx.tokens, &server.addr(), 8, ctx.secs(3.0, 15.0)).await?;
    ctx.figure("Matching over HTTP", &format!("matches/s ({})", scale.name), fmt_num(m.rate));
    ctx.figure("Matching over HTTP", "GET /shifts/{id}/candidates latency", m.latency.cell());
    ctx.figure("Matching over HTTP", "mean candidates per call", fmt_num(m.mean_candidates));
    ctx.figure("Matching over HTTP", "errors", m.errors.to_string());
    ctx.verdict(Verdict::new(
        "3",
        &format!("matches/s, {} scale, 8 clients, push off", scale.name),
        m.rate,
        "/s",
        Bound::AtLeast,
        geo_rps,
        "raw GEOSEARCH rate".into(),
    ));
    ctx.verdict(Verdict::new(
        "3",
        "server-side match p99 (HTTP candidates request)",
        m.latency.p99_ms,
        "ms",
        Bound::AtMost,
        10.0 * engine.linear.p99_ms,
        format!("10 x linear scan p99 {} ms", fmt_num(engine.linear.p99_ms)),
    ));
    ctx.verdict(Verdict::new(
        "3",
        "match p99, index alone (in process)",
        engine.index.p99_ms,
        "ms",
        Bound::AtMost,
        10.0 * engine.linear.p99_ms,
        format!("10 x linear scan p99 {} ms", fmt_num(engine.linear.p99_ms)),
    ));
    Ok(())
}

async fn post_phase(
    ctx: &mut Ctx,
    env: &Env,
    server: &procs::Proc,
    users: &[uuid::Uuid],
    post_secs: f64,
    f: f64,
) -> anyhow::Result<f64> {
    let t = Instant::now();
    let mut pool = sc::connect_clients(&ctx.tokens, users, &[server.addr()], false).await?;
    ctx.figure("Post to push", "clients connected", format!("{} in {:.1} s", users.len(), t.elapsed().as_secs_f64()));
    let pp = sc::post_to_push(env, &ctx.tokens, &mut pool, users, &server.addr(), 100.0, post_secs, 7).await?;
    post_push_figures(ctx, "Post to push (one instance, in-process engine)", &pp);
    // Then posts one at a time, after the burst's mail has gone out: what
    // a post costs when none queues behind another, to tell that from what
    // the burst adds (a figure, not a target).
    settle(ctx, env, "the burst").await?;
    let calm =
        sc::post_to_push(env, &ctx.tokens, &mut pool, users, &server.addr(), 4.0, ctx.secs(2.0, 10.0), 5).await?;
    pool.close().await;
    post_push_figures(ctx, "Post to push, one post at a time (4/s, in-process engine)", &calm);
    ctx.verdict(Verdict::new(
        "1",
        "post to first matched person p99",
        pp.first.p99_ms,
        "ms",
        Bound::AtMost,
        3.0 * f,
        format!("3 x F = 3 x {} ms", fmt_num(f)),
    ));
    ctx.verdict(Verdict::new(
        "1",
        "post to last matched person p99",
        pp.last.p99_ms,
        "ms",
        Bound::AtMost,
        5.0 * f,
        format!("5 x F = 5 x {} ms", fmt_num(f)),
    ));
    ctx.verdict(Verdict::exact("1", "pushes delivered (of expected)", pp.delivered as f64, pp.expected as f64));
    ctx.verdict(Verdict::exact("1", "pushes delivered twice", pp.duplicates as f64, 0.0));
    Ok(pp.first.p99_ms)
}

async fn book_phase(
    ctx: &mut Ctx,
    env: &Env,
    server: &procs::Proc,
    reserved: &Reserved<'_>,
    tps_n: f64,
    raw_tps: f64,
) -> anyhow::Result<()> {
    for (people, conc) in [(reserved.tp8, 8usize), (reserved.tp16, 16)] {
        let b = sc::booking_throughput(env, &ctx.tokens, &server.addr(), people, conc, 24 * 15).await?;
        ctx.figure(
            "Booking",
            &format!("{conc} accepters"),
            format!(
                "{} bookings of {} accepts, {} /s, latency {}, 5xx {}",
                b.booked,
                b.accepts,
                fmt_num(b.rate),
                b.latency.cell(),
                b.server_errors
            ),
        );
        ctx.verdict(Verdict::new(
            "4",
            &format!("bookings/s through HTTP, {conc} accepters"),
            b.rate,
            "/s",
            Bound::AtLeast,
            tps_n,
            "pgbench -N tx/s".into(),
        ));
        ctx.verdict(Verdict::new(
            "4",
            &format!("bookings/s vs raw statement, {conc} accepters"),
            b.rate,
            "/s",
            Bound::AtLeast,
            0.6 * raw_tps,
            format!("0.6 x raw {}", fmt_num(raw_tps)),
        ));
    }
    let (calls, per) = if ctx.quick { (40, 50) } else { (1_000, 50) };
    let c = sc::booking_contention(env, &ctx.tokens, &server.addr(), calls, per).await?;
    ctx.figure(
        "Booking",
        &format!("{calls} calls x {per} simultaneous accepts"),
        format!(
            "{} accepts, {} answered 201, {} bookings in the database, {} 5xx, {:.1} s",
            c.accepts,
            c.booked_201,
            c.bookings_in_db,
            c.server_errors,
            c.elapsed.as_secs_f64()
        ),
    );
    ctx.verdict(Verdict::exact(
        "4",
        &format!("bookings for {calls} calls x {per} accepts"),
        c.bookings_in_db as f64,
        calls as f64,
    ));
    ctx.verdict(Verdict::exact("4", "accepts answered 201", c.booked_201 as f64, calls as f64));
    ctx.verdict(Verdict::exact(
        "4",
        "double bookings (call or person)",
        (c.double_booked_calls + c.overlapping_person_bookings) as f64,
        0.0,
    ));
    Ok(())
}

/// Fan-out: one instance with Redis vs the reference.
async fn fan_phase(ctx: &mut Ctx, env: &Env, data_dir: &Path) -> anyhow::Result<()> {
    let scale = env.data.scale;
    let fan_n = scale.clients.min(10_000);
    let fan_users: Vec<uuid::Uuid> = sc::client_users(&env.data, fan_n);
    let fan_prefix = format!("{}:fan", ctx.prefix);
    let server =
        procs::start_server(&ctx.server_env(env, Some((&ctx.redis_url, &fan_prefix)), data_dir), "fan-out").await?;
    let rss0 = server.rss_kib();
    let mut pool = sc::connect_clients(&ctx.tokens, &fan_users, &[server.addr()], false).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let per_conn = (server.rss_kib().saturating_sub(rss0)) as f64 / fan_n as f64;
    let steps =
        sc::fanout_server(env, &mut pool, &fan_users, &ctx.redis_url, &fan_prefix, ctx.epoch, ctx.secs(1.0, 3.0), 50.0)
            .await?;
    pool.close().await;
    drop(server);
    let reference = procs::start_reference("ref-broadcast").await?;
    let rrss0 = reference.rss_kib();
    let mut rpool = crate::wsclient::connect_reference(&reference.addr(), fan_n, 64, ctx.epoch).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ref_per_conn = (reference.rss_kib().saturating_sub(rrss0)) as f64 / fan_n as f64;
    let rsteps = sc::fanout_reference(&reference.addr(), &mut rpool, ctx.epoch, ctx.secs(1.0, 3.0), 50.0).await?;
    rpool.close().await;
    drop(reference);
    for (name, st) in [("server", &steps), ("reference", &rsteps)] {
        for s in st.iter() {
            let produced = s.produced.as_ref().map_or(String::new(), |p| format!("; insert and poke {}", p.cell()));
            ctx.figure(
                "Fan-out steps",
                &format!("{name} at {} pushes/s", fmt_num(s.rate)),
                format!("{} of {} delivered, {}{produced}", s.received, s.sent, s.latency.cell()),
            );
        }
    }
    let (ceil_s, ceil_r) = (sc::ceiling(&steps, 50.0), sc::ceiling(&rsteps, 50.0));
    ctx.limit(
        "broadcast ceiling at p99 50 ms",
        ceil_r,
        "pushes/s",
        &format!("minimal broadcast server, {fan_n} connections"),
    );
    ctx.limit("reference memory per connection", ref_per_conn, "KiB", "RSS growth / connections");
    let mut v = Verdict::new(
        "2",
        &format!("pushes/s at p99 50 ms, {fan_n} connections, Redis bus"),
        ceil_s,
        "/s",
        Bound::AtLeast,
        0.5 * ceil_r,
        "half the reference ceiling".into(),
    );
    // No step within 50 ms on either side proves nothing.
    v.met = v.met && ceil_s > 0.0;
    ctx.verdict(v);
    ctx.verdict(Verdict::new(
        "2",
        "memory per connection",
        per_conn,
        "KiB",
        Bound::AtMost,
        2.0 * ref_per_conn,
        "2 x the reference".into(),
    ));

    Ok(())
}

/// Two instances with Redis, then a kill.
#[allow(clippy::too_many_arguments)]
async fn two_phase(
    ctx: &mut Ctx,
    env: &Env,
    data_dir: &Path,
    users: &[uuid::Uuid],
    post_secs: f64,
    single_first_p99: Option<f64>,
    reserved: &Reserved<'_>,
) -> anyhow::Result<()> {
    let quick = ctx.quick;
    let two_prefix = format!("{}:two", ctx.prefix);
    let senv = ctx.server_env(env, Some((&ctx.redis_url, &two_prefix)), data_dir);
    let a = procs::start_server(&senv, "a").await?;
    let mut b = procs::start_server(&senv, "b").await?;
    // The single-instance figure with the same (Redis) engine and bus.
    let mut pool = sc::connect_clients(&ctx.tokens, users, &[a.addr()], false).await?;
    let pp1 = sc::post_to_push(env, &ctx.tokens, &mut pool, users, &a.addr(), 100.0, post_secs, 13).await?;
    pool.close().await;
    post_push_figures(ctx, "Post to push (one instance, Redis engine and bus)", &pp1);
    // Each burst is timed on its own mail, as the in-process one is.
    settle(ctx, env, "the burst on one Redis instance").await?;
    let mut pool = sc::connect_clients(&ctx.tokens, users, &[b.addr()], false).await?;
    let pp2 = sc::post_to_push(env, &ctx.tokens, &mut pool, users, &a.addr(), 100.0, post_secs, 11).await?;
    pool.close().await;
    post_push_figures(ctx, "Post on one instance, push from the other (Redis)", &pp2);
    ctx.verdict(Verdict::new(
        "5",
        "two instances: post to first person p99",
        pp2.first.p99_ms,
        "ms",
        Bound::AtMost,
        1.5 * pp1.first.p99_ms,
        format!("1.5 x one Redis instance {} ms", fmt_num(pp1.first.p99_ms)),
    ));
    if let Some(single) = single_first_p99 {
        ctx.verdict(Verdict::new(
            "5",
            "two instances vs one in-process instance, first person p99",
            pp2.first.p99_ms,
            "ms",
            Bound::AtMost,
            1.5 * single,
            format!("1.5 x in-process instance {} ms", fmt_num(single)),
        ));
    }
    ctx.verdict(Verdict::exact(
        "5",
        "two instances: pushes delivered (of expected)",
        pp2.delivered as f64,
        pp2.expected as f64,
    ));
    settle(ctx, env, "the burst on two instances").await?;
    let kill_users: Vec<uuid::Uuid> = users.iter().copied().take(if quick { 200 } else { 2_000 }).collect();
    let fo =
        sc::failover(env, &ctx.tokens, &a, &mut b, &kill_users, reserved.failover, 50.0, ctx.secs(2.0, 5.0)).await?;
    drop(a);
    ctx.figure(
        "Failover",
        "clients on the killed instance",
        format!("{} ({} resumed on the other)", fo.clients, fo.resumed),
    );
    ctx.figure("Failover", "kill to ready on the other instance", fo.resume.cell());
    for (stage, summary) in &fo.stages {
        ctx.figure("Failover", &format!("of which: {stage}"), summary.cell());
    }
    ctx.figure(
        "Failover",
        "tries to resume that failed (tried again after a jittered back-off)",
        if fo.failed_tries.is_empty() {
            "none".into()
        } else {
            fo.failed_tries.iter().map(|(why, n)| format!("{why}: {n}")).collect::<Vec<_>>().join(", ")
        },
    );
    ctx.figure(
        "Failover",
        "bookings acknowledged by the killed instance",
        format!(
            "{} ({} missing afterwards); other answers by status {}",
            fo.acknowledged_bookings, fo.acknowledged_missing, fo.other_answers
        ),
    );
    ctx.verdict(Verdict::exact("5", "committed bookings lost", fo.acknowledged_missing as f64, 0.0));
    ctx.verdict(Verdict::exact("5", "clients resumed", fo.resumed as f64, fo.clients as f64));
    ctx.verdict(Verdict::new(
        "5",
        "kill to missed events delivered, p99",
        fo.resume.p99_ms,
        "ms",
        Bound::AtMost,
        1000.0,
        "1 s".into(),
    ));
    ctx.verdict(Verdict::exact("5", "events missed after resuming", fo.missed_after as f64, 0.0));
    ctx.verdict(Verdict::exact("5", "events delivered twice across the resume", fo.duplicates as f64, 0.0));
    Ok(())
}

fn post_push_figures(ctx: &mut Ctx, section: &str, pp: &sc::PostPush) {
    ctx.figure(
        section,
        "posts",
        format!(
            "{} sent at {} /s, {} failed, {} reached someone connected",
            pp.posts,
            fmt_num(pp.achieved_rate),
            pp.posts_failed,
            pp.posts_with_push
        ),
    );
    ctx.figure(section, "POST /shifts (from intended send)", pp.post_http.cell());
    ctx.figure(section, "to first matched person", pp.first.cell());
    ctx.figure(section, "to last matched person", pp.last.cell());
    ctx.figure(section, "pushes", format!("{} of {} delivered, {} twice", pp.delivered, pp.expected, pp.duplicates));
}

async fn headroom(ctx: &mut Ctx, env: &Env, nl_rate: Option<String>) -> anyhow::Result<()> {
    let data_dir = ctx.tmp.join("data-headroom");
    std::fs::create_dir_all(&data_dir)?;
    let t = Instant::now();
    let server = procs::start_server(&ctx.server_env(env, None, &data_dir), "headroom").await?;
    ctx.figure(
        "Matching over HTTP",
        "headroom start-up (index rebuild)",
        format!("{:.1} s", t.elapsed().as_secs_f64()),
    );
    let m = sc::match_rate(env, &ctx.tokens, &server.addr(), 8, 15.0).await?;
    drop(server);
    ctx.figure("Matching over HTTP", "matches/s (headroom)", fmt_num(m.rate));
    ctx.figure("Matching over HTTP", "headroom candidates latency", m.latency.cell());
    ctx.figure("Matching over HTTP", "headroom mean candidates per call", fmt_num(m.mean_candidates));
    let engine = sc::engine_figures(env, 100).await?;
    ctx.figure("Matching engine in process", "headroom linear scan", engine.linear.cell());
    ctx.figure("Matching engine in process", "headroom in-process index", engine.index.cell());
    // Without the NL phase in this run there is nothing to compare with.
    let Some(nl) = nl_rate.and_then(|v| v.replace(',', "").parse::<f64>().ok()) else { return Ok(()) };
    ctx.verdict(Verdict::new(
        "3",
        "matches/s at Headroom scale",
        m.rate,
        "/s",
        Bound::AtLeast,
        0.5 * nl,
        format!("half the NL rate {}", fmt_num(nl)),
    ));
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

pub const BEGIN: &str = "<!-- pb-bench:begin (generated; edit outside these markers) -->";
pub const END: &str = "<!-- pb-bench:end -->";

/// Put `generated` between the markers of `existing`, keeping the prose
/// around them; a document without markers gets them appended.
pub fn splice(existing: &str, generated: &str) -> String {
    let block = format!("{BEGIN}\n{generated}\n{END}");
    match (existing.find(BEGIN), existing.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{block}{}", &existing[..b], &existing[e + END.len()..]),
        _ if existing.trim().is_empty() => format!("# Performance\n\n{block}\n"),
        _ => format!("{}\n\n{block}\n", existing.trim_end()),
    }
}

fn write_report(report: &Report, out: &Path, quick: bool) -> anyhow::Result<()> {
    let dir = out.join("performance");
    std::fs::create_dir_all(&dir)?;
    let stamp = chrono::Utc::now().format("%Y-%m-%dT%H%M").to_string();
    let json = dir.join(format!("{stamp}-{}.json", if quick { "quick" } else { "full" }));
    std::fs::write(&json, serde_json::to_string_pretty(report)?)?;
    let md_path = out.join("performance.md");
    let existing = std::fs::read_to_string(&md_path).unwrap_or_default();
    std::fs::write(&md_path, splice(&existing, &report.markdown()))?;
    println!("report: {} and {}", md_path.display(), json.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_the_generated_block() {
        let first = splice("", "run one");
        assert!(first.starts_with("# Performance") && first.contains("run one"));
        let edited = first.replace("# Performance\n", "# Performance\n\nProse we keep.\n") + "\nMore prose.\n";
        let second = splice(&edited, "run two");
        assert!(second.contains("Prose we keep.") && second.contains("More prose."));
        assert!(second.contains("run two") && !second.contains("run one"));
        assert_eq!(second.matches(BEGIN).count(), 1);
        let appended = splice("# Title\n\nText", "run three");
        assert!(appended.starts_with("# Title\n\nText\n\n") && appended.contains("run three"));
    }

    #[test]
    fn reserved_slices_do_not_overlap() {
        let scale = Scale { people: 1000, practices: 10, open_calls: 1, ..datagen::REGION };
        let d = datagen::Generator::new(scale, 1, &["a", "b", "c", "d", "e", "f", "g", "h"])
            .generate(scale, chrono::Utc::now());
        let r = reserve(&d.people, 320, 150, 100);
        let mut ids: Vec<_> = [r.raw, r.tp8, r.tp16, r.failover].iter().flat_map(|s| s.iter().map(|p| p.id)).collect();
        assert_eq!(ids.len(), 720);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 720);
        assert_eq!(r.failover.last().unwrap().id, d.people[999].id);
    }
}
