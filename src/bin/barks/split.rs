//! Splitting SQL text into statements at `;`, the way DataFusion's parser
//! (its generic dialect) reads the text: a `;` ends a statement unless it is
//! inside
//!
//! - a string: `'…'` (`''` is a quote), `E'…'` (a backslash escapes), or a
//!   dollar-quoted `$$…$$` / `$tag$…$tag$`;
//! - a quoted identifier: `"…"` or `` `…` `` (a doubled quote is a quote);
//! - a comment: `-- …` to the end of the line, or `/* … */` (nested ones
//!   too).
//!
//! Statements that hold nothing but whitespace and comments are left out.

/// The statements of a text, and what follows the last of them.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The text before each `;` that ends a statement, trimmed, without the
    /// `;`; empty and comment-only statements are left out.
    pub statements: Vec<&'a str>,
    /// The text after the last `;`: an unfinished statement, or nothing.
    pub rest: &'a str,
    /// Whether `rest` is only whitespace and complete comments: nothing is
    /// left to run or to wait for.
    pub rest_is_blank: bool,
}

/// Splits `text` into statements at the `;`s outside strings, quoted
/// identifiers and comments.
pub fn split(text: &str) -> Split<'_> {
    let bytes = text.as_bytes();
    let mut statements = Vec::new();
    // Where the current statement starts, and whether it has anything but
    // whitespace and comments.
    let mut start = 0;
    let mut content = false;
    let mut i = 0;
    // Every delimiter is ASCII, so the byte offsets below are always char
    // boundaries of `text`.
    while i < bytes.len() {
        let after = match bytes[i] {
            b';' => {
                let statement = text[start..i].trim();
                if content && !statement.is_empty() {
                    statements.push(statement);
                }
                start = i + 1;
                content = false;
                Some(i + 1)
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some(line_comment_end(bytes, i)),
            b'/' if bytes.get(i + 1) == Some(&b'*') => block_comment_end(bytes, i),
            b'\'' => {
                content = true;
                quoted_end(bytes, i, b'\'')
            }
            b'"' | b'`' => {
                content = true;
                quoted_end(bytes, i, bytes[i])
            }
            b'e' | b'E' if bytes.get(i + 1) == Some(&b'\'') && !follows_identifier(bytes, i) => {
                content = true;
                escaped_end(bytes, i + 1)
            }
            b'$' if !follows_identifier(bytes, i) => {
                content = true;
                match dollar_tag(bytes, i) {
                    Some(tag) => dollar_quoted_end(bytes, i, tag),
                    None => Some(i + 1),
                }
            }
            b => {
                content |= !b.is_ascii_whitespace();
                Some(i + 1)
            }
        };
        match after {
            Some(next) => i = next,
            // An unterminated string or comment runs to the end.
            None => {
                return Split {
                    statements,
                    rest: &text[start..],
                    rest_is_blank: false,
                };
            }
        }
    }
    let rest = &text[start..];
    Split {
        statements,
        rest,
        rest_is_blank: !content || rest.trim().is_empty(),
    }
}

/// Where the `--` comment at `at` ends: after its newline, or at the end.
fn line_comment_end(bytes: &[u8], at: usize) -> usize {
    match bytes[at..].iter().position(|&b| b == b'\n') {
        Some(newline) => at + newline + 1,
        None => bytes.len(),
    }
}

/// Where the `/*` comment at `at` ends (after its `*/`, nested comments
/// included), or `None` if it is not closed.
fn block_comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Where the text quoted by `quote` at `at` ends (after its closing quote; a
/// doubled quote is part of the text), or `None` if it is not closed.
fn quoted_end(bytes: &[u8], at: usize, quote: u8) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Where the `E'…'` string whose quote is at `at` ends: a backslash escapes
/// the character after it, and `''` is a quote too.
fn escaped_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The tag of the dollar quote opening at `at` (`$$` has the empty tag), or
/// `None` when the `$` opens no string (a placeholder such as `$1`).
fn dollar_tag(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let tag_len = bytes[at + 1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let close = at + 1 + tag_len;
    (bytes.get(close) == Some(&b'$')).then(|| &bytes[at + 1..close])
}

/// Where the string opened by `$tag$` at `at` ends (after its closing
/// `$tag$`), or `None` if it is not closed.
fn dollar_quoted_end(bytes: &[u8], at: usize, tag: &[u8]) -> Option<usize> {
    let delimiter_len = tag.len() + 2;
    let body = at + delimiter_len;
    let delimiter = &bytes[at..body];
    bytes[body..]
        .windows(delimiter_len)
        .position(|w| w == delimiter)
        .map(|found| body + found + delimiter_len)
}

/// Whether the byte before `at` is part of an identifier or a keyword (so
/// the `E` of `DATE'…'` or the `$` of `a$b` opens nothing).
fn follows_identifier(bytes: &[u8], at: usize) -> bool {
    at > 0 && {
        let b = bytes[at - 1];
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'@' | b'#') || !b.is_ascii()
    }
}

/// Statements arriving a piece at a time (lines typed at a prompt or read
/// from a pipe): what is pushed is kept until a `;` completes it.
#[derive(Debug, Default)]
pub struct Pending {
    text: String,
}

impl Pending {
    /// Adds `text` and returns the statements it completes; their text is
    /// dropped, an unfinished statement after them is kept.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.text.push_str(text);
        let split = split(&self.text);
        let statements = split.statements.iter().map(|s| s.to_string()).collect();
        self.text = if split.rest_is_blank {
            String::new()
        } else {
            split.rest.to_string()
        };
        statements
    }

    /// Whether part of a statement is waiting for its `;`.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Drops the unfinished statement.
    pub fn clear(&mut self) {
        self.text.clear();
    }

    /// At the end of the input: the unfinished statement, run without its
    /// `;` (or `None`), leaving nothing pending.
    pub fn finish(&mut self) -> Option<String> {
        let text = std::mem::take(&mut self.text);
        let statement = text.trim();
        (!statement.is_empty()).then(|| statement.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements of `text`, and its rest if that is not blank.
    fn statements(text: &str) -> (Vec<&str>, Option<&str>) {
        let split = split(text);
        let rest = (!split.rest_is_blank).then_some(split.rest);
        (split.statements, rest)
    }

    #[test]
    fn splits_at_semicolons() {
        assert_eq!(
            statements("SELECT 1; SELECT 2;\nSELECT 3;"),
            (vec!["SELECT 1", "SELECT 2", "SELECT 3"], None)
        );
    }

    #[test]
    fn a_last_statement_without_a_semicolon_is_the_rest() {
        assert_eq!(
            statements("SELECT 1; SELECT 2"),
            (vec!["SELECT 1"], Some(" SELECT 2"))
        );
        assert_eq!(statements("SELECT 1"), (vec![], Some("SELECT 1")));
    }

    #[test]
    fn empty_statements_are_left_out() {
        assert_eq!(statements(";; ;\n; SELECT 1;;"), (vec!["SELECT 1"], None));
        assert_eq!(statements(""), (vec![], None));
        assert_eq!(statements("  \n\t "), (vec![], None));
    }

    #[test]
    fn comment_only_statements_are_left_out() {
        assert_eq!(
            statements("-- a comment; still the comment\n;/* another */;SELECT 1; -- done"),
            (vec!["SELECT 1"], None)
        );
        assert_eq!(statements("/* a; b */"), (vec![], None));
    }

    #[test]
    fn semicolons_in_strings_do_not_split() {
        assert_eq!(
            statements("SELECT ';', 'it''s; fine'; SELECT 2;"),
            (vec!["SELECT ';', 'it''s; fine'", "SELECT 2"], None)
        );
    }

    #[test]
    fn a_backslash_does_not_escape_in_a_plain_string() {
        // The generic dialect reads `'a\'` as the string `a\`.
        assert_eq!(
            statements(r"SELECT 'a\'; SELECT 2;"),
            (vec![r"SELECT 'a\'", "SELECT 2"], None)
        );
    }

    #[test]
    fn a_backslash_escapes_in_an_escape_string() {
        assert_eq!(
            statements(r"SELECT E'a\';b', e'\\'; SELECT 2;"),
            (vec![r"SELECT E'a\';b', e'\\'", "SELECT 2"], None)
        );
        // `DATE'…'` is a typed literal, not an escape string.
        assert_eq!(
            statements(r"SELECT DATE'2024-01-02', 'x\'; SELECT 2;"),
            (vec![r"SELECT DATE'2024-01-02', 'x\'", "SELECT 2"], None)
        );
    }

    #[test]
    fn semicolons_in_quoted_identifiers_do_not_split() {
        assert_eq!(
            statements("SELECT 1 AS \"a;\"\"b\", 2 AS `c;d`; SELECT 2;"),
            (
                vec!["SELECT 1 AS \"a;\"\"b\", 2 AS `c;d`", "SELECT 2"],
                None
            )
        );
    }

    #[test]
    fn semicolons_in_comments_do_not_split() {
        assert_eq!(
            statements("SELECT 1 -- one; two\n, 2; SELECT /* ; */ 3;"),
            (vec!["SELECT 1 -- one; two\n, 2", "SELECT /* ; */ 3"], None)
        );
        assert_eq!(
            statements("SELECT /* outer /* inner; */ still; */ 1; SELECT 2;"),
            (
                vec!["SELECT /* outer /* inner; */ still; */ 1", "SELECT 2"],
                None
            )
        );
    }

    #[test]
    fn a_minus_sign_or_a_slash_alone_is_no_comment() {
        assert_eq!(
            statements("SELECT 4 - 1; SELECT 4 / 2;"),
            (vec!["SELECT 4 - 1", "SELECT 4 / 2"], None)
        );
    }

    #[test]
    fn semicolons_in_dollar_quoted_strings_do_not_split() {
        assert_eq!(
            statements("SELECT $$a;b$$; SELECT $tag$x;$$;y$tag$; SELECT 3;"),
            (
                vec!["SELECT $$a;b$$", "SELECT $tag$x;$$;y$tag$", "SELECT 3"],
                None
            )
        );
        // A placeholder, and a `$` inside an identifier, open nothing.
        assert_eq!(
            statements("SELECT $1; SELECT a$b$c; SELECT 3;"),
            (vec!["SELECT $1", "SELECT a$b$c", "SELECT 3"], None)
        );
    }

    #[test]
    fn unterminated_strings_and_comments_are_an_unfinished_rest() {
        assert_eq!(statements("SELECT 'a;"), (vec![], Some("SELECT 'a;")));
        assert_eq!(statements("SELECT \"a;"), (vec![], Some("SELECT \"a;")));
        assert_eq!(
            statements("SELECT 1; /* open; "),
            (vec!["SELECT 1"], Some(" /* open; "))
        );
        assert_eq!(statements("SELECT $$ a;"), (vec![], Some("SELECT $$ a;")));
        assert_eq!(statements(r"SELECT E'\';"), (vec![], Some(r"SELECT E'\';")));
    }

    #[test]
    fn non_ascii_text_is_kept_whole() {
        assert_eq!(
            statements("SELECT 'é;ü' AS \"ß\"; SELECT '日本';"),
            (vec!["SELECT 'é;ü' AS \"ß\"", "SELECT '日本'"], None)
        );
    }

    #[test]
    fn pending_statements_complete_across_pushes() {
        let mut pending = Pending::default();
        assert!(pending.push("SELECT 'a\n").is_empty());
        assert!(!pending.is_empty());
        assert!(pending.push("b;' AS x\n").is_empty());
        assert_eq!(
            pending.push("; SELECT 2; SELECT\n"),
            ["SELECT 'a\nb;' AS x", "SELECT 2"]
        );
        assert_eq!(pending.push("3;\n"), ["SELECT\n3"]);
        assert!(pending.is_empty());
        assert_eq!(pending.push("-- a comment\n"), Vec::<String>::new());
        assert!(pending.is_empty());
        assert_eq!(pending.push("SELECT 4\n"), Vec::<String>::new());
        assert_eq!(pending.finish().as_deref(), Some("SELECT 4"));
        assert_eq!(pending.finish(), None);
        pending.push("SELECT 5");
        pending.clear();
        assert!(pending.is_empty());
    }
}
