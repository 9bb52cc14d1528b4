//! The dashboard's reads. Each is a small aggregate over a rollup table the database keeps
//! (see migrations/20261204000001_activity_rollups.sql); none scans "User" or "EventLog".

use super::charts::Series;
use super::{ActiveUsers, DashboardData, SourceTotals, DEFAULT_PERIOD, PERIODS};
use crate::error::AppError;
use crate::model::Platform;
use crate::state::AppState;
use chrono::{Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};

pub fn parse_period(v: Option<&str>) -> Result<u32, AppError> {
    let v = v.map(str::trim).filter(|v| !v.is_empty());
    match v {
        None => Ok(DEFAULT_PERIOD),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|n| PERIODS.contains(n))
            .ok_or_else(|| {
                let shown: String = p.chars().take(40).collect();
                AppError::bad(format!(
                    "period: {shown:?} is not one of 7, 30 or 90 (days)"
                ))
            }),
    }
}

/// The rollups count local days of one zone; when the portal runs in another one they are
/// rebuilt once (writers of "User" and "EventLog" wait meanwhile).
pub async fn ensure_zone(pool: &PgPool, tz: Tz) -> Result<(), AppError> {
    let built =
        sqlx::query_scalar!(r#"SELECT "timeZone" FROM "ActivityRollupState" WHERE "id" = 1"#)
            .fetch_optional(pool)
            .await?;
    if built.as_deref() != Some(tz.name()) {
        tracing::info!(zone = tz.name(), was = ?built, "rebuilding the activity rollups");
        sqlx::query_scalar!(
            r#"SELECT portal_rebuild_activity_rollups($1, false) AS "rebuilt!""#,
            tz.name()
        )
        .fetch_one(pool)
        .await?;
    }
    Ok(())
}

/// Folds the rollups' appended deltas together; also safe while writers append.
pub async fn compact(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT true AS "ok!" FROM portal_compact_activity_rollups()"#)
        .fetch_one(pool)
        .await?;
    Ok(())
}

static LAST_COMPACTION: AtomicI64 = AtomicI64::new(0);

/// At most every five minutes, in the background, so the tables the page sums stay small.
fn compact_now_and_then(pool: &PgPool) {
    let now = Utc::now().timestamp();
    let last = LAST_COMPACTION.load(Ordering::Relaxed);
    if now - last < 300
        || LAST_COMPACTION
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        if let Err(e) = compact(&pool).await {
            tracing::warn!(error = %e, "activity rollup compaction failed");
        }
    });
}

pub fn today_in(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

pub async fn load(state: &AppState, period: u32) -> Result<DashboardData, AppError> {
    let tz = state.config.timezone;
    let pool = &state.pool;
    ensure_zone(pool, tz).await?;
    compact_now_and_then(pool);
    let today = today_in(tz);
    load_at(pool, tz, today, period).await
}

/// The dashboard as of local day `today`.
pub async fn load_at(
    pool: &PgPool,
    tz: Tz,
    today: NaiveDate,
    period: u32,
) -> Result<DashboardData, AppError> {
    let start = today - Duration::days(i64::from(period) - 1);
    let since = today - Duration::days(i64::from(period.max(30)) - 1);
    let days: Vec<NaiveDate> = (0..i64::from(period))
        .map(|k| start + Duration::days(k))
        .collect();
    let index: HashMap<NaiveDate, usize> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();

    // Five independent reads, side by side on their own connections.
    let (signups, events, top, active, split) = tokio::try_join!(
        async {
            sqlx::query!(
                r#"SELECT "day" AS "day!", "registrationSource" AS "source!: Platform",
                          sum("delta")::BIGINT AS "n!"
                   FROM "UserSignupDelta" WHERE "day" BETWEEN $1 AND $2
                   GROUP BY 1, 2"#,
                since,
                today
            )
            .fetch_all(pool)
            .await
            .map_err(AppError::from)
        },
        async {
            sqlx::query!(
                r#"SELECT "day" AS "day!", "platform" AS "platform!: Platform", sum("delta")::BIGINT AS "n!"
                   FROM "EventCountDelta" WHERE "day" BETWEEN $1 AND $2
                   GROUP BY 1, 2"#,
                start,
                today
            )
            .fetch_all(pool)
            .await
            .map_err(AppError::from)
        },
        async {
            sqlx::query!(
                r#"SELECT "eventType" AS "event_type!", sum("delta")::BIGINT AS "n!"
                   FROM "EventCountDelta" WHERE "day" BETWEEN $1 AND $2
                   GROUP BY 1 HAVING sum("delta") > 0
                   ORDER BY 2 DESC, 1 LIMIT 10"#,
                start,
                today
            )
            .fetch_all(pool)
            .await
            .map_err(AppError::from)
        },
        async {
            sqlx::query!(
                r#"SELECT "scope" AS "scope!",
                          COALESCE(sum("delta") FILTER (WHERE "lastDay" >= $1), 0)::BIGINT AS "dau!",
                          COALESCE(sum("delta") FILTER (WHERE "lastDay" >= $2), 0)::BIGINT AS "wau!",
                          COALESCE(sum("delta"), 0)::BIGINT AS "mau!"
                   FROM "ActiveUserDelta" WHERE "lastDay" >= $3
                   GROUP BY 1"#,
                today,
                today - Duration::days(6),
                today - Duration::days(29)
            )
            .fetch_all(pool)
            .await
            .map_err(AppError::from)
        },
        crate::users::ssr::pivot(pool),
    )?;

    let by_source: Vec<SourceTotals> = Platform::ALL
        .iter()
        .map(|s| {
            let in_window = |from: NaiveDate| {
                signups
                    .iter()
                    .filter(|r| r.source == *s && r.day >= from)
                    .map(|r| r.n)
                    .sum::<i64>()
            };
            SourceTotals {
                source: *s,
                total: split
                    .iter()
                    .filter(|c| c.source == *s)
                    .map(|c| c.count)
                    .sum(),
                today: in_window(today),
                last_7_days: in_window(today - Duration::days(6)),
                last_30_days: in_window(today - Duration::days(29)),
            }
        })
        .collect();

    let per_day = |rows: &mut dyn Iterator<Item = (NaiveDate, Platform, i64)>| {
        let mut out: Vec<Series> = Platform::ALL
            .iter()
            .map(|p| Series {
                key: p.as_str().into(),
                label: p.label().into(),
                values: vec![0; days.len()],
            })
            .collect();
        for (d, p, n) in rows {
            if let (Some(i), Some(j)) = (index.get(&d), Platform::ALL.iter().position(|x| *x == p))
            {
                out[j].values[*i] += n;
            }
        }
        out
    };
    let signup_series = per_day(&mut signups.iter().map(|r| (r.day, r.source, r.n)));
    let event_series = per_day(&mut events.iter().map(|r| (r.day, r.platform, r.n)));

    let scopes: Vec<(String, String)> = Platform::ALL
        .iter()
        .map(|p| (p.as_str().to_string(), p.label().to_string()))
        .chain(std::iter::once((
            "ALL".to_string(),
            "Any platform".to_string(),
        )))
        .collect();
    let active = scopes
        .into_iter()
        .map(|(scope, label)| {
            let r = active.iter().find(|r| r.scope == scope);
            ActiveUsers {
                dau: r.map(|r| r.dau).unwrap_or(0),
                wau: r.map(|r| r.wau).unwrap_or(0),
                mau: r.map(|r| r.mau).unwrap_or(0),
                scope,
                label,
            }
        })
        .collect();

    Ok(DashboardData {
        period,
        today: today.to_string(),
        timezone: tz.name().to_string(),
        days: days.iter().map(|d| d.to_string()).collect(),
        total_users: split.iter().map(|c| c.count).sum(),
        by_source,
        active,
        signups: signup_series,
        events: event_series,
        top_types: top.into_iter().map(|r| (r.event_type, r.n)).collect(),
        split,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_checked() {
        assert_eq!(parse_period(None).unwrap(), 30);
        assert_eq!(parse_period(Some("")).unwrap(), 30);
        assert_eq!(parse_period(Some("7")).unwrap(), 7);
        assert_eq!(parse_period(Some("90")).unwrap(), 90);
        for bad in ["0", "14", "-7", "abc", "7.0", "99999999999999"] {
            let e = parse_period(Some(bad)).unwrap_err();
            assert!(e.to_string().starts_with("period:"), "{bad}: {e}");
        }
    }
}
