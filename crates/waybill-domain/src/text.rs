//! Free text as people type it, and the shapes of keys that reach queries. Text holds no
//! control characters (PostgreSQL refuses NUL outright) and no direction overrides, and a
//! required field needs at least one character a person can see.

use unicode_general_category::{GeneralCategory, get_general_category};

/// Characters that show nothing: white space, format characters (zero-width space, soft
/// hyphen, direction marks, BOM…), other default-ignorable code points and blank fillers.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || get_general_category(c) == GeneralCategory::Format
        || matches!(
            c,
            '\u{034F}'                      // combining grapheme joiner
            | '\u{115F}' | '\u{1160}'       // Hangul choseong / jungseong fillers
            | '\u{17B4}' | '\u{17B5}'       // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}'       // Mongolian variation selectors
            | '\u{2800}'                    // braille blank
            | '\u{3164}' | '\u{FFA0}'       // Hangul fillers
            | '\u{FE00}'..='\u{FE0F}'       // variation selectors
            | '\u{E0100}'..='\u{E01EF}'     // variation selectors supplement
        )
}

/// Embeddings, overrides and isolates: they reorder how the text around them is shown (an
/// RTL override makes `gpj.exe` read `exe.jpg`), on pages and on printed labels alike.
pub fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text from outside, fit to store and show as it came: the characters `clean` refuses
/// (control and direction characters) become U+FFFD.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || is_direction_override(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Why a text was refused, in words for the person who typed it.
fn refused(c: char, what: &str) -> Option<String> {
    let code = format!("U+{:04X}", c as u32);
    if c.is_control() {
        Some(format!(
            "The {what} contains a control character ({code}); remove it."
        ))
    } else if is_direction_override(c) {
        Some(format!(
            "The {what} contains an invisible text-direction character ({code}); remove it."
        ))
    } else {
        None
    }
}

/// Trims white space and invisible characters from both ends, refuses control characters and
/// direction overrides anywhere, and counts what is left (`None` when nothing visible is).
pub fn clean<'a>(raw: &'a str, what: &str, max: usize) -> Result<Option<&'a str>, String> {
    if let Some(msg) = raw.chars().find_map(|c| refused(c, what)) {
        return Err(msg);
    }
    let t = raw.trim_matches(is_invisible);
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max {
        return Err(format!("The {what} must be at most {max} characters."));
    }
    Ok(Some(t))
}

/// `clean` for text written in several lines (a note in a text area): line breaks are kept,
/// as `\n` whatever the browser sent; every other control character is refused.
pub fn clean_lines(raw: &str, what: &str, max: usize) -> Result<Option<String>, String> {
    let joined = raw.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = joined
        .split('\n')
        .map(|l| l.trim_end_matches(is_invisible))
        .collect();
    for line in &lines {
        clean(line, what, max)?;
    }
    match clean(&lines.join(" "), what, max)? {
        None => Ok(None),
        Some(_) => Ok(Some(
            lines.join("\n").trim_matches(is_invisible).to_string(),
        )),
    }
}

/// An optional free-text field: blank (or only invisible characters) is `None`.
pub fn optional_text(raw: Option<&str>, what: &str, max: usize) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(r) => clean(r, what, max).map(|t| t.map(str::to_string)),
    }
}

/// A search term from a query string: blank is no search; control characters are refused.
pub fn search_term(raw: Option<&str>) -> Result<Option<String>, String> {
    optional_text(raw, "search", 100)
}

/// Refuses an uploaded text file holding a control character other than tab and line breaks
/// (a NUL byte above all: PostgreSQL cannot store it), naming the line, before anything is
/// read from the file or stored.
pub fn text_file(text: &str) -> Result<&str, String> {
    let found = text.lines().enumerate().find_map(|(n, line)| {
        line.chars()
            .find(|c| c.is_control() && !matches!(c, '\t' | '\r'))
            .map(|c| (n + 1, c))
    });
    match found {
        None => Ok(text),
        Some((line, c)) => Err(format!(
            "Line {line} holds a control character (U+{:04X}) that no CSV text file has: save the file as CSV UTF-8 and upload it again.",
            c as u32
        )),
    }
}

/// The shape of every record id Waybill makes (`db::new_id`: a UUID, lower-case hyphenated).
/// Anything else names no record, so it is refused before a query runs.
pub fn is_id(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_keep_their_lines_and_nothing_else() {
        assert_eq!(
            clean_lines(
                "Real weight 455 g.\r\nPhoto of the scale attached.  \r\n\r\n",
                "note",
                100
            ),
            Ok(Some(
                "Real weight 455 g.\nPhoto of the scale attached.".to_string()
            ))
        );
        assert_eq!(
            clean_lines("a\rb", "note", 10),
            Ok(Some("a\nb".to_string()))
        );
        assert_eq!(clean_lines(" \n\u{200B}\n ", "note", 10), Ok(None));
        assert!(clean_lines("a\nb\u{0}", "note", 10).is_err());
        assert!(clean_lines("a\n\u{202E}b", "note", 10).is_err());
        assert!(
            clean_lines("12345\n67890", "note", 10).is_err(),
            "the break counts"
        );
    }

    #[test]
    fn control_characters_and_overrides_are_refused_anywhere() {
        for bad in [
            "A\u{0}B",
            "\u{0}",
            "Bob\u{0B}",
            "x\u{1B}[31m",
            "a\u{7F}",
            "a\u{85}b",
        ] {
            let e = clean(bad, "name", 70).unwrap_err();
            assert!(e.contains("control character"), "{bad:?}: {e}");
        }
        let e = clean("Anna \u{202E}reyaM", "name", 70).unwrap_err();
        assert!(e.contains("U+202E"), "{e}");
        assert!(clean("a\u{2066}b", "name", 70).is_err());
    }

    #[test]
    fn only_invisible_is_nothing() {
        for blank in [
            "",
            "   ",
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
            "\u{AD}\u{A0}\u{3000}",
            "\u{2800}\u{3164}",
            "\u{200E}\u{200F}",
        ] {
            assert_eq!(clean(blank, "name", 70), Ok(None), "{blank:?}");
        }
        assert_eq!(clean("\u{200B}Bob\u{FEFF} ", "name", 70), Ok(Some("Bob")));
        // Joiners inside words are part of some scripts (and of emoji).
        assert_eq!(
            clean("می\u{200C}خواهم", "name", 70),
            Ok(Some("می\u{200C}خواهم"))
        );
        assert!(clean(&"x".repeat(71), "name", 70).is_err());
    }

    #[test]
    fn ids_are_what_new_id_makes() {
        let id = uuid::Uuid::now_v7().to_string();
        assert!(is_id(&id));
        for bad in [
            "",
            "\u{0}",
            &id.to_uppercase(),
            &id[..35],
            &format!("{id}0"),
            &id.replace('-', ""),
            &format!("{{{}}}", &id[..34]),
            &"a".repeat(600),
        ] {
            assert!(!is_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn files_with_a_control_character_are_refused_by_line() {
        assert!(text_file("a,b\r\nc\td,e\n").is_ok());
        let e = text_file("a,b\nc,\u{0}d\n").unwrap_err();
        assert!(
            e.starts_with("Line 2 holds a control character (U+0000)"),
            "{e}"
        );
    }
}
