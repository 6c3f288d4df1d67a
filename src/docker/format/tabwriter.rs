//! docker's elastic tabwriter, configured the way the CLI configures it.
//!
//! docker/cli `cli/command/formatter/formatter.go` (`postFormat`) builds its
//! tables with its fork of Go's `text/tabwriter`
//! (`cli/command/formatter/tabwriter/tabwriter.go`) as
//! `NewWriter(out, 10, 1, 3, ' ', 0)`: minwidth 10, tabwidth 1 (unused with
//! space padding), padding 3, pad char space, no flags.
//!
//! Rules reproduced here (Elastic Tabstops):
//! - input lines are split into cells at `\t`; a cell terminated by a tab
//!   belongs to a column, the text after the last tab of a line does not and
//!   is never padded;
//! - a column is a run of *consecutive* lines that all have a tab-terminated
//!   cell at that index; its width is `max(minwidth, widest cell + padding)`;
//! - widths are display columns (the fork measures with go-runewidth: wide
//!   East Asian runes count 2, combining marks 0, `…` counts 1).

use unicode_width::UnicodeWidthStr;

/// Minimal cell width including padding (`postFormat`).
pub const MIN_WIDTH: usize = 10;
/// Padding added to the widest cell of a column (`postFormat`).
pub const PADDING: usize = 3;

/// Display width of `s` in terminal columns.
pub fn display_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Aligns tab-separated text with docker's table settings.
pub fn align(input: &str) -> String {
    align_with(input, MIN_WIDTH, PADDING)
}

/// Aligns tab-separated text with the given minimal width and padding.
pub fn align_with(input: &str, min_width: usize, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = input.split('\n').map(|l| l.split('\t').collect()).collect();
    let writer = Writer {
        lines: &lines,
        min_width,
        padding,
    };
    let mut out = String::with_capacity(input.len() * 2);
    let mut widths = Vec::new();
    writer.format(&mut out, &mut widths, 0, lines.len());
    out
}

/// Renders rows of cells as docker renders a table: cells joined by tabs,
/// every row terminated by a newline, then aligned.
pub fn table<R, C>(rows: R) -> String
where
    R: IntoIterator<Item = C>,
    C: IntoIterator,
    C::Item: AsRef<str>,
{
    let mut text = String::new();
    for row in rows {
        let mut first = true;
        for cell in row {
            if !first {
                text.push('\t');
            }
            first = false;
            text.push_str(cell.as_ref());
        }
        text.push('\n');
    }
    align(&text)
}

struct Writer<'a> {
    lines: &'a [Vec<&'a str>],
    min_width: usize,
    padding: usize,
}

impl Writer<'_> {
    /// Whether line `i` has a tab-terminated cell in `column`.
    fn has_column(&self, i: usize, column: usize) -> bool {
        column + 1 < self.lines[i].len()
    }

    /// Formats lines `line0..line1`, knowing the widths of the columns left
    /// of `widths.len()`; finds blocks of lines sharing the next column,
    /// measures it and recurses (Go's `Writer.format`).
    fn format(&self, out: &mut String, widths: &mut Vec<usize>, line0: usize, line1: usize) {
        let column = widths.len();
        let mut line0 = line0;
        let mut this = line0;
        while this < line1 {
            if !self.has_column(this, column) {
                this += 1;
                continue;
            }
            // Print the lines above the block, then measure the block.
            self.write_lines(out, widths, line0, this);
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && self.has_column(this, column) {
                width = width.max(display_width(self.lines[this][column]) + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(out, widths, line0, this);
            widths.pop();
            line0 = this;
        }
        self.write_lines(out, widths, line0, line1);
    }

    fn write_lines(&self, out: &mut String, widths: &[usize], line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                out.push_str(cell);
                if let Some(&w) = widths.get(j) {
                    // The trailing cell of a line has no width entry.
                    if j + 1 < self.lines[i].len() {
                        let pad = w.saturating_sub(display_width(cell));
                        out.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            // Every line but the last one was terminated by a newline.
            if i + 1 < self.lines.len() {
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_columns_but_not_the_last() {
        let got = table([["ID", "NAME", "PORTS"], ["abc", "web.1", ""]]);
        let want = "\
ID        NAME      PORTS
abc       web.1     
";
        assert_eq!(got, want);
    }

    #[test]
    fn widest_cell_plus_three() {
        let got = table([["ID", "HOSTNAME", "X"], ["nodeID1", "foobar_baz", "y"]]);
        let want = "\
ID        HOSTNAME     X
nodeID1   foobar_baz   y
";
        assert_eq!(got, want);
    }

    #[test]
    fn ellipsis_counts_one_column_and_wide_runes_two() {
        let got = table([["A", "B"], ["abcdefghi…", "x"], ["日本語", "y"]]);
        let want = "\
A            B
abcdefghi…   x
日本語       y
";
        assert_eq!(got, want);
    }

    #[test]
    fn columns_are_blocks_of_consecutive_lines() {
        // Go's own doc example: the b and c cells are in distinct columns.
        let got = align_with("aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n", 0, 1);
        let want = "aaaa bbb d\naa   b   dd\na    \naa   cccc eee\n";
        assert_eq!(got, want);
    }

    #[test]
    fn empty_input_and_single_column() {
        assert_eq!(align(""), "");
        assert_eq!(table([["abc"], ["d"]]), "abc\nd\n");
    }
}
