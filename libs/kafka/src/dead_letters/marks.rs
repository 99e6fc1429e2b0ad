//! Which dead letters of one partition were handled (re-driven or discarded): the redrive
//! group's committed offset, plus the offsets after it handled out of order, kept in the
//! commit's metadata.
//!
//! The committed offset is the first record that may still wait; everything before it was
//! handled. Handling a record after it (one picked by id while earlier ones wait) cannot move
//! the offset, so its offset goes in a set stored as the commit's metadata string, as ranges
//! (`v1:12-14,17`). When the records before the set are handled too, the offset moves past
//! them and the set shrinks. One OffsetCommit carries both, so they never disagree.

use std::collections::BTreeSet;

/// Brokers refuse commit metadata longer than `offset.metadata.max.bytes` (4096 by default).
pub(super) const MAX_METADATA: usize = 4000;

/// What marks the metadata as ours, with its format's version.
const PREFIX: &str = "v1:";

/// The handled records of one dead-letter partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Marks {
    /// The first offset not known to be handled.
    next: i64,
    /// Handled offsets after `next`.
    done: BTreeSet<i64>,
}

impl Marks {
    /// From the redrive group's commit: `committed` (none if the group never committed this
    /// partition) and its `metadata`; `low` is where the partition starts now (retention
    /// deletes old records). Metadata we cannot read counts as empty: those records show as
    /// waiting again, and re-driving an event twice is harmless (consumers deduplicate).
    pub(super) fn from_commit(committed: Option<i64>, metadata: &str, low: i64) -> Self {
        let next = committed.unwrap_or(low).max(low);
        let done = parse(metadata)
            .unwrap_or_else(|| {
                tracing::warn!(metadata, "unreadable dead-letter marks; ignoring them");
                BTreeSet::new()
            })
            .into_iter()
            .filter(|&offset| offset >= next)
            .collect();
        let mut marks = Self { next, done };
        marks.compact();
        marks
    }

    /// The offset to commit.
    pub(super) fn next(&self) -> i64 {
        self.next
    }

    pub(super) fn is_waiting(&self, offset: i64) -> bool {
        offset >= self.next && !self.done.contains(&offset)
    }

    /// How many records before `high` (the partition's end) wait.
    pub(super) fn waiting(&self, high: i64) -> u64 {
        let span = (high - self.next).max(0) as u64;
        span - self.done.range(self.next..high).count() as u64
    }

    /// Marks `offset` handled.
    pub(super) fn mark(&mut self, offset: i64) {
        if offset >= self.next {
            self.done.insert(offset);
            self.compact();
        }
    }

    /// The commit metadata: the out-of-order set as ranges.
    pub(super) fn metadata(&self) -> String {
        if self.done.is_empty() {
            return String::new();
        }
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for &offset in &self.done {
            match ranges.last_mut() {
                Some((_, end)) if *end + 1 == offset => *end = offset,
                _ => ranges.push((offset, offset)),
            }
        }
        let ranges: Vec<String> = ranges
            .into_iter()
            .map(|(start, end)| {
                if start == end {
                    start.to_string()
                } else {
                    format!("{start}-{end}")
                }
            })
            .collect();
        format!("{PREFIX}{}", ranges.join(","))
    }

    /// Moves `next` past the handled records right after it.
    fn compact(&mut self) {
        while self.done.remove(&self.next) {
            self.next += 1;
        }
    }
}

/// The set in `metadata`, or `None` if it is not ours.
fn parse(metadata: &str) -> Option<BTreeSet<i64>> {
    if metadata.is_empty() {
        return Some(BTreeSet::new());
    }
    let ranges = metadata.strip_prefix(PREFIX)?;
    let mut done = BTreeSet::new();
    for range in ranges.split(',').filter(|r| !r.is_empty()) {
        let (start, end): (i64, i64) = match range.split_once('-') {
            Some((start, end)) => (start.parse().ok()?, end.parse().ok()?),
            None => {
                let offset = range.parse().ok()?;
                (offset, offset)
            }
        };
        if start > end || end - start > 1_000_000 {
            return None;
        }
        done.extend(start..=end);
    }
    Some(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_commit_everything_from_the_start_waits() {
        let marks = Marks::from_commit(None, "", 3);
        assert_eq!(marks.next(), 3);
        assert_eq!(marks.waiting(10), 7);
        assert!(!marks.is_waiting(2));
        assert!(marks.is_waiting(3));
    }

    #[test]
    fn handling_out_of_order_keeps_the_offset_and_counts_the_rest() {
        let mut marks = Marks::from_commit(Some(0), "", 0);
        marks.mark(2);
        marks.mark(4);
        marks.mark(5);
        assert_eq!(marks.next(), 0);
        assert_eq!(marks.metadata(), "v1:2,4-5");
        assert_eq!(marks.waiting(6), 3);
        assert!(!marks.is_waiting(4));
        assert!(marks.is_waiting(3));
    }

    #[test]
    fn handling_the_gap_moves_the_offset_past_the_set() {
        let mut marks = Marks::from_commit(Some(0), "v1:1-2,4", 0);
        marks.mark(0);
        assert_eq!((marks.next(), marks.metadata().as_str()), (3, "v1:4"));
        marks.mark(3);
        assert_eq!((marks.next(), marks.metadata().as_str()), (5, ""));
        assert_eq!(marks.waiting(5), 0);
    }

    #[test]
    fn metadata_round_trips_and_marks_before_the_offset_are_dropped() {
        let marks = Marks::from_commit(Some(7), "v1:3,8-9,12", 0);
        assert_eq!(marks.metadata(), "v1:8-9,12");
        assert_eq!(Marks::from_commit(Some(7), &marks.metadata(), 0), marks);
    }

    #[test]
    fn retention_past_the_commit_moves_the_start() {
        let marks = Marks::from_commit(Some(2), "v1:4", 10);
        assert_eq!((marks.next(), marks.waiting(12)), (10, 2));
    }

    #[test]
    fn metadata_that_is_not_ours_counts_as_no_marks() {
        let marks = Marks::from_commit(Some(1), "something else", 0);
        assert_eq!(marks.waiting(4), 3);
        assert_eq!(Marks::from_commit(Some(1), "v1:9-3", 0).waiting(4), 3);
    }
}
