//! How the batch persists exact money: as grid units (10⁻¹⁸ of the currency), so that a saved
//! and reloaded batch holds exactly the amounts it had. ([`Money`]'s own `Serialize` writes
//! rounded micro-units and a display string, for reports, and cannot be read back.)

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::cost::money::{Currency, Money};
use crate::domain::cost::profile::Cost;

#[derive(Serialize, Deserialize)]
struct StoredMoney {
    currency: Currency,
    #[serde(with = "units")]
    units: i128,
}

#[derive(Serialize, Deserialize)]
struct StoredCost {
    #[serde(with = "units")]
    usd_units: i128,
    #[serde(with = "units")]
    cny_units: i128,
}

/// Units are written as decimal strings: JSON numbers beyond 2⁵³ lose precision in
/// JavaScript, and serde cannot buffer an `i128` inside a tagged enum.
mod units {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(units: &i128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(units)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

impl From<Cost> for StoredCost {
    fn from(cost: Cost) -> StoredCost {
        StoredCost {
            usd_units: cost.usd.units(),
            cny_units: cost.cny.units(),
        }
    }
}

impl From<StoredCost> for Cost {
    fn from(stored: StoredCost) -> Cost {
        Cost {
            usd: Money::from_units(Currency::Usd, stored.usd_units),
            cny: Money::from_units(Currency::Cny, stored.cny_units),
        }
    }
}

/// `#[serde(with = "stored::cost")]` for a [`Cost`].
pub mod cost {
    use super::*;

    /// Writes `{"usd_units": …, "cny_units": …}`.
    pub fn serialize<S: Serializer>(cost: &Cost, serializer: S) -> Result<S::Ok, S::Error> {
        StoredCost::from(*cost).serialize(serializer)
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cost, D::Error> {
        StoredCost::deserialize(deserializer).map(Cost::from)
    }
}

/// `#[serde(with = "stored::option_cost")]` for an `Option<Cost>`.
pub mod option_cost {
    use super::*;

    /// Writes `null` or the cost's units.
    pub fn serialize<S: Serializer>(cost: &Option<Cost>, serializer: S) -> Result<S::Ok, S::Error> {
        cost.map(StoredCost::from).serialize(serializer)
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Cost>, D::Error> {
        Ok(Option::<StoredCost>::deserialize(deserializer)?.map(Cost::from))
    }
}

/// `#[serde(with = "stored::money")]` for a [`Money`].
pub mod money {
    use super::*;

    /// Writes `{"currency": "USD", "units": …}`.
    pub fn serialize<S: Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
        StoredMoney {
            currency: money.currency(),
            units: money.units(),
        }
        .serialize(serializer)
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let stored = StoredMoney::deserialize(deserializer)?;
        Ok(Money::from_units(stored.currency, stored.units))
    }
}

/// `#[serde(with = "stored::option_money")]` for an `Option<Money>`.
pub mod option_money {
    use super::*;

    /// Writes `null` or the amount's units.
    pub fn serialize<S: Serializer>(
        money: &Option<Money>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        money
            .map(|m| StoredMoney {
                currency: m.currency(),
                units: m.units(),
            })
            .serialize(serializer)
    }

    /// Reads what [`serialize`] wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Money>, D::Error> {
        Ok(Option::<StoredMoney>::deserialize(deserializer)?
            .map(|s| Money::from_units(s.currency, s.units)))
    }
}
