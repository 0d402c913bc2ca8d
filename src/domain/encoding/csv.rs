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

/// One CSV field: neutralized against formula injection (a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets a `'` in front, so a spreadsheet shows it as text instead of running
/// it), then quoted when it contains a comma, a quote or a line break, with inner quotes
/// doubled (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
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
}
