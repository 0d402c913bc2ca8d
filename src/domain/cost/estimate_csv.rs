//! An estimate as a CSV spreadsheet.
//!
//! The text follows RFC 4180 (comma-separated, CRLF line ends, fields with commas, quotes or
//! line breaks quoted, quotes doubled) and starts with a UTF-8 byte-order mark so that Excel
//! reads Chinese correctly. Amounts are plain numbers with two decimals (`1234.56`) so that
//! spreadsheets can sum them; within each profile the stage rows add up to its total row.
//!
//! Labels come from users (plan names, line labels, profile names), so a cell that starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` to stop spreadsheets from
//! running it as a formula. Cells the module itself writes as numbers (`-12.50`) are left alone:
//! a number cannot be a formula.

use crate::domain::cost::estimate::Estimate;
use crate::domain::cost::money::{Money, RoundedPercent};
use crate::domain::encoding::csv;
use crate::domain::i18n::Lang;

/// One row's cells: text cells are neutralised, number cells are not.
enum Cell {
    Text(String),
    Number(String),
}

/// Writes the estimate as CSV: per profile its stage and line rows and a total; then each
/// profile's saving against the baseline; then the ROI report.
pub fn estimate_to_csv(estimate: &Estimate, lang: Lang) -> String {
    let header = [
        lang.pick("类别", "Section"),
        lang.pick("配置", "Profile"),
        lang.pick("项目", "Item"),
        lang.pick("模型", "Model"),
        lang.pick("输入 tokens", "Input tokens"),
        lang.pick("缓存命中 tokens", "Cached input tokens"),
        lang.pick("输出 tokens", "Output tokens"),
        lang.pick("视频数", "Videos"),
        lang.pick("美元", "USD"),
        lang.pick("人民币", "CNY"),
        lang.pick("节省比例（美元 %）", "Saving (USD %)"),
        lang.pick("节省比例（人民币 %）", "Saving (CNY %)"),
    ];
    let mut rows: Vec<Vec<Cell>> = vec![header.iter().map(|h| Cell::Text((*h).into())).collect()];
    let text = |s: &str| Cell::Text(s.into());
    let count = |n: u64| Cell::Number(n.to_string());
    let empty = || Cell::Text(String::new());
    let percent = |p: Option<RoundedPercent>| match p {
        Some(p) => Cell::Number(p.display().trim_end_matches('%').replace(',', "")),
        None => Cell::Text(String::new()),
    };
    let spend_section = match lang {
        Lang::ZhCn => format!("费用（{}）", estimate.period.label(lang)),
        Lang::En => format!("Spend ({})", estimate.period.label(lang)),
    };
    let total_label = lang.pick("合计", "Total");
    for profile in &estimate.profiles {
        let usd: Vec<Money> = profile.by_stage.iter().map(|line| line.cost.usd).collect();
        let cny: Vec<Money> = profile.by_stage.iter().map(|line| line.cost.cny).collect();
        let (usd, cny) = (Money::apportion_cents(&usd), Money::apportion_cents(&cny));
        for (index, line) in profile.by_stage.iter().enumerate() {
            rows.push(vec![
                text(&spend_section),
                text(&profile.profile_name),
                text(&line.source.label(lang)),
                text(&line.model),
                count(line.volume.input_tokens),
                count(line.volume.cached_input_tokens),
                count(line.volume.output_tokens),
                count(line.volume.videos),
                Cell::Number(usd[index].plain()),
                Cell::Number(cny[index].plain()),
                empty(),
                empty(),
            ]);
        }
        rows.push(vec![
            text(&spend_section),
            text(&profile.profile_name),
            text(total_label),
            empty(),
            count(profile.volume.input_tokens),
            count(profile.volume.cached_input_tokens),
            count(profile.volume.output_tokens),
            count(profile.volume.videos),
            Cell::Number(profile.total.usd.plain()),
            Cell::Number(profile.total.cny.plain()),
            empty(),
            empty(),
        ]);
    }
    let baseline_name = estimate
        .profile(&estimate.baseline_profile)
        .map_or(estimate.baseline_profile.as_str(), |profile| {
            profile.profile_name.as_str()
        });
    let saving_section = match lang {
        Lang::ZhCn => format!(
            "相对 {baseline_name} 的节省（{}）",
            estimate.period.label(lang)
        ),
        Lang::En => format!(
            "Saving vs {baseline_name} ({})",
            estimate.period.label(lang)
        ),
    };
    for row in &estimate.comparison {
        rows.push(vec![
            text(&saving_section),
            text(&row.profile_name),
            text(total_label),
            empty(),
            empty(),
            empty(),
            empty(),
            empty(),
            Cell::Number(row.saving.usd.plain()),
            Cell::Number(row.saving.cny.plain()),
            percent(row.saving_percent.usd),
            percent(row.saving_percent.cny),
        ]);
    }
    let roi_section = match lang {
        Lang::ZhCn => format!("投资回报（{} 个月）", estimate.roi.months),
        Lang::En => format!("ROI ({} months)", estimate.roi.months),
    };
    for row in &estimate.roi.rows {
        rows.push(vec![
            text(&roi_section),
            text(&row.profile_name),
            text(total_label),
            empty(),
            count(row.volume.input_tokens),
            count(row.volume.cached_input_tokens),
            count(row.volume.output_tokens),
            count(row.volume.videos),
            Cell::Number(row.cost.usd.plain()),
            Cell::Number(row.cost.cny.plain()),
            percent(row.saving_percent.usd),
            percent(row.saving_percent.cny),
        ]);
    }
    let mut out = String::from(csv::BOM);
    for row in rows {
        let cells: Vec<String> = row.into_iter().map(write_cell).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Writes one cell: text is neutralised against formulas, numbers are only quoted.
fn write_cell(cell: Cell) -> String {
    match cell {
        Cell::Number(number) => csv::quote(&number),
        Cell::Text(text) => csv::csv_field(&text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cost::estimate::{estimate, PriceBook};
    use crate::domain::cost::plan::ProductionPlan;

    /// A small RFC 4180 reader for checking the output.
    fn parse(csv: &str) -> Vec<Vec<String>> {
        let csv = csv.strip_prefix(csv::BOM).expect("starts with a BOM");
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut chars = csv.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => cell.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut cell)),
                (false, '\r') => {
                    assert_eq!(chars.next(), Some('\n'), "CRLF line ends");
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => cell.push(c),
            }
        }
        assert!(cell.is_empty() && row.is_empty(), "ends with CRLF");
        rows
    }

    #[test]
    fn cells_are_quoted_and_neutralised() {
        let check =
            |text: &str, expect: &str| assert_eq!(write_cell(Cell::Text(text.into())), expect);
        check("plain", "plain");
        check("a,b", "\"a,b\"");
        check("say \"hi\"", "\"say \"\"hi\"\"\"");
        check("two\nlines", "\"two\nlines\"");
        check("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"");
        check("+1", "'+1");
        check("-2+3", "'-2+3");
        check("@SUM(A1)", "'@SUM(A1)");
        check("\tx", "'\tx");
        assert_eq!(write_cell(Cell::Number("-12.50".into())), "-12.50");
    }

    #[test]
    fn csv_lists_stages_totals_savings_and_roi() {
        let plan = ProductionPlan::from_json(
            r#"{"version": 1, "name": "=cmd", "profiles": ["official-market", "holysheep-relay"], "roi_months": 3,
                "lines": [{"label": "=HYPERLINK(\"evil\")", "model": "deepseek-v3.2", "output_tokens": 1011907},
                          {"label": "Scripts, drafts", "model": "deepseek-v3.2", "output_tokens": 1011907},
                          {"label": "more", "model": "deepseek-v3.2", "output_tokens": 1011907}]}"#,
        )
        .unwrap();
        let estimate = estimate(&plan, &PriceBook::defaults()).unwrap();
        let rows = parse(&estimate_to_csv(&estimate, Lang::En));
        assert_eq!(rows[0][0], "Section");
        assert!(rows.iter().all(|row| row.len() == 12));
        assert_eq!(rows[1][2], "'=HYPERLINK(\"evil\")");
        assert_eq!(rows[2][2], "Scripts, drafts");
        // Each line costs $0.42500094 ($0.43 alone), the total $1.27500282 ($1.28): the
        // displayed lines are apportioned so that they still add up to the displayed total.
        assert_eq!(
            (
                rows[1][8].as_str(),
                rows[3][8].as_str(),
                rows[4][8].as_str()
            ),
            ("0.43", "0.42", "1.28")
        );
        for profile in [&rows[1..5], &rows[5..9]] {
            let cents = |cell: &str| (cell.parse::<f64>().unwrap() * 100.0).round() as i64;
            for column in [8, 9] {
                let parts: i64 = profile[..3].iter().map(|row| cents(&row[column])).sum();
                assert_eq!(parts, cents(&profile[3][column]), "{profile:?}");
            }
            assert_eq!(profile[3][2], "Total");
        }
        assert_eq!(rows[9][0], "Saving vs Official (market ¥7.3) (per month)");
        assert_eq!(
            (
                rows[10][8].as_str(),
                rows[10][9].as_str(),
                rows[10][10].as_str(),
                rows[10][11].as_str()
            ),
            ("0.00", "8.03", "0.0", "86.3")
        );
        assert_eq!(rows[11][0], "ROI (3 months)");
        let zh = parse(&estimate_to_csv(&estimate, Lang::ZhCn));
        assert_eq!((zh[0][0].as_str(), zh[4][2].as_str()), ("类别", "合计"));
    }
}
