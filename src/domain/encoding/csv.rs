//! CSV for spreadsheets: RFC 4180 quoting, CRLF records, a UTF-8 byte-order mark so Excel
//! reads Chinese, and text cells neutralised against formula injection. Every CSV export
//! (estimate, ledger, shot list) writes its cells through here.

/// The UTF-8 byte-order mark every export starts with.
pub const BOM: &str = "\u{FEFF}";

/// Quotes a cell when it contains a comma, a quote or a line break, doubling inner quotes.
/// Numbers the app formats itself go through this alone: `-12.50` is not a formula.
pub fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// The first characters a spreadsheet may read as the start of a formula: `=`, `+`, `-`, `@`,
/// their full-width forms (`＝＋－＠`, which some spreadsheets and input methods turn into the
/// ASCII ones), tab and carriage return.
const FORMULA_STARTS: [char; 10] = [
    '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}', '\t', '\r',
];

/// One CSV field: neutralized against formula injection (a leading [`FORMULA_STARTS`]
/// character gets a `'` in front, so a spreadsheet shows it as text instead of running it),
/// then quoted when it contains a comma, a quote or a line break, with inner quotes doubled
/// (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        quote(&format!("'{text}"))
    } else {
        quote(text)
    }
}

/// One CSV record: the fields through [`csv_field`], joined by commas, ended by CRLF.
pub fn csv_row<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut row = fields
        .into_iter()
        .map(csv_field)
        .collect::<Vec<_>>()
        .join(",");
    row.push_str("\r\n");
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("霸总,归来", "\"霸总,归来\""),
            ("a=b", "a=b"),
        ];
        for (input, expect) in cases {
            assert_eq!(csv_field(input), expect, "{input:?}");
        }
        assert_eq!(csv_row(["a", "b,c"]), "a,\"b,c\"\r\n");
    }

    #[test]
    fn full_width_formula_starts_are_neutralized_too() {
        let cases = [
            (
                "\u{FF1D}HYPERLINK(\"x\")",
                "\"'\u{FF1D}HYPERLINK(\"\"x\"\")\"",
            ),
            ("＝1+1", "'＝1+1"),
            ("＋1", "'＋1"),
            ("－2", "'－2"),
            ("＠SUM(A1)", "'＠SUM(A1)"),
            ("\rx", "\"'\rx\""),
            ("a＝b", "a＝b"),
            ("第＝1集", "第＝1集"),
        ];
        for (input, expect) in cases {
            assert_eq!(csv_field(input), expect, "{input:?}");
        }
    }
}
