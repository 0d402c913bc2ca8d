//! Where the seed articles' arithmetic is wrong, as data the page can show.
//!
//! - The consumption inventory (seed 000) says "≈ $18,400/month at mixed rates"; its own lines
//!   at the seeds' route prices give $2,410.80.
//! - The previous providers' 3-month cost (S7) bills the 67 M planning tokens twice: once inside
//!   the 847 M at gpt-4.1 and again at claude-sonnet-4.5. The same report's relay side (S8)
//!   splits the same 847 M as 780 M + 67 M, so the previous cost is $9,501.00, not $10,037.00.
//! - The ROI report (S8) claims the relay cost "$357.40 + ¥66.00 = $423.40" over three months and
//!   a saving of $9,613.60 (95.8%). Its own lines add up to $777.10, so the saving is $9,259.90
//!   (92.3%) against the report's previous cost, and $8,723.90 (91.8%) against the corrected one.
//!
//! The golden tests pin both the claimed and the corrected figures against the estimator's output
//! for the seed inventory plan and `tests/fixtures/plans/S7.json` / `S8.json`.

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
        SeedCorrection {
            case: "000",
            figure_zh: "消耗清单的月度费用",
            figure_en: "Monthly cost of the consumption inventory",
            claimed: usd_cents(1_840_000),
            corrected: usd_cents(241_080),
            explanation_zh: "清单自己的三行按种子的路由价格计算：剧本 240M tokens × $0.42（deepseek-v3.2）= $100.80，角色一致性 120M × $8.00（gpt-4.1）= $960.00，对白润色 90M × $15.00（claude-sonnet-4.5）= $1,350.00，合计 $2,410.80。“约 $18,400/月（混合费率）”是它的 7.6 倍，任何一组种子价格都得不出。",
            explanation_en: "The inventory's own three lines at the seeds' route prices: script 240M tokens × $0.42 (deepseek-v3.2) = $100.80, character consistency 120M × $8.00 (gpt-4.1) = $960.00, dialogue polish 90M × $15.00 (claude-sonnet-4.5) = $1,350.00; $2,410.80 in all. \"≈ $18,400/month at mixed rates\" is 7.6 times that, and no set of the seeds' prices gives it.",
        },
        SeedCorrection {
            case: "S7",
            figure_zh: "以前的服务商 3 个月费用",
            figure_en: "Previous providers' cost over 3 months",
            claimed: usd_cents(1_003_700),
            corrected: usd_cents(950_100),
            explanation_zh: "67M 规划 tokens 被计了两次：既在 847M × $8（gpt-4.1）之内，又按 $15（claude-sonnet-4.5）另算。同一报告的中转一侧把这 847M 分为 780M + 67M，所以应为 780M × $8 = $6,240.00，加 67M × $15 = $1,005.00，加 5,640 个片段 × $0.40 = $2,256.00，合计 $9,501.00。",
            explanation_en: "The 67M planning tokens are billed twice: inside the 847M at $8 (gpt-4.1) and again at $15 (claude-sonnet-4.5). The report's relay side splits the same 847M as 780M + 67M, so it is 780M × $8 = $6,240.00 plus 67M × $15 = $1,005.00 plus 5,640 clips × $0.40 = $2,256.00: $9,501.00.",
        },
        SeedCorrection {
            case: "S7 · S8",
            figure_zh: "对更正后的以前费用的节省",
            figure_en: "Saving against the corrected previous cost",
            claimed: usd_cents(961_360),
            corrected: usd_cents(872_390),
            explanation_zh: "更正后的以前费用 $9,501.00 减去中转平台 $777.10，节省 $8,723.90，即 91.8%。",
            explanation_en: "The corrected previous cost $9,501.00 minus the relay's $777.10 is $8,723.90, or 91.8%.",
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
        // The inventory at the seeds' route prices: 240 M at $0.42, 120 M at $8, 90 M at $15.
        assert_eq!(
            money(c[4].corrected),
            usd("0.42").times(240) + usd("8.00").times(120) + usd("15.00").times(90)
        );
        assert_eq!(money(c[4].claimed), usd("18400.00"));
        // S7 claimed: 847 M at $8 + 67 M at $15 + 5,640 clips at $0.40; corrected: 780 M at $8.
        let video = usd("0.40").times(5_640);
        let claude = usd("15.00").times(67);
        assert_eq!(money(c[5].claimed), usd("8.00").times(847) + claude + video);
        assert_eq!(
            money(c[5].corrected),
            usd("8.00").times(780) + claude + video
        );
        assert_eq!(money(c[6].corrected), money(c[5].corrected) - relay);
        assert_eq!(money(c[6].claimed), money(c[1].claimed));
        assert_eq!(
            RoundedPercent::of_money(money(c[6].corrected), money(c[5].corrected)),
            Some(RoundedPercent { tenths: 918 })
        );
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
