//! Decimal conversion of float values: `v == from_decimal(m, e)` bit-exactly, with one exponent
//! `e` per chunk, in the manner of VictoriaMetrics.
//!
//! `from_decimal(m, e)` is `m as f64 / 10^e` for `e >= 0` and `m as f64 * 10^-e` for `e < 0`.
//! Both operands are exact (`10^k` is exact in f64 for `k <= 22`) and IEEE division and
//! multiplication round correctly, so short decimals such as `0.01 * k` or `ticks / 100.0`
//! convert exactly. The encoder always verifies the decoder's formula, so correctness never
//! rests on that reasoning; only compression does. NaN, infinities and `-0.0` never convert.

/// The largest exponent used.
pub(crate) const MAX_E: i32 = 22;
/// The smallest exponent used.
pub(crate) const MIN_E: i32 = -22;

/// `10^k` for `k` in 0..=22, all exact in f64.
const P10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `10^|e|` for `e` in `MIN_E..=MAX_E`.
#[inline]
pub(crate) fn pow10(e: i32) -> Option<f64> {
    P10.get(e.unsigned_abs() as usize).copied()
}

/// 2^53: integers below it in magnitude are exact in f64.
const EXACT: i64 = 1 << 53;

/// The value `m` scaled by `10^-e`, as the decoder computes it. `e` outside the range gives NaN.
#[inline]
pub(crate) fn from_decimal(m: i64, e: i32) -> f64 {
    match pow10(e) {
        Some(p) if e >= 0 => m as f64 / p,
        Some(p) => m as f64 * p,
        None => f64::NAN,
    }
}

/// The mantissa of `v` at exponent `e >= 0` (with `p = 10^e`), if `v` converts exactly.
#[inline(always)]
fn at(v: f64, e: i32, p: f64) -> Option<i64> {
    if e == 0 {
        let m = v as i64;
        return ((m as f64).to_bits() == v.to_bits()).then_some(m);
    }
    let x = v * p;
    if x.is_nan() || x.abs() >= EXACT as f64 {
        return None;
    }
    // Round half away from zero without libm; an off-by-one near .5 only fails the check.
    let m = (x + 0.5f64.copysign(x)) as i64;
    ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
}

/// The smallest exponent in `from..=MAX_E` at which `v` converts, with its mantissa.
fn search(v: f64, from: i32) -> Option<(i32, i64)> {
    if !v.is_finite() {
        return None;
    }
    (from..=MAX_E).find_map(|e| pow10(e).and_then(|p| at(v, e, p)).map(|m| (e, m)))
}

/// Converts one value on its own (the smallest exponent that works, or a negative one when
/// the integer has trailing decimal zeros).
pub(crate) fn convert_one(v: f64) -> Option<(i32, i64)> {
    let (mut e, mut m) = search(v, 0)?;
    if e == 0 && m.unsigned_abs() < (EXACT as u64) * 10 {
        while m != 0 && m % 10 == 0 && e > MIN_E {
            m /= 10;
            e -= 1;
        }
    }
    Some((e, m))
}

/// A chunk's values in decimal form.
#[derive(Debug, Default)]
pub(crate) struct Decimal {
    /// The common exponent.
    pub(crate) e: i32,
    /// Mantissas, one per value; an exception's slot holds a neighbour's mantissa.
    pub(crate) m: Vec<i64>,
    /// Positions of values that do not convert (NaN, infinities, -0.0, long fractions).
    pub(crate) exceptions: Vec<u32>,
}

impl Decimal {
    /// Converts `values` with one common exponent, allowing at most `max_exceptions` values
    /// that do not convert. `None` when that is exceeded or rescaling would lose exactness.
    #[cfg(test)]
    pub(crate) fn convert(
        values: impl Iterator<Item = f64>,
        max_exceptions: usize,
    ) -> Option<Self> {
        let mut d = Self::default();
        d.convert_into(values, max_exceptions).then_some(d)
    }

    /// As [`Decimal::convert`], reusing `self`'s memory; `false` when the values do not fit.
    pub(crate) fn convert_into(
        &mut self,
        values: impl Iterator<Item = f64>,
        max_exceptions: usize,
    ) -> bool {
        self.m.clear();
        self.exceptions.clear();
        let (mut e, mut p) = (0i32, 1.0f64);
        let mut last: Option<i64> = None;
        for (i, v) in values.enumerate() {
            if let Some(m) = at(v, e, p) {
                self.m.push(m);
                last = Some(m);
                continue;
            }
            match search(v, e + 1) {
                Some((e2, m)) => {
                    let Some(p2) = pow10(e2) else { return false };
                    if rescale(&mut self.m, e2 - e).is_none() {
                        return false;
                    }
                    (e, p) = (e2, p2);
                    self.m.push(m);
                    last = Some(m);
                }
                None => {
                    self.exceptions.push(i as u32);
                    if self.exceptions.len() > max_exceptions {
                        return false;
                    }
                    self.m.push(last.unwrap_or(0));
                }
            }
        }
        self.e = e;
        self.fill_leading_exceptions(last.is_some());
        if e == 0 {
            self.strip_decimal_zeros();
        }
        true
    }

    /// Gives exceptions before the first convertible value that value's mantissa (they were
    /// filled with 0), so that deltas stay small.
    fn fill_leading_exceptions(&mut self, any_valid: bool) {
        if !any_valid {
            return;
        }
        let mut k = 0usize;
        while self.exceptions.get(k).is_some_and(|&p| p as usize == k) {
            k += 1;
        }
        if k == 0 {
            return;
        }
        let first = self.m.get(k).copied().unwrap_or(0);
        self.m.iter_mut().take(k).for_each(|m| *m = first);
    }

    /// Turns integers with common trailing decimal zeros into a negative exponent.
    fn strip_decimal_zeros(&mut self) {
        if self.m.iter().all(|&m| m == 0)
            || self
                .m
                .iter()
                .any(|&m| m.unsigned_abs() >= (EXACT as u64) * 10)
        {
            return;
        }
        while self.e > MIN_E && self.m.iter().all(|&m| m % 10 == 0) {
            self.m.iter_mut().for_each(|m| *m /= 10);
            self.e -= 1;
        }
    }
}

/// Multiplies every mantissa by `10^k`, keeping them below 2^53 (where the new exponent's
/// division stays exact). `None` when one would not.
fn rescale(m: &mut [i64], k: i32) -> Option<()> {
    let f = 10i64.checked_pow(u32::try_from(k).ok()?)?;
    for x in m.iter_mut() {
        let y = x
            .checked_mul(f)
            .filter(|y| y.unsigned_abs() < EXACT as u64)?;
        *x = y;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(vs: &[f64]) -> Option<Decimal> {
        Decimal::convert(vs.iter().copied(), 2)
    }

    #[test]
    fn common_exponent_and_exactness() {
        let vs = [1.5, 2.25, 0.01, 1234.5, -3.0];
        let d = conv(&vs).expect("decimal");
        assert_eq!(d.e, 2);
        assert_eq!(d.m, vec![150, 225, 1, 123_450, -300]);
        for (m, v) in d.m.iter().zip(vs) {
            assert_eq!(from_decimal(*m, d.e).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn ticks_over_hz_convert() {
        for ticks in [0i64, 1, 99, 123_456_789, 987_654_321_012] {
            let v = ticks as f64 / 100.0;
            let (e, m) = convert_one(v).expect("decimal");
            assert_eq!(from_decimal(m, e).to_bits(), v.to_bits(), "{ticks}");
        }
    }

    #[test]
    fn specials_are_exceptions() {
        let vs = [f64::NAN, 1.0, -0.0, f64::INFINITY, 2.0];
        let d = Decimal::convert(vs.iter().copied(), 3).expect("decimal");
        assert_eq!(d.exceptions, vec![0, 2, 3]);
        assert_eq!(d.m, vec![1, 1, 1, 1, 2]);
        assert!(Decimal::convert(vs.iter().copied(), 2).is_none());
    }

    #[test]
    fn trailing_zeros_give_negative_exponent() {
        let d = conv(&[5000.0, 12000.0, 0.0]).expect("decimal");
        assert_eq!((d.e, d.m.clone()), (-3, vec![5, 12, 0]));
        assert_eq!(from_decimal(12, -3), 12000.0);
        assert_eq!(convert_one(1e15), Some((-15, 1)));
        assert_eq!(convert_one(1e21), None, "beyond i64 mantissas");
    }

    #[test]
    fn long_fractions_do_not_convert() {
        assert!(convert_one(0.1 + 0.2).is_none_or(|(e, m)| from_decimal(m, e) == 0.1 + 0.2));
        assert!(convert_one(1.0 / 7.0).is_none(), "17 significant digits");
        assert!(convert_one(f64::MIN_POSITIVE).is_none());
    }
}
