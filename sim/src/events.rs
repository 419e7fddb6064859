//! The EventBridge events AWS sends about what the jobs did, for `GET /_sim/events`. Like job
//! progress they are derived from the store and the clock when asked (no background task):
//!
//! - DRS `DRS Source Server Launch Result` (`aws.drs`), once per source server of a
//!   `StartRecovery` job (recovery or drill; not TERMINATE jobs nor failback launches) when its
//!   launch ends: `detail` `{"state": "SUCCEEDED" | "FAILED", "job-id"}`, `resources` the
//!   source server's ARN.
//! - AWS Backup `Restore Job State Change` (`aws.backup`), when a restore job ends (COMPLETED,
//!   FAILED or ABORTED): `detail` `{"restoreJobId", "status", "recoveryPointArn",
//!   "resourceType", "createdResourceArn" (COMPLETED only)}`, `resources` the recovery point.
//!
//! An event is due when the thing happened (the server's `settles_at_ms`, the restore's
//! `ends_ms`) plus the `events.delaySeconds` fault; `time` is when it happened, to the second.
//! Its `id` is a UUID-shaped hash of what it is about (job and server, or restore job) and its
//! copy number, so it is the same on every read, and different for a `duplicate` copy. The
//! `events` faults (`seed::EventFaults`) are applied on every read, past events included.
//! After `/_sim/reset` job IDs start over, and so do event IDs.

use serde_json::{json, Value};

use crate::clock::iso;
use crate::store::{Initiated, Store};

/// One event and when it is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When `GET /_sim/events` lists it from: when it happened plus any delay.
    pub due_ms: i64,
    pub id: String,
    /// The whole EventBridge event, `id` included.
    pub body: Value,
}

/// What an event is about, before the faults.
struct Happening<'a> {
    at_ms: i64,
    /// What identifies it for the ID and the `drop` fault.
    keys: Vec<&'a str>,
    detail_type: &'static str,
    source: &'static str,
    resources: Vec<String>,
    detail: Value,
}

/// Every event the store's jobs and restores emit under the current faults, due or not yet,
/// ordered by due time, then ID.
pub fn all(store: &Store) -> Vec<Event> {
    let faults = &store.faults.events;
    let delay = faults.delay_ms();
    let mut events: Vec<Event> = happenings(store)
        .into_iter()
        .filter(|h| !faults.drops(&h.keys))
        .flat_map(|h| {
            (0..faults.copies()).map(move |copy| {
                let id = event_id(h.source, &h.keys, copy);
                let body = json!({
                    "version": "0",
                    "id": id,
                    "detail-type": h.detail_type,
                    "source": h.source,
                    "account": store.account_id,
                    "time": iso_seconds(h.at_ms),
                    "region": store.region,
                    "resources": h.resources,
                    "detail": h.detail,
                });
                Event {
                    due_ms: h.at_ms + delay,
                    id,
                    body,
                }
            })
        })
        .collect();
    events.sort_by(|a, b| (a.due_ms, &a.id).cmp(&(b.due_ms, &b.id)));
    events
}

/// The events due at `now`, in order.
pub fn due(store: &Store, now: i64) -> Vec<Event> {
    let mut events = all(store);
    events.retain(|e| e.due_ms <= now);
    events
}

fn happenings(store: &Store) -> Vec<Happening<'_>> {
    let launches = store
        .jobs
        .iter()
        .filter(|j| {
            matches!(
                j.initiated_by,
                Initiated::StartRecovery | Initiated::StartDrill
            )
        })
        .flat_map(|j| {
            j.servers.iter().map(move |s| Happening {
                // The launch status is final from then on (`Job::launch_status`).
                at_ms: s.settles_at_ms.max(j.started_ms),
                keys: vec![j.job_id.as_str(), s.source_server_id.as_str()],
                detail_type: "DRS Source Server Launch Result",
                source: "aws.drs",
                resources: vec![store.arn("drs", &format!("source-server/{}", s.source_server_id))],
                detail: json!({
                    "state": if s.failure.is_some() { "FAILED" } else { "SUCCEEDED" },
                    "job-id": j.job_id,
                }),
            })
        });
    let restores = store.restores.iter().map(|r| {
        let status = r.status(r.ends_ms);
        let mut detail = json!({
            "restoreJobId": r.restore_job_id,
            "status": status,
            "recoveryPointArn": r.recovery_point_arn,
        });
        if !r.resource_type.is_empty() {
            detail["resourceType"] = json!(r.resource_type);
        }
        if status == "COMPLETED" && !r.created_resource_arn.is_empty() {
            detail["createdResourceArn"] = json!(r.created_resource_arn);
        }
        Happening {
            at_ms: r.ends_ms,
            keys: vec![r.restore_job_id.as_str()],
            detail_type: "Restore Job State Change",
            source: "aws.backup",
            resources: vec![r.recovery_point_arn.clone()],
            detail,
        }
    });
    launches.chain(restores).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as EventBridge writes `time`.
fn iso_seconds(ms: i64) -> String {
    let full = iso(ms);
    format!("{}Z", &full[..19])
}

/// A UUID-shaped (version 4 layout) FNV-1a 128-bit hash of the source, the keys and the copy.
fn event_id(source: &str, keys: &[&str], copy: u32) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    let copy = copy.to_string();
    for part in std::iter::once(source)
        .chain(keys.iter().copied())
        .chain(std::iter::once(copy.as_str()))
    {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u128::from(b);
            h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
        }
    }
    let h = (h & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::seed::{EventDrop, EventFaults, Faults, RestoreOutcome, Seed};

    const S1: &str = "s-0a1b2c3d4e5f60001";
    const S2: &str = "s-0a1b2c3d4e5f60002";
    const RP: &str = "arn:aws:backup:eu-west-1:123456789012:recovery-point:RP1";
    const T0: i64 = 1_800_000_000_000;

    fn store() -> Store {
        let seed: Seed = serde_json::from_value(json!({
            "sourceServers": [{"sourceServerID": S1, "hostname": "a"},
                              {"sourceServerID": S2, "hostname": "b"}],
            "recoveryPoints": [{"recoveryPointArn": RP, "backupVaultName": "v",
                                "resourceType": "EFS"}],
        }))
        .unwrap();
        seed.validate().unwrap();
        Store::new(seed)
    }

    /// A drill of S1 and S2 at T0: servers settle at T0 + 25 s and T0 + 25.2 s.
    fn drill(store: &mut Store) -> String {
        let members = vec![(S1.into(), "i-1".into()), (S2.into(), "i-2".into())];
        store
            .create_job(Initiated::StartDrill, true, members, BTreeMap::new(), T0)
            .unwrap()
            .job_id
            .clone()
    }

    fn restore(store: &mut Store) -> String {
        let rp = store.recovery_points[RP].clone();
        store
            .start_restore(rp, None, None, T0)
            .restore_job_id
            .clone()
    }

    fn set(store: &mut Store, faults: serde_json::Value) {
        let f: Faults = serde_json::from_value(json!({ "events": faults })).unwrap();
        f.validate().unwrap();
        store.faults.events.merge(f.events);
    }

    #[test]
    fn launch_results_are_due_when_each_server_settles() {
        let mut s = store();
        let job = drill(&mut s);
        let settle: Vec<i64> = s.jobs[0].servers.iter().map(|m| m.settles_at_ms).collect();
        assert_eq!(settle, [T0 + 25_000, T0 + 25_200]);
        assert!(due(&s, settle[0] - 1).is_empty());
        let first = due(&s, settle[0]);
        assert_eq!(first.len(), 1);
        let e = &first[0].body;
        assert_eq!(e["detail-type"], "DRS Source Server Launch Result");
        assert_eq!(e["source"], "aws.drs");
        assert_eq!(e["version"], "0");
        assert_eq!(
            (e["account"].as_str(), e["region"].as_str()),
            (Some("123456789012"), Some("eu-west-1"))
        );
        assert_eq!(
            e["resources"],
            json!([format!(
                "arn:aws:drs:eu-west-1:123456789012:source-server/{S1}"
            )])
        );
        assert_eq!(e["detail"], json!({"state": "SUCCEEDED", "job-id": job}));
        assert_eq!(e["time"], iso_seconds(settle[0]));
        assert!(
            e["time"].as_str().unwrap().ends_with(":25Z"),
            "{}",
            e["time"]
        );
        let both = due(&s, settle[1]);
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], first[0], "the same event, the same id");
        assert_ne!(both[0].id, both[1].id);
        assert_eq!(all(&s), both);
    }

    #[test]
    fn ids_are_uuid_shaped_stable_and_distinct() {
        let id = event_id("aws.drs", &["drsjob-00000000000000001", S1], 0);
        assert_eq!(
            id,
            event_id("aws.drs", &["drsjob-00000000000000001", S1], 0)
        );
        assert_eq!(id.len(), 36);
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]), "{id}");
        let others = [
            event_id("aws.drs", &["drsjob-00000000000000001", S2], 0),
            event_id("aws.drs", &["drsjob-00000000000000002", S1], 0),
            event_id("aws.drs", &["drsjob-00000000000000001", S1], 1),
            event_id("aws.backup", &["drsjob-00000000000000001", S1], 0),
        ];
        let distinct: BTreeSet<&String> = others.iter().chain([&id]).collect();
        assert_eq!(distinct.len(), 5);
    }

    #[test]
    fn failed_launches_fail_and_terminate_and_failback_jobs_send_nothing() {
        let mut s = store();
        s.faults.fail_launch.insert(S2.into(), "capacity".into());
        drill(&mut s);
        let later = T0 + 60_000;
        let states: Vec<Value> = due(&s, later)
            .iter()
            .map(|e| e.body["detail"]["state"].clone())
            .collect();
        assert_eq!(states, ["SUCCEEDED", "FAILED"]);
        let members = vec![(S1.into(), "i-1".into())];
        s.create_job(
            Initiated::TerminateRecoveryInstances,
            false,
            members.clone(),
            BTreeMap::new(),
            later,
        )
        .unwrap();
        s.create_job(
            Initiated::Failback,
            false,
            vec![(S2.into(), "i-9".into())],
            BTreeMap::new(),
            later,
        )
        .unwrap();
        assert_eq!(due(&s, later + 600_000).len(), 2);
        s.create_job(
            Initiated::StartRecovery,
            false,
            vec![(S1.into(), "i-3".into())],
            BTreeMap::new(),
            later + 600_000,
        )
        .unwrap();
        let recovery = due(&s, later + 1_200_000);
        assert_eq!(recovery.len(), 3);
        assert_eq!(recovery[2].body["detail"]["job-id"], s.jobs[3].job_id);
    }

    #[test]
    fn restores_send_a_state_change_when_they_end() {
        let mut s = store();
        let id = restore(&mut s);
        let ends = s.restores[0].ends_ms;
        assert_eq!(ends, T0 + 18_000);
        assert!(due(&s, ends - 1).is_empty());
        let e = &due(&s, ends)[0].body;
        assert_eq!(e["detail-type"], "Restore Job State Change");
        assert_eq!(e["source"], "aws.backup");
        assert_eq!(e["resources"], json!([RP]));
        assert_eq!(
            e["detail"],
            json!({"restoreJobId": id, "status": "COMPLETED", "recoveryPointArn": RP,
                   "resourceType": "EFS", "createdResourceArn": s.restores[0].created_resource_arn})
        );
        s.faults.restore_outcomes.insert(
            RP.into(),
            RestoreOutcome {
                status: "ABORTED".into(),
                status_message: "stopped".into(),
            },
        );
        let aborted = restore(&mut s);
        let both = due(&s, ends);
        assert_eq!(both.len(), 2);
        let e = &both
            .iter()
            .find(|e| e.body["detail"]["restoreJobId"] == aborted.as_str())
            .unwrap()
            .body;
        assert_eq!(e["detail"]["status"], "ABORTED");
        assert!(e["detail"].get("createdResourceArn").is_none());
    }

    #[test]
    fn drop_by_server_job_restore_or_all() {
        let mut s = store();
        let job = drill(&mut s);
        let restore_id = restore(&mut s);
        let later = T0 + 60_000;
        assert_eq!(due(&s, later).len(), 3);
        set(&mut s, json!({"drop": [S1]}));
        let left: Vec<Value> = due(&s, later)
            .into_iter()
            .map(|e| e.body["resources"][0].clone())
            .collect();
        assert_eq!(
            left,
            [
                json!(RP),
                json!(s.arn("drs", &format!("source-server/{S2}")))
            ]
        );
        set(&mut s, json!({"drop": [restore_id]}));
        assert_eq!(
            s.faults.events.drop,
            Some(EventDrop::Ids([S1.to_string(), restore_id].into()))
        );
        assert_eq!(due(&s, later).len(), 1);
        s.faults.events = EventFaults::default();
        set(&mut s, json!({"drop": [job]}));
        assert_eq!(due(&s, later).len(), 1);
        set(&mut s, json!({"drop": "ALL"}));
        set(&mut s, json!({"drop": [S2]}));
        assert_eq!(s.faults.events.drop, Some(EventDrop::All));
        assert!(all(&s).is_empty());
    }

    #[test]
    fn delay_holds_events_back_but_keeps_their_time() {
        let mut s = store();
        drill(&mut s);
        let settle = s.jobs[0].servers[0].settles_at_ms;
        let plain = due(&s, settle).remove(0);
        set(&mut s, json!({"delaySeconds": 2.5}));
        // Real seconds: the time scale does not apply.
        s.timing.time_scale = 0.01;
        assert!(due(&s, settle + 2_499).is_empty());
        let delayed = due(&s, settle + 2_500).remove(0);
        assert_eq!(delayed.due_ms, settle + 2_500);
        assert_eq!(delayed.body, plain.body, "same id, same time");
        set(&mut s, json!({"delaySeconds": 0}));
        assert_eq!(due(&s, settle).len(), 1);
    }

    #[test]
    fn duplicate_sends_each_event_twice_with_its_own_id() {
        let mut s = store();
        drill(&mut s);
        restore(&mut s);
        let later = T0 + 60_000;
        let once = due(&s, later);
        set(&mut s, json!({"duplicate": true}));
        let twice = due(&s, later);
        assert_eq!(twice.len(), 2 * once.len());
        let ids: BTreeSet<&str> = twice.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), twice.len());
        for e in &once {
            assert!(twice.contains(e), "the first copy is the event as it was");
            let copies: Vec<&Event> = twice
                .iter()
                .filter(|t| {
                    let mut a = t.body.clone();
                    a["id"] = json!("");
                    let mut b = e.body.clone();
                    b["id"] = json!("");
                    a == b
                })
                .collect();
            assert_eq!(copies.len(), 2);
            assert_eq!(copies[0].due_ms, copies[1].due_ms);
        }
        let order: Vec<(i64, &str)> = twice.iter().map(|e| (e.due_ms, e.id.as_str())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        set(&mut s, json!({"duplicate": false}));
        assert_eq!(due(&s, later), once);
    }

    #[test]
    fn bad_event_faults_are_refused() {
        let parse = |v: Value| -> Result<(), String> {
            serde_json::from_value::<Faults>(json!({ "events": v }))
                .map_err(|e| e.to_string())?
                .validate()
        };
        assert!(parse(json!({"drop": "ALL", "delaySeconds": 0.5, "duplicate": true})).is_ok());
        assert!(parse(json!({"drop": [S1, "drsjob-00000000000000001", "5AA00001-5EB0-4A5C-9D2E-000000000001"]})).is_ok());
        for bad in [
            json!({"drop": "all"}),
            json!({"drop": "s-0a1b2c3d4e5f60001"}),
            json!({"drop": [1]}),
            json!({"drop": ["s-short"]}),
            json!({"drop": ["drsjob-1"]}),
            json!({"drop": [""]}),
            json!({"drop": ["a b"]}),
            json!({"delaySeconds": -1}),
            json!({"delaySeconds": "1"}),
            json!({"duplicate": "yes"}),
            json!({"lose": true}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
        let unknown: Seed =
            serde_json::from_value(json!({"faults": {"events": {"drop": [S1]}}})).unwrap();
        assert!(unknown.validate().unwrap_err().contains(S1));
    }

    #[test]
    fn faults_serialize_back_to_the_syntax() {
        let mut f = Faults::default();
        assert!(serde_json::to_value(&f).unwrap().get("events").is_none());
        f.events.merge(EventFaults {
            drop: Some(EventDrop::Ids([S2.to_string(), S1.to_string()].into())),
            delay_seconds: Some(1.5),
            duplicate: Some(true),
        });
        assert_eq!(
            serde_json::to_value(&f).unwrap()["events"],
            json!({"drop": [S1, S2], "delaySeconds": 1.5, "duplicate": true})
        );
        f.events.drop = Some(EventDrop::All);
        assert_eq!(serde_json::to_value(&f).unwrap()["events"]["drop"], "ALL");
    }
}
