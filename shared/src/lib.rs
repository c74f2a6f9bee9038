//! tend-shared: the v1 wire protocol between tend-agent, tend-collector and tendctl.
//!
//! Every `Serialize` here is a compatibility promise to agents already in the field:
//! unknown fields are ignored on input, new fields get `#[serde(default)]`, and the
//! JSON shape is pinned by the round-trip tests in `tests` below each module and in
//! `shared/tests/wire.rs`. Only this crate defines wire types.

pub mod accounts;
pub mod api;
pub mod assets;
pub mod bundle;
pub mod checkin;
pub mod console;
pub mod devices;
pub mod diagnostics;
pub mod enroll;
pub mod files;
pub mod health;
pub mod inventory;
pub mod jobs;
pub mod kb;
pub mod local;
pub mod net;
pub mod outputs;
pub mod policy;
pub mod query;
pub mod releases;
pub mod reports;
pub mod signing;
pub mod text;
pub mod tickets;
pub mod webhooks;

/// Current protocol version spoken by this build (path prefix `/api/v1`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Milliseconds since the Unix epoch, the time unit used on the wire.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The UTC calendar date of `ms` since the epoch and the seconds into that day:
/// `(year, month, day, seconds)` (Howard Hinnant's civil-from-days).
pub fn utc_parts(ms: u64) -> (i64, u32, u32, u64) {
    let secs = ms / 1000;
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d, secs % 86_400)
}

/// Midnight UTC of a calendar date, in ms since the epoch (`None` for an invalid
/// month or day, or a date before 1970).
pub fn utc_midnight_ms(y: i64, m: u32, d: u32) -> Option<u64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (m, d) = (i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * mp + 2) / 5 + d - 1;
    u64::try_from(era * 146_097 + doe - 719_468)
        .ok()
        .map(|days| days * 86_400_000)
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn calendar_dates_round_trip() {
        assert_eq!(utc_parts(0), (1970, 1, 1, 0));
        assert_eq!(
            utc_parts(1_795_000_000_000),
            (2026, 11, 18, 39_600 + 6 * 60 + 40)
        );
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 11, 24), (2027, 3, 1)] {
            let ms = utc_midnight_ms(y, m, d).unwrap();
            assert_eq!(utc_parts(ms), (y, m, d, 0));
        }
        assert_eq!(utc_midnight_ms(2026, 13, 1), None);
        assert_eq!(utc_midnight_ms(1969, 12, 31), None);
    }
}
