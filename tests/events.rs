//! Every sample payload in `events/` parses into the type its folder claims, and every
//! `invalid-*` sample is rejected by the handler's own parse-and-validate step, naming the
//! field this table expects.

use std::fs;
use std::path::Path;

use dr_orchestrator::contract::{
    self, JobRef, StartFailbackInput, StartRecoveryInput, StartRestoreInput,
};
use dr_orchestrator::error::TaskError;
use dr_orchestrator::validate;
use serde_json::Value;

/// The field each invalid sample must be rejected for.
const INVALID: &[(&str, &str)] = &[
    ("start-recovery/invalid-missing-is-drill.json", "payload"),
    (
        "start-recovery/invalid-server-id.json",
        "sourceServers[1].sourceServerID",
    ),
    (
        "start-recovery/invalid-duplicate-server.json",
        "sourceServers[1].sourceServerID",
    ),
    ("start-recovery/invalid-empty-servers.json", "sourceServers"),
    (
        "start-recovery/invalid-unknown-field.json",
        "sourceServers[0].sourceServerId",
    ),
    (
        "start-failback/invalid-instance-id.json",
        "recoveryInstanceIDs[0]",
    ),
    (
        "start-failback/invalid-both-sources.json",
        "recoveryInstanceIDs",
    ),
    ("start-restore/invalid-resource-type.json", "resourceType"),
    ("start-restore/invalid-missing-metadata.json", "payload"),
    ("check-status/invalid-job-id.json", "jobID"),
    ("check-status/invalid-kind.json", "kind"),
    ("check-status/invalid-unknown-field.json", "payload"),
];

fn check(handler: &str, payload: Value) -> Result<(), TaskError> {
    match handler {
        "start-recovery" => {
            validate::start_recovery(&contract::parse::<StartRecoveryInput>(payload)?)
        }
        "start-failback" => {
            validate::start_failback(&contract::parse::<StartFailbackInput>(payload)?).map(drop)
        }
        "start-restore" => validate::start_restore(&contract::parse::<StartRestoreInput>(payload)?),
        "check-status" => validate::job_ref(&contract::parse::<JobRef>(payload)?),
        other => panic!("events/{other}: no handler of that name"),
    }
}

#[test]
fn every_handler_sample_parses_or_is_rejected_as_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut seen = 0;
    for handler in [
        "start-recovery",
        "start-failback",
        "start-restore",
        "check-status",
    ] {
        for entry in fs::read_dir(root.join(handler)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{handler}/{}", path.file_name().unwrap().to_string_lossy());
            let payload: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("events/{name} is not JSON: {e}"));
            let result = check(handler, payload);
            match INVALID.iter().find(|(n, _)| *n == name) {
                None => assert_eq!(result, Ok(()), "events/{name} should be valid"),
                Some((_, field)) => match result {
                    Err(TaskError::InvalidInput { field: f, .. }) => {
                        assert_eq!(&f, field, "events/{name}")
                    }
                    other => {
                        panic!("events/{name}: expected InvalidInput on {field}, got {other:?}")
                    }
                },
            }
            seen += 1;
        }
    }
    assert!(seen >= INVALID.len() + 8, "only {seen} samples found");
}
