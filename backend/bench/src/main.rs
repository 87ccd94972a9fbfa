//! `pb-bench`: see the crate docs and docs/performance.md.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "pb-bench", about = "Personeelsbank benchmarks against this machine's own limits")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    opts: pb_bench::run::Opts,
}

#[derive(Subcommand)]
enum Command {
    /// (internal) One server instance, configured from the environment.
    #[command(hide = true)]
    ServeInstance,
    /// (internal) The notification dispatcher alone (`personeelsbank worker`).
    #[command(hide = true)]
    WorkerInstance,
    /// (internal) The reference WebSocket echo server.
    #[command(hide = true)]
    RefEcho {
        #[arg(long)]
        port: u16,
    },
    /// (internal) The reference WebSocket broadcast server.
    #[command(hide = true)]
    RefBroadcast {
        #[arg(long)]
        port: u16,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::ServeInstance) => {
            let config = personeelsbank::config::Config::from_env()?;
            personeelsbank::telemetry::init(&config.log);
            actix_web::rt::System::new().block_on(personeelsbank::serve::run(config))
        }
        Some(Command::WorkerInstance) => {
            let config = personeelsbank::config::Config::from_env()?;
            personeelsbank::telemetry::init(&config.log);
            actix_web::rt::System::new().block_on(personeelsbank::notify::dispatch::run_worker(config))
        }
        Some(Command::RefEcho { port }) => runtime()?.block_on(pb_bench::refserver::echo(port)),
        Some(Command::RefBroadcast { port }) => runtime()?.block_on(pb_bench::refserver::broadcast(port)),
        None => runtime()?.block_on(pb_bench::run::run(cli.opts, std::env::args().collect())),
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}
