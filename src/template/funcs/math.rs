//! Sprig functions: math (`add`, `sub`, `mul`, `div`, `mod`, `max`, `min`, `ceil`, `floor`,
//! `round`, the `*f` float family, `until`, `untilStep`).
//!
//! Integer math converts every argument with spf13/cast (`toInt64`: floats truncate, strings
//! parse with base 0, errors become 0) and computes in wrapping `int64`, returning `int64`. The
//! `*f` functions convert to `float64` and then compute on shopspring/decimal values built from
//! the shortest decimal form of each float (so `addf 0.1 0.2` is exactly 0.3, and `divf` rounds
//! to 16 decimal places, half away from zero). The decimal here is a small i128 mantissa with a
//! power-of-ten exponent; when an operation would not fit, the plain float result is used.

use crate::template::{Elem, Func, FuncMap, List, Param, Sig, Value};

use super::conv::{to_float64, to_int64};
use super::strings::{arg_int, until_step};

/// A decimal `m × 10^e`.
#[derive(Clone, Copy, Debug)]
struct Dec {
    m: i128,
    e: i32,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Dec {
    /// shopspring's `NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Result<Dec, String> {
        if f.is_nan() {
            return Err("Cannot create a Decimal from NaN".into());
        }
        if f.is_infinite() {
            return Err(format!(
                "Cannot create a Decimal from {}Inf",
                if f > 0.0 { "+" } else { "-" }
            ));
        }
        let text = format!("{f:e}");
        let (mant, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let (int_part, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let digits = format!("{int_part}{frac}");
        let m: i128 = digits.parse().unwrap_or(0);
        Ok(Dec {
            m,
            e: exp - frac.len() as i32,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(0.0)
    }

    /// Both operands with the smaller exponent.
    fn align(self, o: Dec) -> Option<(i128, i128, i32)> {
        let e = self.e.min(o.e);
        let a = self.m.checked_mul(pow10((self.e - e) as u32)?)?;
        let b = o.m.checked_mul(pow10((o.e - e) as u32)?)?;
        Some((a, b, e))
    }

    fn add(self, o: Dec) -> Option<Dec> {
        let (a, b, e) = self.align(o)?;
        Some(Dec {
            m: a.checked_add(b)?,
            e,
        })
    }

    fn sub(self, o: Dec) -> Option<Dec> {
        let (a, b, e) = self.align(o)?;
        Some(Dec {
            m: a.checked_sub(b)?,
            e,
        })
    }

    fn mul(self, o: Dec) -> Option<Dec> {
        Some(Dec {
            m: self.m.checked_mul(o.m)?,
            e: self.e.checked_add(o.e)?,
        })
    }

    /// `Div` = `DivRound(d2, 16)`: 16 decimal places, half away from zero.
    fn div(self, o: Dec) -> Option<Dec> {
        let k = self.e as i64 - o.e as i64 + 16;
        let (num, den) = if k >= 0 {
            (self.m.checked_mul(pow10(u32::try_from(k).ok()?)?)?, o.m)
        } else {
            (self.m, o.m.checked_mul(pow10(u32::try_from(-k).ok()?)?)?)
        };
        let mut q = num / den;
        let r = num % den;
        if r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs() {
            q += if (num < 0) != (den < 0) { -1 } else { 1 };
        }
        Some(Dec { m: q, e: -16 })
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// Sprig's `execDecimalOp`.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> Result<Value, String> {
    let mut acc = Dec::from_f64(to_float64(first))?;
    let mut approx = acc.to_f64();
    let mut exact = true;
    for x in rest {
        let f = to_float64(x);
        let d = Dec::from_f64(f)?;
        if matches!(op, Op::Div) && d.m == 0 {
            return Err("decimal division by 0".into());
        }
        approx = match op {
            Op::Add => approx + f,
            Op::Sub => approx - f,
            Op::Mul => approx * f,
            Op::Div => approx / f,
        };
        if exact {
            let next = match op {
                Op::Add => acc.add(d),
                Op::Sub => acc.sub(d),
                Op::Mul => acc.mul(d),
                Op::Div => acc.div(d),
            };
            match next {
                Some(n) => acc = n,
                None => exact = false,
            }
        }
    }
    Ok(Value::Float(if exact { acc.to_f64() } else { approx }))
}

/// Go's `math.Max`.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a > 0.0 || b.is_infinite() && b > 0.0 {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a < 0.0 || b.is_infinite() && b < 0.0 {
        return f64::NEG_INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b {
        a
    } else {
        b
    }
}

/// Sprig's `round`: note the sign quirk of `math.Modf` (`round -2.4 0` is -3).
fn round(a: &Value, places: i64, round_on: f64) -> f64 {
    let val = to_float64(a);
    let pow = 10f64.powf(places as f64);
    let digit = pow * val;
    let frac = digit.fract();
    let r = if frac >= round_on { digit.ceil() } else { digit.floor() };
    r / pow
}

fn int_list(v: Vec<i64>) -> Value {
    Value::List(List::typed(v.into_iter().map(Value::Int).collect(), Elem::Int))
}

const DIV_ZERO: &str = "runtime error: integer divide by zero";

pub fn register(m: &mut FuncMap) {
    use Param::*;
    let i64v = Value::Int64;
    m.insert(
        "add1".into(),
        Func::pure(Sig::fixed(&[Any]), move |a| Ok(i64v(to_int64(&a[0]).wrapping_add(1)))),
    );
    m.insert(
        "add".into(),
        Func::pure(Sig::variadic(&[], Any), |a| {
            Ok(Value::Int64(
                a.iter().fold(0i64, |acc, v| acc.wrapping_add(to_int64(v))),
            ))
        }),
    );
    m.insert(
        "sub".into(),
        Func::pure(Sig::fixed(&[Any, Any]), |a| {
            Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
        }),
    );
    m.insert(
        "div".into(),
        Func::pure(Sig::fixed(&[Any, Any]), |a| {
            let b = to_int64(&a[1]);
            if b == 0 {
                return Err(DIV_ZERO.into());
            }
            Ok(Value::Int64(to_int64(&a[0]).wrapping_div(b)))
        }),
    );
    m.insert(
        "mod".into(),
        Func::pure(Sig::fixed(&[Any, Any]), |a| {
            let b = to_int64(&a[1]);
            if b == 0 {
                return Err(DIV_ZERO.into());
            }
            Ok(Value::Int64(to_int64(&a[0]).wrapping_rem(b)))
        }),
    );
    m.insert(
        "mul".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| {
            Ok(Value::Int64(
                a[1..]
                    .iter()
                    .fold(to_int64(&a[0]), |acc, v| acc.wrapping_mul(to_int64(v))),
            ))
        }),
    );
    let max = |a: &[Value]| {
        Ok(Value::Int64(
            a[1..].iter().map(to_int64).fold(to_int64(&a[0]), i64::max),
        ))
    };
    m.insert("max".into(), Func::pure(Sig::variadic(&[Any], Any), max));
    m.insert("biggest".into(), Func::pure(Sig::variadic(&[Any], Any), max));
    m.insert(
        "min".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| {
            Ok(Value::Int64(
                a[1..].iter().map(to_int64).fold(to_int64(&a[0]), i64::min),
            ))
        }),
    );
    m.insert(
        "maxf".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| {
            Ok(Value::Float(
                a[1..].iter().map(to_float64).fold(to_float64(&a[0]), go_max),
            ))
        }),
    );
    m.insert(
        "minf".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| {
            Ok(Value::Float(
                a[1..].iter().map(to_float64).fold(to_float64(&a[0]), go_min),
            ))
        }),
    );
    m.insert(
        "ceil".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::Float(to_float64(&a[0]).ceil()))),
    );
    m.insert(
        "floor".into(),
        Func::pure(Sig::fixed(&[Any]), |a| Ok(Value::Float(to_float64(&a[0]).floor()))),
    );
    m.insert(
        "round".into(),
        Func::pure(Sig::variadic(&[Any, Int], Float64), |a| {
            let on = match a.get(2) {
                Some(Value::Float(f)) => *f,
                _ => 0.5,
            };
            Ok(Value::Float(round(&a[0], arg_int(&a[1]), on)))
        }),
    );
    m.insert(
        "add1f".into(),
        Func::pure(Sig::fixed(&[Any]), |a| decimal_op(&a[0], &[Value::Int(1)], Op::Add)),
    );
    m.insert(
        "addf".into(),
        Func::pure(Sig::variadic(&[], Any), |a| decimal_op(&Value::Float(0.0), a, Op::Add)),
    );
    m.insert(
        "subf".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| decimal_op(&a[0], &a[1..], Op::Sub)),
    );
    m.insert(
        "divf".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| decimal_op(&a[0], &a[1..], Op::Div)),
    );
    m.insert(
        "mulf".into(),
        Func::pure(Sig::variadic(&[Any], Any), |a| decimal_op(&a[0], &a[1..], Op::Mul)),
    );
    m.insert(
        "until".into(),
        Func::pure(Sig::fixed(&[Int]), |a| {
            let count = arg_int(&a[0]);
            let step = if count < 0 { -1 } else { 1 };
            until_step(0, count, step).map(int_list)
        }),
    );
    m.insert(
        "untilStep".into(),
        Func::pure(Sig::fixed(&[Int, Int, Int]), |a| {
            until_step(arg_int(&a[0]), arg_int(&a[1]), arg_int(&a[2])).map(int_list)
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: Result<Value, String>) -> f64 {
        match v {
            Ok(Value::Float(x)) => x,
            other => panic!("{other:?}"),
        }
    }

    // helm 4.1.4: addf 0.1 0.2 → 0.3, divf 1 3 → 0.3333333333333333, mulf 1.1 3 → 3.3,
    // subf 1 0.9 → 0.1, divf 2 3 → 0.6666666666666667.
    #[test]
    fn decimal_ops_match_shopspring() {
        let v = |x: f64| Value::Float(x);
        assert_eq!(f(decimal_op(&v(0.0), &[v(0.1), v(0.2)], Op::Add)), 0.3);
        assert_eq!(f(decimal_op(&v(1.0), &[v(3.0)], Op::Div)), 0.3333333333333333);
        assert_eq!(f(decimal_op(&v(2.0), &[v(3.0)], Op::Div)), 0.6666666666666667);
        assert_eq!(f(decimal_op(&v(1.1), &[v(3.0)], Op::Mul)), 3.3);
        assert_eq!(f(decimal_op(&v(1.0), &[v(0.9)], Op::Sub)), 0.1);
        assert_eq!(
            decimal_op(&v(1.0), &[v(0.0)], Op::Div).unwrap_err(),
            "decimal division by 0"
        );
    }

    #[test]
    fn round_follows_sprig() {
        assert_eq!(round(&Value::Float(2.5), 0, 0.5), 3.0);
        assert_eq!(round(&Value::Float(-2.4), 0, 0.5), -3.0);
        assert_eq!(round(&Value::Float(3.14159), 2, 0.5), 3.14);
    }
}
