//! Chart data for an estimate: labelled values with shares, and bar geometry.
//!
//! The page renders these as `<rect>`s without doing arithmetic: every slice carries its
//! display string and its share, and [`stacked_bar`] / [`bar_lengths`] give positions on a
//! 0–1000 axis. Displayed values add up to the displayed total and shares add up to 100.0 %
//! (largest-remainder rounding), so a chart never contradicts its legend.

use serde::Serialize;

use crate::domain::cost::estimate::Estimate;
use crate::domain::cost::money::{apportion, div_round_half_away, Currency, Money, RoundedPercent};
use crate::domain::i18n::Lang;

/// The axis length bars are laid out on.
pub const CHART_WIDTH: u32 = 1000;

/// One labelled value of a chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChartSlice {
    /// A stable key (stage name, `line:0`, profile id, model).
    pub key: String,
    /// The label in the requested language.
    pub label: String,
    /// The value, rounded to cents so that the slices add up to the rounded total.
    pub value: Money,
    /// `value` as displayed (`¥1,234.56`).
    pub display: String,
    /// Share of the total; the shares add up to 100.0 % when the total is positive.
    pub share: RoundedPercent,
}

/// A bar on the 0–[`CHART_WIDTH`] axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bar {
    /// Where the bar starts.
    pub x: u32,
    /// How long it is.
    pub width: u32,
}

/// Spend by stage (and explicit line) under one profile; empty if the profile is not in the
/// estimate.
pub fn spend_by_stage(
    estimate: &Estimate,
    profile_id: &str,
    currency: Currency,
    lang: Lang,
) -> Vec<ChartSlice> {
    let Some(profile) = estimate.profile(profile_id) else {
        return Vec::new();
    };
    slices(
        currency,
        profile
            .by_stage
            .iter()
            .map(|line| {
                (
                    line.key.clone(),
                    line.source.label(lang),
                    line.cost.in_currency(currency),
                )
            })
            .collect(),
    )
}

/// Spend by model under one profile; empty if the profile is not in the estimate.
pub fn spend_by_model(
    estimate: &Estimate,
    profile_id: &str,
    currency: Currency,
) -> Vec<ChartSlice> {
    let Some(profile) = estimate.profile(profile_id) else {
        return Vec::new();
    };
    slices(
        currency,
        profile
            .by_model
            .iter()
            .map(|spend| {
                (
                    spend.model.clone(),
                    spend.model.clone(),
                    spend.cost.in_currency(currency),
                )
            })
            .collect(),
    )
}

/// Total spend under each compared profile. Shares are of the sum of all profiles, which is
/// meaningful only for the bar lengths; compare profiles with [`bar_lengths`].
pub fn spend_by_profile(estimate: &Estimate, currency: Currency) -> Vec<ChartSlice> {
    slices(
        currency,
        estimate
            .profiles
            .iter()
            .map(|profile| {
                (
                    profile.profile_id.clone(),
                    profile.profile_name.clone(),
                    profile.total.in_currency(currency),
                )
            })
            .collect(),
    )
}

/// Rounds values so they add up, and gives each its share. Negative values count as zero.
fn slices(currency: Currency, items: Vec<(String, String, Money)>) -> Vec<ChartSlice> {
    let values: Vec<Money> = items
        .iter()
        .map(|(_, _, value)| {
            if value.units() < 0 {
                Money::zero(currency)
            } else {
                *value
            }
        })
        .collect();
    let shown = Money::apportion_cents(&values);
    let cents: Vec<i128> = shown.iter().map(|money| money.cents()).collect();
    let shares = shares(&cents, 1000);
    items
        .into_iter()
        .zip(shown)
        .zip(shares)
        .map(|(((key, label, _), value), tenths)| ChartSlice {
            key,
            label,
            value,
            display: value.display(),
            share: RoundedPercent {
                tenths: tenths as i64,
            },
        })
        .collect()
}

/// Splits `whole` among non-negative `parts` in proportion, adding up exactly (all zero when
/// the parts are all zero).
fn shares(parts: &[i128], whole: i128) -> Vec<i128> {
    let total: i128 = parts.iter().sum();
    if total <= 0 {
        return vec![0; parts.len()];
    }
    let numerators: Vec<i128> = parts.iter().map(|part| part * whole).collect();
    apportion(&numerators, total, whole)
}

/// One horizontal bar made of the slices side by side: widths in proportion to the values,
/// adding up to exactly [`CHART_WIDTH`] (all zero when the total is zero).
pub fn stacked_bar(slices: &[ChartSlice]) -> Vec<Bar> {
    let cents: Vec<i128> = slices
        .iter()
        .map(|slice| slice.value.cents().max(0))
        .collect();
    let mut x = 0;
    shares(&cents, i128::from(CHART_WIDTH))
        .into_iter()
        .map(|width| {
            let bar = Bar {
                x,
                width: width as u32,
            };
            x += bar.width;
            bar
        })
        .collect()
}

/// One bar per slice, starting at zero, the largest spanning [`CHART_WIDTH`].
pub fn bar_lengths(slices: &[ChartSlice]) -> Vec<Bar> {
    let cents: Vec<i128> = slices
        .iter()
        .map(|slice| slice.value.cents().max(0))
        .collect();
    let max = cents.iter().copied().max().unwrap_or(0);
    cents
        .into_iter()
        .map(|value| Bar {
            x: 0,
            width: if max == 0 {
                0
            } else {
                div_round_half_away(value * i128::from(CHART_WIDTH), max) as u32
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::estimate::{estimate, PriceBook};
    use crate::domain::cost::plan::seed_inventory_plan;
    use proptest::prelude::*;

    fn slice(units: i128) -> ChartSlice {
        let value = Money::from_units(Currency::Usd, units);
        ChartSlice {
            key: String::new(),
            label: String::new(),
            value,
            display: value.display(),
            share: RoundedPercent::default(),
        }
    }

    #[test]
    fn stage_chart_of_the_seed_inventory() {
        let estimate = estimate(&seed_inventory_plan(), &PriceBook::defaults()).unwrap();
        let chart = spend_by_stage(&estimate, "holysheep-relay", Currency::Cny, Lang::ZhCn);
        let labels: Vec<&str> = chart.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["剧本生成", "角色一致性", "对白润色"]);
        let displays: Vec<&str> = chart.iter().map(|s| s.display.as_str()).collect();
        assert_eq!(displays, ["¥100.80", "¥960.00", "¥1,350.00"]);
        let shares: Vec<String> = chart.iter().map(|s| s.share.display()).collect();
        assert_eq!(shares, ["4.2%", "39.8%", "56.0%"]);
        let bars = stacked_bar(&chart);
        assert_eq!(
            bars,
            [
                Bar { x: 0, width: 42 },
                Bar { x: 42, width: 398 },
                Bar { x: 440, width: 560 }
            ]
        );
        assert_eq!(bar_lengths(&chart)[2], Bar { x: 0, width: 1000 });
        assert!(spend_by_stage(&estimate, "nowhere", Currency::Cny, Lang::En).is_empty());
        assert_eq!(spend_by_profile(&estimate, Currency::Usd).len(), 3);
        assert_eq!(
            spend_by_model(&estimate, "official-market", Currency::Usd)[0].key,
            "deepseek-v3.2"
        );
    }

    #[test]
    fn empty_and_zero_charts() {
        assert!(stacked_bar(&[]).is_empty());
        assert_eq!(
            stacked_bar(&[slice(0), slice(0)]),
            [Bar { x: 0, width: 0 }, Bar { x: 0, width: 0 }]
        );
        assert_eq!(bar_lengths(&[slice(0)]), [Bar { x: 0, width: 0 }]);
    }

    proptest! {
        #[test]
        fn shares_and_widths_add_up(values in proptest::collection::vec(0i128..10i128.pow(24), 1..10)) {
            let items = values.iter().map(|&units| (String::new(), String::new(), Money::from_units(Currency::Usd, units))).collect();
            let chart = slices(Currency::Usd, items);
            let total = Money::sum(Currency::Usd, values.iter().map(|&u| Money::from_units(Currency::Usd, u)));
            prop_assert_eq!(chart.iter().map(|s| s.value.cents()).sum::<i128>(), total.cents());
            let shares: i64 = chart.iter().map(|s| s.share.tenths).sum();
            let widths: u32 = stacked_bar(&chart).iter().map(|b| b.width).sum();
            if total.cents() > 0 {
                prop_assert_eq!(shares, 1000);
                prop_assert_eq!(widths, CHART_WIDTH);
            } else {
                prop_assert_eq!((shares, widths), (0, 0));
            }
        }
    }
}
