//! `personeelsbank`: parse config, start tracing, dispatch a subcommand.

use anyhow::Context;
use clap::{Parser, Subcommand};
use personeelsbank::{config::Config, serve, telemetry};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "personeelsbank", version, about = "Staff-sharing marketplace for Dutch general practice")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and web app (the default).
    Serve,
    /// Send notifications from the outbox only (no HTTP), until a signal.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo region into an empty database and exit.
    Demo,
    /// Print the OpenAPI document.
    Openapi,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = Config::from_env().context("configuration")?;
    telemetry::init(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(config).await,
        Command::Worker => personeelsbank::notify::dispatch::run_worker(config).await,
        Command::Migrate => {
            let db = serve::resolve_database(&config).await?;
            serve::migrate(db.owner_url.as_deref().context("set DATABASE_OWNER_URL (the schema owner)")?).await
        }
        Command::Demo => {
            let db = serve::resolve_database(&config).await?;
            if config.database.migrate_on_start {
                serve::migrate(db.owner_url.as_deref().context("set DATABASE_OWNER_URL (the schema owner)")?).await?;
            }
            let state = serve::build_state(Arc::new(config), &db.app_url).await?;
            let seeded = serve::seed_demo(&state).await?;
            println!("{}", if seeded { "demo data loaded" } else { "database not empty: nothing loaded" });
            Ok(())
        }
        Command::Openapi => {
            print!("{}", personeelsbank::openapi::document_json());
            Ok(())
        }
    }
}
