//! Exact money, exact decimal inputs and the one rounding rule.
//!
//! Every amount is an integer count of 10⁻¹⁸ of a currency unit (an "atto-dollar" or
//! "atto-yuan"), held in an `i128`. That grid is fine enough that the estimator's arithmetic is
//! exact: tokens × a price in millionths per million tokens, clips × seconds × a per-second price,
//! a markup in basis points, and a dollar amount × an exchange rate in millionths all land on it
//! without remainder. Two operations can leave the grid and are rounded half away from zero to
//! 10⁻¹⁸ (a billionth of a billionth of a cent's worth of error): yuan converted back to dollars
//! (÷ 7.3 never terminates) and a markup applied to an already converted amount.
//!
//! **Display rule.** An amount is rounded exactly once, when it is shown: half away from zero to
//! whole cents (fen), then written as `$1,234.56` or `¥1,234.56`. When parts and their total are
//! shown together, [`Money::apportion_cents`] distributes the rounded total over the parts by
//! largest remainder, so the displayed parts always add up to the displayed total.
//!
//! Inputs typed by people (prices, rates, percentages) are exact decimals parsed from their text
//! by [`parse_decimal`]; a JSON number is first turned back into its shortest decimal text, so
//! `4.2e-07` becomes exactly 0.00000042 and never `4.1999999e-07`.

use crate::domain::encoding::wire_names::wire_enum;
use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::i18n::Lang;

wire_enum! {
    /// The currencies the studio pays in, named by their ISO 4217 codes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub enum Currency {
        /// US dollars: what model prices are quoted in.
        #[default]
        Usd = "USD",
        /// Chinese yuan (renminbi): what Chinese studios actually pay.
        Cny = "CNY",
    }
}

impl Currency {
    /// The symbol written before an amount.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Usd => "$",
            Currency::Cny => "¥",
        }
    }

    /// The ISO 4217 code (its wire name).
    pub fn code(self) -> &'static str {
        self.as_str()
    }

    /// Parses an ISO code (`USD`, `CNY`, also `RMB`), case-insensitively.
    pub fn from_code(code: &str) -> Option<Currency> {
        match code.trim().to_ascii_uppercase().as_str() {
            "USD" => Some(Currency::Usd),
            "CNY" | "RMB" => Some(Currency::Cny),
            _ => None,
        }
    }
}

/// 10¹⁸: grid units in one dollar or one yuan.
pub const UNITS_PER_MAJOR: i128 = 1_000_000_000_000_000_000;
/// Grid units in one micro-unit (a millionth of a dollar or yuan).
pub const UNITS_PER_MICRO: i128 = 1_000_000_000_000;
/// Grid units in one cent (or one fen).
pub const UNITS_PER_CENT: i128 = 10_000_000_000_000_000;

/// An exact amount of money in one currency.
///
/// Adding or subtracting amounts of different currencies is a programming error and panics;
/// conversions go through [`crate::domain::cost::profile::ExchangeRate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    currency: Currency,
    units: i128,
}

impl Money {
    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money { currency, units: 0 }
    }

    /// An amount counted in 10⁻¹⁸ of the currency.
    pub const fn from_units(currency: Currency, units: i128) -> Money {
        Money { currency, units }
    }

    /// An amount counted in millionths of the currency.
    pub const fn from_micros(currency: Currency, micros: i128) -> Money {
        Money {
            currency,
            units: micros * UNITS_PER_MICRO,
        }
    }

    /// An amount counted in cents (or fen).
    pub const fn from_cents(currency: Currency, cents: i128) -> Money {
        Money {
            currency,
            units: cents * UNITS_PER_CENT,
        }
    }

    /// Parses a decimal amount such as `789.60` (at most 6 decimals).
    pub fn parse(currency: Currency, text: &str) -> Result<Money, DecimalError> {
        Ok(Money::from_micros(currency, parse_decimal(text, 6)?))
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The exact amount in 10⁻¹⁸ of the currency.
    pub fn units(self) -> i128 {
        self.units
    }

    /// True when the amount is exactly zero.
    pub fn is_zero(self) -> bool {
        self.units == 0
    }

    /// The amount in millionths of the currency, rounded half away from zero.
    pub fn micros(self) -> i128 {
        div_round_half_away(self.units, UNITS_PER_MICRO)
    }

    /// The amount in whole cents, rounded half away from zero: the display rule.
    pub fn cents(self) -> i128 {
        div_round_half_away(self.units, UNITS_PER_CENT)
    }

    /// The amount rounded to whole cents (the value that [`Money::display`] shows).
    pub fn rounded_to_cents(self) -> Money {
        Money::from_cents(self.currency, self.cents())
    }

    /// Multiplies by `numerator / denominator`, rounding half away from zero to the 10⁻¹⁸ grid
    /// (exact whenever the result lies on the grid). `denominator` must be positive.
    pub fn scale(self, numerator: i128, denominator: i128) -> Money {
        Money {
            currency: self.currency,
            units: mul_div_round(self.units, numerator, denominator),
        }
    }

    /// Multiplies by a whole number.
    pub fn times(self, factor: i128) -> Money {
        Money {
            currency: self.currency,
            units: self.units * factor,
        }
    }

    /// The same number of units in another currency: only for conversions, which compute the
    /// number themselves.
    pub(crate) fn with_currency(self, currency: Currency) -> Money {
        Money {
            currency,
            units: self.units,
        }
    }

    /// Formats the amount by the display rule: `$1,234.56`, `-¥0.05`.
    pub fn display(self) -> String {
        format_cents(self.currency, self.cents())
    }

    /// The amount as a plain decimal with two places and no symbol or grouping (`-1234.56`),
    /// for spreadsheets.
    pub fn plain(self) -> String {
        let cents = self.cents();
        let sign = if cents < 0 { "-" } else { "" };
        let abs = cents.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Sums amounts that are all in `currency`.
    pub fn sum<I: IntoIterator<Item = Money>>(currency: Currency, parts: I) -> Money {
        parts
            .into_iter()
            .fold(Money::zero(currency), |acc, part| acc + part)
    }

    /// Rounds each part to cents so that the rounded parts add up to the rounded total
    /// (largest-remainder apportionment). All parts must share one currency; the result has the
    /// same length and order. Use it whenever a breakdown is shown next to its total.
    pub fn apportion_cents(parts: &[Money]) -> Vec<Money> {
        let Some(first) = parts.first() else {
            return Vec::new();
        };
        let currency = first.currency;
        let total = Money::sum(currency, parts.iter().copied());
        let units: Vec<i128> = parts.iter().map(|part| part.units).collect();
        apportion(&units, UNITS_PER_CENT, total.cents())
            .into_iter()
            .map(|cents| Money::from_cents(currency, cents))
            .collect()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl Add for Money {
    type Output = Money;

    fn add(self, other: Money) -> Money {
        assert_eq!(
            self.currency, other.currency,
            "adding amounts of different currencies"
        );
        Money {
            currency: self.currency,
            units: self.units + other.units,
        }
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        *self = *self + other;
    }
}

impl Sub for Money {
    type Output = Money;

    fn sub(self, other: Money) -> Money {
        assert_eq!(
            self.currency, other.currency,
            "subtracting amounts of different currencies"
        );
        Money {
            currency: self.currency,
            units: self.units - other.units,
        }
    }
}

impl Neg for Money {
    type Output = Money;

    fn neg(self) -> Money {
        Money {
            currency: self.currency,
            units: -self.units,
        }
    }
}

/// An amount serialises as `{"currency":"USD","micros":789600000,"display":"$789.60"}`:
/// micro-units for programs (rounded half away from zero) and the display string for people.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("Money", 3)?;
        state.serialize_field("currency", &self.currency)?;
        state.serialize_field("micros", &self.micros())?;
        state.serialize_field("display", &self.display())?;
        state.end()
    }
}

/// Writes a whole number of cents with a symbol and thousands separators.
fn format_cents(currency: Currency, cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!(
        "{sign}{}{}.{:02}",
        currency.symbol(),
        group_thousands(&(abs / 100).to_string()),
        abs % 100
    )
}

/// Inserts a comma every three digits from the right: `1234567` → `1,234,567`.
pub fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Writes a count with thousands separators: `240000000` → `240,000,000`.
pub fn format_count(count: u64) -> String {
    group_thousands(&count.to_string())
}

/// Divides, rounding half away from zero. `denominator` must be positive.
pub fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    assert!(denominator > 0, "denominator must be positive");
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.unsigned_abs() * 2 >= denominator.unsigned_abs() {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

/// Computes `value × numerator / denominator` rounded half away from zero, without forming the
/// full product when `value` is large (the quotient and remainder are scaled separately, so
/// only `denominator × numerator` must fit in an `i128`). `denominator` must be positive.
pub fn mul_div_round(value: i128, numerator: i128, denominator: i128) -> i128 {
    assert!(denominator > 0, "denominator must be positive");
    let whole = value / denominator;
    let rest = value % denominator;
    whole * numerator + div_round_half_away(rest * numerator, denominator)
}

/// Largest-remainder apportionment. Each part's exact quota is `numerators[i] / denominator`;
/// the result gives every part the floor of its quota, then hands the units still missing to
/// reach `target` to the parts with the largest remainders (earlier parts win ties).
///
/// `target` must lie between the floor and the ceiling of the quotas' sum, which is what
/// rounding the sum to a whole number gives; the results then add up to exactly `target`.
pub fn apportion(numerators: &[i128], denominator: i128, target: i128) -> Vec<i128> {
    assert!(denominator > 0, "denominator must be positive");
    let mut floors: Vec<i128> = numerators
        .iter()
        .map(|n| n.div_euclid(denominator))
        .collect();
    let missing = target - floors.iter().sum::<i128>();
    debug_assert!(
        (0..=numerators.len() as i128).contains(&missing),
        "target outside the floor/ceiling of the quotas"
    );
    let remainders: Vec<i128> = numerators
        .iter()
        .map(|n| n.rem_euclid(denominator))
        .collect();
    // The parts by remainder, largest first, the earlier part first among equal remainders:
    // each part goes in after every part whose remainder is at least its own. Breakdowns have
    // tens of parts; std's stable sort would add ~4 KB of wasm to the start-up module
    // (ARCHITECTURE.md, "Bundle size").
    let mut order: Vec<usize> = Vec::with_capacity(numerators.len());
    for (i, remainder) in remainders.iter().enumerate() {
        let at = order.partition_point(|&j| remainders[j] >= *remainder);
        order.insert(at, i);
    }
    for &i in order.iter().take(missing.max(0) as usize) {
        floors[i] += 1;
    }
    floors
}

/// Why a decimal text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecimalError {
    /// The text is empty.
    Empty,
    /// The text is not a decimal number.
    NotANumber,
    /// The number has more decimal places than the field keeps.
    TooPrecise {
        /// Decimal places the field keeps.
        decimals: u32,
    },
    /// The number is too large to hold.
    TooLarge,
}

impl DecimalError {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            DecimalError::Empty => lang.pick("不能为空", "must not be empty").to_string(),
            DecimalError::NotANumber => lang.pick("不是有效数字", "is not a number").to_string(),
            DecimalError::TooPrecise { decimals } => match lang {
                Lang::ZhCn => format!("最多保留 {decimals} 位小数"),
                Lang::En => format!("has more than {decimals} decimal places"),
            },
            DecimalError::TooLarge => lang.pick("数值过大", "is too large").to_string(),
        }
    }
}

/// Parses a decimal text (`0.42`, `-3`, `4.2e-07`, `+1_000` is not allowed) into an integer
/// scaled by 10^`decimals`, exactly. More decimal places than `decimals` is an error unless the
/// extra digits are zeros.
pub fn parse_decimal(text: &str, decimals: u32) -> Result<i128, DecimalError> {
    let (value, exact) = parse_decimal_rounded(text, decimals)?;
    if exact {
        Ok(value)
    } else {
        Err(DecimalError::TooPrecise { decimals })
    }
}

/// Like [`parse_decimal`], but digits beyond `decimals` are rounded half away from zero instead
/// of refused. The flag is false when rounding changed the value.
pub fn parse_decimal_rounded(text: &str, decimals: u32) -> Result<(i128, bool), DecimalError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (negative, rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => {
            let exponent: i32 = rest[at + 1..]
                .parse()
                .map_err(|_| DecimalError::NotANumber)?;
            (&rest[..at], exponent)
        }
        None => (rest, 0),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(DecimalError::NotANumber);
    }
    // The digits, without a decimal point, and the power of ten that places them.
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let places = i64::from(exponent) - fraction.len() as i64 + i64::from(decimals);
    if digits.is_empty() {
        return Ok((0, true));
    }
    if places > 38 || digits.len() as i64 + places > 38 {
        return Err(DecimalError::TooLarge);
    }
    let (value, exact) = if places >= 0 {
        let mut value: i128 = digits.parse().map_err(|_| DecimalError::TooLarge)?;
        for _ in 0..places {
            value = value.checked_mul(10).ok_or(DecimalError::TooLarge)?;
        }
        (value, true)
    } else {
        // Keep the digits above the cut, then round on the first digit below it.
        let cut = digits.len() as i64 + places;
        if cut < 0 {
            return Ok((0, false));
        }
        let cut = cut as usize;
        let kept: i128 = if cut == 0 {
            0
        } else {
            digits[..cut].parse().map_err(|_| DecimalError::TooLarge)?
        };
        let dropped = &digits[cut..];
        let round_up = dropped.as_bytes()[0] >= b'5';
        let exact = dropped.bytes().all(|b| b == b'0');
        (kept + i128::from(round_up), exact)
    };
    Ok((if negative { -value } else { value }, exact))
}

/// Writes an integer scaled by 10^`decimals` as a decimal without trailing zeros:
/// `(420000, 6)` → `0.42`, `(7300000, 6)` → `7.3`, `(8000000, 6)` → `8`.
pub fn format_decimal(value: i128, decimals: u32) -> String {
    let scale = 10i128.pow(decimals);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let whole = abs / scale as u128;
    let fraction = abs % scale as u128;
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:0width$}", width = decimals as usize);
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

/// The shortest decimal text that reads back as `value` (`4.2e-7` for 4.2e-07), or `None` for
/// NaN and infinities. This is how a JSON number becomes an exact decimal. It is serde_json's
/// own float writer, which the app links anyway (core's float formatting would add ~10 KB to
/// the start-up module).
pub fn float_text(value: f64) -> Option<String> {
    serde_json::Number::from_f64(value).map(|number| number.to_string())
}

/// A JSON number that holds an exact decimal: read from a number or a numeric string, written
/// as the JSON number nearest to the decimal (which reads back exactly while the value has at
/// most 15 significant digits, as every capped field here does).
pub(crate) fn decimal_from_json(
    value: &serde_json::Value,
    decimals: u32,
) -> Result<i128, DecimalError> {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                return parse_decimal(&int.to_string(), decimals);
            }
            if let Some(int) = number.as_u64() {
                return parse_decimal(&int.to_string(), decimals);
            }
            let float = number.as_f64().ok_or(DecimalError::NotANumber)?;
            parse_decimal(
                &float_text(float).ok_or(DecimalError::NotANumber)?,
                decimals,
            )
        }
        serde_json::Value::String(text) => parse_decimal(text, decimals),
        _ => Err(DecimalError::NotANumber),
    }
}

/// The JSON number nearest to `value / 10^decimals`.
pub(crate) fn decimal_to_json_number(value: i128, decimals: u32) -> f64 {
    // Both operands are exact in f64 for every capped value, and IEEE division rounds
    // correctly, so this is the double nearest to the decimal.
    value as f64 / 10f64.powi(decimals as i32)
}

/// An exact quantity in millionths: prices (per million tokens, per request, per second, per
/// clip) and exchange rates. Written in JSON as a decimal number in whole units (`0.42`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Micros(pub i64);

impl Micros {
    /// Parses a decimal text with at most 6 decimals: `"0.42"` → `Micros(420_000)`.
    pub fn parse(text: &str) -> Result<Micros, DecimalError> {
        let value = parse_decimal(text, 6)?;
        i64::try_from(value)
            .map(Micros)
            .map_err(|_| DecimalError::TooLarge)
    }

    /// Whole units: `Micros::whole(8)` is 8.000000.
    pub const fn whole(units: i64) -> Micros {
        Micros(units * 1_000_000)
    }

    /// The decimal text without trailing zeros (`0.42`).
    pub fn to_decimal(self) -> String {
        format_decimal(i128::from(self.0), 6)
    }

    /// This quantity as money in `currency`.
    pub fn money(self, currency: Currency) -> Money {
        Money::from_micros(currency, i128::from(self.0))
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

impl Serialize for Micros {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(decimal_to_json_number(i128::from(self.0), 6))
    }
}

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Micros, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let micros = decimal_from_json(&value, 6)
            .map_err(|e| serde::de::Error::custom(e.message(Lang::En)))?;
        i64::try_from(micros)
            .map(Micros)
            .map_err(|_| serde::de::Error::custom("is too large"))
    }
}

/// An exact percentage with two decimals (basis points): cache-hit shares and markups.
/// Written in JSON as a number of percent (`12.5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Percent {
    /// Hundredths of a percent: 12.5 % is 1250.
    pub basis_points: i64,
}

impl Percent {
    /// Zero percent.
    pub const ZERO: Percent = Percent { basis_points: 0 };
    /// One hundred percent.
    pub const HUNDRED: Percent = Percent {
        basis_points: 10_000,
    };

    /// Whole percent: `Percent::whole(15)` is 15 %.
    pub const fn whole(percent: i64) -> Percent {
        Percent {
            basis_points: percent * 100,
        }
    }

    /// Parses `"12.5"` (an optional trailing `%` is allowed), at most two decimals.
    pub fn parse(text: &str) -> Result<Percent, DecimalError> {
        let text = text.trim().trim_end_matches('%');
        let value = parse_decimal(text, 2)?;
        i64::try_from(value)
            .map(|basis_points| Percent { basis_points })
            .map_err(|_| DecimalError::TooLarge)
    }

    /// `12.5%`.
    pub fn display(self) -> String {
        format!("{}%", format_decimal(i128::from(self.basis_points), 2))
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(decimal_to_json_number(i128::from(self.basis_points), 2))
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Percent, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let basis_points = decimal_from_json(&value, 2)
            .map_err(|e| serde::de::Error::custom(e.message(Lang::En)))?;
        i64::try_from(basis_points)
            .map(|basis_points| Percent { basis_points })
            .map_err(|_| serde::de::Error::custom("is too large"))
    }
}

/// A computed percentage rounded half away from zero to one decimal (`99.3%`): savings and
/// shares. Serialises as `{"tenths":993,"display":"99.3%"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RoundedPercent {
    /// Tenths of a percent: 99.3 % is 993.
    pub tenths: i64,
}

impl RoundedPercent {
    /// `part / whole` as a percentage, rounded once; `None` when `whole` is zero. Exact for
    /// every pair of `i128`s.
    pub fn of(part: i128, whole: i128) -> Option<RoundedPercent> {
        if whole == 0 {
            return None;
        }
        let (a, b) = (part.unsigned_abs(), whole.unsigned_abs());
        // Long division: the whole part, then three decimal digits (tenths of a percent), each
        // from the remainder times ten computed modulo `b` so that nothing can overflow.
        let mut tenths = a / b;
        let mut remainder = a % b;
        for _ in 0..3 {
            let (mut digit, mut next) = (0u128, 0u128);
            for _ in 0..10 {
                if next >= b - remainder {
                    next -= b - remainder;
                    digit += 1;
                } else {
                    next += remainder;
                }
            }
            tenths = tenths.saturating_mul(10).saturating_add(digit);
            remainder = next;
        }
        if remainder >= b - remainder {
            tenths = tenths.saturating_add(1);
        }
        let tenths = i64::try_from(tenths).unwrap_or(i64::MAX);
        let negative = (part < 0) != (whole < 0);
        Some(RoundedPercent {
            tenths: if negative { -tenths } else { tenths },
        })
    }

    /// The same for two amounts of one currency.
    pub fn of_money(part: Money, whole: Money) -> Option<RoundedPercent> {
        assert_eq!(
            part.currency(),
            whole.currency(),
            "percent of different currencies"
        );
        RoundedPercent::of(part.units(), whole.units())
    }

    /// `99.3%`, `-4.0%`.
    pub fn display(self) -> String {
        let sign = if self.tenths < 0 { "-" } else { "" };
        let abs = self.tenths.unsigned_abs();
        format!(
            "{sign}{}.{}%",
            group_thousands(&(abs / 10).to_string()),
            abs % 10
        )
    }
}

impl fmt::Display for RoundedPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl Serialize for RoundedPercent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("RoundedPercent", 2)?;
        state.serialize_field("tenths", &self.tenths)?;
        state.serialize_field("display", &self.display())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(text: &str) -> Money {
        Money::parse(Currency::Usd, text).unwrap()
    }

    #[test]
    fn display_rule() {
        let check = |units: i128, expect: &str| {
            assert_eq!(
                Money::from_units(Currency::Usd, units).display(),
                expect,
                "{units}"
            );
        };
        check(0, "$0.00");
        check(UNITS_PER_CENT / 2, "$0.01");
        check(UNITS_PER_CENT / 2 - 1, "$0.00");
        check(-UNITS_PER_CENT / 2, "-$0.01");
        check(-UNITS_PER_CENT / 2 + 1, "$0.00");
        check(123_456_789 * UNITS_PER_CENT, "$1,234,567.89");
        check(100_000 * UNITS_PER_CENT, "$1,000.00");
        assert_eq!(
            Money::parse(Currency::Cny, "2920").unwrap().display(),
            "¥2,920.00"
        );
        assert_eq!(usd("789.6").plain(), "789.60");
        assert_eq!(format_count(240_000_000), "240,000,000");
        assert_eq!(format_count(999), "999");
        assert_eq!((-usd("12.345")).plain(), "-12.35");
    }

    #[test]
    fn decimals_parse_exactly() {
        let check = |text: &str, decimals: u32, expect: Result<i128, DecimalError>| {
            assert_eq!(parse_decimal(text, decimals), expect, "{text}");
        };
        check("0.42", 6, Ok(420_000));
        check("4.2e-07", 12, Ok(420_000));
        check("4.2E-7", 12, Ok(420_000));
        check("2.8e-08", 12, Ok(28_000));
        check("7.3", 6, Ok(7_300_000));
        check("-3", 2, Ok(-300));
        check("+.5", 2, Ok(50));
        check("5.", 0, Ok(5));
        check("0.000", 0, Ok(0));
        check("1.50", 1, Ok(15));
        check("1.55", 1, Err(DecimalError::TooPrecise { decimals: 1 }));
        check("", 2, Err(DecimalError::Empty));
        check("  ", 2, Err(DecimalError::Empty));
        check("abc", 2, Err(DecimalError::NotANumber));
        check("1.2.3", 2, Err(DecimalError::NotANumber));
        check(".", 2, Err(DecimalError::NotANumber));
        check("1e", 2, Err(DecimalError::NotANumber));
        check("NaN", 2, Err(DecimalError::NotANumber));
        check("1e40", 0, Err(DecimalError::TooLarge));
        check("1e-400", 2, Err(DecimalError::TooPrecise { decimals: 2 }));
        assert_eq!(parse_decimal_rounded("1.005", 2), Ok((101, false)));
        assert_eq!(parse_decimal_rounded("-1.005", 2), Ok((-101, false)));
        assert_eq!(parse_decimal_rounded("0.004", 2), Ok((0, false)));
    }

    #[test]
    fn floats_become_their_shortest_decimal() {
        for (float, expect) in [
            (4.2e-07, 420_000),
            (3e-06, 3_000_000),
            (2.5e-06, 2_500_000),
            (2.8e-08, 28_000),
            (150.0, 150_000_000_000_000),
            (0.3, 300_000_000_000),
            (1e21, 1_000_000_000_000_000_000_000_000_000_000_000),
            (-7.25, -7_250_000_000_000),
        ] {
            assert_eq!(parse_decimal(&float_text(float).unwrap(), 12), Ok(expect));
        }
        assert_eq!(float_text(f64::NAN), None);
    }

    #[test]
    fn decimals_format_without_trailing_zeros() {
        assert_eq!(format_decimal(420_000, 6), "0.42");
        assert_eq!(format_decimal(8_000_000, 6), "8");
        assert_eq!(format_decimal(-1_250, 2), "-12.5");
        assert_eq!(Micros::parse("0.028").unwrap().to_decimal(), "0.028");
        assert_eq!(Percent::parse("12.5%").unwrap().display(), "12.5%");
    }

    #[test]
    fn micros_and_percent_round_trip_through_json() {
        for text in [
            "0.42",
            "2.5",
            "15",
            "0.028",
            "3.75",
            "7.3",
            "0.000001",
            "9999.999999",
        ] {
            let micros = Micros::parse(text).unwrap();
            let json = serde_json::to_string(&micros).unwrap();
            assert_eq!(
                serde_json::from_str::<Micros>(&json).unwrap(),
                micros,
                "{json}"
            );
        }
        let percent: Percent = serde_json::from_str("\"33.33\"").unwrap();
        assert_eq!(percent.basis_points, 3333);
        assert_eq!(serde_json::to_string(&percent).unwrap(), "33.33");
        assert!(serde_json::from_str::<Percent>("\"1.234\"").is_err());
    }

    #[test]
    fn rounded_percent() {
        let percent = |part: &str, whole: &str| {
            RoundedPercent::of_money(usd(part), usd(whole))
                .unwrap()
                .display()
        };
        assert_eq!(percent("2899", "2920"), "99.3%");
        assert_eq!(percent("9259.90", "10037"), "92.3%");
        assert_eq!(percent("-1", "8"), "-12.5%");
        assert_eq!(percent("1", "-8"), "-12.5%");
        assert_eq!(RoundedPercent::of(1, 0), None);
        assert_eq!(
            RoundedPercent::of(i128::MAX, i128::MAX).unwrap().tenths,
            1000
        );
        assert_eq!(
            RoundedPercent::of(i128::MAX / 2, i128::MAX).unwrap().tenths,
            500
        );
        assert_eq!(RoundedPercent::of(1, 2000).unwrap().tenths, 1);
        assert_eq!(RoundedPercent::of(-1, 2001).unwrap().tenths, 0);
        assert_eq!(RoundedPercent::of(-3, 2000).unwrap().tenths, -2);
    }

    #[test]
    fn money_serialises_micros_and_display() {
        let json = serde_json::to_string(&usd("789.6")).unwrap();
        assert_eq!(
            json,
            r#"{"currency":"USD","micros":789600000,"display":"$789.60"}"#
        );
    }

    #[test]
    fn apportion_adds_up() {
        let parts = [usd("0.333333"), usd("0.333333"), usd("0.333334")];
        let shown = Money::apportion_cents(&parts);
        assert_eq!(
            shown.iter().map(|m| m.display()).collect::<Vec<_>>(),
            ["$0.33", "$0.33", "$0.34"]
        );
        assert_eq!(apportion(&[1, 1, 1], 3, 1), [1, 0, 0]);
        assert_eq!(apportion(&[2, 2, 2], 3, 2), [1, 1, 0]);
        assert!(Money::apportion_cents(&[]).is_empty());
    }

    #[test]
    fn mul_div_round_is_exact_and_safe() {
        assert_eq!(mul_div_round(10, 1, 4), 3);
        assert_eq!(mul_div_round(-10, 1, 4), -3);
        let big = 10i128.pow(36);
        assert_eq!(mul_div_round(big, 73, 10), big / 10 * 73);
    }

    #[test]
    #[should_panic(expected = "different currencies")]
    fn currencies_never_mix() {
        let _ = usd("1") + Money::zero(Currency::Cny);
    }

    proptest! {
        #[test]
        fn displayed_parts_add_up_to_the_displayed_total(
            parts in proptest::collection::vec(-10i128.pow(30)..10i128.pow(30), 1..12)
        ) {
            let parts: Vec<Money> = parts.into_iter().map(|u| Money::from_units(Currency::Cny, u)).collect();
            let total = Money::sum(Currency::Cny, parts.iter().copied());
            let shown = Money::apportion_cents(&parts);
            let shown_total: i128 = shown.iter().map(|m| m.cents()).sum();
            prop_assert_eq!(shown_total, total.cents());
            // Each displayed part is its own amount rounded down or up, never further.
            for (part, shown) in parts.iter().zip(&shown) {
                let floor = part.units().div_euclid(UNITS_PER_CENT);
                prop_assert!(shown.cents() == floor || shown.cents() == floor + 1);
            }
        }

        #[test]
        fn percent_matches_plain_arithmetic(part in -10i128.pow(30)..10i128.pow(30), whole in 1i128..10i128.pow(30)) {
            let expect = div_round_half_away(part * 1000, whole);
            prop_assert_eq!(RoundedPercent::of(part, whole).unwrap().tenths as i128, expect);
            prop_assert_eq!(RoundedPercent::of(part, -whole).unwrap().tenths as i128, -expect);
        }

        #[test]
        fn decimal_text_round_trips(value in -10i128.pow(20)..10i128.pow(20), decimals in 0u32..12) {
            prop_assert_eq!(parse_decimal(&format_decimal(value, decimals), decimals), Ok(value));
        }

        #[test]
        fn rounding_is_half_away_from_zero(units in -10i128.pow(24)..10i128.pow(24)) {
            let money = Money::from_units(Currency::Usd, units);
            let cents = money.cents();
            let error = units - cents * UNITS_PER_CENT;
            prop_assert!(error.abs() * 2 <= UNITS_PER_CENT);
            if error.abs() * 2 == UNITS_PER_CENT {
                prop_assert!(cents.abs() * UNITS_PER_CENT > units.abs());
            }
            prop_assert_eq!((-money).cents(), -cents);
        }
    }
}
