//! Go's layout tokens (`nextStdChunk`) and `Time.Format`.

use jiff::Zoned;

// ---------------------------------------------------------------------------------------------
// Layout tokens

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTZ,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// `.000`: digits, separator.
    Frac0(usize, u8),
    /// `.999`: digits, separator (trailing zeros trimmed).
    Frac9(usize, u8),
}

impl Std {
    pub(super) fn is_iso(self) -> bool {
        matches!(
            self,
            Std::Iso8601TZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601ColonSecondsTZ
        )
    }
}

pub(super) const STD0X: [Std; 6] = [
    Std::ZeroMonth,
    Std::ZeroDay,
    Std::ZeroHour12,
    Std::ZeroMinute,
    Std::ZeroSecond,
    Std::Year,
];

/// Go's `nextStdChunk`: the literal prefix length, the token, and the index after it.
pub(super) fn next_std_chunk(l: &[u8]) -> (usize, Option<Std>, usize) {
    let has = |i: usize, s: &str| l.len() >= i + s.len() && &l[i..i + s.len()] == s.as_bytes();
    let lower_at = |i: usize| l.get(i).is_some_and(|c| c.is_ascii_lowercase());
    for i in 0..l.len() {
        let hit = |std: Std, len: usize| (i, Some(std), i + len);
        match l[i] {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    return hit(Std::LongMonth, 7);
                }
                if !lower_at(i + 3) {
                    return hit(Std::Month, 3);
                }
            }
            b'M' if l.len() >= i + 3 => {
                if has(i, "Mon") {
                    if has(i, "Monday") {
                        return hit(Std::LongWeekDay, 6);
                    }
                    if !lower_at(i + 3) {
                        return hit(Std::WeekDay, 3);
                    }
                }
                if has(i, "MST") {
                    return hit(Std::TZ, 3);
                }
            }
            b'0' => {
                if let Some(c @ b'1'..=b'6') = l.get(i + 1) {
                    return hit(STD0X[(c - b'1') as usize], 2);
                }
                if has(i, "002") {
                    return hit(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if l.get(i + 1) == Some(&b'5') {
                    return hit(Std::Hour, 2);
                }
                return hit(Std::NumMonth, 1);
            }
            b'2' => {
                if has(i, "2006") {
                    return hit(Std::LongYear, 4);
                }
                return hit(Std::Day, 1);
            }
            b'_' => {
                if l.get(i + 1) == Some(&b'2') {
                    // `_2006` is a literal `_` and a long year.
                    if has(i + 1, "2006") {
                        return (i + 1, Some(Std::LongYear), i + 5);
                    }
                    return hit(Std::UnderDay, 2);
                }
                if has(i, "__2") {
                    return hit(Std::UnderYearDay, 3);
                }
            }
            b'3' => return hit(Std::Hour12, 1),
            b'4' => return hit(Std::Minute, 1),
            b'5' => return hit(Std::Second, 1),
            b'P' if l.get(i + 1) == Some(&b'M') => return hit(Std::PM, 2),
            b'p' if l.get(i + 1) == Some(&b'm') => return hit(Std::Pm, 2),
            b'-' => {
                for (s, std) in [
                    ("-070000", Std::NumSecondsTZ),
                    ("-07:00:00", Std::NumColonSecondsTZ),
                    ("-0700", Std::NumTZ),
                    ("-07:00", Std::NumColonTZ),
                    ("-07", Std::NumShortTZ),
                ] {
                    if has(i, s) {
                        return hit(std, s.len());
                    }
                }
            }
            b'Z' => {
                for (s, std) in [
                    ("Z070000", Std::Iso8601SecondsTZ),
                    ("Z07:00:00", Std::Iso8601ColonSecondsTZ),
                    ("Z0700", Std::Iso8601TZ),
                    ("Z07:00", Std::Iso8601ColonTZ),
                    ("Z07", Std::Iso8601ShortTZ),
                ] {
                    if has(i, s) {
                        return hit(std, s.len());
                    }
                }
            }
            c @ (b'.' | b',') => {
                if let Some(&ch @ (b'0' | b'9')) = l.get(i + 1) {
                    let mut j = i + 1;
                    while j < l.len() && l[j] == ch {
                        j += 1;
                    }
                    if !l.get(j).is_some_and(u8::is_ascii_digit) {
                        let n = j - (i + 1);
                        let std = if ch == b'0' { Std::Frac0(n, c) } else { Std::Frac9(n, c) };
                        return (i, Some(std), j);
                    }
                }
            }
            _ => {}
        }
    }
    (l.len(), None, l.len())
}

pub(super) const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
pub(super) const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Go's `appendInt`: zero-padded to `width` digits, sign in front.
pub(super) fn push_int(b: &mut String, x: i64, width: usize) {
    if x < 0 {
        b.push('-');
    }
    b.push_str(&format!("{:0width$}", x.unsigned_abs(), width = width));
}

/// The zone abbreviation Go prints for `MST`, and the UTC offset in seconds, at `t`.
pub(super) fn zone_of(t: &Zoned) -> (String, i32) {
    let info = t.time_zone().to_offset_info(t.timestamp());
    (info.abbreviation().to_string(), t.offset().seconds())
}

/// Go's `Time.Format`.
pub fn format(t: &Zoned, layout: &str) -> String {
    let (name, offset) = zone_of(t);
    let (year, month, day) = (t.year() as i64, t.month() as usize, t.day() as i64);
    let yday = t.day_of_year() as i64;
    let (hour, min, sec) = (t.hour() as i64, t.minute() as i64, t.second() as i64);
    let weekday = t.weekday().to_sunday_zero_offset() as usize;
    let mut b = String::new();
    let mut rest = layout.as_bytes();
    while !rest.is_empty() {
        let (plen, std, next) = next_std_chunk(rest);
        b.push_str(&String::from_utf8_lossy(&rest[..plen]));
        let Some(std) = std else { break };
        rest = &rest[next..];
        match std {
            Std::Year => push_int(&mut b, year.abs() % 100, 2),
            Std::LongYear => push_int(&mut b, year, 4),
            Std::Month => b.push_str(&LONG_MONTHS[month - 1][..3]),
            Std::LongMonth => b.push_str(LONG_MONTHS[month - 1]),
            Std::NumMonth => push_int(&mut b, month as i64, 0),
            Std::ZeroMonth => push_int(&mut b, month as i64, 2),
            Std::WeekDay => b.push_str(&LONG_DAYS[weekday][..3]),
            Std::LongWeekDay => b.push_str(LONG_DAYS[weekday]),
            Std::Day => push_int(&mut b, day, 0),
            Std::UnderDay => {
                if day < 10 {
                    b.push(' ');
                }
                push_int(&mut b, day, 0);
            }
            Std::ZeroDay => push_int(&mut b, day, 2),
            Std::UnderYearDay => {
                if yday < 100 {
                    b.push(' ');
                    if yday < 10 {
                        b.push(' ');
                    }
                }
                push_int(&mut b, yday, 0);
            }
            Std::ZeroYearDay => push_int(&mut b, yday, 3),
            Std::Hour => push_int(&mut b, hour, 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let hr = if hour % 12 == 0 { 12 } else { hour % 12 };
                push_int(&mut b, hr, if std == Std::ZeroHour12 { 2 } else { 0 });
            }
            Std::Minute => push_int(&mut b, min, 0),
            Std::ZeroMinute => push_int(&mut b, min, 2),
            Std::Second => push_int(&mut b, sec, 0),
            Std::ZeroSecond => push_int(&mut b, sec, 2),
            Std::PM => b.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => b.push_str(if hour >= 12 { "pm" } else { "am" }),
            Std::TZ => {
                if !name.is_empty() {
                    b.push_str(&name);
                } else {
                    let zone = offset / 60;
                    b.push(if zone < 0 { '-' } else { '+' });
                    push_int(&mut b, (zone.abs() / 60) as i64, 2);
                    push_int(&mut b, (zone.abs() % 60) as i64, 2);
                }
            }
            Std::Frac0(n, sep) | Std::Frac9(n, sep) => {
                let trim = matches!(std, Std::Frac9(..));
                let nanos = t.subsec_nanosecond() as i64;
                if trim && (n == 0 || nanos == 0) {
                    continue;
                }
                let digits = format!("{nanos:09}");
                let mut frac = digits[..n.min(9)].to_string();
                if trim {
                    frac = frac.trim_end_matches('0').to_string();
                    if frac.is_empty() {
                        continue;
                    }
                }
                b.push(sep as char);
                b.push_str(&frac);
            }
            tz => {
                if offset == 0 && tz.is_iso() {
                    b.push('Z');
                    continue;
                }
                let zone = offset / 60;
                let abs = offset.abs();
                b.push(if zone < 0 { '-' } else { '+' });
                push_int(&mut b, (zone.abs() / 60) as i64, 2);
                let colon = matches!(
                    tz,
                    Std::Iso8601ColonTZ | Std::NumColonTZ | Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ
                );
                if colon {
                    b.push(':');
                }
                if !matches!(tz, Std::NumShortTZ | Std::Iso8601ShortTZ) {
                    push_int(&mut b, (zone.abs() % 60) as i64, 2);
                }
                if matches!(
                    tz,
                    Std::Iso8601SecondsTZ | Std::NumSecondsTZ | Std::NumColonSecondsTZ | Std::Iso8601ColonSecondsTZ
                ) {
                    if colon {
                        b.push(':');
                    }
                    push_int(&mut b, (abs % 60) as i64, 2);
                }
            }
        }
    }
    b
}
