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
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let year = u32::try_from(t.year()).expect("years 0000 to 9999");
    let fields = [
        (0..4, year),
        (5..7, u32::from(u8::from(t.month()))),
        (8..10, u32::from(t.day())),
        (11..13, u32::from(t.hour())),
        (14..16, u32::from(t.minute())),
        (17..19, u32::from(t.second())),
        (20..23, u32::from(t.millisecond())),
    ];
    // Digits into a fixed template rather than `format!`: every message and attempt answered
    // formats one or more of these.
    for (range, mut value) in fields {
        for digit in out[range].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    String::from_utf8(out.to_vec()).expect("ASCII digits")
}

/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
const MIN_MILLIS: i64 = -62_167_219_200_000;
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// Reads an RFC 3339 time with any offset; sub-millisecond digits are dropped.
pub fn parse_millis(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_with_three_fraction_digits_and_parse_back() {
        for (ms, text) in [
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (1_700_000_000_000, "2023-11-14T22:13:20.000Z"),
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_007, "2000-02-29T00:00:00.007Z"),
            (MIN_MILLIS, "0000-01-01T00:00:00.000Z"),
            (MAX_MILLIS, "9999-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(format_millis(ms), text);
            assert_eq!(parse_millis(text), Some(ms));
        }
        assert_eq!(format_millis(i64::MIN), "0000-01-01T00:00:00.000Z");
    }
}
