//! Go's `time.ParseDuration`, `Duration.String` and `Duration.Round`, on nanoseconds (`i64`).

/// Go's `time.ParseDuration`, in nanoseconds: the one parser of crate::duration (also `--timeout`'s).
pub use crate::duration::parse_go as parse_duration;

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let frac = |u: u64, prec: u32| -> (String, u64) {
        let p = 10u64.pow(prec);
        let f = u % p;
        let s = if f == 0 {
            String::new()
        } else {
            let digits = format!("{:0width$}", f, width = prec as usize);
            format!(".{}", digits.trim_end_matches('0'))
        };
        (s, u / p)
    };
    let mut out = if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (unit, prec) = if u < 1_000 {
            ("ns", 0)
        } else if u < 1_000_000 {
            ("µs", 3)
        } else {
            ("ms", 6)
        };
        let (f, whole) = frac(u, prec);
        format!("{whole}{f}{unit}")
    } else {
        let (f, secs) = frac(u, 9);
        u = secs;
        let mut s = format!("{}{f}s", u % 60);
        u /= 60;
        if u > 0 {
            s = format!("{}m{s}", u % 60);
            u /= 60;
            if u > 0 {
                s = format!("{u}h{s}");
            }
        }
        s
    };
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Go's `Duration.Round`.
pub fn round_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let half = |r: i64| (r as u64).wrapping_add(r as u64) < m as u64;
    let r = d % m;
    if d < 0 {
        let r = -r;
        if half(r) {
            return d + r;
        }
        return d.checked_sub(m).map(|x| x + r).filter(|d1| *d1 < d).unwrap_or(i64::MIN);
    }
    if half(r) {
        return d - r;
    }
    d.checked_add(m - r).filter(|d1| *d1 > d).unwrap_or(i64::MAX)
}
