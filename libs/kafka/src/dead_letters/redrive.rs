//! Re-driving and discarding: publish what was selected, then mark what Kafka acknowledged.

use futures::future::join_all;
use rdkafka::Message as _;

use super::record::redriven_headers;
use super::select::{self, Selection};
use super::{DeadLetter, DeadLetterError, DeadLetters, Handled, Scan};
use crate::producer::{EventProducer, PublishError, Record};

/// What becomes of the selected dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    /// Published again to the original topic, then marked handled.
    Redrive,
    /// Marked handled without being sent.
    Discard,
}

impl DeadLetters {
    /// Re-drives or discards what `which` selects in `topic` (or every topic).
    pub(super) async fn handle(
        &self,
        topic: Option<&str>,
        which: &Selection,
        action: Action,
    ) -> Result<Handled, DeadLetterError> {
        let topics = self.resolve(topic)?;
        if matches!(which, Selection::Offsets(_)) && topics.len() != 1 {
            return Err(DeadLetterError::AmbiguousTopic {
                known: self.topics.join(", "),
            });
        }
        let mut scans = Vec::with_capacity(topics.len());
        for topic in topics {
            scans.push(self.scan(topic).await?);
        }
        let chosen = select::choose(&scans, which)?;
        for (scan, picked) in scans.iter().zip(&chosen.picked) {
            select::check_room(scan, picked)?;
        }
        let outcomes = match action {
            Action::Redrive => self.publish(&scans, &chosen.picked).await?,
            Action::Discard => chosen
                .picked
                .iter()
                .map(|picked| picked.iter().map(|_| Ok(())).collect())
                .collect(),
        };

        let selected = chosen.picked.iter().map(Vec::len).sum();
        let mut handled = Handled {
            handled: Vec::new(),
            already: chosen.already,
        };
        let mut first_error = None;
        for ((scan, picked), outcomes) in scans.iter().zip(&chosen.picked).zip(outcomes) {
            let mut done = Vec::with_capacity(picked.len());
            for (&index, outcome) in picked.iter().zip(outcomes) {
                match outcome {
                    Ok(()) => done.push(index),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            self.mark(scan, &done).await?;
            handled.handled.extend(done.iter().map(|&index| DeadLetter {
                waiting: false,
                ..scan.letters[index].0.clone()
            }));
        }
        match first_error {
            Some(source) => Err(DeadLetterError::Publish {
                sent: handled.handled.len(),
                selected,
                source,
            }),
            None => Ok(handled),
        }
    }

    /// Publishes the picked letters of each scan to its original topic, in partition and
    /// offset order (all queued before any is awaited, so a key's events keep their order).
    async fn publish(
        &self,
        scans: &[Scan],
        picked: &[Vec<usize>],
    ) -> anyhow::Result<Vec<Vec<Result<(), PublishError>>>> {
        let producer = EventProducer::new(&self.settings)?;
        let mut outcomes = Vec::with_capacity(scans.len());
        for (scan, picked) in scans.iter().zip(picked) {
            let deliveries: Vec<_> = picked
                .iter()
                .map(|&index| {
                    let message = &scan.letters[index].1;
                    producer.publish(Record {
                        topic: &scan.original,
                        key: message.key(),
                        payload: message.payload().unwrap_or_default(),
                        headers: redriven_headers(message),
                    })
                })
                .collect();
            let delivered = join_all(deliveries).await;
            outcomes.push(delivered.into_iter().map(|d| d.map(drop)).collect());
        }
        // Destroying a librdkafka client can block; never on the runtime.
        std::thread::spawn(move || drop(producer));
        Ok(outcomes)
    }

    /// Commits the redrive group's marks for the letters at `done` in `scan`.
    async fn mark(&self, scan: &Scan, done: &[usize]) -> Result<(), DeadLetterError> {
        let marks = select::marks_after(scan, done);
        if marks.is_empty() {
            return Ok(());
        }
        let topic = scan.topic.clone();
        let committed = self
            .with_client("marking dead letters", move |client| {
                client.commit(&topic, &marks)
            })
            .await;
        committed.map_err(|e| {
            DeadLetterError::Kafka(e.context(format!(
                "{} dead letters of {} were handled but not marked: they still show as waiting, \
                 and a second re-drive sends them again (consumers deduplicate)",
                done.len(),
                scan.topic
            )))
        })
    }
}
