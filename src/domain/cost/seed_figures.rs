//! Where the seed articles' arithmetic is wrong, as data the page can show.
//!
//! The seeds' ROI report (S8) claims the relay cost "$357.40 + ¥66.00 = $423.40" over three
//! months and a saving of $9,613.60 (95.8%). Its own lines add up to $777.10, so the saving is
//! $9,259.90 (92.3%). The golden tests pin the corrected figures against the estimator's output
//! for `tests/fixtures/plans/S8.json`.

use serde::Serialize;

use crate::domain::cost::money::{Currency, Money, RoundedPercent};
use crate::domain::i18n::Lang;

/// A figure as claimed or corrected: an amount or a percentage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SeedValue {
    /// An amount of money.
    Money(Money),
    /// A percentage.
    Percent(RoundedPercent),
}

impl SeedValue {
    /// The value as the page shows it.
    pub fn display(self) -> String {
        match self {
            SeedValue::Money(money) => money.display(),
            SeedValue::Percent(percent) => percent.display(),
        }
    }
}

/// One figure the seeds got wrong, with the correct value and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeedCorrection {
    /// The seed case (`S8`).
    pub case: &'static str,
    /// What the figure is, in Chinese.
    pub figure_zh: &'static str,
    /// What the figure is, in English.
    pub figure_en: &'static str,
    /// What the seed says.
    pub claimed: SeedValue,
    /// What the arithmetic gives.
    pub corrected: SeedValue,
    /// Why, in Chinese.
    pub explanation_zh: &'static str,
    /// Why, in English.
    pub explanation_en: &'static str,
}

impl SeedCorrection {
    /// What the figure is, in the user's language.
    pub fn figure(&self, lang: Lang) -> &'static str {
        lang.pick(self.figure_zh, self.figure_en)
    }

    /// Why the seed is wrong, in the user's language.
    pub fn explanation(&self, lang: Lang) -> &'static str {
        lang.pick(self.explanation_zh, self.explanation_en)
    }
}

fn usd_cents(cents: i128) -> SeedValue {
    SeedValue::Money(Money::from_cents(Currency::Usd, cents))
}

fn percent_tenths(tenths: i64) -> SeedValue {
    SeedValue::Percent(RoundedPercent { tenths })
}

/// Every correction the page shows next to the seed figures.
pub fn seed_corrections() -> Vec<SeedCorrection> {
    vec![
        SeedCorrection {
            case: "S8",
            figure_zh: "中转平台 3 个月总费用",
            figure_en: "Relay cost over 3 months",
            claimed: usd_cents(42_340),
            corrected: usd_cents(77_710),
            explanation_zh: "报告自己的三行相加：780M × $0.42 = $327.60，67M × $2.50 = $167.50，5,640 个片段 × $0.05 = $282.00，合计 $777.10。“$357.40 + ¥66.00 = $423.40”与这些数字都对不上。",
            explanation_en: "The report's own three lines add up to $777.10: 780M × $0.42 = $327.60, 67M × $2.50 = $167.50, 5,640 clips × $0.05 = $282.00. \"$357.40 + ¥66.00 = $423.40\" matches none of them.",
        },
        SeedCorrection {
            case: "S8",
            figure_zh: "3 个月节省金额",
            figure_en: "Saving over 3 months",
            claimed: usd_cents(961_360),
            corrected: usd_cents(925_990),
            explanation_zh: "以前的服务商 $10,037.00 减去中转平台 $777.10，节省 $9,259.90。",
            explanation_en: "Previous providers' $10,037.00 minus the relay's $777.10 is $9,259.90.",
        },
        SeedCorrection {
            case: "S8",
            figure_zh: "节省比例",
            figure_en: "Saving as a share of the previous cost",
            claimed: percent_tenths(958),
            corrected: percent_tenths(923),
            explanation_zh: "$9,259.90 ÷ $10,037.00 = 92.3%（按美元计）。",
            explanation_en: "$9,259.90 ÷ $10,037.00 = 92.3% (in dollars).",
        },
        SeedCorrection {
            case: "S8",
            figure_zh: "视频费用：若 $0.05 按秒计费",
            figure_en: "Video cost if $0.05 is per second",
            claimed: usd_cents(28_200),
            corrected: usd_cents(141_000),
            explanation_zh: "报告按每个片段 $0.05 计算，而同一篇文章的接口配置写的是 cost_per_second 0.05。若按秒计，5,640 个 5 秒片段为 $1,410.00。黄金测试沿用报告的按片段解读；本应用总是标明计费单位。",
            explanation_en: "The report charges $0.05 per clip, while the same article's API config says cost_per_second 0.05. Per second, 5,640 five-second clips cost $1,410.00. The golden figures keep the report's per-clip reading; this app always states the unit.",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_follow_from_the_seeds_own_lines() {
        let usd = |text: &str| Money::parse(Currency::Usd, text).unwrap();
        let money = |value: SeedValue| match value {
            SeedValue::Money(money) => money,
            other => panic!("not an amount: {other:?}"),
        };
        let percent = |value: SeedValue| match value {
            SeedValue::Percent(percent) => percent,
            other => panic!("not a percentage: {other:?}"),
        };
        let c = seed_corrections();
        // The report's three relay lines: 780 M tokens at $0.42/M, 67 M at $2.50/M, and
        // 5,640 clips at $0.05.
        let relay = usd("0.42").times(780) + usd("2.50").times(67) + usd("0.05").times(5_640);
        assert_eq!(money(c[0].corrected), relay);
        // What it claims instead: "$357.40 + ¥66.00", at the relay's ¥1 = $1.
        assert_eq!(money(c[0].claimed), usd("357.40") + usd("66.00"));
        // Both savings are the previous providers' $10,037.00 less each relay figure, and
        // both percentages that saving over the previous cost.
        let previous = usd("10037.00");
        for (total, saving, share) in [
            (
                money(c[0].corrected),
                money(c[1].corrected),
                percent(c[2].corrected),
            ),
            (
                money(c[0].claimed),
                money(c[1].claimed),
                percent(c[2].claimed),
            ),
        ] {
            assert_eq!(saving, previous - total);
            assert_eq!(Some(share), RoundedPercent::of_money(saving, previous));
        }
        // Per clip the video line is 5,640 × $0.05; per second, 5,640 × 5 s × $0.05.
        assert_eq!(money(c[3].claimed), usd("0.05").times(5_640));
        assert_eq!(money(c[3].corrected), usd("0.05").times(5_640 * 5));
    }

    #[test]
    fn corrections_read_in_both_languages() {
        let corrections = seed_corrections();
        for correction in &corrections {
            assert_ne!(correction.figure(Lang::ZhCn), correction.figure(Lang::En));
            assert_ne!(
                correction.explanation(Lang::ZhCn),
                correction.explanation(Lang::En)
            );
            assert_ne!(correction.claimed, correction.corrected);
            // Each explanation names the corrected figure as the page shows it.
            let shown = correction.corrected.display();
            assert!(correction.explanation(Lang::En).contains(&shown), "{shown}");
            assert!(
                correction.explanation(Lang::ZhCn).contains(&shown),
                "{shown}"
            );
        }
        let json = serde_json::to_value(&corrections[2]).unwrap();
        assert_eq!(json["corrected"]["display"], "92.3%");
    }
}
