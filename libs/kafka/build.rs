//! Writes each event's `Event` impl and the topic list from the payloads' own declarations:
//! every message of `proto/events/v1` with the option `(events.v1.event)` (options.proto)
//! is an event, with its topic, type and key field. So an event is declared once, beside its
//! fields, and adding or removing one edits nothing here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use prost_reflect::{Kind, MessageDescriptor, Value};

const OPTION: &str = "events.v1.event";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read when the script runs (a copy of the workspace sharing the target directory reuses
    // the compiled script), and watched as a directory so an added file reruns it.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let events = root.join("events/v1");
    println!("cargo:rerun-if-changed={}", events.display());
    let files = proto_files(&events)?;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let mut compiler = protox::Compiler::new([&root])?;
    compiler.open_files(&files)?;
    let pool = compiler.descriptor_pool();
    let option = pool
        .get_extension_by_name(OPTION)
        .ok_or("proto/events/v1/options.proto does not define the option events.v1.event")?;

    let mut code = String::new();
    let mut topics = Vec::new();
    for message in pool.all_messages() {
        if message.package_name() != "events.v1" || !message.options().has_extension(&option) {
            continue;
        }
        let declared = message.options().get_extension(&option).into_owned();
        let Value::Message(declared) = declared else {
            return Err(format!(
                "{}: (events.v1.event) is not a message",
                message.full_name()
            )
            .into());
        };
        let text = |field: &str| -> Result<String, String> {
            match declared.get_field_by_name(field).as_deref() {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(format!(
                    "{}: (events.v1.event) has no {field}",
                    message.full_name()
                )),
            }
        };
        let (topic, kind, key) = (text("topic")?, text("type")?, text("key")?);
        check_key(&message, &key)?;
        writeln!(
            code,
            "impl Event for ::platform_proto::events::v1::{name} {{\n    \
             const TOPIC: &'static str = {topic:?};\n    \
             const TYPE: &'static str = {kind:?};\n\n    \
             fn key(&self) -> &str {{\n        &self.{key}\n    }}\n}}\n",
            name = message.name(),
        )?;
        topics.push(topic);
    }
    topics.sort();
    if let Some(twice) = topics.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("two events declare the topic {}", twice[0]).into());
    }
    writeln!(
        code,
        "/// Every topic, sorted (each has a dead-letter topic `<topic>.dlq` besides)."
    )?;
    writeln!(code, "pub const TOPICS: &[&str] = &{topics:?};")?;
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR")?).join("events.rs"),
        code,
    )?;
    Ok(())
}

/// The key must be a singular string field of the message: the record key is text.
fn check_key(message: &MessageDescriptor, key: &str) -> Result<(), String> {
    match message.get_field_by_name(key) {
        Some(field) if field.kind() == Kind::String && !field.is_list() => Ok(()),
        _ => Err(format!(
            "{}: its key `{key}` (events.v1.event) is not a singular string field of it",
            message.full_name()
        )),
    }
}

/// The `.proto` files of `dir`, sorted so the build is the same on every machine.
fn proto_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|path| path.extension().is_some_and(|e| e == "proto"));
    files.sort();
    Ok(files)
}
