//! Provider profiles: where requests go, which prices apply, and how dollars become yuan.
//!
//! A [`Profile`] names an endpoint, a price set, an exchange rate and an optional markup. Every
//! cost the estimator reports is a [`Cost`]: the same amount in dollars and in yuan under one
//! profile.

use serde::{Deserialize, Serialize};

use crate::domain::cost::money::{Currency, Micros, Money, Percent};
use crate::domain::i18n::Lang;

/// How many yuan one dollar of usage costs, exact to a millionth of a yuan.
///
/// The relay bills ¥1 per $1 of usage; official providers and other relays effectively cost
/// ¥7.3 per $1. Serialises as the plain number of yuan (`7.3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExchangeRate {
    cny_per_usd: Micros,
}

impl ExchangeRate {
    /// The relay's rate: ¥1 = $1.
    pub const RELAY: ExchangeRate = ExchangeRate {
        cny_per_usd: Micros::whole(1),
    };
    /// The market rate the seeds use: ¥7.3 = $1.
    pub const MARKET: ExchangeRate = ExchangeRate {
        cny_per_usd: Micros(7_300_000),
    };
    /// The smallest rate accepted: ¥0.01 per $1.
    pub const MIN: Micros = Micros(10_000);
    /// The largest rate accepted: ¥100 per $1 (a documented cap that keeps every conversion
    /// far from overflow).
    pub const MAX: Micros = Micros::whole(100);

    /// A rate of `cny_per_usd` yuan per dollar, between [`ExchangeRate::MIN`] and
    /// [`ExchangeRate::MAX`].
    pub fn new(cny_per_usd: Micros) -> Result<ExchangeRate, ProfileError> {
        if (ExchangeRate::MIN..=ExchangeRate::MAX).contains(&cny_per_usd) {
            Ok(ExchangeRate { cny_per_usd })
        } else {
            Err(ProfileError::RateOutOfRange)
        }
    }

    /// Parses a custom rate typed by the user, such as `7.25`.
    pub fn parse(text: &str) -> Result<ExchangeRate, ProfileError> {
        let micros = Micros::parse(text).map_err(|_| ProfileError::RateNotANumber)?;
        ExchangeRate::new(micros)
    }

    /// Yuan per dollar in millionths.
    pub fn cny_per_usd(self) -> Micros {
        self.cny_per_usd
    }

    /// True when the rate lies within the accepted range (always, unless built by
    /// deserialising unchecked data).
    pub fn is_valid(self) -> bool {
        (ExchangeRate::MIN..=ExchangeRate::MAX).contains(&self.cny_per_usd)
    }

    /// Dollars to yuan. Exact for every amount the estimator produces before a markup.
    pub fn to_cny(self, usd: Money) -> Money {
        assert_eq!(usd.currency(), Currency::Usd, "to_cny takes dollars");
        usd.scale(i128::from(self.cny_per_usd.0), 1_000_000)
            .with_currency(Currency::Cny)
    }

    /// Yuan to dollars, rounded half away from zero to 10⁻¹⁸ of a dollar.
    pub fn to_usd(self, cny: Money) -> Money {
        assert_eq!(cny.currency(), Currency::Cny, "to_usd takes yuan");
        cny.scale(1_000_000, i128::from(self.cny_per_usd.0).max(1))
            .with_currency(Currency::Usd)
    }

    /// `¥7.3 = $1`.
    pub fn display(self) -> String {
        format!("¥{} = $1", self.cny_per_usd.to_decimal())
    }
}

/// One amount in both currencies under a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// In dollars.
    pub usd: Money,
    /// In yuan.
    pub cny: Money,
}

impl Default for Cost {
    fn default() -> Cost {
        Cost::ZERO
    }
}

impl Cost {
    /// Nothing, in both currencies.
    pub const ZERO: Cost = Cost {
        usd: Money::zero(Currency::Usd),
        cny: Money::zero(Currency::Cny),
    };

    /// The amount in `currency`.
    pub fn in_currency(self, currency: Currency) -> Money {
        match currency {
            Currency::Usd => self.usd,
            Currency::Cny => self.cny,
        }
    }

    /// Multiplies both amounts by `numerator / denominator` (see [`Money::scale`]).
    pub fn scale(self, numerator: i128, denominator: i128) -> Cost {
        Cost {
            usd: self.usd.scale(numerator, denominator),
            cny: self.cny.scale(numerator, denominator),
        }
    }

    /// Multiplies both amounts by a whole number.
    pub fn times(self, factor: i128) -> Cost {
        Cost {
            usd: self.usd.times(factor),
            cny: self.cny.times(factor),
        }
    }
}

impl std::ops::Add for Cost {
    type Output = Cost;

    fn add(self, other: Cost) -> Cost {
        Cost {
            usd: self.usd + other.usd,
            cny: self.cny + other.cny,
        }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, other: Cost) {
        *self = *self + other;
    }
}

impl std::ops::Sub for Cost {
    type Output = Cost;

    fn sub(self, other: Cost) -> Cost {
        Cost {
            usd: self.usd - other.usd,
            cny: self.cny - other.cny,
        }
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(iter: I) -> Cost {
        iter.fold(Cost::ZERO, |acc, cost| acc + cost)
    }
}

/// A provider profile: endpoint, price set, exchange rate and markup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Stable identifier used by plans (`holysheep-relay`).
    pub id: String,
    /// Name shown to the user.
    pub name: String,
    /// OpenAI-compatible base URL; empty for a profile used only for estimates.
    #[serde(default)]
    pub base_url: String,
    /// Identifier of the price set whose prices apply (`seed`, `list`).
    pub price_set: String,
    /// Yuan per dollar of usage.
    #[serde(rename = "cny_per_usd")]
    pub exchange_rate: ExchangeRate,
    /// A markup on every price (a relay's service fee), or a discount when negative; between
    /// −100 % and +100 %.
    #[serde(rename = "markup_percent", default)]
    pub markup: Percent,
}

impl Profile {
    /// Identifier of the default relay profile.
    pub const RELAY: &'static str = "holysheep-relay";
    /// Identifier of the default official-endpoints profile.
    pub const OFFICIAL: &'static str = "official-market";
    /// Identifier of the default "other relays at ¥7.3" profile.
    pub const RELAY_MARKET: &'static str = "relay-market";

    /// The three shipped profiles: the HolySheep relay (list prices, ¥1 = $1), official
    /// endpoints (list prices, ¥7.3) and other relays (list prices at ¥7.3).
    ///
    /// All three price on the same basis, input and output apart: a relay sells the official
    /// dollar prices at its own rate, so a comparison compares like with like. The seeds'
    /// blended prices (input billed at the output price) are the `seed` set, which the seed
    /// plans' own profiles name (`tests/fixtures/plans/`).
    pub fn defaults() -> Vec<Profile> {
        vec![
            Profile {
                id: Profile::RELAY.into(),
                name: "HolySheep relay".into(),
                base_url: "https://api.holysheep.ai/v1".into(),
                price_set: "list".into(),
                exchange_rate: ExchangeRate::RELAY,
                markup: Percent::ZERO,
            },
            Profile {
                id: Profile::OFFICIAL.into(),
                name: "Official (market ¥7.3)".into(),
                base_url: "https://api.openai.com/v1".into(),
                price_set: "list".into(),
                exchange_rate: ExchangeRate::MARKET,
                markup: Percent::ZERO,
            },
            Profile {
                id: Profile::RELAY_MARKET.into(),
                name: "Relay ¥7.3".into(),
                base_url: String::new(),
                price_set: "list".into(),
                exchange_rate: ExchangeRate::MARKET,
                markup: Percent::ZERO,
            },
        ]
    }

    /// Checks every field; an empty list means the profile is usable.
    pub fn problems(&self) -> Vec<ProfileError> {
        let mut problems = Vec::new();
        if self.id.trim().is_empty() {
            problems.push(ProfileError::EmptyId);
        }
        if self.name.trim().is_empty() {
            problems.push(ProfileError::EmptyName);
        }
        if self.price_set.trim().is_empty() {
            problems.push(ProfileError::EmptyPriceSet);
        }
        let url = self.base_url.trim();
        if !url.is_empty() && !url.starts_with("https://") && !url.starts_with("http://") {
            problems.push(ProfileError::BadBaseUrl);
        }
        if !self.exchange_rate.is_valid() {
            problems.push(ProfileError::RateOutOfRange);
        }
        if !(-10_000..=10_000).contains(&self.markup.basis_points) {
            problems.push(ProfileError::MarkupOutOfRange);
        }
        problems
    }

    /// What `amount` (in the currency it is priced in) costs under this profile: the markup is
    /// applied, then the amount is given in both currencies.
    pub fn cost_of(&self, amount: Money) -> Cost {
        let marked = amount.scale(10_000 + i128::from(self.markup.basis_points), 10_000);
        match marked.currency() {
            Currency::Usd => Cost {
                usd: marked,
                cny: self.exchange_rate.to_cny(marked),
            },
            Currency::Cny => Cost {
                usd: self.exchange_rate.to_usd(marked),
                cny: marked,
            },
        }
    }
}

/// Why a profile cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileError {
    /// The identifier is empty.
    EmptyId,
    /// The name is empty.
    EmptyName,
    /// No price set is chosen.
    EmptyPriceSet,
    /// The base URL is neither empty nor an http(s) URL.
    BadBaseUrl,
    /// The exchange rate is not a number.
    RateNotANumber,
    /// The exchange rate lies outside ¥0.01–¥100 per $1.
    RateOutOfRange,
    /// The markup lies outside −100 %…+100 %.
    MarkupOutOfRange,
}

impl ProfileError {
    /// The message shown to the user.
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en) = match self {
            ProfileError::EmptyId => ("配置标识不能为空", "the profile id must not be empty"),
            ProfileError::EmptyName => ("配置名称不能为空", "the profile name must not be empty"),
            ProfileError::EmptyPriceSet => ("请选择价格表", "choose a price set"),
            ProfileError::BadBaseUrl => (
                "接口地址必须以 https:// 或 http:// 开头",
                "the base URL must start with https:// or http://",
            ),
            ProfileError::RateNotANumber => {
                ("汇率不是有效数字", "the exchange rate is not a number")
            }
            ProfileError::RateOutOfRange => (
                "汇率必须在 ¥0.01 到 ¥100（每 $1）之间",
                "the exchange rate must be between ¥0.01 and ¥100 per $1",
            ),
            ProfileError::MarkupOutOfRange => (
                "加价比例必须在 -100% 到 100% 之间",
                "the markup must be between -100% and 100%",
            ),
        };
        lang.pick(zh, en).to_string()
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
    fn seed_conversions() {
        assert_eq!(
            ExchangeRate::MARKET.to_cny(usd("400")).display(),
            "¥2,920.00"
        );
        assert_eq!(ExchangeRate::MARKET.to_cny(usd("15")).display(), "¥109.50");
        assert_eq!(ExchangeRate::MARKET.to_cny(usd("2.50")).display(), "¥18.25");
        assert_eq!(ExchangeRate::RELAY.to_cny(usd("21")).display(), "¥21.00");
        let yuan = Money::parse(Currency::Cny, "73").unwrap();
        assert_eq!(ExchangeRate::MARKET.to_usd(yuan).display(), "$10.00");
    }

    #[test]
    fn rates_parse_and_validate() {
        assert_eq!(ExchangeRate::parse("7.3"), Ok(ExchangeRate::MARKET));
        assert_eq!(
            ExchangeRate::parse("abc"),
            Err(ProfileError::RateNotANumber)
        );
        assert_eq!(ExchangeRate::parse("0"), Err(ProfileError::RateOutOfRange));
        assert_eq!(
            ExchangeRate::parse("101"),
            Err(ProfileError::RateOutOfRange)
        );
        assert_eq!(ExchangeRate::MARKET.display(), "¥7.3 = $1");
    }

    #[test]
    fn markup_applies_before_conversion() {
        let mut profile = Profile::defaults().remove(1);
        profile.markup = Percent::parse("10").unwrap();
        let cost = profile.cost_of(usd("100"));
        assert_eq!(cost.usd.display(), "$110.00");
        assert_eq!(cost.cny.display(), "¥803.00");
        profile.markup = Percent::parse("-100").unwrap();
        assert!(profile.cost_of(usd("100")).usd.is_zero());
    }

    #[test]
    fn default_profiles_are_valid() {
        let profiles = Profile::defaults();
        assert!(profiles.iter().all(|p| p.problems().is_empty()));
        let json = serde_json::to_string(&profiles[1]).unwrap();
        assert!(json.contains(r#""cny_per_usd":7.3"#), "{json}");
        let back: Profile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, profiles[1]);
        let bad = Profile {
            id: " ".into(),
            base_url: "ftp://x".into(),
            ..profiles[0].clone()
        };
        assert_eq!(
            bad.problems(),
            [ProfileError::EmptyId, ProfileError::BadBaseUrl]
        );
        for problem in bad.problems() {
            assert!(
                !problem.message(Lang::ZhCn).is_empty() && !problem.message(Lang::En).is_empty()
            );
        }
    }

    proptest! {
        /// ¥ = $ × rate: exact on the grid, then rounded once for display.
        #[test]
        fn yuan_is_dollars_times_rate_rounded_once(
            usd_micros in -10i128.pow(15)..10i128.pow(15),
            rate in ExchangeRate::MIN.0..=ExchangeRate::MAX.0,
        ) {
            let rate = ExchangeRate::new(Micros(rate)).unwrap();
            let cny = rate.to_cny(Money::from_micros(Currency::Usd, usd_micros));
            // The exact product in 10⁻¹² yuan, rounded once to fen (10¹⁰ of them).
            let exact = usd_micros * i128::from(rate.cny_per_usd().0);
            prop_assert_eq!(cny.units(), exact * 1_000_000);
            prop_assert_eq!(cny.cents(), crate::domain::cost::money::div_round_half_away(exact, 10i128.pow(10)));
        }
    }
}
