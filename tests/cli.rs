//! The binary's own errors: one line on stderr, exit 2 for usage and 1 for the rest.

use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unified-portal"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    // Run where no .env file can change the outcome.
    c.current_dir(std::env::temp_dir());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

fn one_line_error(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected, got: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn help_lists_the_subcommands() {
    let o = run(&["--help"], &[]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for sub in ["serve", "migrate", "seed", "admin", "telegram"] {
        assert!(out.contains(sub), "{sub} missing from --help");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        vec!["frobnicate"],
        vec!["seed", "--users", "ten", "--events", "5"],
        vec!["seed", "--users", "0", "--events", "5"],
        vec!["seed", "--events", "5"],
        vec!["admin", "create"],
        vec![
            "admin",
            "grant",
            "--phone",
            "+998901234567",
            "--role",
            "KING",
        ],
        vec![
            "admin",
            "grant",
            "--phone",
            "+998901234567",
            "--telegram-id",
            "5",
            "--role",
            "ADMIN",
        ],
    ] {
        let o = run(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = one_line_error(&o);
        assert!(err.starts_with("error:"), "{err}");
    }
}

#[test]
fn bad_settings_name_the_setting() {
    let db = [("DATABASE_URL", "postgres://127.0.0.1:1/x")];
    for (name, value) in [
        ("PORTAL_TIMEZONE", "Nowhere/City"),
        ("COOKIE_SECURE", "perhaps"),
        ("SESSION_TTL_SECS", "a week"),
        ("LEPTOS_SITE_ADDR", "port 3000"),
    ] {
        let mut env = db.to_vec();
        env.push((name, value));
        let o = run(&["migrate"], &env);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let err = one_line_error(&o);
        assert!(err.contains(name), "{err}");
    }
    let o = run(&["migrate"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line_error(&o).contains("DATABASE_URL"));
    let o = run(&["serve"], &db);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line_error(&o).contains("PORTAL_SECRET"));
}

#[test]
fn an_unreachable_database_is_one_line() {
    let o = run(
        &["migrate"],
        &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere")],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = one_line_error(&o);
    assert!(err.contains("database: cannot connect"), "{err}");
    let o = run(&["migrate"], &[("DATABASE_URL", "mysql://nope")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line_error(&o).contains("DATABASE_URL"));
}
