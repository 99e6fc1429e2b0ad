//! Which dead letters a re-drive or a discard takes, and the marks it leaves.

use uuid::Uuid;

use super::marks::{MAX_METADATA, Marks};
use super::{DeadLetter, DeadLetterError, Scan};

/// Which dead letters to re-drive or discard. Only waiting ones are ever sent; a selected
/// one that was handled before is reported, not sent again.
///
/// ```
/// use platform_kafka::dead_letters::Selection;
/// let one = Selection::Ids(vec!["0192f0c4-5b7e-7c8a-9d2e-3f4a5b6c7d8e".parse().unwrap()]);
/// let by_offset = Selection::Offsets(vec![(1, 42)]); // partition 1, offset 42 of the .dlq
/// # let _ = (one, by_offset, Selection::All);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every waiting dead letter.
    All,
    /// The dead letters of these events (every record of one, if it was dead-lettered twice).
    Ids(Vec<Uuid>),
    /// The records at these `(partition, offset)`s of one dead-letter topic.
    Offsets(Vec<(i32, i64)>),
}

/// What a selection took, per scanned topic.
pub(super) struct Chosen {
    /// Per scan, the indices (into its letters) of the waiting letters selected.
    pub(super) picked: Vec<Vec<usize>>,
    /// Selected, but handled before.
    pub(super) already: Vec<DeadLetter>,
}

/// The letters of `scans` that `which` selects, or which ids or offsets matched none of them.
pub(super) fn choose(scans: &[Scan], which: &Selection) -> Result<Chosen, DeadLetterError> {
    let selected = |letter: &DeadLetter| match which {
        Selection::All => letter.waiting,
        Selection::Ids(ids) => event_id(letter).is_some_and(|id| ids.contains(&id)),
        Selection::Offsets(offsets) => offsets.contains(&(letter.partition, letter.offset)),
    };
    let mut chosen = Chosen {
        picked: Vec::with_capacity(scans.len()),
        already: Vec::new(),
    };
    for scan in scans {
        let mut picked = Vec::new();
        for (index, (letter, _)) in scan.letters.iter().enumerate() {
            if !selected(letter) {
                continue;
            }
            if letter.waiting {
                picked.push(index);
            } else {
                chosen.already.push(letter.clone());
            }
        }
        chosen.picked.push(picked);
    }
    let letters = || scans.iter().flat_map(|s| s.letters.iter().map(|(l, _)| l));
    let missing: Vec<String> = match which {
        Selection::All => Vec::new(),
        Selection::Ids(ids) => ids
            .iter()
            .filter(|&&id| !letters().any(|l| event_id(l) == Some(id)))
            .map(|id| format!("event id {id}"))
            .collect(),
        Selection::Offsets(offsets) => offsets
            .iter()
            .filter(|&&(p, o)| !letters().any(|l| (l.partition, l.offset) == (p, o)))
            .map(|(p, o)| format!("offset {p}:{o} of {}", scans[0].topic))
            .collect(),
    };
    if missing.is_empty() {
        Ok(chosen)
    } else {
        Err(DeadLetterError::NotFound { missing })
    }
}

/// The marks of each partition of `scan` that marking the letters at `indices` changes.
pub(super) fn marks_after(scan: &Scan, indices: &[usize]) -> Vec<(i32, Marks)> {
    let mut changed: Vec<(i32, Marks)> = Vec::new();
    for &index in indices {
        let letter = &scan.letters[index].0;
        let position = match changed.iter().position(|(p, _)| *p == letter.partition) {
            Some(position) => position,
            None => {
                let Some(state) = scan
                    .partitions
                    .iter()
                    .find(|p| p.partition == letter.partition)
                else {
                    continue;
                };
                changed.push((letter.partition, state.marks.clone()));
                changed.len() - 1
            }
        };
        changed[position].1.mark(letter.offset);
    }
    changed
}

/// Refuses, before anything is sent, a selection whose marks would not fit in a commit.
pub(super) fn check_room(scan: &Scan, indices: &[usize]) -> Result<(), DeadLetterError> {
    for (partition, marks) in marks_after(scan, indices) {
        if marks.metadata().len() > MAX_METADATA {
            return Err(DeadLetterError::TooManyMarks {
                topic: scan.topic.clone(),
                partition,
                first_waiting: marks.next(),
            });
        }
    }
    Ok(())
}

fn event_id(letter: &DeadLetter) -> Option<Uuid> {
    letter.event_id.as_deref()?.parse().ok()
}
