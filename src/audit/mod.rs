//! The audit log of staff actions (issue 8). Stub: being built.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <h1>"Audit log"</h1> }
}
