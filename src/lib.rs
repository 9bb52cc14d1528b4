//! Unified Portal: the admin portal and identity edge of the Unified System.
#![recursion_limit = "256"]

pub mod account;
pub mod app;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod forms;
pub mod ingest;
pub mod merge;
pub mod model;
pub mod staff;
pub mod telegram;
pub mod users;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod time_fmt;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::LOADED_AT.with(|l| *l.borrow_mut() = leptos::prelude::window().location().href().ok());
    leptos::mount::hydrate_body(app::App);
    // A marker the browser tests wait for before relying on client-side behaviour.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
