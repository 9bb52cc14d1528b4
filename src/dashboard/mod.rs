//! The staff landing page. Charts and activity figures arrive with the dashboard issue;
//! today it shows the user totals per registration source.

use crate::error::AppError;
use crate::model::Platform;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceTotals {
    pub source: Platform,
    pub total: i64,
    pub last_7_days: i64,
    pub last_30_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub total_users: i64,
    pub by_source: Vec<SourceTotals>,
}

#[server(prefix = "/fn", endpoint = "dashboard/get")]
pub async fn dashboard() -> Result<DashboardData, AppError> {
    let _staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    let rows = sqlx::query!(
        r#"SELECT "registrationSource" AS "source: Platform", count(*) AS "total!",
                  count(*) FILTER (WHERE "createdAt" >= (now() AT TIME ZONE 'UTC') - interval '7 days') AS "d7!",
                  count(*) FILTER (WHERE "createdAt" >= (now() AT TIME ZONE 'UTC') - interval '30 days') AS "d30!"
           FROM "User" GROUP BY 1 ORDER BY 1"#
    )
    .fetch_all(&state.pool)
    .await?;
    let by_source: Vec<SourceTotals> = rows
        .into_iter()
        .map(|r| SourceTotals {
            source: r.source,
            total: r.total,
            last_7_days: r.d7,
            last_30_days: r.d30,
        })
        .collect();
    Ok(DashboardData {
        total_users: by_source.iter().map(|s| s.total).sum(),
        by_source,
    })
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| dashboard());
    view! {
        <Title text="DashboardData · Unified Portal"/>
        <h1>"DashboardData"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! {
                        <section class="cards">
                            <div class="card stat"><span class="label">"Users"</span>
                                <span class="value" id="total-users">{d.total_users}</span></div>
                            {d.by_source.into_iter().map(|s| view! {
                                <div class="card stat">
                                    <span class="label">{s.source.label()}</span>
                                    <span class="value">{s.total}</span>
                                    <span class="muted">{format!("+{} in 7 days · +{} in 30 days", s.last_7_days, s.last_30_days)}</span>
                                </div>
                            }).collect_view()}
                        </section>
                        <p><a href="/admin/users">"Browse users by source and region →"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
