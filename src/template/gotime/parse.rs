//! Go's `time.Parse` / `ParseInLocation`: fixed-width fields, `_2`, `002`, fractional seconds
//! after seconds, and zone offsets and abbreviations matched against the local zone.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::layout::*;
use super::{fixed_zone, quote};

fn parse_error(layout: &str, value: &str, elem: &str, value_elem: &str, msg: &str) -> String {
    if msg.is_empty() {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(value),
            quote(layout),
            quote(value_elem),
            quote(elem)
        )
    } else {
        format!("parsing time {}{}", quote(value), msg)
    }
}

fn digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `getnum`: one or two digits (`fixed` wants two).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !digit(s, 0) {
        return None;
    }
    if !digit(s, 1) {
        if fixed {
            return None;
        }
        return Some(((s[0] - b'0') as i64, &s[1..]));
    }
    Some((((s[0] - b'0') * 10 + (s[1] - b'0')) as i64, &s[2..]))
}

fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0i64;
    let mut i = 0;
    while i < 3 && digit(s, i) {
        n = n * 10 + (s[i] - b'0') as i64;
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Go's `skip`: the literal `prefix` from `value`, runs of spaces matching runs of spaces.
fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Result<&'a [u8], &'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|c| *c != b' ') {
                return Err(value);
            }
            while prefix.first() == Some(&b' ') {
                prefix = &prefix[1..];
            }
            while value.first() == Some(&b' ') {
                value = &value[1..];
            }
            continue;
        }
        if value.first() != Some(&p) {
            return Err(value);
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Ok(value)
}

/// Case-insensitive table lookup at the start of `val` (Go's `lookup`).
fn lookup<'a>(tab: &[&str], val: &'a [u8]) -> Option<(usize, &'a [u8])> {
    tab.iter().enumerate().find_map(|(i, name)| {
        let n = name.len();
        (val.len() >= n && val[..n].eq_ignore_ascii_case(name.as_bytes())).then(|| (i, &val[n..]))
    })
}

pub(super) use crate::duration::leading_int;

/// Go's `parseNanoseconds`: `value[0]` is the separator, `nbytes` includes it.
fn parse_nanos(value: &[u8], nbytes: usize) -> Result<i64, ()> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err(());
    }
    let nbytes = nbytes.min(10);
    let digits = &value[1..nbytes];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let mut ns: i64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(())?;
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok(ns)
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(3 + parse_signed_offset(&value[3..]));
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = value.iter().take(6).take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

fn parse_signed_offset(value: &[u8]) -> usize {
    let Some(&sign) = value.first() else { return 0 };
    if sign != b'-' && sign != b'+' {
        return 0;
    }
    match leading_int(&value[1..]) {
        Some((x, rem)) if rem.len() != value.len() - 1 && x <= 23 => value.len() - rem.len(),
        _ => 0,
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Sign, hours, minutes, seconds and length of a numeric zone offset in the input.
type TzParts<'a> = (u8, &'a [u8], &'a [u8], &'a [u8], usize);

/// Go's `time.ParseInLocation(layout, value, loc)`.
pub fn parse_in_location(layout: &str, value: &str, local: &TimeZone) -> Result<Zoned, String> {
    let (alayout, avalue) = (layout, value);
    let mut l = layout.as_bytes();
    let mut v = value.as_bytes();
    let (mut am, mut pm) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut utc = false;
    let mut zone_offset: Option<i32> = None;
    let mut zone_name = String::new();
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    loop {
        let (plen, std, next) = next_std_chunk(l);
        let prefix = &l[..plen];
        let stdstr = lossy(&l[plen..next]);
        v = match skip(v, prefix) {
            Ok(rest) => rest,
            Err(at) => return Err(parse_error(alayout, avalue, &lossy(prefix), &lossy(at), "")),
        };
        let Some(std) = std else {
            if !v.is_empty() {
                let extra = lossy(v);
                return Err(parse_error(
                    alayout,
                    avalue,
                    "",
                    &extra,
                    &format!(": extra text: {}", quote(&extra)),
                ));
            }
            break;
        };
        l = &l[next..];
        let hold = v;
        let mut range_err: Option<&str> = None;
        let mut ok = true;
        match std {
            Std::Year => {
                if v.len() < 2 {
                    ok = false;
                } else {
                    match atoi(&v[..2]) {
                        Some(y) => {
                            year = if y >= 69 { y + 1900 } else { y + 2000 };
                            v = &v[2..];
                        }
                        None => {
                            ok = false;
                            v = &v[2..];
                        }
                    }
                }
            }
            Std::LongYear => {
                if v.len() < 4 || !digit(v, 0) {
                    ok = false;
                } else {
                    match atoi(&v[..4]) {
                        Some(y) => year = y,
                        None => ok = false,
                    }
                    v = &v[4..];
                }
            }
            Std::Month | Std::LongMonth => {
                let tab: Vec<&str> = if std == Std::Month {
                    LONG_MONTHS.iter().map(|m| &m[..3]).collect()
                } else {
                    LONG_MONTHS.to_vec()
                };
                match lookup(&tab, v) {
                    Some((i, rest)) => {
                        month = i as i64 + 1;
                        v = rest;
                    }
                    None => ok = false,
                }
            }
            Std::NumMonth | Std::ZeroMonth => match getnum(v, std == Std::ZeroMonth) {
                Some((m, rest)) => {
                    month = m;
                    v = rest;
                    if !(1..=12).contains(&m) {
                        range_err = Some("month");
                    }
                }
                None => ok = false,
            },
            Std::WeekDay | Std::LongWeekDay => {
                let tab: Vec<&str> = if std == Std::WeekDay {
                    LONG_DAYS.iter().map(|d| &d[..3]).collect()
                } else {
                    LONG_DAYS.to_vec()
                };
                match lookup(&tab, v) {
                    Some((_, rest)) => v = rest,
                    None => ok = false,
                }
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay && v.first() == Some(&b' ') {
                    v = &v[1..];
                }
                match getnum(v, std == Std::ZeroDay) {
                    Some((d, rest)) => {
                        day = d;
                        v = rest;
                    }
                    None => ok = false,
                }
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay && v.first() == Some(&b' ') {
                        v = &v[1..];
                    }
                }
                match getnum3(v, std == Std::ZeroYearDay) {
                    Some((d, rest)) => {
                        yday = d;
                        v = rest;
                    }
                    None => ok = false,
                }
            }
            Std::Hour => match getnum(v, false) {
                Some((h, rest)) => {
                    hour = h;
                    v = rest;
                    if h >= 24 {
                        range_err = Some("hour");
                    }
                }
                None => ok = false,
            },
            Std::Hour12 | Std::ZeroHour12 => match getnum(v, std == Std::ZeroHour12) {
                Some((h, rest)) => {
                    hour = h;
                    v = rest;
                    if h > 12 {
                        range_err = Some("hour");
                    }
                }
                None => ok = false,
            },
            Std::Minute | Std::ZeroMinute => match getnum(v, std == Std::ZeroMinute) {
                Some((m, rest)) => {
                    min = m;
                    v = rest;
                    if m >= 60 {
                        range_err = Some("minute");
                    }
                }
                None => ok = false,
            },
            Std::Second | Std::ZeroSecond => match getnum(v, std == Std::ZeroSecond) {
                Some((s, rest)) => {
                    sec = s;
                    v = rest;
                    if s >= 60 {
                        range_err = Some("second");
                    } else if v.len() >= 2 && matches!(v[0], b'.' | b',') && digit(v, 1) {
                        // A fractional second in the input that the layout does not spell out.
                        let (_, nstd, _) = next_std_chunk(l);
                        if !matches!(nstd, Some(Std::Frac0(..) | Std::Frac9(..))) {
                            let mut n = 2;
                            while n < v.len() && digit(v, n) {
                                n += 1;
                            }
                            match parse_nanos(v, n) {
                                Ok(ns) => nsec = ns,
                                Err(()) => ok = false,
                            }
                            v = &v[n..];
                        }
                    }
                }
                None => ok = false,
            },
            Std::PM | Std::Pm => {
                if v.len() < 2 {
                    ok = false;
                } else {
                    let p = &v[..2];
                    v = &v[2..];
                    let (up, lo) = if std == Std::PM { (b"PM", b"AM") } else { (b"pm", b"am") };
                    if p == up {
                        pm = true;
                    } else if p == lo {
                        am = true;
                    } else {
                        ok = false;
                    }
                }
            }
            Std::TZ => {
                if v.starts_with(b"UTC") {
                    utc = true;
                    v = &v[3..];
                } else {
                    match parse_time_zone(v) {
                        Some(n) => {
                            zone_name = lossy(&v[..n]);
                            v = &v[n..];
                        }
                        None => ok = false,
                    }
                }
            }
            Std::Frac0(n, _) => {
                let ndigit = 1 + n;
                if v.len() < ndigit {
                    ok = false;
                } else {
                    match parse_nanos(v, ndigit) {
                        Ok(ns) => nsec = ns,
                        Err(()) => ok = false,
                    }
                    v = &v[ndigit..];
                }
            }
            Std::Frac9(..) => {
                if v.len() >= 2 && matches!(v[0], b'.' | b',') && v[1].is_ascii_digit() {
                    let mut i = 0;
                    while i + 1 < v.len() && v[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                    match parse_nanos(v, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err(()) => ok = false,
                    }
                    v = &v[1 + i..];
                }
            }
            tz => {
                // Every ISO 8601 form accepts `Z` (as Go 1.25 does, the seconds forms too).
                if tz.is_iso() && v.first() == Some(&b'Z') {
                    v = &v[1..];
                    utc = true;
                } else {
                    let parts: Option<TzParts> = match tz {
                        Std::Iso8601ColonTZ | Std::NumColonTZ => {
                            (v.len() >= 6 && v[3] == b':').then(|| (v[0], &v[1..3], &v[4..6], &b"00"[..], 6))
                        }
                        Std::NumShortTZ | Std::Iso8601ShortTZ => {
                            (v.len() >= 3).then(|| (v[0], &v[1..3], &b"00"[..], &b"00"[..], 3))
                        }
                        Std::Iso8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            (v.len() >= 9 && v[3] == b':' && v[6] == b':')
                                .then(|| (v[0], &v[1..3], &v[4..6], &v[7..9], 9))
                        }
                        Std::Iso8601SecondsTZ | Std::NumSecondsTZ => {
                            (v.len() >= 7).then(|| (v[0], &v[1..3], &v[3..5], &v[5..7], 7))
                        }
                        _ => (v.len() >= 5).then(|| (v[0], &v[1..3], &v[3..5], &b"00"[..], 5)),
                    };
                    match parts {
                        None => ok = false,
                        Some((sign, h, m, s, used)) => {
                            v = &v[used..];
                            match (getnum(h, true), getnum(m, true), getnum(s, true)) {
                                (Some((hr, _)), Some((mm, _)), Some((ss, _))) => {
                                    if hr > 24 {
                                        range_err = Some("time zone offset hour");
                                    }
                                    if mm > 60 {
                                        range_err = Some("time zone offset minute");
                                    }
                                    if ss > 60 {
                                        range_err = Some("time zone offset second");
                                    }
                                    let off = ((hr * 60 + mm) * 60 + ss) as i32;
                                    match sign {
                                        b'+' => zone_offset = Some(off),
                                        b'-' => zone_offset = Some(-off),
                                        _ => ok = false,
                                    }
                                }
                                _ => ok = false,
                            }
                        }
                    }
                }
            }
        }
        if let Some(r) = range_err {
            return Err(parse_error(
                alayout,
                avalue,
                &stdstr,
                &lossy(v),
                &format!(": {r} out of range"),
            ));
        }
        if !ok {
            return Err(parse_error(alayout, avalue, &stdstr, &lossy(hold), ""));
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    let rest = lossy(v);
    if yday >= 0 {
        let (mut m, mut d) = (0i64, 0i64);
        let mut yd = yday;
        if is_leap(year) {
            if yd == 31 + 29 {
                m = 2;
                d = 29;
            } else if yd > 31 + 29 {
                yd -= 1;
            }
        }
        if !(1..=365).contains(&yd) {
            return Err(parse_error(alayout, avalue, "", &rest, ": day-of-year out of range"));
        }
        if m == 0 {
            const BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
            m = (yd - 1) / 31 + 1;
            if BEFORE[m as usize] < yd {
                m += 1;
            }
            d = yd - BEFORE[m as usize - 1];
        }
        if month >= 0 && month != m {
            return Err(parse_error(
                alayout,
                avalue,
                "",
                &rest,
                ": day-of-year does not match month",
            ));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(parse_error(
                alayout,
                avalue,
                "",
                &rest,
                ": day-of-year does not match day",
            ));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(parse_error(alayout, avalue, "", &rest, ": day out of range"));
    }
    let civil = jiff::civil::DateTime::new(
        year as i16,
        month as i8,
        day as i8,
        hour as i8,
        min as i8,
        sec as i8,
        nsec as i32,
    )
    .map_err(|e| e.to_string())?;
    let in_zone = |tz: TimeZone| civil.to_zoned(tz).map_err(|e| e.to_string());
    if utc {
        return in_zone(TimeZone::UTC);
    }
    if let Some(off) = zone_offset {
        let ts = civil
            .to_zoned(TimeZone::UTC)
            .map_err(|e| e.to_string())?
            .timestamp()
            .checked_sub(jiff::SignedDuration::from_secs(off as i64))
            .map_err(|e| e.to_string())?;
        let info = local.to_offset_info(ts);
        if info.offset().seconds() == off && (zone_name.is_empty() || info.abbreviation() == zone_name) {
            return Ok(ts.to_zoned(local.clone()));
        }
        return Ok(ts.to_zoned(fixed_zone(&zone_name, off)));
    }
    if !zone_name.is_empty() {
        let guess = civil.to_zoned(TimeZone::UTC).map_err(|e| e.to_string())?.timestamp();
        if let Some(off) = lookup_name(local, &zone_name, guess) {
            let ts = guess
                .checked_sub(jiff::SignedDuration::from_secs(off as i64))
                .map_err(|e| e.to_string())?;
            return Ok(ts.to_zoned(local.clone()));
        }
        let mut off = 0;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            off = atoi(&zone_name.as_bytes()[3..]).unwrap_or(0) as i32 * 3600;
        }
        return Ok(guess.to_zoned(fixed_zone(&zone_name, off)));
    }
    in_zone(local.clone())
}

/// Go's `Location.lookupName`: the offset of a zone of `tz` called `name`, preferring one in
/// effect at `unix` (read as local time in that zone), else the first zone with that name.
fn lookup_name(tz: &TimeZone, name: &str, unix: Timestamp) -> Option<i32> {
    // The zones of the location: the initial one and those of its transitions (bounded, as
    // rule-based zones have transitions without end).
    let mut zones: Vec<(String, i32)> = Vec::new();
    let first = tz.to_offset_info(Timestamp::MIN);
    zones.push((first.abbreviation().to_string(), first.offset().seconds()));
    for t in tz.following(Timestamp::MIN).take(2000) {
        let z = (t.abbreviation().to_string(), t.offset().seconds());
        if !zones.contains(&z) {
            zones.push(z);
        }
    }
    for (zname, zoff) in &zones {
        if zname == name {
            let at = unix.checked_sub(jiff::SignedDuration::from_secs(*zoff as i64)).ok()?;
            let info = tz.to_offset_info(at);
            if info.abbreviation() == name {
                return Some(info.offset().seconds());
            }
        }
    }
    zones.iter().find(|(n, _)| n == name).map(|(_, off)| *off)
}

/// Go's `atoi` for time fields: optional sign, digits only.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (x, rem) = leading_int(digits)?;
    if !rem.is_empty() {
        return None;
    }
    let x = x as i64;
    Some(if neg { -x } else { x })
}
