//! The shell, the routes and the layout every page shares.

use crate::auth::LoginPage;
use crate::error::AppError;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The Content-Security-Policy allows exactly what the pages use: our own files, Leptos's
/// inline hydration script by its per-response nonce, wasm, and Telegram's widget.
#[cfg(feature = "ssr")]
fn set_security_headers() {
    use http::header::{HeaderName, HeaderValue};
    let Some(opts) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval' https://telegram.org; \
         style-src 'self'{nonce}; img-src 'self' data: https://t.me https://*.telesco.pe; \
         frame-src https://oauth.telegram.org; connect-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        opts.insert_header(HeaderName::from_static("content-security-policy"), v);
    }
}

/// The document's title. leptos_meta writes the title text into the server's HTML as it
/// is, unescaped, and titles carry user text (a person's name): the server's copy is
/// escaped here. In the browser the text is set through `document.title`, which needs none.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = crate::error::ssr::escape(&text);
    view! { <Title text=text/> }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/unified-portal.css"/>
        <PageTitle text="Unified Portal"/>
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=crate::account::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=crate::dashboard::DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=crate::users::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/password") view=crate::account::password::PasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/duplicates") view=crate::merge::DuplicatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=crate::users::detail::UserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id/manage") view=crate::users::manage::ManageUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id/merge") view=crate::merge::MergePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/staff") view=crate::staff::StaffPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=crate::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/events") view=crate::events::EventsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/api-keys") view=crate::ingest::ApiKeysPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

#[component]
fn Layout(children: Children) -> impl IntoView {
    let header = Resource::new_blocking(|| (), |_| crate::forms::header());
    view! {
        <header class="topbar">
            <a href="/admin" class="brand">"Unified Portal"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let me = header.await.ok().and_then(|h| h.user);
                    me.map(|u| {
                        let staff = u.role >= Role::Support;
                        let super_admin = u.role == Role::SuperAdmin;
                        view! {
                            {staff.then(|| view! {
                                <nav class="mainnav">
                                    <a href="/admin">"Dashboard"</a>
                                    <a href="/admin/users">"Users"</a>
                                    <a href="/admin/events">"Events"</a>
                                    <a href="/admin/users/duplicates">"Duplicates"</a>
                                    <a href="/admin/audit">"Audit log"</a>
                                    {super_admin.then(|| view! {
                                        <a href="/admin/staff">"Staff"</a>
                                        <a href="/admin/api-keys">"API keys"</a>
                                    })}
                                </nav>
                            })}
                            <div class="who">
                                <a href="/account" id="whoami">{u.display_name()}</a>
                                <span class="role">{u.role.label()}</span>
                                <form method="post" action="/logout" class="inline">
                                    <button type="submit" id=crate::auth::ids::SIGN_OUT>"Sign out"</button>
                                </form>
                            </div>
                        }
                    })
                })}
            </Suspense>
        </header>
        <div class="page">
            <crate::forms::FlashBar header=header/>
            {children()}
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageTitle text="Not found · Unified Portal"/>
        <main class="narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. "<a href="/admin">"Go to the dashboard"</a></p>
        </main>
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The address the document was loaded from, before any client-side navigation.
    pub static LOADED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// How a page shows an error of its data: the status was already set where it was made.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    // Reached by a client-side navigation after the session ended (revoked elsewhere, or
    // expired): load the page for real, so the server's guard sends the person to sign in
    // and back here afterwards. A server-rendered page never gets here unauthorised.
    // When the server itself rendered this error, a reload would only render it again.
    #[cfg(feature = "hydrate")]
    if matches!(error, AppError::Unauthorized) {
        Effect::new(|_| {
            let here = window().location().href().ok();
            if here.is_some() && here != LOADED_AT.with(|l| l.borrow().clone()) {
                let _ = window().location().reload();
            }
        });
    }
    let (title, hint) = match &error {
        AppError::Unauthorized => (
            "Sign in required",
            Some(view! { <a href="/login">"Sign in"</a> }.into_any()),
        ),
        AppError::Forbidden => (
            "Access denied",
            Some(view! { <a href="/account">"Your account"</a> }.into_any()),
        ),
        AppError::Blocked => ("Account blocked", None),
        AppError::PasswordChangeRequired => (
            "Choose a new password",
            Some(view! { <a href="/account/password">"Choose a new password"</a> }.into_any()),
        ),
        AppError::NotFound(_) => ("Not found", None),
        AppError::BadRequest(_) => ("Bad request", None),
        _ => ("Something went wrong", None),
    };
    view! {
        <PageTitle text=format!("{title} · Unified Portal")/>
        <section class="error-box" role="alert" data-status=error.status().as_u16()>
            <h1>{title}</h1>
            <p id="error-message">{error.to_string()}</p>
            {hint}
        </section>
    }
}
