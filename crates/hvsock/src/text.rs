//! Text that came from a peer, made safe to print.
//!
//! A guest, a VMM or a local partition can put anything in the bytes it sends: a file
//! name in a copy stream, an agent's error message, a listener's refusal. Printed as it
//! is, a name such as `"\x1b]0;pwned\x07"` retitles the host's terminal, and escape
//! sequences can rewrite what the user sees above the prompt. Every message that shows
//! peer-supplied text goes through [`escape_untrusted`] first.

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with every character that could act on a terminal or hide text written as an
/// escape: C0 and C1 control characters and DEL (`\n` → `\n`, ESC → `\u{1b}`...), and
/// the Unicode bidirectional marks, overrides and isolates (U+200E, U+200F,
/// U+202A..U+202E, U+2066..U+2069),
/// which reorder what a terminal shows. Backslashes are doubled, so an escape in the
/// output always stands for a character that was really there. Borrowed when nothing
/// needed escaping.
///
/// ```
/// use hvsock::text::escape_untrusted;
/// assert_eq!(escape_untrusted("notes.txt"), "notes.txt");
/// assert_eq!(escape_untrusted("a\x1b[2Jb"), "a\\u{1b}[2Jb");
/// assert_eq!(escape_untrusted("x\\u{1b}"), "x\\\\u{1b}");
/// ```
pub fn escape_untrusted(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(escape_untrusted(""), "");
        assert!(matches!(escape_untrusted("plain name"), Cow::Borrowed(_)));
        assert_eq!(escape_untrusted("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(escape_untrusted("\x07\x7f\u{9b}"), "\\u{7}\\u{7f}\\u{9b}");
        assert_eq!(
            escape_untrusted("abc\u{202e}txt.exe"),
            "abc\\u{202e}txt.exe"
        );
        assert_eq!(escape_untrusted("é ü 文件"), "é ü 文件");
    }

    proptest! {
        /// Whatever the input, the output has no character a terminal acts on.
        #[test]
        fn output_is_inert(s in any::<String>()) {
            let e = escape_untrusted(&s);
            let inert = !e.chars().any(|c| c.is_control() || needs_escape(c) && c != '\\');
            prop_assert!(inert, "{:?} -> {:?}", s, e);
        }

        /// Distinct inputs stay distinct: what is shown identifies what was sent.
        #[test]
        fn injective(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            prop_assert_ne!(escape_untrusted(&a), escape_untrusted(&b));
        }
    }
}
