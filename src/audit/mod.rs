//! `/admin/audit?actor=&target=&type=&from=&to=&before=`: staff actions (every ADMIN_*
//! type and SESSION_REVOKED; a targetUserId alone does not make one), newest first, 50 a page with a
//! signed keyset cursor. Readable by every staff role.

use crate::app::PageTitle;
use crate::error::AppError;
use crate::users::urlencode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// The URL parameters as received; the server parses them, so a bad value is a 400 naming
/// the parameter. An empty value means absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub event_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
}

impl AuditQuery {
    pub fn from_map(q: &leptos_router::params::ParamsMap) -> Self {
        let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        AuditQuery {
            actor: get("actor"),
            target: get("target"),
            event_type: get("type"),
            from: get("from"),
            to: get("to"),
            before: get("before"),
        }
    }

    fn pairs(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("actor", &self.actor),
            ("target", &self.target),
            ("type", &self.event_type),
            ("from", &self.from),
            ("to", &self.to),
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

/// A person named in the log: linked by name while their record exists and holds a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    /// `None` when the record is gone or was erased: the page shows the id.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    /// Local time (PORTAL_TIMEZONE) with its offset.
    pub at: String,
    pub actor: Person,
    pub event_type: String,
    pub target: Option<Person>,
    /// The metadata without `targetUserId`, as (key, value) text pairs.
    pub details: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Cursor of the next (older) page.
    pub next: Option<String>,
    /// Types seen among recent staff actions, for the filter.
    pub types: Vec<String>,
    /// Names of the people the actor/target filters name, when they exist.
    pub actor: Option<Person>,
    pub target: Option<Person>,
}

#[server(prefix = "/fn", endpoint = "audit/list")]
pub async fn list_audit(#[server(default)] query: AuditQuery) -> Result<AuditPage, AppError> {
    let _staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    ssr::list(&state, &query).await
}

pub mod ids {
    pub const FILTERS: &str = "audit-filters";
    pub const TABLE: &str = "audit-table";
    pub const NEXT: &str = "audit-next";
    pub const FIRST: &str = "audit-first";
    pub const CLEAR: &str = "audit-clear";
    pub const EMPTY: &str = "audit-empty";
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| AuditQuery::from_map(&query.read()));
    let data = Resource::new_blocking(move || q.get(), list_audit);
    view! {
        <PageTitle text="Audit log · Unified Portal"/>
        <h1>"Audit log"</h1>
        <p class="muted">"What staff did, newest first. A person's own activity is on their page."</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = q.get_untracked();
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(page) => view! { <AuditView q page/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn person_link(p: Person, class: &'static str) -> AnyView {
    let href = format!("/admin/users/{}", urlencode(&p.id));
    match p.name {
        Some(name) => {
            let title = name.clone();
            view! { <a href=href class=class title=title data-user-id=p.id>{name}</a> }.into_any()
        }
        None => {
            let shown = p.id.clone();
            view! { <span class=format!("{class} mono gone") data-user-id=p.id>{shown}</span> }
                .into_any()
        }
    }
}

#[component]
fn AuditView(q: AuditQuery, page: AuditPage) -> impl IntoView {
    let filter_qs = q.filter_qs();
    let sep = if filter_qs.is_empty() { "" } else { "&" };
    let next = page
        .next
        .as_deref()
        .map(|c| format!("/admin/audit?{filter_qs}{sep}before={}", urlencode(c)));
    let first = q.before.is_some().then(|| {
        if filter_qs.is_empty() {
            "/admin/audit".to_string()
        } else {
            format!("/admin/audit?{filter_qs}")
        }
    });
    let val = |v: &Option<String>| v.clone().unwrap_or_default();
    let selected_type = val(&q.event_type);
    let mut types = page.types.clone();
    if !selected_type.is_empty() && !types.contains(&selected_type) {
        types.insert(0, selected_type.clone());
    }
    let named = |label: &'static str, p: Option<Person>| {
        p.map(|p| view! { <span class="muted">{label} {person_link(p, "who")}</span> })
    };
    let empty = if page.rows.is_empty() {
        Some(if q.before.is_some() {
            view! {
                <p class="empty" id=ids::EMPTY>"No older staff actions. "
                    <a href=first.clone().unwrap_or_else(|| "/admin/audit".into())>"Back to the newest"</a></p>
            }
            .into_any()
        } else if q.has_filters() {
            view! {
                <p class="empty" id=ids::EMPTY>"No staff actions match these filters. "
                    <a href="/admin/audit">"Clear filters"</a></p>
            }
            .into_any()
        } else {
            view! { <p class="empty" id=ids::EMPTY>"No staff actions yet."</p> }.into_any()
        })
    } else {
        None
    };
    view! {
        <form method="get" action="/admin/audit" id=ids::FILTERS class="filters">
            <label>"Type "
                <select name="type">
                    <option value="">"Any"</option>
                    {types.into_iter().map(|t| {
                        let sel = t == selected_type;
                        let value = t.clone();
                        view! { <option value=value selected=sel>{t}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>"From " <input type="date" name="from" value=val(&q.from)/></label>
            <label>"to " <input type="date" name="to" value=val(&q.to)/></label>
            <label class="grow">"Actor (user id) "
                <input type="text" name="actor" value=val(&q.actor) maxlength="200" placeholder="staff member's user id"/>
            </label>
            <label class="grow">"Target (user id) "
                <input type="text" name="target" value=val(&q.target) maxlength="200" placeholder="affected user's id"/>
            </label>
            <button type="submit" class="primary">"Apply"</button>
            {q.has_filters().then(|| view! { <a href="/admin/audit" class="clear" id=ids::CLEAR>"Clear filters"</a> })}
        </form>
        <p class="audit-who">{named("By ", page.actor.clone())} " " {named("On ", page.target.clone())}</p>
        {empty}
        {(!page.rows.is_empty()).then(|| view! {
            <div class="table-wrap">
            <table class="data audit" id=ids::TABLE>
                <thead><tr><th>"Time"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th><th>"Details"</th></tr></thead>
                <tbody>
                    {page.rows.into_iter().map(|r| {
                        let target_id = r.target.as_ref().map(|t| t.id.clone()).unwrap_or_default();
                        let (event_type, actor_id) = (r.event_type.clone(), r.actor.id.clone());
                        view! {
                            <tr data-event-id=r.id data-event-type=event_type
                                data-actor-id=actor_id data-target-id=target_id>
                                <td class="nowrap">{r.at}</td>
                                <td class="clip">{person_link(r.actor, "actor")}</td>
                                <td><code>{r.event_type}</code></td>
                                <td class="clip">{match r.target {
                                    Some(t) => person_link(t, "target"),
                                    None => view! { <span class="muted">"—"</span> }.into_any(),
                                }}</td>
                                <td class="details">
                                    {if r.details.is_empty() {
                                        view! { <span class="muted">"—"</span> }.into_any()
                                    } else {
                                        view! {
                                            <dl class="kv-list">
                                                {r.details.into_iter().map(|(k, v)| view! {
                                                    <div><dt>{k}</dt><dd class="wrap">{v}</dd></div>
                                                }).collect_view()}
                                            </dl>
                                        }.into_any()
                                    }}
                                </td>
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
