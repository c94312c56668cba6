//! Sprig functions: dates and durations (`now`, `date`, `dateInZone`, `toDate`, `dateModify`,
//! `ago`, `duration`, `durationRound`, `unixEpoch`, `htmlDate`…), with Go's `time` semantics.//!
//! The Go behaviour underneath (layouts, parsing, zones, durations) is `crate::template::gotime`;
//! this file is Sprig's argument handling on top of it: `date` and friends accept a `time.Time`,
//! `int` or `int64` (Unix seconds) and fall back to *now* for anything else (a YAML `float64`
//! included); `duration` only reads `string`/`int64`, so `duration 95` is `0s` as in Helm.

use std::rc::Rc;

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::template::gotime::{
    duration_string, format, load_location, local_tz, now, parse_duration, parse_in_location, round_duration, unix,
    zero_time,
};
use crate::template::{Func, FuncMap, Param, Sig, Value};

/// Go's `time.Since(t)` in nanoseconds, saturated to the `Duration` range.
fn since(t: &Zoned) -> i64 {
    let n = Timestamp::now().as_nanosecond() - t.timestamp().as_nanosecond();
    n.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn add_duration(t: &Zoned, nanos: i64) -> Zoned {
    t.timestamp()
        .checked_add(jiff::SignedDuration::from_nanos(nanos))
        .map(|ts| ts.to_zoned(t.time_zone().clone()))
        .unwrap_or_else(|_| t.clone())
}

// ---------------------------------------------------------------------------------------------
// Sprig's functions

/// The time a Sprig date function means by its `interface{}` argument.
fn time_arg(v: &Value) -> Zoned {
    match v {
        Value::Time(t) => (**t).clone(),
        Value::Int(i) | Value::Int64(i) => unix(*i),
        _ => now(),
    }
}

fn time_param(v: &Value) -> Result<Zoned, String> {
    match v {
        Value::Time(t) => Ok((**t).clone()),
        other => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        )),
    }
}

/// Sprig `dateInZone`: an unknown zone falls back to UTC.
pub fn date_in_zone(layout: &str, t: &Value, zone: &str) -> String {
    let tz = load_location(zone).unwrap_or(TimeZone::UTC);
    let t = time_arg(t).timestamp().to_zoned(tz);
    format(&t, layout)
}

fn time_value(t: Zoned) -> Value {
    Value::Time(Rc::new(t))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub fn register(m: &mut FuncMap) {
    use Param::{Any, String as Str};
    m.insert(
        "now".into(),
        Func::pure(Sig::fixed(&[]), |_: &[Value]| Ok(time_value(now()))),
    );
    let date = Func::pure(Sig::fixed(&[Str, Any]), |a: &[Value]| {
        Ok(Value::from(date_in_zone(s(&a[0]), &a[1], "Local")))
    });
    m.insert("date".into(), date);
    let in_zone = Func::pure(Sig::fixed(&[Str, Any, Str]), |a: &[Value]| {
        Ok(Value::from(date_in_zone(s(&a[0]), &a[1], s(&a[2]))))
    });
    m.insert("dateInZone".into(), in_zone.clone());
    m.insert("date_in_zone".into(), in_zone);
    m.insert(
        "htmlDate".into(),
        Func::pure(Sig::fixed(&[Any]), |a: &[Value]| {
            Ok(Value::from(date_in_zone("2006-01-02", &a[0], "Local")))
        }),
    );
    m.insert(
        "htmlDateInZone".into(),
        Func::pure(Sig::fixed(&[Any, Str]), |a: &[Value]| {
            Ok(Value::from(date_in_zone("2006-01-02", &a[0], s(&a[1]))))
        }),
    );
    let modify = Func::pure(Sig::fixed(&[Str, Any]), |a: &[Value]| {
        let t = time_param(&a[1])?;
        Ok(time_value(match parse_duration(s(&a[0])) {
            Ok(d) => add_duration(&t, d),
            Err(_) => t,
        }))
    });
    m.insert("dateModify".into(), modify.clone());
    m.insert("date_modify".into(), modify);
    let must_modify = Func::pure(Sig::fixed(&[Str, Any]), |a: &[Value]| {
        let t = time_param(&a[1])?;
        let d = parse_duration(s(&a[0]))?;
        Ok(time_value(add_duration(&t, d)))
    });
    m.insert("mustDateModify".into(), must_modify.clone());
    m.insert("must_date_modify".into(), must_modify);
    m.insert(
        "ago".into(),
        Func::pure(Sig::fixed(&[Any]), |a: &[Value]| {
            let t = time_arg(&a[0]);
            Ok(Value::from(duration_string(round_duration(since(&t), 1_000_000_000))))
        }),
    );
    m.insert(
        "duration".into(),
        Func::pure(Sig::fixed(&[Any]), |a: &[Value]| {
            let n = match &a[0] {
                Value::String(v) => go_parse_int(v),
                Value::Int64(v) => *v,
                _ => 0,
            };
            Ok(Value::from(duration_string(n.wrapping_mul(1_000_000_000))))
        }),
    );
    m.insert(
        "durationRound".into(),
        Func::pure(Sig::fixed(&[Any]), |a: &[Value]| {
            let d = match &a[0] {
                Value::String(v) => parse_duration(v).unwrap_or(0),
                Value::Int64(v) => *v,
                Value::Time(t) => since(t),
                _ => 0,
            };
            Ok(Value::from(duration_round(d)))
        }),
    );
    m.insert(
        "toDate".into(),
        Func::pure(Sig::fixed(&[Str, Str]), |a: &[Value]| {
            Ok(time_value(
                parse_in_location(s(&a[0]), s(&a[1]), &local_tz()).unwrap_or_else(|_| zero_time()),
            ))
        }),
    );
    m.insert(
        "mustToDate".into(),
        Func::pure(Sig::fixed(&[Str, Str]), |a: &[Value]| {
            parse_in_location(s(&a[0]), s(&a[1]), &local_tz()).map(time_value)
        }),
    );
    m.insert(
        "unixEpoch".into(),
        Func::pure(Sig::fixed(&[Any]), |a: &[Value]| {
            Ok(Value::from(time_param(&a[0])?.timestamp().as_second().to_string()))
        }),
    );
}

/// Go's `strconv.ParseInt(s, 10, 64)` value, error ignored as Sprig does: 0 on a syntax error,
/// the saturated bound when the digits overflow before any bad character is met.
fn go_parse_int(s: &str) -> i64 {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return 0;
    }
    let mut n: u64 = 0;
    let mut overflow = false;
    for c in digits.bytes() {
        if !c.is_ascii_digit() {
            return 0;
        }
        match n.checked_mul(10).and_then(|x| x.checked_add((c - b'0') as u64)) {
            Some(x) => n = x,
            None => {
                overflow = true;
                break;
            }
        }
    }
    const CUTOFF: u64 = 1 << 63;
    if overflow || (!neg && n >= CUTOFF) {
        return if neg { i64::MIN } else { i64::MAX };
    }
    if neg {
        if n >= CUTOFF {
            return i64::MIN;
        }
        return -(n as i64);
    }
    n as i64
}

/// Sprig `durationRound`: the largest whole unit (y = 365 d, mo = 30 d), truncated.
pub fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    for (unit, suffix) in [
        (365 * DAY, "y"),
        (30 * DAY, "mo"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
    ] {
        if u > unit {
            return format!("{}{suffix}", u / unit);
        }
    }
    "0s".into()
}

#[cfg(test)]
mod tests {
    //! Expected values are `helm template` (Helm 4.1.4) outputs for the same calls; parses were
    //! run with `TZ` set to each local zone listed.
    use super::*;
    use crate::template::funcs::random::tests::call;
    use crate::template::gotime::time_string;

    fn funcs() -> FuncMap {
        let mut m = FuncMap::new();
        register(&mut m);
        m
    }

    fn text(v: Value) -> String {
        match v {
            Value::String(s) => s.to_string(),
            Value::Time(t) => time_string(&t),
            other => panic!("{other:?}"),
        }
    }

    fn in_zone(sec: i64, zone: &str) -> Zoned {
        Timestamp::from_second(sec)
            .unwrap()
            .to_zoned(TimeZone::get(zone).unwrap())
    }

    fn utc_date(y: i16, m: i8, d: i8) -> Zoned {
        jiff::civil::date(y, m, d)
            .at(0, 0, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
    }

    /// Layout, value, and Go's result with each local zone.
    type ParseCase = (&'static str, &'static str, [Result<&'static str, &'static str>; 3]);

    #[test]
    fn parse_matches_go_in_three_local_zones() {
        let zones = ["UTC", "Asia/Kolkata", "America/Los_Angeles"];
        #[rustfmt::skip]
        let table: &[ParseCase] = &[
            ("2006-01-02", "2017-12-31", [Ok("2017-12-31 00:00:00 +0000 UTC"), Ok("2017-12-31 00:00:00 +0530 IST"), Ok("2017-12-31 00:00:00 -0800 PST")]),
            ("2006-01-02 15:04:05 -0700", "2017-12-31 10:11:12 +0530", [Ok("2017-12-31 10:11:12 +0530 +0530"), Ok("2017-12-31 10:11:12 +0530 IST"), Ok("2017-12-31 10:11:12 +0530 +0530")]),
            ("2006-01-02 15:04:05 -0700", "2017-12-31 10:11:12 +0000", [Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 +0000"), Ok("2017-12-31 10:11:12 +0000 +0000")]),
            ("2006-01-02 15:04:05 MST", "2017-12-31 10:11:12 PST", [Ok("2017-12-31 10:11:12 +0000 PST"), Ok("2017-12-31 10:11:12 +0000 PST"), Ok("2017-12-31 10:11:12 -0800 PST")]),
            ("2006-01-02 15:04:05 MST", "2017-12-31 10:11:12 IST", [Ok("2017-12-31 10:11:12 +0000 IST"), Ok("2017-12-31 10:11:12 +0530 IST"), Ok("2017-12-31 10:11:12 +0000 IST")]),
            ("2006-01-02 15:04:05 MST", "2017-12-31 10:11:12 GMT+3", [Ok("2017-12-31 13:11:12 +0300 GMT+3"), Ok("2017-12-31 13:11:12 +0300 GMT+3"), Ok("2017-12-31 13:11:12 +0300 GMT+3")]),
            ("2006-01-02 15:04:05 MST", "2017-12-31 10:11:12 UTC", [Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 UTC")]),
            ("2006-01-02T15:04:05Z07:00", "2017-12-31T10:11:12Z", [Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 UTC")]),
            ("2006-01-02T15:04:05Z07:00", "2017-12-31T10:11:12.123456+01:00", [Ok("2017-12-31 10:11:12.123456 +0100 +0100"), Ok("2017-12-31 10:11:12.123456 +0100 +0100"), Ok("2017-12-31 10:11:12.123456 +0100 +0100")]),
            ("2006-01-02T15:04:05.000Z07:00", "2017-12-31T10:11:12.1Z", [Err("parsing time \"2017-12-31T10:11:12.1Z\" as \"2006-01-02T15:04:05.000Z07:00\": cannot parse \".1Z\" as \".000\""), Err("parsing time \"2017-12-31T10:11:12.1Z\" as \"2006-01-02T15:04:05.000Z07:00\": cannot parse \".1Z\" as \".000\""), Err("parsing time \"2017-12-31T10:11:12.1Z\" as \"2006-01-02T15:04:05.000Z07:00\": cannot parse \".1Z\" as \".000\"")]),
            ("2006-01-02T15:04:05.999Z07:00", "2017-12-31T10:11:12Z", [Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 UTC"), Ok("2017-12-31 10:11:12 +0000 UTC")]),
            ("Jan _2 2006 3:04PM", "Feb  3 2020 12:30AM", [Ok("2020-02-03 00:30:00 +0000 UTC"), Ok("2020-02-03 00:30:00 +0530 IST"), Ok("2020-02-03 00:30:00 -0800 PST")]),
            ("Jan _2 2006 3:04pm", "Feb 29 2021 1:30pm", [Err("parsing time \"Feb 29 2021 1:30pm\": day out of range"), Err("parsing time \"Feb 29 2021 1:30pm\": day out of range"), Err("parsing time \"Feb 29 2021 1:30pm\": day out of range")]),
            ("Monday January 2 06", "friday JULY 14 17", [Ok("2017-07-14 00:00:00 +0000 UTC"), Ok("2017-07-14 00:00:00 +0530 IST"), Ok("2017-07-14 00:00:00 -0700 PDT")]),
            ("2006 002", "2020 060", [Ok("2020-02-29 00:00:00 +0000 UTC"), Ok("2020-02-29 00:00:00 +0530 IST"), Ok("2020-02-29 00:00:00 -0800 PST")]),
            ("2006 __2", "2020  61", [Ok("2020-03-01 00:00:00 +0000 UTC"), Ok("2020-03-01 00:00:00 +0530 IST"), Ok("2020-03-01 00:00:00 -0800 PST")]),
            ("02/01/2006", "31/02/2017", [Err("parsing time \"31/02/2017\": day out of range"), Err("parsing time \"31/02/2017\": day out of range"), Err("parsing time \"31/02/2017\": day out of range")]),
            ("2006-01-02", "bad", [Err("parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\""), Err("parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\""), Err("parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\"")]),
            ("2006-01-02", "2017-13-01", [Err("parsing time \"2017-13-01\": month out of range"), Err("parsing time \"2017-13-01\": month out of range"), Err("parsing time \"2017-13-01\": month out of range")]),
            ("15:04", "25:00", [Err("parsing time \"25:00\": hour out of range"), Err("parsing time \"25:00\": hour out of range"), Err("parsing time \"25:00\": hour out of range")]),
            ("2006-01-02", "2017-01-02 extra", [Err("parsing time \"2017-01-02 extra\": extra text: \" extra\""), Err("parsing time \"2017-01-02 extra\": extra text: \" extra\""), Err("parsing time \"2017-01-02 extra\": extra text: \" extra\"")]),
            ("2006-01-02 -07", "2017-01-02 +05", [Ok("2017-01-02 00:00:00 +0500 +0500"), Ok("2017-01-02 00:00:00 +0500 +0500"), Ok("2017-01-02 00:00:00 +0500 +0500")]),
            ("2006-01-02 -07:00:00", "2017-01-02 +05:30:15", [Ok("2017-01-02 00:00:00 +0530 +0530"), Ok("2017-01-02 00:00:00 +0530 +0530"), Ok("2017-01-02 00:00:00 +0530 +0530")]),
            ("2006-01-02 Z070000", "2017-01-02 -053015", [Ok("2017-01-02 00:00:00 -0530 -0530"), Ok("2017-01-02 00:00:00 -0530 -0530"), Ok("2017-01-02 00:00:00 -0530 -0530")]),
            ("2006-01-02 15:04:05,000", "2017-01-02 01:02:03,456", [Ok("2017-01-02 01:02:03.456 +0000 UTC"), Ok("2017-01-02 01:02:03.456 +0530 IST"), Ok("2017-01-02 01:02:03.456 -0800 PST")]),
            ("2006-01-02 15:04:05", "2017-01-02 01:02:03.987654321123", [Ok("2017-01-02 01:02:03.987654321 +0000 UTC"), Ok("2017-01-02 01:02:03.987654321 +0530 IST"), Ok("2017-01-02 01:02:03.987654321 -0800 PST")]),
            ("_2006 Jan", "_2019 Mar", [Ok("2019-03-01 00:00:00 +0000 UTC"), Ok("2019-03-01 00:00:00 +0530 IST"), Ok("2019-03-01 00:00:00 -0800 PST")]),
        ];
        for (layout, value, want) in table {
            for (zone, want) in zones.iter().zip(want) {
                let local = TimeZone::get(zone).unwrap();
                let got = parse_in_location(layout, value, &local).map(|t| time_string(&t));
                let want = want.map(str::to_string).map_err(str::to_string);
                assert_eq!(got, want, "{layout:?} {value:?} in {zone}");
            }
        }
    }

    /// 2400 random layouts formatted by helm in two zones with odd offsets.
    #[test]
    fn format_corpus_matches_helm() {
        let corpus = include_str!("testdata/date-format-helm.tsv");
        let mut n = 0;
        for line in corpus.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            let unix: i64 = f[1].parse().unwrap();
            assert_eq!(date_in_zone(f[0], &Value::Int64(unix), f[2]), f[3], "{line}");
            n += 1;
        }
        assert_eq!(n, 2400);
    }

    /// Helm's `toDate` on values of random layouts, some mutated, in two local zones. Left out:
    /// a zone abbreviation shorter than 3 characters (`+1`), which jiff's POSIX zones cannot name.
    #[test]
    fn parse_corpus_matches_helm() {
        let corpus = include_str!("testdata/date-parse-helm.tsv");
        let zones = [TimeZone::UTC, TimeZone::get("America/St_Johns").unwrap()];
        let mut n = 0;
        for line in corpus.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            for (local, want) in zones.iter().zip(&f[2..4]) {
                let got = parse_in_location(f[0], f[1], local).unwrap_or_else(|_| zero_time());
                assert_eq!(time_string(&got), *want, "{line}");
            }
            n += 1;
        }
        assert!(n > 1700, "{n}");
    }

    #[test]
    fn format_matches_go() {
        let cases = [
            (
                in_zone(1500000000, "UTC"),
                "Mon Jan 2 15:04:05 MST 2006",
                "Fri Jul 14 02:40:00 UTC 2017",
            ),
            (
                in_zone(1500000000, "America/New_York"),
                "2006-01-02T15:04:05Z07:00",
                "2017-07-13T22:40:00-04:00",
            ),
            (
                in_zone(1500000000, "Asia/Kolkata"),
                "Monday, 02-Jan-06 15:04:05.000000 PM -07:00:00 Z0700 _2 __2 002 .999 ,000",
                "Friday, 14-Jul-17 08:10:00.000000 AM +05:30:00 +0530 14 195 195  ,000",
            ),
            (
                zero_time(),
                "Jan January 1 01 2 02 _2 3 03 4 04 5 05 06 2006 pm PM MST",
                "Jan January 1 01 1 01  1 12 12 0 00 0 00 01 0001 am AM UTC",
            ),
            (
                in_zone(1500000000, "UTC"),
                "Z07 Z07:00 -07 -0700 Mon",
                "Z Z +00 +0000 Fri",
            ),
            (
                in_zone(1514678400, "Asia/Kolkata"),
                "2006-01-02 15:04:05 MST",
                "2017-12-31 05:30:00 IST",
            ),
            (
                in_zone(1514678400, "America/St_Johns"),
                "Jan _2 3:04:05pm -07 Z07:00:00 -070000",
                "Dec 30 8:30:00pm -03 -03:30:00 -033000",
            ),
            (
                in_zone(1498867200, "Europe/Berlin"),
                "2006-01-02 MST",
                "2017-07-01 CEST",
            ),
            (
                utc_date(2017, 12, 31),
                "Jan Janu Monx Mon Month MST Janx",
                "Dec Janu Monx Sun Month UTC Janx",
            ),
            (
                in_zone(1000000, "UTC"),
                "06 _2 __2 002 3 03 15 4 04 5 05",
                "70 12  12 012 1 01 13 46 46 40 40",
            ),
            (in_zone(-62135596800, "UTC"), "2006", "0001"),
        ];
        for (t, layout, want) in cases {
            assert_eq!(format(&t, layout), want, "{layout}");
        }
        let t = parse_in_location(
            "2006-01-02T15:04:05.999999999Z07:00",
            "2020-02-29T23:59:58.120000Z",
            &TimeZone::UTC,
        )
        .unwrap();
        assert_eq!(
            format(&t, ".0 .00 .999999999 .9 ,9 05.999 05.000000000"),
            ".1 .12 .12 .1 ,1 58.12 58.120000000"
        );
    }

    #[test]
    fn durations_match_go() {
        let m = funcs();
        let dur = |v: Value| text(call(&m, "duration", &[v]).unwrap());
        assert_eq!(dur(Value::Int64(90061)), "25h1m1s");
        assert_eq!(dur(Value::Int64(-61)), "-1m1s");
        assert_eq!(dur(Value::Int64(59)), "59s");
        assert_eq!(dur(Value::from("-7200")), "-2h0m0s");
        assert_eq!(dur(Value::from("3600")), "1h0m0s");
        assert_eq!(dur(Value::Int64(9223372036)), "2562047h47m16s");
        // ParseInt saturates on overflow before it meets the bad `m`; Go's multiply then wraps.
        assert_eq!(dur(Value::from("896107934642773056642171m")), "-1s");
        assert_eq!(dur(Value::from("12m")), "0s");
        // Sprig reads only string and int64: template ints and floats are 0.
        for v in [Value::Int(95), Value::Float(1.5), Value::from("x"), Value::Int(0)] {
            assert_eq!(dur(v), "0s");
        }
        let round = |v: Value| text(call(&m, "durationRound", &[v]).unwrap());
        let cases = [
            (Value::Int64(90061000000000), "1d"),
            (Value::Int64(-3601000000000), "1h"),
            (Value::Int64(86400000000000), "24h"),
            (Value::Int64(86400000000001), "1d"),
            (Value::from("720h1s"), "1mo"),
            (Value::from("1.5s"), "1s"),
            (Value::from("2h10m"), "2h"),
            (Value::from("400h"), "16d"),
            (Value::from("9000h"), "1y"),
            (Value::from("-3m"), "3m"),
            (Value::from("1s"), "0s"),
            (Value::from("bad"), "0s"),
            (Value::Int(3600000000000), "0s"),
        ];
        for (v, want) in cases {
            assert_eq!(round(v.clone()), want, "{v:?}");
        }
    }

    /// 1500 random duration strings through `dateModify`, `durationRound` and `duration`.
    #[test]
    fn duration_corpus_matches_helm() {
        let m = funcs();
        let t = Value::Time(Rc::new(utc_date(2017, 12, 31)));
        let corpus = include_str!("testdata/duration-helm.tsv");
        let mut n = 0;
        for line in corpus.lines().filter(|l| !l.starts_with('#')) {
            let (d, want) = line.split_once('\t').unwrap();
            let d = Value::from(d);
            let Value::Time(modified) = call(&m, "dateModify", &[d.clone(), t.clone()]).unwrap() else {
                panic!("{line}")
            };
            let got = format!(
                "{}|{}|{}",
                format(&modified, "2006-01-02 15:04:05.999999999"),
                text(call(&m, "durationRound", std::slice::from_ref(&d)).unwrap()),
                text(call(&m, "duration", std::slice::from_ref(&d)).unwrap())
            );
            assert_eq!(got, want, "{line}");
            n += 1;
        }
        assert_eq!(n, 1500);
    }

    #[test]
    fn date_modify_and_parse_duration_match_go() {
        let m = funcs();
        let t = Value::Time(Rc::new(utc_date(2017, 12, 31)));
        let cases = [
            ("1.5h", "2017-12-31 01:30:00"),
            ("300ms", "2017-12-31 00:00:00.3"),
            ("-1.5h", "2017-12-30 22:30:00"),
            ("1h2m3.004005006s", "2017-12-31 01:02:03.004005006"),
            ("2us", "2017-12-31 00:00:00.000002"),
            ("2µs", "2017-12-31 00:00:00.000002"),
            (".5s", "2017-12-31 00:00:00.5"),
            ("+5m", "2017-12-31 00:05:00"),
            ("0", "2017-12-31 00:00:00"),
            ("-0", "2017-12-31 00:00:00"),
            ("1.000000000001s", "2017-12-31 00:00:01"),
            ("3h3h", "2017-12-31 06:00:00"),
            ("1.s", "2017-12-31 00:00:01"),
            ("-1h30m15.5s", "2017-12-30 22:29:44.5"),
        ];
        for (d, want) in cases {
            let got = call(&m, "mustDateModify", &[Value::from(d), t.clone()]).unwrap();
            let Value::Time(z) = got else { panic!() };
            assert_eq!(format(&z, "2006-01-02 15:04:05.999999999"), want, "{d}");
        }
        let errs = [
            ("1e3s", "time: unknown unit \"e\" in duration \"1e3s\""),
            ("", "time: invalid duration \"\""),
            ("5", "time: missing unit in duration \"5\""),
            ("1x", "time: unknown unit \"x\" in duration \"1x\""),
            (".s", "time: invalid duration \".s\""),
            ("9999999999h", "time: invalid duration \"9999999999h\""),
        ];
        for (d, want) in errs {
            assert_eq!(
                call(&m, "mustDateModify", &[Value::from(d), t.clone()]).unwrap_err(),
                want
            );
        }
        // dateModify keeps the time on a bad duration.
        assert_eq!(
            text(call(&m, "dateModify", &[Value::from("bad"), t.clone()]).unwrap()),
            "2017-12-31 00:00:00 +0000 UTC"
        );
        assert_eq!(
            text(call(&m, "date_modify", &[Value::from("1.5h"), t.clone()]).unwrap()),
            "2017-12-31 01:30:00 +0000 UTC"
        );
        assert_eq!(
            call(&m, "dateModify", &[Value::from("1h"), Value::from("x")]).unwrap_err(),
            "wrong type for value; expected time.Time; got string"
        );
        assert_eq!(text(call(&m, "unixEpoch", &[t]).unwrap()), "1514678400");
    }

    #[test]
    fn sprig_date_arguments() {
        let m = funcs();
        let zone = |args: Vec<Value>| text(call(&m, "htmlDateInZone", &args).unwrap());
        assert_eq!(zone(vec![Value::Int(86399), Value::from("Asia/Tokyo")]), "1970-01-02");
        // An unknown zone is UTC.
        assert_eq!(zone(vec![Value::Int(86399), Value::from("Bad/Zone")]), "1970-01-01");
        assert_eq!(zone(vec![Value::Int64(0), Value::from("")]), "1970-01-01");
        let d = |args: Vec<Value>| text(call(&m, "dateInZone", &args).unwrap());
        assert_eq!(
            d(vec![
                Value::from("2006-01-02T15:04:05Z07:00"),
                Value::Int(1500000000),
                Value::from("America/New_York")
            ]),
            "2017-07-13T22:40:00-04:00"
        );
        // Anything but a time or an int means now.
        let today = format(&now().timestamp().to_zoned(TimeZone::UTC), "2006");
        assert_eq!(
            d(vec![Value::from("2006"), Value::Float(1.0), Value::from("UTC")]),
            today
        );
        assert_eq!(
            text(call(&m, "date", &[Value::from("2006-01-02"), Value::from("x")]).unwrap()).len(),
            10
        );
        // toDate gives Go's zero time on failure; mustToDate the error.
        assert_eq!(
            text(call(&m, "toDate", &[Value::from("2006-01-02"), Value::from("bad")]).unwrap()),
            "0001-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            call(&m, "mustToDate", &[Value::from("2006-01-02"), Value::from("bad")]).unwrap_err(),
            "parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\""
        );
        // ago: a time an hour and a half back.
        let past = Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_secs(5400))
            .unwrap();
        let ago = text(call(&m, "ago", &[Value::Time(Rc::new(past.to_zoned(TimeZone::UTC)))]).unwrap());
        assert!(ago == "1h30m0s" || ago == "1h30m1s", "{ago}");
        assert!(matches!(call(&m, "now", &[]).unwrap(), Value::Time(_)));
    }
}
