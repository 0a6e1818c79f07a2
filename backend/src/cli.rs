//! The command line: `serve` (default), `migrate`, `openapi`, `agents create`.

use clap::{Parser, Subcommand};

use crate::config::{AppEnv, Config};
use crate::domain::agent::Role;
use crate::services::accounts::{self, NewAgentInput, Seed};
use crate::startup::{openapi_document, Application};
use crate::{db, telemetry};

#[derive(Parser)]
#[command(
    name = "warm-transfer",
    version,
    about = "Contact-center backend for warm transfers on Twilio Voice"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API, webhooks and SPA (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as YAML.
    Openapi,
    /// Manage agents.
    Agents {
        #[command(subcommand)]
        command: AgentsCommand,
    },
}

#[derive(Subcommand)]
enum AgentsCommand {
    /// Create an agent (e.g. the first admin).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Defaults to a generated password, printed once.
        #[arg(long, env = "AGENT_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        client_identity: Option<String>,
    },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi_yaml()?);
            Ok(())
        }
        Command::Serve => serve().await,
        Command::Migrate => {
            let config = load_config()?;
            telemetry::init(config.log_format);
            let applied = db::run_migrations(config.database.url.expose()).await?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Agents {
            command:
                AgentsCommand::Create {
                    email,
                    name,
                    password,
                    admin,
                    client_identity,
                },
        } => {
            let config = load_config()?;
            telemetry::init(config.log_format);
            db::run_migrations(config.database.url.expose()).await?;
            let pool = db::pool(config.database.url.expose(), 2)?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(accounts::generate_password);
            let agent = accounts::create_agent(
                &pool,
                NewAgentInput {
                    email,
                    display_name: name,
                    password: password.clone(),
                    role: if admin { Role::Admin } else { Role::Agent },
                    client_identity,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created {} {} ({})",
                agent.role,
                agent.email.as_str(),
                agent.id
            );
            if generated {
                println!("password (shown once): {password}");
            }
            Ok(())
        }
    }
}

pub fn openapi_yaml() -> anyhow::Result<String> {
    Ok(openapi_document().to_yaml()?)
}

fn load_config() -> anyhow::Result<Config> {
    Config::from_env().map_err(|e| anyhow::anyhow!("configuration error: {e}"))
}

async fn serve() -> anyhow::Result<()> {
    let config = load_config()?;
    telemetry::init(config.log_format);
    let env = config.env;
    let demo_admin = config.demo_admin.clone();
    let app = Application::build(config).await?;

    // First start: an admin (and in demo mode two agents), credentials shown once on the
    // console, never logged.
    if env == AppEnv::Development || demo_admin.is_some() || app.state().config.is_demo() {
        let seed = Seed {
            admin_email: demo_admin
                .as_ref()
                .map(|d| d.email.clone())
                .unwrap_or_else(|| "admin@example.com".into()),
            admin_password: demo_admin.as_ref().map(|d| d.password.expose().to_owned()),
            demo_agents: app.state().config.is_demo().then(|| {
                app.state()
                    .config
                    .demo_agent_password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
            }),
        };
        let created = accounts::seed_if_empty(&app.state().pool, seed)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !created.is_empty() {
            println!("\n  First start: sign in with (shown once)");
            for s in &created {
                println!(
                    "    {:<6} {:<24} {}",
                    s.agent.role.as_str(),
                    s.agent.email.as_str(),
                    s.password
                );
            }
            println!();
        }
    }
    let url = format!("http://{}:{}", app.state().config.host, app.port());
    println!("Warm Transfer is listening on {url}  (API docs: {url}/docs)");
    tracing::info!(
        port = app.port(),
        mode = if app.state().config.is_demo() {
            "demo"
        } else {
            "live"
        },
        "server started"
    );
    let shutdown = app.state().shutdown.clone();
    let grace_seconds = app.state().config.shutdown_grace.as_secs();
    tokio::spawn(async move {
        let signal = crate::shutdown::termination_signal().await;
        tracing::info!(
            signal,
            grace_seconds,
            "draining: not ready, no new connections, finishing requests in flight"
        );
        shutdown.begin();
        let again = crate::shutdown::termination_signal().await;
        tracing::warn!(
            signal = again,
            "second signal while draining: exiting at once"
        );
        std::process::exit(1);
    });
    app.run_until_stopped().await?;
    Ok(())
}
