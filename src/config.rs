//! Settings (CONTRACT §4), read once at start into a typed struct. A bad value stops the
//! binary with one line that names the setting and how to fix it.

use chrono_tz::Tz;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// A value that must never reach a log line or a serialised page.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<Secret>,
    pub site_addr: SocketAddr,
    pub telegram_bot_token: Option<Secret>,
    pub telegram_bot_username: Option<String>,
    pub telegram_auth_max_age_secs: i64,
    pub timezone: Tz,
    pub cookie_secure: bool,
    pub portal_secret: Option<Secret>,
    pub public_url: String,
    pub session_ttl_secs: i64,
    pub trusted_proxies: Vec<IpAddr>,
    pub cors_allowed_origins: Vec<String>,
    pub admin_phone: Option<String>,
    pub admin_password: Option<Secret>,
    pub site_root: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn err(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

impl Config {
    /// Reads the process environment (after `.env`, which `main` loads).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Parses settings from any lookup, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        // An empty value counts as unset, as shells and .env files often leave them.
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let site_addr = match get("LEPTOS_SITE_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(v) => v.parse().map_err(|_| {
                err(
                    "LEPTOS_SITE_ADDR",
                    format!("{v:?} is not an address like 127.0.0.1:3000"),
                )
            })?,
        };
        let telegram_bot_token = get("TELEGRAM_BOT_TOKEN").map(Secret);
        if let Some(t) = &telegram_bot_token {
            // Bot tokens look like 123456:ABC…; anything else would make every sign-in fail.
            let ok = t.0.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
            });
            if !ok {
                return Err(err(
                    "TELEGRAM_BOT_TOKEN",
                    "is not a bot token of the form <digits>:<secret> as @BotFather gives it",
                ));
            }
        }
        let telegram_bot_username =
            get("TELEGRAM_BOT_USERNAME").map(|u| u.trim_start_matches('@').to_string());
        if let Some(u) = &telegram_bot_username {
            if !u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(err(
                    "TELEGRAM_BOT_USERNAME",
                    "may hold only letters, digits and _ (the bot's @username)",
                ));
            }
        }
        let telegram_auth_max_age_secs =
            int_setting(&get, "TELEGRAM_AUTH_MAX_AGE_SECS", 86_400, 1)?;
        let timezone = match get("PORTAL_TIMEZONE") {
            None => chrono_tz::Asia::Tashkent,
            Some(v) => v.parse::<Tz>().map_err(|_| {
                err(
                    "PORTAL_TIMEZONE",
                    format!("{v:?} is not an IANA time zone such as Asia/Tashkent"),
                )
            })?,
        };
        let cookie_secure = match get("COOKIE_SECURE").as_deref() {
            None | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(v) => return Err(err("COOKIE_SECURE", format!("{v:?} is not true or false"))),
        };
        let portal_secret = get("PORTAL_SECRET").map(Secret);
        if let Some(s) = &portal_secret {
            if s.0.len() < 32 {
                return Err(err(
                    "PORTAL_SECRET",
                    "must be at least 32 characters (generate one with: openssl rand -hex 32)",
                ));
            }
        }
        let public_url = get("PORTAL_PUBLIC_URL")
            .unwrap_or_else(|| "http://127.0.0.1:3000".into())
            .trim_end_matches('/')
            .to_string();
        match url::Url::parse(&public_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(err(
                    "PORTAL_PUBLIC_URL",
                    format!(
                        "{public_url:?} is not an http(s) URL such as https://portal.example.com"
                    ),
                ))
            }
        }
        let session_ttl_secs = int_setting(&get, "SESSION_TTL_SECS", 604_800, 60)?;
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| {
                        err(
                            "TRUSTED_PROXIES",
                            format!("{s:?} is not an IP address (list them comma-separated)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let cors_allowed_origins = match get("CORS_ALLOWED_ORIGINS") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(|s| s.trim().trim_end_matches('/').to_string())
                .filter(|s| !s.is_empty())
                .map(|s| match url::Url::parse(&s) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.path() == "/" => Ok(s),
                    _ => Err(err(
                        "CORS_ALLOWED_ORIGINS",
                        format!("{s:?} is not an origin such as https://app.example.com"),
                    )),
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Config {
            database_url: get("DATABASE_URL").map(Secret),
            site_addr,
            telegram_bot_token,
            telegram_bot_username,
            telegram_auth_max_age_secs,
            timezone,
            cookie_secure,
            portal_secret,
            public_url,
            session_ttl_secs,
            trusted_proxies,
            cors_allowed_origins,
            admin_phone: get("PORTAL_ADMIN_PHONE"),
            admin_password: get("PORTAL_ADMIN_PASSWORD").map(Secret),
            site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
        })
    }

    pub fn require_database_url(&self) -> Result<&str, ConfigError> {
        self.database_url.as_ref().map(|s| s.expose()).ok_or_else(|| {
            err(
                "DATABASE_URL",
                "is not set; set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/unified_portal",
            )
        })
    }

    pub fn require_portal_secret(&self) -> Result<&Secret, ConfigError> {
        self.portal_secret.as_ref().ok_or_else(|| {
            err(
                "PORTAL_SECRET",
                "is not set; `serve` needs it to sign cookies (generate one with: openssl rand -hex 32)",
            )
        })
    }

    /// A configuration for tests: every default, plus a database and a secret.
    pub fn for_tests(database_url: &str) -> Config {
        let mut c = Config::from_lookup(|_| None).expect("defaults are valid");
        c.database_url = Some(Secret::new(database_url));
        c.portal_secret = Some(Secret::new("test-secret-test-secret-test-secret-0123"));
        c.cookie_secure = false;
        c
    }
}

fn int_setting(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
    min: i64,
) -> Result<i64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(err(
                name,
                format!("{v:?} is not a whole number of seconds ≥ {min}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.timezone, chrono_tz::Asia::Tashkent);
        assert!(c.cookie_secure);
        assert_eq!(c.session_ttl_secs, 604_800);
        assert_eq!(c.telegram_auth_max_age_secs, 86_400);
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(c.require_portal_secret().is_err());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases = [
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("PORTAL_TIMEZONE", "Mars/Olympus"),
            ("COOKIE_SECURE", "maybe"),
            ("SESSION_TTL_SECS", "-5"),
            ("TELEGRAM_AUTH_MAX_AGE_SECS", "soon"),
            ("PORTAL_SECRET", "short"),
            ("TELEGRAM_BOT_TOKEN", "not-a-token"),
            ("TRUSTED_PROXIES", "10.0.0.1, nope"),
            ("CORS_ALLOWED_ORIGINS", "ftp://x"),
            ("PORTAL_PUBLIC_URL", "portal"),
        ];
        for (name, value) in cases {
            let e = parse(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name, "{value}");
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let c = parse(&[("PORTAL_SECRET", "0123456789abcdef0123456789abcdef-secret")]).unwrap();
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }
}
