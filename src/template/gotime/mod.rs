//! Go's `time` package, as much of it as templates reach: layouts (`Time.Format`, `time.Parse`),
//! zones (`time.Local`, `LoadLocation`, `FixedZone`), `Time.String`, and durations
//! (`ParseDuration`, `Duration.String`, `Duration.Round`).
//!
//! Templates write Go *layouts* (`2006-01-02T15:04:05Z07:00`, `Mon Jan _2`, `.000`), so this is a
//! faithful port of Go's layout tokenizer (`nextStdChunk`, [`layout`]), formatter and parser
//! (`time.Parse` rules: fixed-width fields, `_2`, `002`, fractional seconds after seconds, zone
//! offsets matched against the local zone, [`parse`]), plus [`duration`]. Times are
//! `jiff::Zoned` values. A Go time may sit in a fabricated zone (`FixedZone(name, offset)`, from
//! parsing `+0530` or an unknown abbreviation); those become POSIX zones whose abbreviation is
//! what Go would print for `MST`. It is kept apart from the Sprig functions (`funcs/date.rs`)
//! because it is Go's behaviour, checked against Go, and changes only when Go's does.

mod duration;
mod layout;
mod parse;

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

pub use duration::{duration_string, parse_duration, round_duration};
pub use layout::format;
pub use parse::parse_in_location;

/// Go's `Time.String()` (without the monotonic clock reading Go appends to `time.Now()`).
pub fn time_string(t: &Zoned) -> String {
    format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
}

// ---------------------------------------------------------------------------------------------
// Zones

/// Go's `time.Local`: `$TZ` or the system zone, UTC when neither is known.
pub fn local_tz() -> TimeZone {
    TimeZone::try_system().unwrap_or(TimeZone::UTC)
}

/// Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" is the local zone.
pub fn load_location(name: &str) -> Option<TimeZone> {
    match name {
        "" | "UTC" => Some(TimeZone::UTC),
        "Local" => Some(local_tz()),
        _ => TimeZone::get(name).ok(),
    }
}

/// Go's `FixedZone(name, offset)`: a zone whose `MST` prints `name`, or `-0700` when unnamed.
pub(super) fn fixed_zone(name: &str, offset: i32) -> TimeZone {
    let abbrev = if name.is_empty() {
        let z = offset / 60;
        format!(
            "{}{:02}{:02}",
            if z < 0 { '-' } else { '+' },
            z.abs() / 60,
            z.abs() % 60
        )
    } else {
        name.to_string()
    };
    // POSIX offsets count west of Greenwich: UTC+5:30 is `-05:30`.
    let a = offset.abs();
    let posix = format!(
        "<{abbrev}>{}{:02}:{:02}:{:02}",
        if offset > 0 { '-' } else { '+' },
        a / 3600,
        a / 60 % 60,
        a % 60
    );
    TimeZone::posix(&posix)
        .or_else(|_| jiff::tz::Offset::from_seconds(offset).map(TimeZone::fixed))
        .unwrap_or(TimeZone::UTC)
}

/// Go's zero `time.Time{}`: 0001-01-01 00:00:00 UTC.
pub fn zero_time() -> Zoned {
    jiff::civil::date(1, 1, 1)
        .at(0, 0, 0, 0)
        .to_zoned(TimeZone::UTC)
        .unwrap_or_default()
}

pub fn now() -> Zoned {
    Timestamp::now().to_zoned(local_tz())
}

/// Go's `time.Unix(sec, 0)` in the local zone.
pub fn unix(sec: i64) -> Zoned {
    Timestamp::from_second(sec)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(local_tz())
}

/// Go's `strconv.Quote`-like quoting used in time errors: the one in `crate::duration`.
pub(super) use crate::duration::quote;
