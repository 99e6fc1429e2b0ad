//! The listing commands other tools read: `devstack services` (the fault suite and the native
//! harness find the services and their ports with it) and `devstack topics` (the fault suite's
//! tansu creates them, since it does not create topics on produce).

use std::process::Command;

fn devstack(command: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_devstack"))
        .arg(command)
        .output()
        .unwrap();
    assert!(output.status.success(), "devstack {command}: {output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn topics_lists_the_platforms_topics_one_a_line() {
    assert_eq!(devstack("topics"), platform_kafka::events::TOPICS);
}

#[test]
fn services_lists_each_manifest_with_its_ports() {
    let services = devstack("services");
    assert!(
        services.iter().any(|line| line == "gateway 8080 9100"),
        "{services:?}"
    );
}
