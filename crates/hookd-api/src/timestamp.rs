//! Timestamps on the wire: RFC 3339 in UTC with millisecond precision, from and to the
//! milliseconds since the Unix epoch that hookd stores.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `1_700_000_000_123` becomes `2023-11-14T22:13:20.123Z`. Always three fraction digits
/// (`well_known::Rfc3339` drops trailing zeros), so every timestamp has the same width.
pub fn format_millis(ms: i64) -> String {
    // RFC 3339 has four-digit years; hookd never stores a time outside them.
    let ms = ms.clamp(MIN_MILLIS, MAX_MILLIS);
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .expect("a time within years 0000 to 9999 is representable");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
const MIN_MILLIS: i64 = -62_167_219_200_000;
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// Reads an RFC 3339 time with any offset; sub-millisecond digits are dropped.
pub fn parse_millis(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}
