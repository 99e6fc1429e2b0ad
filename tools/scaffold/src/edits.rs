//! Insertions into files a team also edits by hand. Each finds its anchor by the file's
//! structure (a list under a key, a known line) and returns `None` when the anchor is gone,
//! so the caller can refuse with the file's name instead of writing in the wrong place.

/// Inserts `new` (whole lines) before the first line for which `at` holds.
///
/// ```
/// use platform_scaffold::edits::insert_before_line;
/// let out = insert_before_line("a\nc\n", |l| l == "c", "b\n").unwrap();
/// assert_eq!(out, "a\nb\nc\n");
/// ```
pub fn insert_before_line(text: &str, at: impl Fn(&str) -> bool, new: &str) -> Option<String> {
    let offset = line_offsets(text).find(|(_, line)| at(line))?.0;
    Some(format!("{}{}{}", &text[..offset], new, &text[offset..]))
}

/// Inserts `new` (whole lines) after the first line for which `at` holds.
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

/// Appends `new` (whole lines) after the last entry under the top-level YAML key `key:`; the
/// block ends at the next line that starts in column 0 with anything but `-` (a blank line or
/// a comment there ends it too, if what follows it is another top-level key).
///
/// ```
/// use platform_scaffold::edits::append_to_yaml_block;
/// let yaml = "images:\n  - name: a\n\n# next\npatches: []\n";
/// let out = append_to_yaml_block(yaml, "images", "  - name: b\n").unwrap();
/// assert_eq!(out, "images:\n  - name: a\n  - name: b\n\n# next\npatches: []\n");
/// ```
pub fn append_to_yaml_block(text: &str, key: &str, new: &str) -> Option<String> {
    let header = format!("{key}:");
    let mut lines = line_offsets(text).skip_while(|(_, line)| line.trim_end() != header);
    let (header_offset, header_line) = lines.next()?;
    let mut insert_at = header_offset + header_line.len() + 1;
    for (offset, line) in lines {
        let top_level = !line.is_empty() && !line.starts_with([' ', '-', '\t']);
        if top_level {
            break;
        }
        if !line.trim().is_empty() {
            insert_at = offset + line.len() + 1;
        }
    }
    let insert_at = insert_at.min(text.len());
    let separator = if text[..insert_at].ends_with('\n') {
        ""
    } else {
        "\n"
    };
    Some(format!(
        "{}{separator}{new}{}",
        &text[..insert_at],
        &text[insert_at..]
    ))
}

/// Appends `new` at the end of `text`, after exactly one newline.
pub fn append(text: &str, new: &str) -> String {
    format!("{}\n{new}", text.trim_end_matches('\n'))
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
        assert_eq!(insert_before_line("a\n", |l| l == "zz", "b\n"), None);
        assert_eq!(
            append_to_yaml_block("other:\n  - a\n", "images", "x\n"),
            None
        );
        assert_eq!(
            insert_before_block_end("let files = [\n", |l| l.contains('['), |l| l == "]", ""),
            None
        );
    }

    #[test]
    fn a_yaml_block_at_the_end_of_the_file_is_appended_to() {
        let out = append_to_yaml_block("volumes:\n  a:\n  b:\n", "volumes", "  c:\n").unwrap();
        assert_eq!(out, "volumes:\n  a:\n  b:\n  c:\n");
    }

    #[test]
    fn comments_inside_a_yaml_block_stay_inside_it() {
        let yaml = "resources:\n  - a.yaml\n  # grouped\n  - b.yaml\nimages: []\n";
        let out = append_to_yaml_block(yaml, "resources", "  - c.yaml\n").unwrap();
        assert_eq!(
            out,
            "resources:\n  - a.yaml\n  # grouped\n  - b.yaml\n  - c.yaml\nimages: []\n"
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
