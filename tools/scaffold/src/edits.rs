//! Insertions into files a team also edits by hand. Each finds its anchor by the file's
//! structure (a block's closing line, a known line) and returns `None` when the anchor is gone,
//! so the caller can refuse with the file's name instead of writing in the wrong place.

/// Inserts `new` (whole lines) after the first line for which `at` holds.
///
/// ```
/// use platform_scaffold::edits::insert_after_line;
/// let out = insert_after_line("a\nc\n", |l| l == "a", "b\n").unwrap();
/// assert_eq!(out, "a\nb\nc\n");
/// ```
pub fn insert_after_line(text: &str, at: impl Fn(&str) -> bool, new: &str) -> Option<String> {
    let (offset, line) = line_offsets(text).find(|(_, line)| at(line))?;
    let end = offset + line.len();
    if end >= text.len() {
        return Some(format!("{text}\n{new}"));
    }
    Some(format!("{}{}{}", &text[..=end], new, &text[end + 1..]))
}

/// Inserts `new` before the first line for which `end` holds that comes after the first line
/// for which `start` holds: the closing line of a block.
pub fn insert_before_block_end(
    text: &str,
    start: impl Fn(&str) -> bool,
    end: impl Fn(&str) -> bool,
    new: &str,
) -> Option<String> {
    let mut lines = line_offsets(text).skip_while(|(_, line)| !start(line));
    lines.next()?;
    let offset = lines.find(|(_, line)| end(line))?.0;
    Some(format!("{}{}{}", &text[..offset], new, &text[offset..]))
}

/// Every line with the byte offset it starts at.
fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len() + 1;
        Some((start, line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_anchor_is_none_not_a_guess() {
        assert_eq!(insert_after_line("a\n", |l| l == "zz", "b\n"), None);
        assert_eq!(
            insert_before_block_end("let files = [\n", |l| l.contains('['), |l| l == "]", ""),
            None
        );
    }

    #[test]
    fn a_block_end_is_searched_only_after_its_start() {
        let text = "]\nlet files = [\n    \"a\",\n]\n";
        let out = insert_before_block_end(
            text,
            |l| l.contains("files = ["),
            |l| l == "]",
            "    \"b\",\n",
        )
        .unwrap();
        assert_eq!(out, "]\nlet files = [\n    \"a\",\n    \"b\",\n]\n");
    }

    #[test]
    fn insert_after_the_last_line_without_a_newline() {
        assert_eq!(
            insert_after_line("a", |l| l == "a", "b\n").unwrap(),
            "a\nb\n"
        );
        assert_eq!(
            insert_after_line("a\nc\n", |l| l == "a", "b\n").unwrap(),
            "a\nb\nc\n"
        );
    }
}
