//! The `dead-letters` command line, parsed: what to do, on which topic, with which dead letters.

use uuid::Uuid;

use super::Selection;
use super::redrive::Action;

/// What the subcommand was asked.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Request {
    Help,
    List(Option<String>),
    /// `redrive` or `discard`: the dead letters selected in the topic (or every one).
    Handle(Action, Option<String>, Selection),
}

/// The request in `args` (those after `dead-letters`), or what is wrong with them.
pub(super) fn parse(args: &[String]) -> Result<Request, String> {
    let Some((verb, rest)) = args.split_first() else {
        return Err("say what to do: list, redrive or discard".to_owned());
    };
    match verb.as_str() {
        "help" | "-h" | "--help" => Ok(Request::Help),
        "list" => match rest {
            [] => Ok(Request::List(None)),
            [topic] if !topic.starts_with('-') => Ok(Request::List(Some(topic.clone()))),
            _ => Err(format!(
                "list takes at most a TOPIC, not {:?}",
                rest.join(" ")
            )),
        },
        "redrive" => parse_selection(Action::Redrive, rest),
        "discard" => parse_selection(Action::Discard, rest),
        other => Err(format!("unknown subcommand {other:?}")),
    }
}

/// `[TOPIC] (--all | --id EVENT_ID... | --offset PARTITION:OFFSET...)`, to `action`.
fn parse_selection(action: Action, args: &[String]) -> Result<Request, String> {
    let (topic, flags) = match args.first() {
        Some(first) if !first.starts_with('-') => (Some(first.clone()), &args[1..]),
        _ => (None, args),
    };
    let (flag, values) = match flags.split_first() {
        None => {
            return Err(
                "say which: --all, --id EVENT_ID... or --offset PARTITION:OFFSET...".to_owned(),
            );
        }
        Some((flag, values)) => (flag.as_str(), values),
    };
    if let Some(extra) = values.iter().find(|v| v.starts_with("--")) {
        return Err(format!(
            "{extra} cannot follow {flag}: use one of --all, --id, --offset"
        ));
    }
    let which = match flag {
        "--all" if values.is_empty() => Selection::All,
        "--all" => return Err(format!("--all takes no values, not {:?}", values.join(" "))),
        "--id" if values.is_empty() => return Err("--id needs at least one EVENT_ID".to_owned()),
        "--id" => Selection::Ids(
            values
                .iter()
                .map(|v| {
                    v.parse::<Uuid>()
                        .map_err(|_| format!("{v:?} is not an event id (a UUID)"))
                })
                .collect::<Result<_, _>>()?,
        ),
        "--offset" if values.is_empty() => {
            return Err("--offset needs at least one PARTITION:OFFSET".to_owned());
        }
        "--offset" => Selection::Offsets(
            values
                .iter()
                .map(|v| parse_offset(v))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unknown option {other:?}")),
    };
    Ok(Request::Handle(action, topic, which))
}

fn parse_offset(value: &str) -> Result<(i32, i64), String> {
    value
        .split_once(':')
        .and_then(|(p, o)| Some((p.parse().ok()?, o.parse().ok()?)))
        .filter(|&(p, o)| p >= 0 && o >= 0)
        .ok_or_else(|| format!("{value:?} is not PARTITION:OFFSET (e.g. 1:42, as `list` shows)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &str) -> Result<Request, String> {
        parse(
            &args
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
    }

    const ID: &str = "0192f0c4-5b7e-7c8a-9d2e-3f4a5b6c7d8e";

    #[test]
    fn list_takes_an_optional_topic() {
        assert_eq!(parsed("list"), Ok(Request::List(None)));
        assert_eq!(
            parsed("list user.registered"),
            Ok(Request::List(Some("user.registered".to_owned())))
        );
        assert!(parsed("list a b").is_err());
    }

    #[test]
    fn redrive_takes_all_ids_or_offsets() {
        assert_eq!(
            parsed("redrive --all"),
            Ok(Request::Handle(Action::Redrive, None, Selection::All))
        );
        let id: Uuid = ID.parse().unwrap();
        assert_eq!(
            parsed(&format!("redrive user.registered --id {ID} {ID}")),
            Ok(Request::Handle(
                Action::Redrive,
                Some("user.registered".to_owned()),
                Selection::Ids(vec![id, id])
            ))
        );
        assert_eq!(
            parsed("discard --offset 1:42 0:3"),
            Ok(Request::Handle(
                Action::Discard,
                None,
                Selection::Offsets(vec![(1, 42), (0, 3)])
            ))
        );
    }

    #[test]
    fn unclear_requests_are_refused_with_the_reason() {
        for (args, reason) in [
            ("", "list, redrive or discard"),
            ("replay", "unknown subcommand"),
            ("redrive", "say which"),
            ("redrive user.registered", "say which"),
            ("redrive --id", "at least one EVENT_ID"),
            ("redrive --id nope", "not an event id"),
            ("redrive --all --id x", "cannot follow --all"),
            ("redrive --all extra", "takes no values"),
            ("redrive --offset 1", "not PARTITION:OFFSET"),
            ("redrive --offset -1:2", "not PARTITION:OFFSET"),
            ("redrive --everything", "unknown option"),
        ] {
            let error = parsed(args).unwrap_err();
            assert!(error.contains(reason), "{args:?}: {error}");
        }
    }
}
