//! Times as staff read them: in PORTAL_TIMEZONE, with the offset shown.

use chrono::NaiveDateTime;
use chrono_tz::Tz;

pub fn local(tz: Tz, utc: NaiveDateTime) -> String {
    utc.and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn shows_the_offset() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 31)
            .unwrap()
            .and_hms_opt(20, 30, 0)
            .unwrap();
        assert_eq!(
            super::local(chrono_tz::Asia::Tashkent, t),
            "2026-02-01 01:30 +05:00"
        );
    }
}
