//! Events across users: `/admin/events?type=&platform=&from=&to=&user=&before=`, newest
//! first, in pages of 50 with a signed keyset cursor. Each row links to its owner's
//! timeline at that event.

use crate::account::EventRow;
use crate::app::PageTitle;
use crate::error::AppError;
use crate::model::Platform;
use crate::users::urlencode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// The explorer's URL parameters as received; the server parses them, so a bad value is a
/// 400 naming the parameter. An empty value means absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventQuery {
    pub event_type: Option<String>,
    pub platform: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub user: Option<String>,
    pub before: Option<String>,
}

impl EventQuery {
    pub fn from_map(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        EventQuery {
            event_type: get("type"),
            platform: get("platform"),
            from: get("from"),
            to: get("to"),
            user: get("user"),
            before: get("before"),
        }
    }

    fn pairs(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("type", &self.event_type),
            ("platform", &self.platform),
            ("from", &self.from),
            ("to", &self.to),
            ("user", &self.user),
        ]
    }

    /// The filters as a query string, without the cursor.
    pub fn filter_qs(&self) -> String {
        crate::users::query_string(&self.pairs())
    }

    pub fn has_filters(&self) -> bool {
        self.pairs().iter().any(|(_, v)| v.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplorerRow {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub event_type: String,
    pub platform: Platform,
    pub at: String,
    pub ip: Option<String>,
    pub metadata: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    pub rows: Vec<ExplorerRow>,
    /// Cursor of the next (older) page.
    pub next: Option<String>,
    /// The person the `user` filter named, when it named one: (id, name).
    pub user: Option<(String, String)>,
    /// The `user` filter named nobody.
    pub user_missing: bool,
}

#[server(prefix = "/fn", endpoint = "events/list")]
pub async fn list_events(#[server(default)] query: EventQuery) -> Result<EventsPage, AppError> {
    let _staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    ssr::list(&state, &query).await
}

pub mod ids {
    pub const FILTERS: &str = "event-filters";
    pub const TABLE: &str = "events-table";
    pub const NEXT: &str = "next-page";
    pub const FIRST: &str = "first-page";
    pub const CLEAR: &str = "clear-filters";
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| EventQuery::from_map(&query.read()));
    let data = Resource::new_blocking(move || q.get(), list_events);
    view! {
        <PageTitle text="Events · Unified Portal"/>
        <h1>"Events"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = q.get_untracked();
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(page) => view! { <ExplorerView q page/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ExplorerView(q: EventQuery, page: EventsPage) -> impl IntoView {
    let filter_qs = q.filter_qs();
    let sep = if filter_qs.is_empty() { "" } else { "&" };
    let next = page
        .next
        .as_deref()
        .map(|c| format!("/admin/events?{filter_qs}{sep}before={}", urlencode(c)));
    let first = q.before.is_some().then(|| {
        if filter_qs.is_empty() {
            "/admin/events".to_string()
        } else {
            format!("/admin/events?{filter_qs}")
        }
    });
    let val = |v: &Option<String>| v.clone().unwrap_or_default();
    let platform = val(&q.platform);
    let who = page.user.clone().map(|(id, name)| {
        view! {
            <p class="muted" id="user-filter-target">"Events of "
                <a href=format!("/admin/users/{}", urlencode(&id))>{name}</a></p>
        }
    });
    let empty = if page.user_missing {
        Some(
            view! {
                <p class="empty" id="empty-no-user">"No user has this id or Telegram id. "
                    <a href="/admin/events">"Clear filters"</a></p>
            }
            .into_any(),
        )
    } else if page.rows.is_empty() && q.before.is_some() {
        Some(view! {
            <p class="empty" id="empty-past-end">"No older events. "
                <a href=first.clone().unwrap_or_else(|| "/admin/events".into())>"Back to the newest"</a></p>
        }
        .into_any())
    } else if page.rows.is_empty() && q.has_filters() {
        Some(
            view! {
                <p class="empty" id="empty-no-matches">"No events match these filters. "
                    <a href="/admin/events">"Clear filters"</a></p>
            }
            .into_any(),
        )
    } else if page.rows.is_empty() {
        Some(view! { <p class="empty" id="empty-no-events">"No events yet."</p> }.into_any())
    } else {
        None
    };
    view! {
        <form method="get" action="/admin/events" id=ids::FILTERS class="filters">
            <label>"Type "
                <input type="text" name="type" value=val(&q.event_type) placeholder="e.g. COURSE_START"
                    maxlength="64" list="event-type-suggestions"/>
            </label>
            <datalist id="event-type-suggestions">
                {["PAGE_VIEW", "LESSON_VIEW", "COURSE_START", "COURSE_COMPLETE", "QUIZ_SUBMIT", "PURCHASE",
                  "PAYMENT_FAILED", "SEARCH", "LOGIN", "LOGOUT"].into_iter()
                    .map(|t| view! { <option value=t></option> }).collect_view()}
            </datalist>
            <label>"Platform "
                <select name="platform">
                    <option value="">"Any"</option>
                    {Platform::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=platform == p.as_str()>{p.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"From " <input type="date" name="from" value=val(&q.from)/></label>
            <label>"to " <input type="date" name="to" value=val(&q.to)/></label>
            <label class="grow">"User "
                <input type="text" name="user" value=val(&q.user) placeholder="user id or Telegram id" maxlength="200"/>
            </label>
            <button type="submit" class="primary">"Apply"</button>
            {q.has_filters().then(|| view! { <a href="/admin/events" class="clear" id=ids::CLEAR>"Clear filters"</a> })}
        </form>
        {who}
        {empty}
        {(!page.rows.is_empty()).then(|| view! {
            <div class="table-wrap">
            <table class="data events" id=ids::TABLE>
                <thead><tr><th>"Time"</th><th>"User"</th><th>"Event"</th><th>"Platform"</th><th>"IP"</th><th>"Details"</th></tr></thead>
                <tbody>
                    {page.rows.into_iter().map(|e| {
                        // The fragment scrolls past the profile to the event itself. The router
                        // scrolls to it before the page's data has arrived, so these links load
                        // the page whole (rel=external) and the browser finds the event.
                        let href = format!("/admin/users/{}?at={}#event-{}", urlencode(&e.user_id), urlencode(&e.id), urlencode(&e.id));
                        let title = e.user_name.clone();
                        view! {
                            <tr data-event-id=e.id.clone() data-user-id=e.user_id.clone()>
                                <td class="nowrap"><a href=href.clone() rel="external" class="event-link">{e.at}</a></td>
                                <td class="clip"><a href=href rel="external" title=title>{e.user_name}</a></td>
                                <td><code>{e.event_type}</code></td>
                                <td>{e.platform.label()}</td>
                                <td class="mono">{e.ip.unwrap_or_default()}</td>
                                <td class="meta"><code>{e.metadata.unwrap_or_default()}</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        })}
        <nav class="pager">
            {first.map(|h| view! { <a href=h id=ids::FIRST>"← Newest"</a> })}
            {next.map(|h| view! { <a href=h id=ids::NEXT rel="next">"Older →"</a> })}
        </nav>
    }
}

/// A person's own recent events (the account page).
#[component]
pub fn EventTable(rows: Vec<EventRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No activity yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
        <table class="data events">
            <thead><tr><th>"Time"</th><th>"Event"</th><th>"Platform"</th><th>"IP"</th><th>"Details"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|e| view! {
                    <tr data-event-id=e.id>
                        <td class="nowrap">{e.at}</td>
                        <td><code>{e.event_type}</code></td>
                        <td>{e.platform.label()}</td>
                        <td class="mono">{e.ip.unwrap_or_default()}</td>
                        <td class="meta"><code>{e.metadata.unwrap_or_default()}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}
