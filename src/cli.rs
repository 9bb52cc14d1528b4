//! The command line (CONTRACT §3). Every failure is one line on stderr: exit 2 for usage,
//! 1 for everything else.

use crate::config::{Config, Secret};
use crate::model::{Platform, Role};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "unified-portal",
    version,
    about = "Unified Portal: admin portal and identity edge of the Unified System"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (the default).
    Serve,
    /// Apply the database migrations.
    Migrate,
    /// Load deterministic demo data.
    Seed(SeedArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Telegram helpers.
    #[command(subcommand)]
    Telegram(TelegramCommand),
    /// Manage the API keys of the other platforms (for POST /api/v1/events).
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; prints `id: …` and `key: …` (the key is shown only this once).
    Create {
        /// The platform the key speaks for: WEB, TELEGRAM or MOBILE_APP.
        #[arg(long, value_parser = parse_platform)]
        platform: Platform,
        /// Who uses the key, e.g. "Telegram bot".
        #[arg(long)]
        name: String,
    },
    /// List the keys (never the keys themselves).
    List,
    /// Revoke a key by its id; requests with it are refused from then on.
    Revoke {
        /// The key's id, as `create` and `list` print it.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Number of users to create.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub users: u64,
    /// Number of events to create.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=1_000_000_000))]
    pub events: u64,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff member; the password comes from PORTAL_ADMIN_PASSWORD or a prompt.
    Create {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long, default_value = "ADMIN", value_parser = parse_role)]
        role: Role,
    },
    /// Change someone's role.
    Grant {
        #[arg(
            long,
            conflicts_with = "telegram_id",
            required_unless_present = "telegram_id"
        )]
        phone: Option<String>,
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        telegram_id: Option<i64>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum TelegramCommand {
    /// Print a Login Widget callback URL signed with TELEGRAM_BOT_TOKEN, for trying sign-in by hand.
    Sign {
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        photo_url: Option<String>,
        /// Unix seconds; defaults to now.
        #[arg(long)]
        auth_date: Option<i64>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    s.parse()
}

/// A failure of a command, printed as one line.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(crate::db::one_line(&e.to_string()))
    }
}

pub async fn run(cli: Cli, config: Config) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let url = config.require_database_url()?;
            crate::db::create_if_missing(url).await.map_err(CliError)?;
            let pool = crate::db::connect(url, 2).await.map_err(CliError)?;
            crate::db::migrate(&pool).await.map_err(CliError)?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed(a) => {
            let pool = crate::db::connect(config.require_database_url()?, 4)
                .await
                .map_err(CliError)?;
            crate::db::migrate(&pool).await.map_err(CliError)?;
            let report = crate::seed::run(
                &pool,
                crate::seed::SeedOptions {
                    users: a.users,
                    events: a.events,
                    seed: a.seed,
                    progress: true,
                },
            )
            .await?;
            println!("{report}");
            Ok(())
        }
        Command::Admin(cmd) => admin(config, cmd).await,
        Command::ApiKey(cmd) => api_key(config, cmd).await,
        Command::Telegram(TelegramCommand::Sign {
            id,
            first_name,
            last_name,
            username,
            photo_url,
            auth_date,
        }) => {
            let token = config.telegram_bot_token.as_ref().ok_or_else(|| {
                CliError(
                    "TELEGRAM_BOT_TOKEN: is not set; telegram sign signs with the bot's token"
                        .into(),
                )
            })?;
            let auth_date = auth_date
                .unwrap_or_else(|| chrono::Utc::now().timestamp())
                .to_string();
            let id = id.to_string();
            let mut fields: Vec<(&str, &str)> = vec![
                ("id", &id),
                ("first_name", &first_name),
                ("auth_date", &auth_date),
            ];
            for (k, v) in [
                ("last_name", &last_name),
                ("username", &username),
                ("photo_url", &photo_url),
            ] {
                if let Some(v) = v {
                    fields.push((k, v));
                }
            }
            let hash = crate::telegram::verify::sign_widget(&fields, token.expose());
            let mut qs = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                qs.append_pair(k, v);
            }
            qs.append_pair("hash", &hash);
            println!(
                "{}/auth/telegram/callback?{}",
                config.public_url,
                qs.finish()
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    config.require_portal_secret()?;
    let pool = crate::db::connect(config.require_database_url()?, 16)
        .await
        .map_err(CliError)?;
    crate::db::migrate(&pool).await.map_err(CliError)?;
    // A changed PORTAL_TIMEZONE rebuilds the rollups here, before listening, rather than
    // inside the first dashboard request.
    crate::dashboard::ssr::ensure_zone(&pool, config.timezone)
        .await
        .map_err(|e| CliError(format!("activity rollups: {e}")))?;
    let addr = config.site_addr;
    let state = crate::server::app_state(pool.clone(), config);
    crate::server::spawn_housekeeping(pool);
    let app = crate::server::router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError(format!("LEPTOS_SITE_ADDR: cannot listen on {addr} ({e})")))?;
    tracing::info!("listening on http://{addr}");
    crate::server::serve(listener, app, crate::server::HEADER_READ_TIMEOUT, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn admin(config: Config, cmd: AdminCommand) -> Result<(), CliError> {
    let pool = crate::db::connect(config.require_database_url()?, 2)
        .await
        .map_err(CliError)?;
    crate::db::migrate(&pool).await.map_err(CliError)?;
    match cmd {
        AdminCommand::Create {
            phone,
            first_name,
            role,
        } => {
            let phone = crate::auth::ssr::normalize_phone(&phone).map_err(CliError)?;
            if sqlx::query_scalar!(r#"SELECT "id" FROM "User" WHERE "phone" = $1"#, phone)
                .fetch_optional(&pool)
                .await?
                .is_some()
            {
                return Err(CliError(format!(
                    "phone: {phone} already belongs to a user (use `admin grant` to change a role)"
                )));
            }
            let password = match config.admin_password.clone() {
                Some(p) => p,
                None => Secret::new(
                    rpassword::prompt_password("Password for the new staff member: ").map_err(
                        |e| {
                            CliError(format!(
                                "password: cannot read it ({e}); set PORTAL_ADMIN_PASSWORD"
                            ))
                        },
                    )?,
                ),
            };
            if password.expose().chars().count() < crate::auth::ssr::MIN_PASSWORD_LEN {
                return Err(CliError(format!(
                    "password: must be at least {} characters",
                    crate::auth::ssr::MIN_PASSWORD_LEN
                )));
            }
            let hash = crate::auth::ssr::hash_password(password)
                .await
                .map_err(|e| CliError(e.to_string()))?;
            let id = uuid::Uuid::new_v4().to_string();
            let inserted = sqlx::query!(
                r#"INSERT INTO "User" ("id", "firstName", "phone", "role", "passwordHash", "registrationSource", "updatedAt")
                   VALUES ($1, $2, $3, $4, $5, 'WEB', now() AT TIME ZONE 'UTC')
                   ON CONFLICT ("phone") DO NOTHING"#,
                id,
                first_name,
                phone,
                role as Role,
                hash
            )
            .execute(&pool)
            .await?;
            if inserted.rows_affected() == 0 {
                return Err(CliError(format!(
                    "phone: {phone} already belongs to a user"
                )));
            }
            println!("created {} {phone} (id {id})", role.as_str());
            Ok(())
        }
        AdminCommand::Grant {
            phone,
            telegram_id,
            role,
        } => {
            let phone = phone
                .map(|p| crate::auth::ssr::normalize_phone(&p))
                .transpose()
                .map_err(CliError)?;
            let row = sqlx::query!(
                r#"UPDATE "User" SET "role" = $3, "updatedAt" = now() AT TIME ZONE 'UTC'
                   WHERE ("phone" = $1 OR "telegramId" = $2)
                   RETURNING "id""#,
                phone,
                telegram_id,
                role as Role
            )
            .fetch_optional(&pool)
            .await?;
            match row {
                Some(r) => {
                    println!("{} is now {}", r.id, role.as_str());
                    Ok(())
                }
                None => Err(CliError(match (phone, telegram_id) {
                    (Some(p), _) => format!("phone: no user has {p}"),
                    (_, Some(t)) => format!("telegram-id: no user has {t}"),
                    _ => "give --phone or --telegram-id".into(),
                })),
            }
        }
    }
}

async fn api_key(config: Config, cmd: ApiKeyCommand) -> Result<(), CliError> {
    use crate::ingest::ssr;
    let pool = crate::db::connect(config.require_database_url()?, 2)
        .await
        .map_err(CliError)?;
    crate::db::migrate(&pool).await.map_err(CliError)?;
    let utc = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%SZ").to_string();
    match cmd {
        ApiKeyCommand::Create { platform, name } => {
            let name = ssr::check_name(&name).map_err(CliError)?;
            let k = ssr::create_key(&pool, &name, platform)
                .await
                .map_err(|e| CliError(e.to_string()))?;
            println!("id: {}", k.id);
            println!("key: {}", k.key);
            Ok(())
        }
        ApiKeyCommand::List => {
            let keys = ssr::list_keys(&pool)
                .await
                .map_err(|e| CliError(e.to_string()))?;
            if keys.is_empty() {
                println!("no API keys");
                return Ok(());
            }
            println!("id\tname\tplatform\tcreated\tlast used\trevoked");
            for k in keys {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.name,
                    k.platform,
                    utc(k.created_at),
                    k.last_used_at.map(utc).unwrap_or_else(|| "never".into()),
                    k.revoked_at.map(utc).unwrap_or_else(|| "-".into()),
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id } => match ssr::revoke_key(&pool, &id).await {
            Ok(ssr::Revoked::Now(k)) => {
                println!("revoked {} ({})", k.id, k.name);
                Ok(())
            }
            Ok(ssr::Revoked::Already(k)) => {
                println!(
                    "{} ({}) was already revoked at {}",
                    k.id,
                    k.name,
                    k.revoked_at.map(utc).unwrap_or_default()
                );
                Ok(())
            }
            Err(crate::error::AppError::NotFound(_)) => {
                Err(CliError(format!("api-key: no key has id {id:?}")))
            }
            Err(e) => Err(CliError(e.to_string())),
        },
    }
}
