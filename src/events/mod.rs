//! Events across users. The explorer's filters and paging come with the dashboard work;
//! for now staff see the newest events.

use crate::account::EventRow;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[cfg(feature = "ssr")]
pub mod ssr;

#[server(prefix = "/fn", endpoint = "events/recent")]
pub async fn recent_events() -> Result<Vec<EventRow>, AppError> {
    let _staff = crate::auth::ssr::require_role(crate::model::Role::Support)?;
    let state = crate::state::AppState::get()?;
    ssr::recent(&state, 100).await
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| recent_events());
    view! {
        <Title text="Events · Unified Portal"/>
        <h1>"Events"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <crate::app::ErrorBox error=e/> }.into_any(),
                    Ok(rows) => view! { <EventTable rows/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

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
