//! Dead letters as the text table the `dead-letters` command prints.

use std::time::SystemTime;

use super::DeadLetter;

/// `letters` as an aligned table with a header line; the reason comes last and is never cut
/// (it is what an operator needs), only put on one line.
pub(super) fn render(letters: &[DeadLetter]) -> String {
    let mut rows = vec![
        [
            "STATUS",
            "P:OFFSET",
            "EVENT ID",
            "EVENT TYPE",
            "KEY",
            "FROM",
            "ATTEMPTS",
            "DEAD-LETTERED",
            "REASON",
        ]
        .map(str::to_owned),
    ];
    for letter in letters {
        rows.push([
            if letter.waiting { "waiting" } else { "handled" }.to_owned(),
            format!("{}:{}", letter.partition, letter.offset),
            or_dash(letter.event_id.as_deref()),
            or_dash(letter.event_type.as_deref()),
            or_dash(letter.key.as_deref()),
            from(letter),
            letter
                .attempts
                .map_or_else(|| "-".to_owned(), |a| a.to_string()),
            letter.dead_lettered_at.map_or_else(|| "-".to_owned(), utc),
            letter
                .reason
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    let mut widths = [0; 9];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                if i + 1 == widths.len() {
                    cell.clone()
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn or_dash(text: Option<&str>) -> String {
    text.filter(|t| !t.is_empty()).unwrap_or("-").to_owned()
}

/// Where the event was when it failed: `topic/partition/offset`.
fn from(letter: &DeadLetter) -> String {
    let part = |n: Option<String>| n.unwrap_or_else(|| "?".to_owned());
    format!(
        "{}/{}/{}",
        letter.original_topic,
        part(letter.original_partition.map(|p| p.to_string())),
        part(letter.original_offset.map(|o| o.to_string()))
    )
}

/// `time` as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub(super) fn utc(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn letter(reason: &str, waiting: bool) -> DeadLetter {
        DeadLetter {
            topic: "user.registered.dlq".to_owned(),
            partition: 1,
            offset: 7,
            original_topic: "user.registered".to_owned(),
            original_partition: Some(1),
            original_offset: Some(42),
            event_id: Some("0192f0c4-5b7e-7c8a-9d2e-3f4a5b6c7d8e".to_owned()),
            event_type: Some("user.registered.v1".to_owned()),
            key: None,
            reason: reason.to_owned(),
            attempts: Some(5),
            dead_lettered_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)),
            waiting,
        }
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap_day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(utc(leap_day), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn the_table_has_one_aligned_line_per_letter_and_the_whole_reason() {
        let long = format!("the handler failed:\n{}", "x".repeat(300));
        let table = render(&[letter(&long, true), letter("short", false)]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].starts_with("STATUS   P:OFFSET"), "{table}");
        assert!(lines[1].starts_with("waiting  1:7"), "{table}");
        assert!(lines[1].contains("user.registered/1/42"), "{table}");
        assert!(lines[1].ends_with(&format!("the handler failed: {}", "x".repeat(300))));
        assert!(lines[2].starts_with("handled  1:7"), "{table}");
        let reason_at = lines[0].find("REASON").unwrap();
        assert_eq!(lines[2].find("short"), Some(reason_at), "{table}");
    }
}
