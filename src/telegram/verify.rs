//! Verification of Telegram Login Widget data and Mini App `initData`.
//!
//! Telegram signs every field it sends, and it adds fields over time, so the
//! data-check-string is rebuilt from the fields actually received, exactly as
//! they arrived after one URL decoding. Rebuilding it from a fixed list of
//! fields would reject real logins as soon as Telegram adds one, and trimming,
//! re-encoding or decoding twice would break names containing spaces, quotes,
//! `+`, `%`, emoji or right-to-left text.
//!
//! Every function here is pure and takes `now` as a parameter. That way the
//! HTTP layer owns the clock and the tests are deterministic.

use std::collections::HashSet;

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Allows for clock skew between Telegram and this server, while keeping the
/// window too short to mint logins ahead of time for later use.
pub const MAX_FUTURE_SKEW_SECS: i64 = 60;

/// Who Telegram says signed in. Optional fields are `None` when Telegram did
/// not send them (users may hide them, or may not have a username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramIdentity {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub photo_url: Option<String>,
    pub language_code: Option<String>,
    pub auth_date: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: TelegramIdentity,
    /// SHA-256 of the data-check-string followed by the 32 raw hash bytes.
    /// The digest uses the decoded bytes rather than the hex text, so changing
    /// the case of the hex, switching between query and JSON form, or
    /// re-encoding the query (`%20` vs `+`) cannot get past replay detection.
    pub payload_digest: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed Telegram login data: {0}")]
    Malformed(String),
    #[error("Telegram login signature does not match")]
    BadSignature,
    #[error("Telegram login has expired")]
    Stale,
    #[error("Telegram login is dated in the future")]
    FromFuture,
}

impl VerifyError {
    /// Malformed input means the client sent something that can never be
    /// valid (400). The other errors mean the request was well formed but is
    /// not authenticated (401).
    pub fn is_malformed(&self) -> bool {
        matches!(self, Self::Malformed(_))
    }
}

fn malformed(reason: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(reason.into())
}

/// Keys come from the client, so they are escaped and truncated to keep the
/// error reason to one short line.
fn show_key(key: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut shown: String = key
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if key.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    format!("`{shown}`")
}

#[derive(Clone, Copy)]
enum Scheme {
    Widget,
    MiniApp,
}

impl Scheme {
    /// The two schemes derive different keys from the same bot token, so data
    /// signed for one is never accepted as the other.
    fn secret_key(self, bot_token: &str) -> [u8; 32] {
        match self {
            Scheme::Widget => Sha256::digest(bot_token.as_bytes()).into(),
            Scheme::MiniApp => {
                let mut mac = new_mac(b"WebAppData");
                mac.update(bot_token.as_bytes());
                mac.finalize().into_bytes().into()
            }
        }
    }
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC-SHA-256 accepts keys of any length")
}

type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Decodes the input exactly once. Decoding twice would turn a name like
/// `100%25` into something Telegram never signed.
fn parse_form(raw: &str) -> Result<Fields, VerifyError> {
    let fields: Fields = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    reject_duplicates(&fields)?;
    Ok(fields)
}

/// Telegram never repeats a key. Accepting a repeated key would make it
/// ambiguous which value was signed and which one we act on.
fn reject_duplicates(fields: &[(String, String)]) -> Result<(), VerifyError> {
    let mut seen = HashSet::with_capacity(fields.len());
    for (key, _) in fields {
        if !seen.insert(key.as_str()) {
            return Err(malformed(format!(
                "field {} appears more than once",
                show_key(key)
            )));
        }
    }
    Ok(())
}

/// The widget's JavaScript callback passes the same fields as the redirect,
/// but as a JSON object whose numbers are not quoted. Telegram signed their
/// decimal text. Nested values never occur in widget data, so they are
/// rejected instead of being turned into some text that was never signed.
fn json_fields(obj: &Map<String, Value>) -> Result<Fields, VerifyError> {
    obj.iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null | Value::Array(_) | Value::Object(_) => {
                    return Err(malformed(format!(
                        "field {} must be a string, number or boolean",
                        show_key(key)
                    )))
                }
            };
            Ok((key.clone(), text))
        })
        .collect()
}

/// `str::parse` also accepts a leading `+`, which Telegram never sends.
/// Anything other than plain digits is treated as input we do not understand.
fn parse_decimal_i64(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Sorting by raw bytes matches the byte order Telegram uses. `String`'s `Ord`
/// is byte order.
fn data_check_string<K: AsRef<str>, V: AsRef<str>>(sorted: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(key.as_ref());
        out.push('=');
        out.push_str(value.as_ref());
    }
    out
}

type Extract = fn(&[(String, String)], i64) -> Result<TelegramIdentity, VerifyError>;

fn verify(
    scheme: Scheme,
    mut fields: Fields,
    bot_token: &str,
    max_age_secs: i64,
    now: i64,
    extract: Extract,
) -> Result<Verified, VerifyError> {
    // Every structural check runs before the signature check. A request that
    // can never be valid then gets 400 whatever its hash says, and nothing
    // about the signature is revealed for it.
    let hash_pos = fields
        .iter()
        .position(|(key, _)| key == "hash")
        .ok_or_else(|| malformed("field `hash` is missing"))?;
    let (_, hash_hex) = fields.swap_remove(hash_pos);
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&hash_hex, &mut hash)
        .map_err(|_| malformed("field `hash` must be exactly 64 hexadecimal digits"))?;

    let auth_date_text =
        field(&fields, "auth_date").ok_or_else(|| malformed("field `auth_date` is missing"))?;
    let auth_date = parse_decimal_i64(auth_date_text)
        .ok_or_else(|| malformed("field `auth_date` must be a decimal unix timestamp"))?;

    fields.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let identity = extract(&fields, auth_date)?;

    let check_string = data_check_string(&fields);
    let mut mac = new_mac(&scheme.secret_key(bot_token));
    mac.update(check_string.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&hash)
        .map_err(|_| VerifyError::BadSignature)?;

    // Freshness is checked only after the signature. An unsigned auth_date
    // says nothing, and the caller must not learn whether a forgery would
    // have been "fresh".
    check_freshness(auth_date, max_age_secs, now)?;

    let mut digest = Sha256::new();
    digest.update(check_string.as_bytes());
    digest.update(hash);
    Ok(Verified {
        identity,
        payload_digest: digest.finalize().into(),
    })
}

fn check_freshness(auth_date: i64, max_age_secs: i64, now: i64) -> Result<(), VerifyError> {
    // i128 so that an auth_date near i64::MAX (signed, but absurd) or an odd
    // `now` cannot overflow.
    let age = i128::from(now) - i128::from(auth_date);
    if age > i128::from(max_age_secs) {
        Err(VerifyError::Stale)
    } else if -age > i128::from(MAX_FUTURE_SKEW_SECS) {
        Err(VerifyError::FromFuture)
    } else {
        Ok(())
    }
}

fn widget_identity(
    fields: &[(String, String)],
    auth_date: i64,
) -> Result<TelegramIdentity, VerifyError> {
    let id_text = field(fields, "id").ok_or_else(|| malformed("field `id` is missing"))?;
    // Telegram user ids no longer fit in 32 bits.
    let id = parse_decimal_i64(id_text)
        .filter(|&id| id > 0)
        .ok_or_else(|| malformed("field `id` must be a positive decimal integer"))?;
    let text = |name: &str| field(fields, name).map(str::to_owned);
    Ok(TelegramIdentity {
        id,
        first_name: text("first_name"),
        last_name: text("last_name"),
        username: text("username"),
        photo_url: text("photo_url"),
        language_code: text("language_code"),
        auth_date,
    })
}

fn mini_app_identity(
    fields: &[(String, String)],
    auth_date: i64,
) -> Result<TelegramIdentity, VerifyError> {
    let raw = field(fields, "user").ok_or_else(|| malformed("field `user` is missing"))?;
    // The JSON is parsed only to read the identity. The signature covers the
    // raw text, escapes such as `\/` included, so it is never re-serialised.
    let user: Value =
        serde_json::from_str(raw).map_err(|_| malformed("field `user` is not valid JSON"))?;
    let user = user
        .as_object()
        .ok_or_else(|| malformed("field `user` must be a JSON object"))?;
    let id = user
        .get("id")
        .and_then(Value::as_i64)
        .filter(|&id| id > 0)
        .ok_or_else(|| malformed("field `user.id` must be a positive integer"))?;
    let text = |name: &str| match user.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("field `user.{name}` must be a string"))),
    };
    Ok(TelegramIdentity {
        id,
        first_name: text("first_name")?,
        last_name: text("last_name")?,
        username: text("username")?,
        photo_url: text("photo_url")?,
        language_code: text("language_code")?,
        auth_date,
    })
}

/// Verifies the Login Widget redirect callback. `raw_query` is the query
/// string without the leading `?`, exactly as received.
pub fn verify_widget_query(
    raw_query: &str,
    bot_token: &str,
    max_age_secs: i64,
    now: i64,
) -> Result<Verified, VerifyError> {
    let fields = parse_form(raw_query)?;
    verify(
        Scheme::Widget,
        fields,
        bot_token,
        max_age_secs,
        now,
        widget_identity,
    )
}

/// Verifies the object passed to the Login Widget's JavaScript callback, as
/// posted by the browser. A JSON object cannot carry duplicate keys once it is
/// parsed, so duplicates cannot be detected here (serde_json keeps the last).
pub fn verify_widget_json(
    obj: &Map<String, Value>,
    bot_token: &str,
    max_age_secs: i64,
    now: i64,
) -> Result<Verified, VerifyError> {
    let fields = json_fields(obj)?;
    verify(
        Scheme::Widget,
        fields,
        bot_token,
        max_age_secs,
        now,
        widget_identity,
    )
}

/// Verifies `Telegram.WebApp.initData`, passed through unchanged.
pub fn verify_mini_app(
    init_data: &str,
    bot_token: &str,
    max_age_secs: i64,
    now: i64,
) -> Result<Verified, VerifyError> {
    let fields = parse_form(init_data)?;
    verify(
        Scheme::MiniApp,
        fields,
        bot_token,
        max_age_secs,
        now,
        mini_app_identity,
    )
}

fn sign(scheme: Scheme, fields: &[(&str, &str)], bot_token: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .copied()
        .filter(|(key, _)| *key != "hash")
        .collect();
    pairs.sort_unstable();
    let mut mac = new_mac(&scheme.secret_key(bot_token));
    mac.update(data_check_string(&pairs).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Returns the lowercase hex `hash` Telegram would attach to these widget
/// fields. Values are unencoded, and any `hash` entry is ignored. Used by the
/// tests and by the CLI that prints a signed callback URL for local testing.
pub fn sign_widget(fields: &[(&str, &str)], bot_token: &str) -> String {
    sign(Scheme::Widget, fields, bot_token)
}

/// Like [`sign_widget`], but with the Mini App key derivation.
pub fn sign_mini_app(fields: &[(&str, &str)], bot_token: &str) -> String {
    sign(Scheme::MiniApp, fields, bot_token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use url::form_urlencoded::Serializer;

    const TOKEN: &str = "123456789:AAF-unit_test_token-0123456789abcdef";
    const NOW: i64 = 1_700_000_000;
    const DAY: i64 = 86_400;
    const AUTH: &str = "1699999000";

    /// Form-encodes like a browser would (spaces become `+`).
    fn encode(fields: &[(&str, &str)], hash: &str) -> String {
        let mut s = Serializer::new(String::new());
        for (k, v) in fields {
            s.append_pair(k, v);
        }
        s.append_pair("hash", hash);
        s.finish()
    }

    fn widget_query(fields: &[(&str, &str)]) -> String {
        encode(fields, &sign_widget(fields, TOKEN))
    }

    fn mini_app_query(fields: &[(&str, &str)]) -> String {
        encode(fields, &sign_mini_app(fields, TOKEN))
    }

    fn widget(q: &str) -> Result<Verified, VerifyError> {
        verify_widget_query(q, TOKEN, DAY, NOW)
    }

    fn mini_app(q: &str) -> Result<Verified, VerifyError> {
        verify_mini_app(q, TOKEN, DAY, NOW)
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("test JSON must be an object"),
        }
    }

    fn assert_malformed(r: Result<Verified, VerifyError>, mentions: &str) {
        match r {
            Err(VerifyError::Malformed(reason)) => assert!(
                reason.contains(mentions),
                "reason {reason:?} should mention {mentions:?}"
            ),
            other => panic!("expected Malformed mentioning {mentions:?}, got {other:?}"),
        }
    }

    // --- Public vectors -------------------------------------------------

    // From the tests of the `telegram-login` crate (github.com/jtfell/telegram-login-rs,
    // src/lib.rs, `test_check_signature_success` / `test_gen_check_string`).
    const TL_TOKEN: &str = "777777777:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const TL_HASH: &str = "a9cf12636fb07b54b4c95673d017a72364472c41a760b6850bcd5405da769f80";
    const TL_AUTH_DATE: i64 = 1_543_194_375;
    const TL_FIELDS: [(&str, &str); 6] = [
        ("id", "666666666"),
        ("username", "my_username"),
        ("first_name", "Some"),
        ("last_name", "Guy"),
        ("photo_url", "https://t.me/i/userpic/320/my_username.jpg"),
        ("auth_date", "1543194375"),
    ];

    #[test]
    fn public_vector_telegram_login_rs_check_string() {
        let mut pairs = TL_FIELDS.to_vec();
        pairs.sort_unstable();
        assert_eq!(
            data_check_string(&pairs),
            "auth_date=1543194375\nfirst_name=Some\nid=666666666\nlast_name=Guy\n\
             photo_url=https://t.me/i/userpic/320/my_username.jpg\nusername=my_username"
        );
        assert_eq!(sign_widget(&TL_FIELDS, TL_TOKEN), TL_HASH);
    }

    #[test]
    fn public_vector_telegram_login_rs_query() {
        let q = encode(&TL_FIELDS, TL_HASH);
        let v = verify_widget_query(&q, TL_TOKEN, DAY, TL_AUTH_DATE + 5).unwrap();
        assert_eq!(
            v.identity,
            TelegramIdentity {
                id: 666_666_666,
                first_name: Some("Some".into()),
                last_name: Some("Guy".into()),
                username: Some("my_username".into()),
                photo_url: Some("https://t.me/i/userpic/320/my_username.jpg".into()),
                language_code: None,
                auth_date: TL_AUTH_DATE,
            }
        );
        // The crate's failure vector: a well-formed but wrong hash.
        let bad = encode(
            &TL_FIELDS,
            "aaaaaaaaaaaaaaaaaeeeeeeeeee4444444444444444444444444444444444444",
        );
        assert_eq!(
            verify_widget_query(&bad, TL_TOKEN, DAY, TL_AUTH_DATE + 5),
            Err(VerifyError::BadSignature)
        );
        // The crate's non-hex vector.
        let non_hex = encode(
            &TL_FIELDS,
            "xxxxxxxaaaaaaaaaaeeeeeeeeee4444444444444444444444444444444444444",
        );
        assert_malformed(
            verify_widget_query(&non_hex, TL_TOKEN, DAY, TL_AUTH_DATE + 5),
            "hash",
        );
        // It has long expired in real time.
        assert_eq!(
            verify_widget_query(&q, TL_TOKEN, DAY, NOW),
            Err(VerifyError::Stale)
        );
    }

    #[test]
    fn public_vector_telegram_login_rs_json() {
        let m = obj(json!({
            "id": 666666666,
            "first_name": "Some",
            "last_name": "Guy",
            "username": "my_username",
            "photo_url": "https://t.me/i/userpic/320/my_username.jpg",
            "auth_date": 1543194375,
            "hash": TL_HASH,
        }));
        let v = verify_widget_json(&m, TL_TOKEN, DAY, TL_AUTH_DATE).unwrap();
        assert_eq!(v.identity.id, 666_666_666);
        let q =
            verify_widget_query(&encode(&TL_FIELDS, TL_HASH), TL_TOKEN, DAY, TL_AUTH_DATE).unwrap();
        assert_eq!(v.payload_digest, q.payload_digest);
    }

    // From the tma.js init-data docs ("Validating", @tma.js/init-data and
    // @tma.js/init-data-node at docs.telegram-mini-apps.com). The docs
    // disable the expiry check because the sample is old, so `now` is set
    // just after its auth_date instead.
    const TMA_TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
    const TMA_INIT_DATA: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc\
        &user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D\
        &auth_date=1662771648\
        &hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";
    const TMA_AUTH_DATE: i64 = 1_662_771_648;

    #[test]
    fn public_vector_tma_js_init_data() {
        let v = verify_mini_app(TMA_INIT_DATA, TMA_TOKEN, DAY, TMA_AUTH_DATE + 30).unwrap();
        assert_eq!(
            v.identity,
            TelegramIdentity {
                id: 279_058_397,
                first_name: Some("Vladislav".into()),
                last_name: Some("Kibenko".into()),
                username: Some("vdkfrost".into()),
                photo_url: None,
                language_code: Some("ru".into()),
                auth_date: TMA_AUTH_DATE,
            }
        );
        assert_eq!(
            verify_mini_app(TMA_INIT_DATA, TMA_TOKEN, DAY, NOW),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify_mini_app(TMA_INIT_DATA, TOKEN, DAY, TMA_AUTH_DATE),
            Err(VerifyError::BadSignature)
        );
        let tampered = TMA_INIT_DATA.replace("279058397", "279058398");
        assert_eq!(
            verify_mini_app(&tampered, TMA_TOKEN, DAY, TMA_AUTH_DATE),
            Err(VerifyError::BadSignature)
        );
    }

    // --- Widget fields --------------------------------------------------

    #[test]
    fn widget_optional_fields_absent() {
        let v = widget(&widget_query(&[("id", "42"), ("auth_date", AUTH)])).unwrap();
        assert_eq!(
            v.identity,
            TelegramIdentity {
                id: 42,
                first_name: None,
                last_name: None,
                username: None,
                photo_url: None,
                language_code: None,
                auth_date: 1_699_999_000,
            }
        );
    }

    #[test]
    fn widget_unknown_extra_field_is_part_of_the_check() {
        let fields = [
            ("id", "42"),
            ("first_name", "Ann"),
            ("auth_date", AUTH),
            ("allows_write_to_pm", "true"),
        ];
        let hash = sign_widget(&fields, TOKEN);
        assert!(widget(&encode(&fields, &hash)).is_ok());
        // Dropping the unknown field, or adding one that was never signed,
        // must both fail.
        assert_eq!(
            widget(&encode(&fields[..3], &hash)),
            Err(VerifyError::BadSignature)
        );
        let signed_without = widget_query(&fields[..3]);
        assert_eq!(
            widget(&format!("{signed_without}&allows_write_to_pm=true")),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn widget_names_with_special_characters() {
        let first = r#"O'Neil "Bob" \ a+b & c=d 100%"#;
        let last = "semi;colon#hash?q/slash";
        let v = widget(&widget_query(&[
            ("id", "42"),
            ("first_name", first),
            ("last_name", last),
            ("auth_date", AUTH),
        ]))
        .unwrap();
        assert_eq!(v.identity.first_name.as_deref(), Some(first));
        assert_eq!(v.identity.last_name.as_deref(), Some(last));
    }

    #[test]
    fn widget_spaces_as_percent20_and_plus() {
        let hash = sign_widget(
            &[
                ("id", "42"),
                ("first_name", "Anna Maria"),
                ("auth_date", AUTH),
            ],
            TOKEN,
        );
        for raw_name in ["Anna%20Maria", "Anna+Maria"] {
            let q = format!("id=42&first_name={raw_name}&auth_date={AUTH}&hash={hash}");
            let v = widget(&q).unwrap();
            assert_eq!(v.identity.first_name.as_deref(), Some("Anna Maria"));
        }
        // A literal plus travels as %2B and must not turn into a space.
        let plus = widget_query(&[("id", "42"), ("first_name", "C++"), ("auth_date", AUTH)]);
        assert!(plus.contains("C%2B%2B"));
        assert_eq!(
            widget(&plus).unwrap().identity.first_name.as_deref(),
            Some("C++")
        );
    }

    #[test]
    fn widget_decodes_exactly_once() {
        // "%2541" decodes once to "%41", never further to "A".
        let hash = sign_widget(
            &[("id", "42"), ("first_name", "%41"), ("auth_date", AUTH)],
            TOKEN,
        );
        let q = format!("id=42&first_name=%2541&auth_date={AUTH}&hash={hash}");
        assert_eq!(
            widget(&q).unwrap().identity.first_name.as_deref(),
            Some("%41")
        );
        let twice = sign_widget(
            &[("id", "42"), ("first_name", "A"), ("auth_date", AUTH)],
            TOKEN,
        );
        let q = format!("id=42&first_name=%2541&auth_date={AUTH}&hash={twice}");
        assert_eq!(widget(&q), Err(VerifyError::BadSignature));
    }

    #[test]
    fn widget_values_are_not_trimmed() {
        let fields = [
            ("id", "42"),
            ("first_name", "  Ann \t"),
            ("auth_date", AUTH),
        ];
        let v = widget(&widget_query(&fields)).unwrap();
        assert_eq!(v.identity.first_name.as_deref(), Some("  Ann \t"));
        let trimmed_hash = sign_widget(
            &[("id", "42"), ("first_name", "Ann"), ("auth_date", AUTH)],
            TOKEN,
        );
        assert_eq!(
            widget(&encode(&fields, &trimmed_hash)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn widget_emoji_and_right_to_left_names() {
        let fields = [
            ("id", "42"),
            ("first_name", "محمد 🚀"),
            ("last_name", "כהן‏ 👩‍💻"),
            ("username", "emoji_fan"),
            ("auth_date", AUTH),
        ];
        let v = widget(&widget_query(&fields)).unwrap();
        assert_eq!(v.identity.first_name.as_deref(), Some("محمد 🚀"));
        assert_eq!(v.identity.last_name.as_deref(), Some("כהן‏ 👩‍💻"));
    }

    #[test]
    fn widget_ids_above_32_bits() {
        for id in ["4294967297", "7123456789", "9223372036854775807"] {
            let v = widget(&widget_query(&[("id", id), ("auth_date", AUTH)])).unwrap();
            assert_eq!(v.identity.id.to_string(), id);
        }
    }

    #[test]
    fn widget_rejects_bad_ids() {
        for id in [
            "0",
            "-5",
            "+5",
            "12a",
            "",
            " 5",
            "9223372036854775808",
            "1.0",
        ] {
            let r = widget(&widget_query(&[("id", id), ("auth_date", AUTH)]));
            assert_malformed(r, "`id`");
        }
        assert_malformed(widget(&widget_query(&[("auth_date", AUTH)])), "`id`");
    }

    #[test]
    fn check_string_sorts_by_bytes() {
        let mut pairs = vec![
            ("photo_url", "p"),
            ("id", "1"),
            ("auth_date", "2"),
            ("ab", "x"),
            ("a_b", "y"),
            ("Zed", "z"),
        ];
        pairs.sort_unstable();
        assert_eq!(
            data_check_string(&pairs),
            "Zed=z\na_b=y\nab=x\nauth_date=2\nid=1\nphoto_url=p"
        );
        // Field order on the wire does not matter.
        let a = sign_widget(&[("id", "1"), ("auth_date", "2")], TOKEN);
        let b = sign_widget(
            &[("auth_date", "2"), ("id", "1"), ("hash", "ignored")],
            TOKEN,
        );
        assert_eq!(a, b);
    }

    // --- auth_date --------------------------------------------------------

    #[test]
    fn auth_date_freshness_bounds() {
        let at = |t: i64| widget_query(&[("id", "42"), ("auth_date", &t.to_string())]);
        assert!(widget(&at(NOW - DAY)).is_ok());
        assert_eq!(widget(&at(NOW - DAY - 1)), Err(VerifyError::Stale));
        assert!(widget(&at(NOW + MAX_FUTURE_SKEW_SECS)).is_ok());
        assert_eq!(
            widget(&at(NOW + MAX_FUTURE_SKEW_SECS + 1)),
            Err(VerifyError::FromFuture)
        );
        assert_eq!(widget(&at(i64::MAX)), Err(VerifyError::FromFuture));
        assert_eq!(widget(&at(0)), Err(VerifyError::Stale));
    }

    #[test]
    fn auth_date_must_be_plain_decimal() {
        for bad in [
            "1699999000.5",
            "-1",
            "",
            " 1699999000",
            "1699999000 ",
            "+1699999000",
            "1e9",
            "99999999999999999999",
            "١٦٩٩٩٩٩٠٠٠",
        ] {
            let r = widget(&widget_query(&[("id", "42"), ("auth_date", bad)]));
            assert_malformed(r, "`auth_date`");
        }
        assert_malformed(widget(&widget_query(&[("id", "42")])), "`auth_date`");
    }

    // --- Signature ------------------------------------------------------

    #[test]
    fn other_schemes_secret_fails() {
        let user = r#"{"id":42,"first_name":"Ann"}"#;
        let fields = [("id", "42"), ("user", user), ("auth_date", AUTH)];
        let by_widget = widget_query(&fields);
        let by_mini_app = mini_app_query(&fields);
        assert!(widget(&by_widget).is_ok());
        assert!(mini_app(&by_mini_app).is_ok());
        assert_eq!(mini_app(&by_widget), Err(VerifyError::BadSignature));
        assert_eq!(widget(&by_mini_app), Err(VerifyError::BadSignature));
        // The same scheme with another bot's token fails too.
        assert_eq!(
            verify_widget_query(&by_widget, "999:other", DAY, NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn one_tampered_value_fails() {
        let fields = [
            ("id", "42"),
            ("first_name", "Ann"),
            ("username", "ann"),
            ("auth_date", AUTH),
        ];
        let hash = sign_widget(&fields, TOKEN);
        let mut tampered = fields;
        tampered[2].1 = "admin";
        assert_eq!(
            widget(&encode(&tampered, &hash)),
            Err(VerifyError::BadSignature)
        );
        let mut other_id = fields;
        other_id[0].1 = "43";
        assert_eq!(
            widget(&encode(&other_id, &hash)),
            Err(VerifyError::BadSignature)
        );
        // One flipped hex digit of the hash.
        let flipped: String = hash
            .char_indices()
            .map(|(i, c)| {
                if i == 10 {
                    if c == '0' {
                        '1'
                    } else {
                        '0'
                    }
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(
            widget(&encode(&fields, &flipped)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn duplicated_keys_are_malformed() {
        let q = widget_query(&[("id", "42"), ("auth_date", AUTH)]);
        assert_malformed(widget(&format!("{q}&id=42")), "more than once");
        assert_malformed(widget(&format!("id=7&{q}")), "more than once");
        assert_malformed(widget(&format!("{q}&auth_date={AUTH}")), "more than once");
        let hash = sign_widget(&[("id", "42"), ("auth_date", AUTH)], TOKEN);
        assert_malformed(widget(&format!("{q}&hash={hash}")), "more than once");
        let m = mini_app_query(&[("user", r#"{"id":42}"#), ("auth_date", AUTH)]);
        assert_malformed(mini_app(&format!("{m}&user=%7B%7D")), "`user`");
    }

    #[test]
    fn hash_must_be_64_hex_digits() {
        let fields = [("id", "42"), ("auth_date", AUTH)];
        let good = sign_widget(&fields, TOKEN);
        let good_upper = good.to_uppercase();
        let cases = [
            good[..62].to_string(),
            format!("{good}00"),
            good[..63].to_string(),
            String::new(),
            format!("zz{}", &good[2..]),
            format!("{} ", &good[..63]),
        ];
        for bad in cases {
            assert_malformed(widget(&encode(&fields, &bad)), "`hash`");
        }
        assert_malformed(widget("id=42&auth_date=1699999000"), "`hash`");
        // Hex case does not matter, and both spellings are the same payload
        // for replay detection.
        let lower = widget(&encode(&fields, &good)).unwrap();
        let upper = widget(&encode(&fields, &good_upper)).unwrap();
        assert_eq!(lower.payload_digest, upper.payload_digest);
    }

    #[test]
    fn payload_digest_is_sha256_of_check_string_and_hash() {
        let fields = [("id", "42"), ("first_name", "Ann"), ("auth_date", AUTH)];
        let hash = sign_widget(&fields, TOKEN);
        let v = widget(&encode(&fields, &hash)).unwrap();
        let mut expected = Sha256::new();
        expected.update(format!("auth_date={AUTH}\nfirst_name=Ann\nid=42"));
        expected.update(hex::decode(&hash).unwrap());
        assert_eq!(v.payload_digest, <[u8; 32]>::from(expected.finalize()));

        let other = widget(&widget_query(&[
            ("id", "42"),
            ("first_name", "Bob"),
            ("auth_date", AUTH),
        ]))
        .unwrap();
        assert_ne!(v.payload_digest, other.payload_digest);
    }

    // --- JSON mode ------------------------------------------------------

    #[test]
    fn json_numbers_enter_as_decimal_text() {
        let fields = [
            ("id", "9007199254740993"),
            ("first_name", "Ann"),
            ("auth_date", AUTH),
            ("allows_write_to_pm", "true"),
        ];
        let hash = sign_widget(&fields, TOKEN);
        let m = obj(json!({
            "id": 9007199254740993_u64,
            "first_name": "Ann",
            "auth_date": 1699999000,
            "allows_write_to_pm": true,
            "hash": hash,
        }));
        let v = verify_widget_json(&m, TOKEN, DAY, NOW).unwrap();
        assert_eq!(v.identity.id, 9_007_199_254_740_993);
        let q = widget(&encode(&fields, &hash)).unwrap();
        assert_eq!(v.payload_digest, q.payload_digest);

        // Numbers parsed from real JSON text behave the same.
        let text = format!(
            r#"{{"id":9007199254740993,"first_name":"Ann","auth_date":{AUTH},"allows_write_to_pm":true,"hash":"{hash}"}}"#
        );
        let parsed: Map<String, Value> = serde_json::from_str(&text).unwrap();
        assert!(verify_widget_json(&parsed, TOKEN, DAY, NOW).is_ok());

        // Stringified numbers are equally fine: the text is what is signed.
        let m = obj(json!({
            "id": "9007199254740993",
            "first_name": "Ann",
            "auth_date": AUTH,
            "allows_write_to_pm": "true",
            "hash": hash,
        }));
        assert!(verify_widget_json(&m, TOKEN, DAY, NOW).is_ok());
    }

    #[test]
    fn json_rejects_nested_null_and_non_string_hash() {
        let hash = sign_widget(&[("id", "42"), ("auth_date", AUTH)], TOKEN);
        for (key, value) in [
            ("extra", json!({"a": 1})),
            ("extra", json!([1, 2])),
            ("extra", Value::Null),
        ] {
            let mut m = obj(json!({"id": 42, "auth_date": 1699999000, "hash": hash}));
            m.insert(key.into(), value);
            assert_malformed(verify_widget_json(&m, TOKEN, DAY, NOW), "`extra`");
        }
        let m = obj(json!({"id": 42, "auth_date": 1699999000, "hash": 12345}));
        assert_malformed(verify_widget_json(&m, TOKEN, DAY, NOW), "`hash`");
        let m = obj(json!({"id": 42, "auth_date": 1699999000}));
        assert_malformed(verify_widget_json(&m, TOKEN, DAY, NOW), "`hash`");
        let m = obj(json!({"id": 42.5, "auth_date": 1699999000, "hash": hash}));
        assert_malformed(verify_widget_json(&m, TOKEN, DAY, NOW), "`id`");
        let m = obj(json!({"id": 42, "auth_date": 1.7e9, "hash": hash}));
        assert_malformed(verify_widget_json(&m, TOKEN, DAY, NOW), "`auth_date`");
    }

    // --- Mini App -------------------------------------------------------

    #[test]
    fn mini_app_with_signature_field() {
        let user = r#"{"id":7123456789,"first_name":"Ann","last_name":"Lee","username":"ann","language_code":"en","is_premium":true,"allows_write_to_pm":true}"#;
        let fields = [
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", user),
            ("auth_date", AUTH),
            (
                "signature",
                // Synthetic stand-in for the Ed25519 third-party signature.
                "dGVzdC1zaWduYXR1cmUtbm90LXJlYWw",
            ),
        ];
        let hash = sign_mini_app(&fields, TOKEN);
        let v = mini_app(&encode(&fields, &hash)).unwrap();
        assert_eq!(
            v.identity,
            TelegramIdentity {
                id: 7_123_456_789,
                first_name: Some("Ann".into()),
                last_name: Some("Lee".into()),
                username: Some("ann".into()),
                photo_url: None,
                language_code: Some("en".into()),
                auth_date: 1_699_999_000,
            }
        );
        // `signature` is covered by the hash like any other field.
        assert_eq!(
            mini_app(&encode(&fields[..3], &hash)),
            Err(VerifyError::BadSignature)
        );
        let mut altered = fields;
        altered[3].1 = "AAAA";
        assert_eq!(
            mini_app(&encode(&altered, &hash)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn mini_app_escaped_slashes_in_user_json() {
        let user = r#"{"id":42,"first_name":"Ann","photo_url":"https:\/\/t.me\/i\/userpic\/320\/abc.svg"}"#;
        let fields = [("user", user), ("auth_date", AUTH), ("signature", "c2ln")];
        let v = mini_app(&mini_app_query(&fields)).unwrap();
        assert_eq!(
            v.identity.photo_url.as_deref(),
            Some("https://t.me/i/userpic/320/abc.svg")
        );
        // The check uses the raw text, not a re-serialisation without escapes.
        let unescaped =
            r#"{"id":42,"first_name":"Ann","photo_url":"https://t.me/i/userpic/320/abc.svg"}"#;
        let hash = sign_mini_app(
            &[
                ("user", unescaped),
                ("auth_date", AUTH),
                ("signature", "c2ln"),
            ],
            TOKEN,
        );
        assert_eq!(
            mini_app(&encode(&fields, &hash)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn mini_app_user_required_and_well_formed() {
        assert_malformed(mini_app(&mini_app_query(&[("auth_date", AUTH)])), "`user`");
        for (user, mentions) in [
            ("not json", "`user`"),
            ("[42]", "`user`"),
            (r#"{"first_name":"Ann"}"#, "`user.id`"),
            (r#"{"id":0}"#, "`user.id`"),
            (r#"{"id":-42}"#, "`user.id`"),
            (r#"{"id":42.5}"#, "`user.id`"),
            (r#"{"id":"42"}"#, "`user.id`"),
            (r#"{"id":9223372036854775808}"#, "`user.id`"),
            (r#"{"id":42,"username":7}"#, "`user.username`"),
        ] {
            let r = mini_app(&mini_app_query(&[("user", user), ("auth_date", AUTH)]));
            assert_malformed(r, mentions);
        }
        // null optional fields read as absent
        let v = mini_app(&mini_app_query(&[
            ("user", r#"{"id":42,"last_name":null}"#),
            ("auth_date", AUTH),
        ]))
        .unwrap();
        assert_eq!(v.identity.last_name, None);
    }

    #[test]
    fn mini_app_emoji_rtl_and_special_characters() {
        let user = r#"{"id":5000000001,"first_name":"שלום 🌍","last_name":"عَليّ \"Q\" \\ + & =","username":"x"}"#;
        let v = mini_app(&mini_app_query(&[("user", user), ("auth_date", AUTH)])).unwrap();
        assert_eq!(v.identity.id, 5_000_000_001);
        assert_eq!(v.identity.first_name.as_deref(), Some("שלום 🌍"));
        assert_eq!(v.identity.last_name.as_deref(), Some(r#"عَليّ "Q" \ + & ="#));
    }

    // --- Errors ---------------------------------------------------------

    #[test]
    fn error_classes_and_single_line_messages() {
        assert!(malformed("x").is_malformed());
        for e in [
            VerifyError::BadSignature,
            VerifyError::Stale,
            VerifyError::FromFuture,
        ] {
            assert!(!e.is_malformed());
            assert!(!e.to_string().contains('\n'));
        }
        // A hostile key containing a newline still gives a one-line reason.
        let q = widget_query(&[("id", "42"), ("auth_date", AUTH)]);
        let err = widget(&format!("{q}&a%0Ab=1&a%0Ab=2")).unwrap_err();
        assert!(err.is_malformed());
        let text = err.to_string();
        assert!(!text.contains('\n') && text.contains(r"a\nb"), "{text}");
        let long = "k".repeat(500);
        let err = widget(&format!("{q}&{long}=1&{long}=2")).unwrap_err();
        assert!(err.to_string().len() < 120, "{err}");
    }
}
