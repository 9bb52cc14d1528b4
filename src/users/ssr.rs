//! Queries behind the users page.

use super::{PivotCell, UserListQuery, UserRow, UsersPage};
use crate::auth::display_name;
use crate::error::AppError;
use crate::model::{Platform, Region};
use crate::state::AppState;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The list's position: the last row's sort key. Signed so that a client cannot hand the
/// query arbitrary values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    pub t: NaiveDateTime,
    pub id: String,
}

pub struct Filters {
    pub source: Option<Platform>,
    pub region: Option<Region>,
    pub per_page: i64,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
}

pub fn parse(state: &AppState, q: &UserListQuery) -> Result<Filters, AppError> {
    let source = q
        .source
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()
        .map_err(|e| AppError::bad(format!("source: {e}")))?;
    let region = q
        .region
        .as_deref()
        .map(str::parse::<Region>)
        .transpose()
        .map_err(|e| AppError::bad(format!("region: {e}")))?;
    let per_page = match q.per_page.as_deref() {
        None => 50,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Err(AppError::bad(format!(
                    "per_page: {v:?} is not a number from 1 to 200"
                )))
            }
        },
    };
    let secret = state
        .config
        .require_portal_secret()
        .map_err(|_| AppError::Internal)?;
    let cursor = |name: &str, v: &Option<String>| -> Result<Option<Cursor>, AppError> {
        v.as_deref()
            .map(|c| {
                crate::auth::ssr::verify_value::<Cursor>(secret, "users", c)
                    .ok_or_else(|| AppError::bad(format!("{name}: the page link is damaged or was altered; start from the first page")))
            })
            .transpose()
    };
    let after = cursor("after", &q.after)?;
    let before = cursor("before", &q.before)?;
    if after.is_some() && before.is_some() {
        return Err(AppError::bad("after, before: give one of them, not both"));
    }
    Ok(Filters {
        source,
        region,
        per_page,
        after,
        before,
    })
}

pub async fn list(state: &AppState, q: &UserListQuery) -> Result<UsersPage, AppError> {
    let f = parse(state, q)?;
    let secret = state
        .config
        .require_portal_secret()
        .map_err(|_| AppError::Internal)?;
    let tz = state.config.timezone;
    let limit = f.per_page + 1;
    let backwards = f.before.is_some();
    let cur = f.after.as_ref().or(f.before.as_ref());
    let mut rows = sqlx::query!(
        r#"SELECT "id", "firstName" AS first_name, "lastName" AS last_name, "phone",
                  "telegramUsername" AS telegram_username,
                  "registrationSource" AS "source: Platform", "region" AS "region: Region",
                  "language", "createdAt" AS created_at
           FROM "User"
           WHERE ($1::"RegistrationSource" IS NULL OR "registrationSource" = $1)
             AND ($2::"Region" IS NULL OR "region" = $2)
             AND ($3::TIMESTAMP(3) IS NULL
                  OR ($5 = false AND ("createdAt", "id") < ($3, $4::TEXT))
                  OR ($5 = true AND ("createdAt", "id") > ($3, $4::TEXT)))
           ORDER BY
             CASE WHEN $5 THEN "createdAt" END ASC, CASE WHEN $5 THEN "id" END ASC,
             CASE WHEN NOT $5 THEN "createdAt" END DESC, CASE WHEN NOT $5 THEN "id" END DESC
           LIMIT $6"#,
        f.source as Option<Platform>,
        f.region as Option<Region>,
        cur.map(|c| c.t),
        cur.map(|c| c.id.clone()),
        backwards,
        limit,
    )
    .fetch_all(&state.pool)
    .await?;
    let more = rows.len() as i64 > f.per_page;
    rows.truncate(f.per_page as usize);
    if backwards {
        rows.reverse();
    }
    let key = |t: NaiveDateTime, id: &str| {
        crate::auth::ssr::sign_value(
            secret,
            "users",
            &Cursor {
                t,
                id: id.to_string(),
            },
        )
    };
    let (next, prev) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => {
            let next =
                (if backwards { true } else { more }).then(|| key(last.created_at, &last.id));
            let prev = (if backwards { more } else { cur.is_some() })
                .then(|| key(first.created_at, &first.id));
            (next, prev)
        }
        _ => (None, None),
    };

    let matching = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM "User"
           WHERE ($1::"RegistrationSource" IS NULL OR "registrationSource" = $1)
             AND ($2::"Region" IS NULL OR "region" = $2)"#,
        f.source as Option<Platform>,
        f.region as Option<Region>,
    )
    .fetch_one(&state.pool)
    .await?;
    let pivot = pivot(&state.pool).await?;
    let total_users = pivot.iter().map(|c| c.count).sum();

    Ok(UsersPage {
        rows: rows
            .into_iter()
            .map(|r| UserRow {
                name: display_name(r.first_name.as_deref(), r.last_name.as_deref(), None, None),
                id: r.id,
                phone: r.phone,
                telegram_username: r.telegram_username,
                source: r.source,
                region: r.region,
                language: r.language,
                created: crate::time_fmt::local(tz, r.created_at),
            })
            .collect(),
        matching,
        total_users,
        pivot,
        next,
        prev,
    })
}

pub async fn pivot(pool: &sqlx::PgPool) -> Result<Vec<PivotCell>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT "registrationSource" AS "source: Platform", "region" AS "region: Region", count(*) AS "n!"
           FROM "User" GROUP BY 1, 2"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PivotCell {
            source: r.source,
            region: r.region,
            count: r.n,
        })
        .collect())
}
