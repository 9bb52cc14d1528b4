//! The connection pool and the embedded migrations.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens a pool whose connections run in UTC: `TIMESTAMP(3)` columns hold UTC without a
/// zone, and `CURRENT_TIMESTAMP` would otherwise be converted through the server's zone.
fn parse_url(url: &str) -> Result<PgConnectOptions, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("DATABASE_URL: must start with postgres:// (a PostgreSQL URL)".into());
    }
    PgConnectOptions::from_str(url).map_err(|e| {
        format!(
            "DATABASE_URL: not a PostgreSQL URL ({})",
            one_line(&e.to_string())
        )
    })
}

pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, String> {
    // The list queries take optional filters as `($n IS NULL OR …)`; custom plans fold the
    // absent ones away so each request gets the index its filters need.
    let opts = parse_url(url)?.options([
        ("timezone", "UTC"),
        ("plan_cache_mode", "force_custom_plan"),
    ]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(opts)
        .await
        .map_err(|e| format!("database: cannot connect ({})", one_line(&e.to_string())))
}

/// A transaction for the hot write paths (sign-ins), whose statements are the same on
/// every call: it lets PostgreSQL reuse their plans, which the pool-wide
/// `force_custom_plan` (right for the optional-filter list queries) would re-plan on every
/// execution. One round trip, like a plain BEGIN.
pub async fn begin_hot_write(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; SET LOCAL plan_cache_mode = auto")
        .await
}

pub async fn migrate(pool: &PgPool) -> Result<(), String> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| format!("migrate: {}", one_line(&e.to_string())))
}

pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Creates the database named in `url` when the server lacks it, so a fresh machine needs
/// no manual step.
pub async fn create_if_missing(url: &str) -> Result<(), String> {
    use sqlx::migrate::MigrateDatabase;
    parse_url(url)?;
    let exists = sqlx::Postgres::database_exists(url)
        .await
        .map_err(|e| format!("database: cannot connect ({})", one_line(&e.to_string())))?;
    if !exists {
        sqlx::Postgres::create_database(url)
            .await
            .map_err(|e| format!("database: cannot create it ({})", one_line(&e.to_string())))?;
    }
    Ok(())
}
