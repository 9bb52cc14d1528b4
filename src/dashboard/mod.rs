//! The staff landing page: users by registration source, active users by platform, and
//! charts of sign-ups, events and event types over a period (`?period=7|30|90`). Every
//! figure comes from rollups the database keeps (migration `activity_rollups`), so the page
//! costs the same at a million users as at a hundred. Charts are server-rendered SVG, each
//! with a table of its numbers.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::model::{Platform, Region};
use crate::users::PivotCell;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

pub mod charts;
#[cfg(feature = "ssr")]
pub mod ssr;

use charts::{Chart, ChartKind, Series};

pub const PERIODS: &[u32] = &[7, 30, 90];
pub const DEFAULT_PERIOD: u32 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceTotals {
    pub source: Platform,
    pub total: i64,
    pub today: i64,
    pub last_7_days: i64,
    pub last_30_days: i64,
}

/// Distinct people with at least one event (staff actions aside) in the last 1, 7 and 30
/// local days, on one platform (`scope` = its name) or on any (`ALL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveUsers {
    pub scope: String,
    pub label: String,
    pub dau: i64,
    pub wau: i64,
    pub mau: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub period: u32,
    /// Today in `timezone`, YYYY-MM-DD.
    pub today: String,
    pub timezone: String,
    /// The period's local days, oldest first (YYYY-MM-DD).
    pub days: Vec<String>,
    pub total_users: i64,
    pub by_source: Vec<SourceTotals>,
    pub active: Vec<ActiveUsers>,
    /// Sign-ups per day of the period, one series per registration source.
    pub signups: Vec<Series>,
    /// Events per day of the period, one series per platform (staff actions aside).
    pub events: Vec<Series>,
    /// The ten most frequent event types of the period, most frequent first.
    pub top_types: Vec<(String, i64)>,
    /// All users by registration source and region.
    pub split: Vec<PivotCell>,
}

#[server(prefix = "/fn", endpoint = "dashboard/get")]
pub async fn dashboard(period: Option<String>) -> Result<DashboardData, AppError> {
    let _staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    let period = ssr::parse_period(period.as_deref())?;
    ssr::load(&state, period).await
}

pub mod ids {
    pub const PERIOD: &str = "period-switch";
    pub const TOTAL_USERS: &str = "total-users";
    pub const SIGNUPS: &str = "chart-signups";
    pub const EVENTS: &str = "chart-events";
    pub const TOP_TYPES: &str = "chart-top-types";
    pub const ACTIVE: &str = "chart-active";
    pub const SPLIT: &str = "chart-split";
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let period = Memo::new(move |_| query.read().get("period").filter(|p| !p.trim().is_empty()));
    let data = Resource::new_blocking(move || period.get(), dashboard);
    view! {
        <PageTitle text="Dashboard · Unified Portal"/>
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(d) => view! { <DashboardView d/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn cell(key: String, n: i64) -> impl IntoView {
    view! { <span class="value" data-cell=key>{n}</span> }
}

#[component]
fn DashboardView(d: DashboardData) -> impl IntoView {
    let period = d.period;
    let switch = PERIODS
        .iter()
        .map(|p| {
            let current = *p == period;
            view! {
                <a href=format!("/admin?period={p}") class:current=current
                    aria-current=current.then_some("page") data-period=p.to_string()>
                    {format!("{p} days")}
                </a>
            }
        })
        .collect_view();
    let first_day = d.days.first().cloned().unwrap_or_default();
    let cards = d
        .by_source
        .iter()
        .map(|s| {
            let k = s.source.as_str();
            view! {
                <div class="card stat" data-source=k>
                    <span class="label">{format!("{} users", s.source.label())}</span>
                    {cell(format!("users|{k}|total"), s.total)}
                    <span class="muted">
                        "+" <span data-cell=format!("users|{k}|today")>{s.today}</span> " today · +"
                        <span data-cell=format!("users|{k}|7")>{s.last_7_days}</span> " in 7 days · +"
                        <span data-cell=format!("users|{k}|30")>{s.last_30_days}</span> " in 30 days"
                    </span>
                </div>
            }
        })
        .collect_view();
    let new_today: i64 = d.by_source.iter().map(|s| s.today).sum();

    let active_series: Vec<Series> = d
        .active
        .iter()
        .map(|a| Series {
            key: a.scope.clone(),
            label: a.label.clone(),
            values: vec![a.dau, a.wau, a.mau],
        })
        .collect();
    let active_x = vec!["DAU".to_string(), "WAU".to_string(), "MAU".to_string()];
    let type_series = vec![Series {
        key: "events".into(),
        label: "Events".into(),
        values: d.top_types.iter().map(|(_, n)| *n).collect(),
    }];
    let type_x: Vec<String> = d.top_types.iter().map(|(t, _)| t.clone()).collect();
    let split_series: Vec<Series> = Platform::ALL
        .iter()
        .map(|s| Series {
            key: s.as_str().into(),
            label: s.label().into(),
            values: Region::ALL
                .iter()
                .map(|r| {
                    d.split
                        .iter()
                        .find(|c| c.source == *s && c.region == *r)
                        .map(|c| c.count)
                        .unwrap_or(0)
                })
                .collect(),
        })
        .collect();
    let split_x: Vec<String> = Region::ALL.iter().map(|r| r.as_str().to_string()).collect();
    let range = format!("{first_day} – {} ({})", d.today, d.timezone);

    view! {
        <nav class="period-switch" id=ids::PERIOD aria-label="Period">
            <span class="muted">"Period: "</span>
            {switch}
            <span class="muted range">{range}</span>
        </nav>
        <section class="cards">
            <div class="card stat">
                <span class="label">"Users"</span>
                <span class="value" id=ids::TOTAL_USERS data-cell="users|ALL|total">{d.total_users}</span>
                <span class="muted">{format!("+{new_today} today")}</span>
            </div>
            {cards}
        </section>
        <div class="charts">
            <Chart id=ids::ACTIVE kind=ChartKind::GroupedBars
                title="Active users by platform".into()
                note="Distinct people with an event in the last 1 / 7 / 30 local days (staff actions excluded)".into()
                x=active_x x_label="Window".into() series=active_series/>
            <Chart id=ids::SIGNUPS kind=ChartKind::StackedBars
                title=format!("Sign-ups per day by source, last {period} days")
                note="New users per local day, stacked by registration source".into()
                x=d.days.clone() x_label="Day".into() series=d.signups.clone()/>
            <Chart id=ids::EVENTS kind=ChartKind::Lines
                title=format!("Events per day by platform, last {period} days")
                note="Events per local day (staff actions excluded)".into()
                x=d.days.clone() x_label="Day".into() series=d.events.clone()/>
            <Chart id=ids::TOP_TYPES kind=ChartKind::HorizontalBars
                title=format!("Top event types, last {period} days")
                note="The ten most frequent event types of the period".into()
                x=type_x x_label="Event type".into() series=type_series/>
            <Chart id=ids::SPLIT kind=ChartKind::StackedBars
                title="All users by region and registration source".into()
                note="Every user, by region, stacked by registration source".into()
                x=split_x x_label="Region".into() series=split_series/>
        </div>
        <p><a href="/admin/users">"Browse users by source and region →"</a>" · "
           <a href="/admin/events">"Explore events →"</a></p>
    }
}
