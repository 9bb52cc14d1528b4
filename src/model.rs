//! The enums of the seed and the contract, shared by server and browser. In the database
//! they are Prisma's quoted enum types, which is why the sqlx type names carry quotes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident, $pg:literal, $label:literal, [$($variant:ident => $text:literal),+ $(,)?]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type))]
        #[cfg_attr(feature = "ssr", sqlx(type_name = $pg))]
        pub enum $name {
            $(
                #[serde(rename = $text)]
                #[cfg_attr(feature = "ssr", sqlx(rename = $text))]
                $variant,
            )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} {:?}; expected one of {}",
                        $label,
                        s,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

db_enum!(
    /// Ordered by privilege: a check for `Support` admits every staff role above it.
    Role, "\"UserRole\"", "role", [
        User => "USER",
        Support => "SUPPORT",
        Admin => "ADMIN",
        SuperAdmin => "SUPER_ADMIN",
    ]
);

db_enum!(Region, "\"Region\"", "region", [
    Uz => "UZ",
    Kz => "KZ",
    Kg => "KG",
    Tj => "TJ",
    Tm => "TM",
    Ru => "RU",
    Other => "OTHER",
]);

db_enum!(
    /// Where a user registered, and where a session or an event happened.
    Platform, "\"RegistrationSource\"", "source", [
        Web => "WEB",
        Telegram => "TELEGRAM",
        MobileApp => "MOBILE_APP",
    ]
);

impl Role {
    pub fn is_staff(self) -> bool {
        self >= Role::Support
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::User => "User",
            Role::Support => "Support",
            Role::Admin => "Admin",
            Role::SuperAdmin => "Super admin",
        }
    }
}

impl Platform {
    pub fn label(self) -> &'static str {
        match self {
            Platform::Web => "Web",
            Platform::Telegram => "Telegram",
            Platform::MobileApp => "Mobile app",
        }
    }
}

/// The languages a user can have; the seed stores a free string, the portal offers these.
pub const LANGUAGES: &[&str] = &["uz", "ru", "en"];

/// Event types the portal writes itself; the ingestion API refuses them (CONTRACT §2).
pub fn is_reserved_event_type(t: &str) -> bool {
    matches!(
        t,
        "LOGIN"
            | "LOGIN_FAILED"
            | "LOGOUT"
            | "TELEGRAM_LINKED"
            | "TELEGRAM_UNLINKED"
            | "SESSION_REVOKED"
            | "PASSWORD_CHANGED"
    ) || t.starts_with("ADMIN_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_name_the_bad_value() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let err = "TELEGRAMM".parse::<Platform>().unwrap_err();
        assert_eq!(
            err,
            "unknown source \"TELEGRAMM\"; expected one of WEB, TELEGRAM, MOBILE_APP"
        );
        assert!("uz".parse::<Region>().is_err(), "enum names are upper case");
    }

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::SuperAdmin > Role::Admin && Role::Admin > Role::Support);
        assert!(!Role::User.is_staff() && Role::Support.is_staff());
    }

    #[test]
    fn reserved_event_types() {
        assert!(is_reserved_event_type("ADMIN_MERGE"));
        assert!(is_reserved_event_type("LOGIN"));
        assert!(!is_reserved_event_type("COURSE_START"));
    }
}
