//! Text from the service (error messages, cluster names, phases) is data: before it reaches a terminal or
//! a pipe, every control character is escaped, so that an escape sequence, a carriage return or a
//! bidirectional override in a name can neither move the cursor nor forge a line.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls, DEL, and the format characters that
/// reorder or hide text (bidirectional embeddings, overrides and isolates, zero-width characters).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `text` with every unsafe character written as `\u{…}` (`\n`, `\r`, `\t` as such): for one field of
/// a line, e.g. a cluster name in a table.
pub fn field(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` for stderr: like [`field`], but its own line breaks stay line breaks.
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// `rows` as aligned columns, `gap` spaces apart, one line each (the last column unpadded, no trailing
/// blanks). The cells must be escaped already ([`field`]).
pub fn columns(rows: &[Vec<String>], gap: usize) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}{:gap$}", "", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` on one line: its lines trimmed and joined with spaces, blank ones dropped.
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let rows = vec![
            vec!["NAME".to_owned(), "ID".to_owned(), "X".to_owned()],
            vec!["prod-1".to_owned(), "a".to_owned(), "".to_owned()],
        ];
        assert_eq!(columns(&rows, 2), "NAME    ID  X\nprod-1  a\n");
    }

    #[test]
    fn controls_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(field("prod-1 (Available)"), Cow::Borrowed(_)));
        assert_eq!(field("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(field("x\ry\nz\t"), "x\\ry\\nz\\t");
        assert_eq!(field("\u{202e}evil\u{9b}"), "\\u{202e}evil\\u{9b}");
        assert_eq!(lines("one\ntwo\x07"), "one\ntwo\\u{7}");
        assert_eq!(field("生产"), "生产");
        assert_eq!(one_line("a\n  b\r\n\nc"), "a b c");
    }
}
