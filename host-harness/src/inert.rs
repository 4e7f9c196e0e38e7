//! Text from a connector or a server made inert for a terminal and for XML: control characters
//! shown as escapes, never executed (an ESC that clears the screen, a CR that forges a line).

use std::borrow::Cow;

/// `text` with every control character written as `\u{..}`: safe to print in a table line.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    format!("\\u{{{:x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `text` escaped for XML 1.0 text and attributes: markup escaped, and characters XML 1.0
/// cannot carry at all (most C0 controls, U+FFFE, U+FFFF) and CR (which XML turns into a
/// line break or a space) written as `\u{..}`.
pub fn for_xml(text: &str) -> String {
    let legal: String = text
        .chars()
        .map(|c| {
            let allowed =
                matches!(c, '\t' | '\n') || (!c.is_control() && c != '\u{fffe}' && c != '\u{ffff}');
            if allowed {
                c.to_string()
            } else {
                format!("\\u{{{:x}}}", c as u32)
            }
        })
        .collect();
    quick_xml::escape::escape(legal.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_sent() {
        let hostile = "ok\u{1b}[2J\u{7}\r\nforged ok";
        let shown = for_terminal(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.contains("\\u{1b}[2J"));
        assert_eq!(for_terminal("plain"), "plain");
        let xml = for_xml("a<b & \u{1}\u{ffff}\"");
        assert_eq!(xml, "a&lt;b &amp; \\u{1}\\u{ffff}&quot;");
    }
}
