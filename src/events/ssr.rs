use crate::account::EventRow;
use crate::error::AppError;
use crate::model::Platform;
use crate::state::AppState;
use crate::time_fmt::local;

fn meta_text(v: Option<serde_json::Value>) -> Option<String> {
    // serde_json writes non-ASCII as itself, so Cyrillic stays readable.
    v.filter(|v| !v.is_null()).map(|v| v.to_string())
}

pub async fn recent_for_user(
    state: &AppState,
    user_id: &str,
    limit: i64,
) -> Result<Vec<EventRow>, AppError> {
    let tz = state.config.timezone;
    let rows = sqlx::query!(
        r#"SELECT "id", "eventType" AS event_type, "platform" AS "platform: Platform", "createdAt" AS created_at,
                  "ipAddress" AS ip, "metadata"
           FROM "EventLog" WHERE "userId" = $1
           ORDER BY "createdAt" DESC, "id" DESC LIMIT $2"#,
        user_id,
        limit
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventRow {
            id: r.id,
            event_type: r.event_type,
            platform: r.platform,
            at: local(tz, r.created_at),
            ip: r.ip,
            metadata: meta_text(r.metadata),
        })
        .collect())
}

pub async fn recent(state: &AppState, limit: i64) -> Result<Vec<EventRow>, AppError> {
    let tz = state.config.timezone;
    let rows = sqlx::query!(
        r#"SELECT "id", "eventType" AS event_type, "platform" AS "platform: Platform", "createdAt" AS created_at,
                  "ipAddress" AS ip, "metadata"
           FROM "EventLog" ORDER BY "createdAt" DESC, "id" DESC LIMIT $1"#,
        limit
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventRow {
            id: r.id,
            event_type: r.event_type,
            platform: r.platform,
            at: local(tz, r.created_at),
            ip: r.ip,
            metadata: meta_text(r.metadata),
        })
        .collect())
}
