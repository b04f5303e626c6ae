//! The one table printer of the command-line tools (comfy-table): plain aligned text
//! for terminals, Markdown for what goes into READMEs.

use comfy_table::presets;
pub use comfy_table::{CellAlignment, Table};

/// A table with `header` whose first `words` columns hold words; the others hold
/// numbers and are aligned right.
pub fn text<const N: usize>(words: usize, header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING).set_header(header);
    for (i, column) in table.column_iter_mut().enumerate() {
        // No borders: two spaces after each column keep them apart.
        column.set_padding((0, 2));
        if i >= words {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// [`text`] as a Markdown table.
pub fn markdown<const N: usize>(words: usize, header: [&str; N]) -> Table {
    let mut table = text(words, header);
    table.load_preset(presets::ASCII_MARKDOWN);
    for column in table.column_iter_mut() {
        column.set_padding((1, 1));
    }
    table
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_align_right_and_markdown_has_a_rule_under_the_header() {
        let mut t = super::text(1, ["name", "value"]);
        t.add_row(["a", "1"]).add_row(["bb", "100"]);
        let text = t.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].trim_end().ends_with("  1"), "{text}");
        assert!(lines[0].starts_with("name  "), "{text}");
        assert!(lines[1].starts_with("a "), "{text}");
        let mut m = super::markdown(1, ["name", "value"]);
        m.add_row(["a", "1"]);
        let md = m.to_string();
        assert!(md.lines().nth(1).is_some_and(|l| l.starts_with("|-")), "{md}");
        assert!(md.lines().nth(2).is_some_and(|l| l.starts_with("| a ")), "{md}");
    }
}
