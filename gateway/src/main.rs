//! The `gateway` command: start a node, check its health, run migrations, parse or sync a
//! declarative configuration. Settings come from Kong's `KONG_*` environment variables; a
//! declarative configuration from a file or `KONG_DECLARATIVE_CONFIG_STRING`.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use gateway::settings::{self, Database, Settings};
use gateway::store::{migrations, PgStore, Store};
use gateway::{declarative, node::Node};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "gateway", version, about = "A Kong-compatible API gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the node: proxy, Admin API and status listeners.
    Start,
    /// Exit 0 when the local node answers as ready (for container health checks).
    Health {
        /// Status or Admin API base URL; default: from KONG_STATUS_LISTEN or KONG_ADMIN_LISTEN.
        #[arg(long)]
        url: Option<String>,
    },
    /// Database schema migrations.
    Migrations {
        #[command(subcommand)]
        action: Migrations,
    },
    /// Declarative configuration (Kong's `_format_version: "3.0"`), from a file or
    /// KONG_DECLARATIVE_CONFIG_STRING; `{vault://env/NAME}` values read environment variables.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
enum Migrations {
    /// Create the schema in an empty database (idempotent).
    Bootstrap,
    /// Apply pending migrations (idempotent; safe on several nodes at once).
    Up,
    /// Nothing waits for `finish` yet; accepted for Kong's deployment scripts.
    Finish,
    /// Show executed and pending migrations; exit 3 when the database needs bootstrapping,
    /// 5 when migrations are pending (Kong's codes).
    Status,
    /// Same as `status` (Kong's name).
    List,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Check a configuration; errors name file:line:column.
    Parse {
        /// Default: the text of KONG_DECLARATIVE_CONFIG_STRING.
        file: Option<PathBuf>,
    },
    /// Make the database match the configuration: print the diff, then apply it. With
    /// decK's `_info.select_tags`, only entities carrying all of them are updated or deleted.
    Sync {
        /// Default: the text of KONG_DECLARATIVE_CONFIG_STRING.
        file: Option<PathBuf>,
        /// Print the diff only.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match settings::from_env() {
        Ok(s) => s,
        Err(problems) => {
            for p in problems {
                eprintln!("gateway: {p}");
            }
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gateway: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(settings.tracing_level()));
    // Colours only on a terminal: ECS ships stderr to CloudWatch Logs, where escape codes are noise.
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Start => {
            for name in settings.ignored.keys() {
                tracing::info!(setting = %name, "setting accepted but not used by this gateway");
            }
            gateway::server::run(settings).await?;
        }
        Command::Health { url } => return health(url, &settings).await,
        Command::Migrations { action } => return migrate(action, &settings).await,
        Command::Config {
            action: ConfigAction::Parse { file },
        } => {
            let loaded = load(file.as_deref())?;
            println!("{}: ok ({} entities)", loaded.origin, loaded.config.len());
        }
        Command::Config {
            action: ConfigAction::Sync { file, dry_run },
        } => sync(file.as_deref(), dry_run, &settings).await?,
        Command::Version => println!("gateway {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(ExitCode::SUCCESS)
}

fn database_url(settings: &Settings) -> anyhow::Result<String> {
    match &settings.database {
        Database::Postgres(pg) => Ok(pg.url()),
        Database::Off => bail!("KONG_DATABASE is off: this command needs PostgreSQL"),
    }
}

/// Kong's exit codes for `migrations list`: 3 when the database needs bootstrapping, 5 when
/// migrations are pending, so deployment scripts can branch on them.
const NEEDS_BOOTSTRAP: u8 = 3;
const PENDING: u8 = 5;

async fn migrate(action: Migrations, settings: &Settings) -> anyhow::Result<ExitCode> {
    let url = database_url(settings)?;
    match action {
        Migrations::Bootstrap | Migrations::Up => {
            let bootstrap = matches!(action, Migrations::Bootstrap);
            if bootstrap {
                println!("Bootstrapping database...");
            }
            let applied = migrations::up(&url).await?;
            match (applied.len(), bootstrap) {
                (0, true) => println!("Database already bootstrapped"),
                (0, false) => println!("Database is already up-to-date"),
                (n, _) => {
                    for name in &applied {
                        println!("migrated: {name}");
                    }
                    println!("{n} migration{} executed", if n == 1 { "" } else { "s" });
                    println!("Database is up-to-date");
                }
            }
        }
        Migrations::Finish => println!("No pending migrations to finish"),
        Migrations::Status | Migrations::List => {
            let status = migrations::status(&url).await?;
            if !status.bootstrapped() {
                println!("Database needs bootstrapping; run 'gateway migrations bootstrap'");
                return Ok(ExitCode::from(NEEDS_BOOTSTRAP));
            }
            println!("Executed migrations:");
            for name in &status.executed {
                println!("  {name}");
            }
            if !status.pending.is_empty() {
                println!("Pending migrations:");
                for name in &status.pending {
                    println!("  {name}");
                }
                println!("Run 'gateway migrations up' to apply them");
                return Ok(ExitCode::from(PENDING));
            }
            println!("Database is up-to-date");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The declarative configuration from `file`, else from `KONG_DECLARATIVE_CONFIG_STRING`.
fn load(file: Option<&Path>) -> anyhow::Result<declarative::Loaded> {
    declarative::load(file, &declarative::process_env).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `_info.select_tags` limit what a sync compares, updates and deletes.
async fn sync(file: Option<&Path>, dry_run: bool, settings: &Settings) -> anyhow::Result<()> {
    let loaded = load(file)?;
    let url = database_url(settings)?;
    let store = Store::Postgres(PgStore::connect_lazy(&url)?);
    let current = store
        .load()
        .await
        .context("cannot read the current configuration")?;
    if let Some(line) = declarative::scope_line(&loaded.select_tags) {
        println!("{line}");
    }
    let changes = declarative::plan(&current, &loaded).map_err(|e| anyhow::anyhow!("{e}"))?;
    let secrets = &loaded.secrets;
    print!("{}", declarative::render(&changes, secrets));
    if !dry_run && !changes.is_empty() {
        // A store error may quote a value (`UNIQUE violation detected on '{key="..."}'`).
        declarative::apply(&store, &changes)
            .await
            .map_err(|e| anyhow::anyhow!("{}", secrets.redact(&e.to_string())))?;
        let node = Node::new(store, None);
        node.refresh().await?;
        println!("applied");
    }
    Ok(())
}

/// `gateway health`: GET /status/ready on the status listener, else /status on the Admin API.
async fn health(url: Option<String>, settings: &Settings) -> anyhow::Result<ExitCode> {
    let local = |l: &settings::Listen| {
        let port = l.addr.port();
        if l.addr.ip().is_unspecified() {
            format!("http://127.0.0.1:{port}")
        } else {
            format!("http://{}", l.addr)
        }
    };
    let target = match url {
        Some(u) => format!("{}/status", u.trim_end_matches('/')),
        None => match settings.status_listen.iter().find(|l| !l.ssl) {
            Some(l) => format!("{}/status/ready", local(l)),
            None => match settings.admin_listen.iter().find(|l| !l.ssl) {
                Some(l) => format!("{}/status", local(l)),
                None => bail!("no status or Admin API listener to check"),
            },
        },
    };
    match gateway::health::get_status(&target).await {
        Ok(200) => {
            println!("gateway is healthy ({target})");
            Ok(ExitCode::SUCCESS)
        }
        Ok(code) => {
            eprintln!("gateway is not ready: {target} answered {code}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("gateway is not running: {target}: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
