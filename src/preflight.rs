//! The preflight, with no I/O: given what DRS reports about the account's source servers,
//! which servers a plan's waves really hold (tag selectors resolved), and what stands in the way
//! of recovering them (unknown servers, replication that is not continuous, lag past the
//! plan's limit, a pinned snapshot that does not exist). Each finding is `BLOCKING` or
//! `WARNING`; a real recovery with a blocking finding never starts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::cleanup::InstanceFacts;
use crate::contract::RestoreSpec;
use crate::contract::{SourceServerSpec, Tags};
use crate::plan::input::Wave;
use crate::plan::options::PreflightMode;
use crate::restore_metadata;

/// At most this many findings are carried in a prepared plan (the rest are counted).
pub const MAX_LISTED_FINDINGS: usize = 50;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Blocking,
    Warning,
}

/// One thing preflight found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// Stable, e.g. `NOT_REPLICATING`, `LAG_TOO_HIGH`, `UNKNOWN_SERVER`.
    pub code: String,
    /// Where in the plan: `waves[1].select`, `waves[0].sourceServers[2]`.
    pub path: String,
    #[serde(
        rename = "sourceServerID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_server_id: Option<String>,
    pub message: String,
}

/// The verdict of a preflight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Nothing found.
    Passed,
    /// Only warnings.
    Warnings,
    /// Blocking findings, and the drill was told to continue anyway.
    BlockedContinued,
    /// Blocking findings: the run stops before anything starts.
    Blocked,
}

/// The preflight's result, as the run's output carries it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    pub verdict: Verdict,
    pub mode: PreflightMode,
    pub blocking: usize,
    pub warnings: usize,
    /// Source servers DRS reported on.
    pub servers_checked: usize,
    /// Blocking findings first, at most [`MAX_LISTED_FINDINGS`].
    pub findings: Vec<Finding>,
    pub findings_omitted: usize,
}

impl PreflightReport {
    /// Judges `findings` under `mode`.
    pub fn new(mut findings: Vec<Finding>, mode: PreflightMode, servers_checked: usize) -> Self {
        findings.sort_by_key(|f| f.severity);
        let blocking = findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .count();
        let warnings = findings.len() - blocking;
        let verdict = match (blocking, warnings, mode) {
            (0, 0, _) => Verdict::Passed,
            (0, _, _) => Verdict::Warnings,
            (_, _, PreflightMode::Continue) => Verdict::BlockedContinued,
            (_, _, PreflightMode::Fail) => Verdict::Blocked,
        };
        let findings_omitted = findings.len().saturating_sub(MAX_LISTED_FINDINGS);
        findings.truncate(MAX_LISTED_FINDINGS);
        PreflightReport {
            verdict,
            mode,
            blocking,
            warnings,
            servers_checked,
            findings,
            findings_omitted,
        }
    }

    /// True when the run must stop before anything starts.
    pub fn blocks(&self) -> bool {
        self.verdict == Verdict::Blocked
    }

    /// Every blocking finding in one line (bounded), for the error that stops the run.
    pub fn describe(&self) -> String {
        const LISTED: usize = 20;
        let blocking: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .take(LISTED)
            .map(|f| match &f.source_server_id {
                Some(id) => format!("{} at {} ({id}): {}", f.code, f.path, f.message),
                None => format!("{} at {}: {}", f.code, f.path, f.message),
            })
            .collect();
        let more = self.blocking.saturating_sub(blocking.len());
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        format!(
            "{} blocking finding(s), nothing was started: {}{tail}",
            self.blocking,
            blocking.join("; ")
        )
    }
}

/// One source server as DRS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub tags: Tags,
    /// `dataReplicationInfo.dataReplicationState`, as sent.
    pub replication_state: Option<String>,
    /// `dataReplicationInfo.lagDuration`, an ISO-8601 duration, as sent.
    pub lag: Option<String>,
}

/// What preflight knows about the account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Every source server of the account, by ID (`DescribeSourceServers`).
    pub servers: BTreeMap<String, ServerInfo>,
    /// The recovery snapshot IDs of each server a plan pins a snapshot for
    /// (`DescribeRecoverySnapshots`).
    pub snapshots: BTreeMap<String, BTreeSet<String>>,
    /// What AWS Backup says about each restore's recovery point, by vault and recovery point
    /// ARN (`GetRecoveryPointRestoreMetadata`): `None` when the vault does not hold it.
    pub recovery_points: BTreeMap<(String, String), Option<RecoveryPoint>>,
}

/// A recovery point as AWS Backup describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryPoint {
    /// The resource type AWS Backup restores it as (`EBS`, `EFS`, `RDS`, ...).
    pub resource_type: Option<String>,
}

impl Inventory {
    /// How many source servers DRS reported.
    pub fn servers_checked(&self) -> usize {
        self.servers.len()
    }
}

/// The servers of each wave: the listed ones, then those its selector matches that no other
/// place in the plan holds. Unknown servers, selectors that match nothing and servers that
/// two places claim are findings.
pub fn resolve(
    waves: &[Wave],
    inventory: &Inventory,
) -> (Vec<Vec<SourceServerSpec>>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut placed: BTreeMap<&str, usize> = BTreeMap::new();
    for (w, wave) in waves.iter().enumerate() {
        for s in &wave.source_servers {
            placed.entry(s.source_server_id.as_str()).or_insert(w);
        }
    }
    let mut out = Vec::with_capacity(waves.len());
    for (w, wave) in waves.iter().enumerate() {
        let mut servers = wave.source_servers.clone();
        for (i, s) in wave.source_servers.iter().enumerate() {
            if !inventory.servers.contains_key(&s.source_server_id) {
                findings.push(blocking(
                    "UNKNOWN_SERVER",
                    format!("waves[{w}].sourceServers[{i}]"),
                    Some(&s.source_server_id),
                    "DRS has no source server with this ID in this account and Region".into(),
                ));
            }
        }
        if let Some(select) = &wave.select {
            let path = format!("waves[{w}].select");
            let matches: Vec<&String> = inventory
                .servers
                .iter()
                .filter(|(_, info)| select.tags.iter().all(|(k, v)| info.tags.get(k) == Some(v)))
                .map(|(id, _)| id)
                .collect();
            if matches.is_empty() {
                findings.push(blocking(
                    "SELECTOR_MATCHES_NOTHING",
                    path.clone(),
                    None,
                    format!("no source server carries all of the tags {:?}", select.tags),
                ));
            }
            for id in matches {
                match placed.get(id.as_str()) {
                    Some(&other) if other == w => {}
                    Some(&other) => findings.push(blocking(
                        "SERVER_IN_TWO_WAVES",
                        path.clone(),
                        Some(id),
                        format!("the selector matches a server that wave {other} already holds; DRS runs one job per server at a time"),
                    )),
                    None => {
                        placed.insert(id, w);
                        servers.push(SourceServerSpec {
                            source_server_id: id.clone(),
                            recovery_snapshot_id: None,
                        });
                    }
                }
            }
        }
        out.push(servers);
    }
    (out, findings)
}

/// Whether each server can be recovered now: replication continuous, lag within
/// `max_lag_seconds`, the pinned snapshot one of the server's own.
pub fn replication(
    waves: &[Wave],
    servers: &[Vec<SourceServerSpec>],
    inventory: &Inventory,
    max_lag_seconds: u64,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (w, wave_servers) in servers.iter().enumerate() {
        let explicit = waves.get(w).map_or(0, |wave| wave.source_servers.len());
        for (i, s) in wave_servers.iter().enumerate() {
            let id = s.source_server_id.as_str();
            let path = if i < explicit {
                format!("waves[{w}].sourceServers[{i}]")
            } else {
                format!("waves[{w}].select")
            };
            let Some(info) = inventory.servers.get(id) else {
                continue;
            };
            let state = info.replication_state.as_deref().unwrap_or("unknown");
            match replication_severity(state) {
                None => {}
                Some(severity) => findings.push(Finding {
                    severity,
                    code: "NOT_REPLICATING".into(),
                    path: path.clone(),
                    source_server_id: Some(id.into()),
                    message: format!("data replication is {state}, not CONTINUOUS"),
                }),
            }
            match info.lag.as_deref().map(|l| (l, duration_seconds(l))) {
                Some((_, Some(lag))) if lag > max_lag_seconds => findings.push(blocking(
                    "LAG_TOO_HIGH",
                    path.clone(),
                    Some(id),
                    format!("replication lag is {lag} s, over the plan's maxReplicationLagSeconds of {max_lag_seconds}"),
                )),
                Some((raw, None)) => findings.push(Finding {
                    severity: Severity::Warning,
                    code: "LAG_UNKNOWN".into(),
                    path: path.clone(),
                    source_server_id: Some(id.into()),
                    message: format!("DRS reported a lag this version cannot read: {raw:?}"),
                }),
                _ => {}
            }
            if let Some(snapshot) = &s.recovery_snapshot_id {
                let known = inventory
                    .snapshots
                    .get(id)
                    .is_some_and(|all| all.contains(snapshot));
                if !known {
                    findings.push(blocking(
                        "SNAPSHOT_NOT_FOUND",
                        format!("{path}.recoverySnapshotID"),
                        Some(id),
                        format!("{snapshot} is not one of this server's recovery snapshots"),
                    ));
                }
            }
        }
    }
    findings
}

/// A restore against what AWS Backup says about its recovery point (`inventory`): it must be in
/// the vault the plan names, be of the type the plan names (if it names one), and ask only for
/// the restore metadata the deployment allows for that type ([`restore_metadata`]): a key
/// outside the list (a public endpoint, another network, another role) blocks the run.
pub fn restore(path: &str, restore: &RestoreSpec, inventory: &Inventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    if restore.metadata.is_empty() {
        findings.push(blocking(
            "RESTORE_METADATA_EMPTY",
            format!("{path}.metadata"),
            None,
            "AWS Backup needs the restore metadata of the resource type (GetRecoveryPointRestoreMetadata lists it)".into(),
        ));
    }
    let vault = restore.backup_vault_name.clone().unwrap_or_default();
    let seen = inventory
        .recovery_points
        .get(&(vault.clone(), restore.recovery_point_arn.clone()));
    let point = match seen {
        Some(Some(point)) => point,
        _ => {
            findings.push(blocking(
                "RECOVERY_POINT_NOT_FOUND",
                format!("{path}.recoveryPointArn"),
                None,
                format!(
                    "AWS Backup has no recovery point {} in vault {vault}",
                    restore.recovery_point_arn
                ),
            ));
            return findings;
        }
    };
    let resource_type = match (&restore.resource_type, &point.resource_type) {
        (Some(named), Some(aws)) if named != aws => {
            findings.push(blocking(
                "RESOURCE_TYPE_MISMATCH",
                format!("{path}.resourceType"),
                None,
                format!("the plan names {named}, AWS Backup says the recovery point is {aws}"),
            ));
            return findings;
        }
        (_, Some(aws)) => aws.clone(),
        (Some(named), None) => named.clone(),
        (None, None) => {
            findings.push(blocking(
                "RESOURCE_TYPE_UNKNOWN",
                format!("{path}.resourceType"),
                None,
                "AWS Backup does not say what the recovery point restores as, and the plan does not name it".into(),
            ));
            return findings;
        }
    };
    if restore.resource_type.is_none() {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "RESOURCE_TYPE_MISSING".into(),
            path: format!("{path}.resourceType"),
            source_server_id: None,
            message: format!("AWS Backup says the recovery point is {resource_type}; name it to make the plan explicit"),
        });
    }
    match restore_metadata::refused(&resource_type, &restore.metadata) {
        None => findings.push(blocking(
            "RESOURCE_TYPE_NOT_SUPPORTED",
            format!("{path}.resourceType"),
            None,
            format!(
                "dr-orchestrator does not restore {resource_type} recovery points (it restores {})",
                restore_metadata::SUPPORTED.join(", ")
            ),
        )),
        Some(refused) => findings.extend(refused.into_iter().map(|(key, why)| {
            blocking(
                "RESTORE_METADATA_NOT_ALLOWED",
                format!("{path}.metadata.{key}"),
                None,
                why,
            )
        })),
    }
    findings
}

/// `None` when a server in this replication state can be recovered as planned, else how bad
/// it is. States that catch up on their own are warnings; an unknown state blocks.
pub fn replication_severity(state: &str) -> Option<Severity> {
    match state {
        "CONTINUOUS" => None,
        "BACKLOG" | "CREATING_SNAPSHOT" | "RESCAN" => Some(Severity::Warning),
        _ => Some(Severity::Blocking),
    }
}

/// Seconds in an ISO-8601 duration such as `PT15M`, `P1DT2H`, `PT0.5S` (fractions round up).
pub fn duration_seconds(raw: &str) -> Option<u64> {
    let rest = raw.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0f64;
    let mut any = false;
    let mut parse = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let scale = units.iter().find(|(u, _)| *u == c)?.1;
            let n: f64 = number.parse().ok()?;
            total += n * scale;
            any = true;
            number.clear();
        }
        number.is_empty().then_some(())
    };
    parse(date, &[('W', 604_800.0), ('D', 86_400.0)])?;
    if let Some(t) = time {
        if t.is_empty() {
            return None;
        }
        parse(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    any.then(|| total.ceil() as u64)
}

/// The failback state in which DRS can launch a failback.
pub const READY_FOR_FAILBACK: &str = "FAILBACK_READY_FOR_LAUNCH";

/// Which of the recovery instances `ids` can fail back, from what DRS lists (`described`):
/// each one that cannot is a warning naming it and is left out, so that one instance does not
/// fail its batch; none left is blocking. `recovery_jobs`, when the failback follows a
/// recovery run, are that run's jobs: an instance another job launched is not this run's.
pub fn failback(
    ids: &[String],
    described: &[InstanceFacts],
    recovery_jobs: &[String],
) -> (Vec<String>, Vec<Finding>) {
    let mut ready = Vec::new();
    let mut findings = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let path = format!("recoveryInstanceIDs[{i}]");
        let found = described.iter().find(|c| &c.recovery_instance_id == id);
        let problem = match found {
            None => Some((
                "RECOVERY_INSTANCE_NOT_FOUND",
                format!("DRS does not list recovery instance {id} (terminated, or disconnected from DRS)"),
            )),
            Some(c) if c.is_drill == Some(true) => Some((
                "DRILL_INSTANCE",
                format!("{id} was launched by a drill; only a recovery's instances fail back"),
            )),
            Some(c)
                if !recovery_jobs.is_empty()
                    && !c.job_id.as_ref().is_some_and(|j| recovery_jobs.contains(j)) =>
            {
                Some((
                    "NOT_FROM_THE_RECOVERY",
                    format!(
                        "{id} was launched by {}, not by the recovery run this failback follows",
                        c.job_id.as_deref().unwrap_or("a job DRS does not name")
                    ),
                ))
            }
            Some(c) if c.failback_state.as_deref() != Some(READY_FOR_FAILBACK) => Some((
                "NOT_READY_FOR_FAILBACK",
                format!(
                    "{id}'s failback state is {}, not {READY_FOR_FAILBACK} (install the failback client on the source and let it replicate)",
                    c.failback_state.as_deref().unwrap_or("not reported")
                ),
            )),
            Some(_) => None,
        };
        match problem {
            None => ready.push(id.clone()),
            Some((code, message)) => findings.push(Finding {
                severity: Severity::Warning,
                code: code.into(),
                path,
                source_server_id: found.and_then(|c| c.source_server_id.clone()),
                message: format!("{message}; left out of the failback"),
            }),
        }
    }
    if ready.is_empty() && !ids.is_empty() {
        findings.push(blocking(
            "NOTHING_TO_FAIL_BACK",
            "recoveryInstanceIDs".into(),
            None,
            format!("none of the {} recovery instances can fail back", ids.len()),
        ));
    }
    (ready, findings)
}

fn blocking(code: &str, path: String, server: Option<&str>, message: String) -> Finding {
    Finding {
        severity: Severity::Blocking,
        code: code.into(),
        path,
        source_server_id: server.map(str::to_owned),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iso_8601_durations() {
        for (raw, want) in [
            ("PT0S", Some(0)),
            ("PT15M", Some(900)),
            ("PT1H2M3S", Some(3723)),
            ("P1DT1S", Some(86_401)),
            ("PT0.2S", Some(1)),
            ("P1W", Some(604_800)),
            ("15M", None),
            ("PT", None),
            ("P", None),
            ("PT5X", None),
        ] {
            assert_eq!(duration_seconds(raw), want, "{raw}");
        }
    }

    #[test]
    fn classifies_every_replication_state_of_the_model() {
        use Severity::*;
        for (state, want) in [
            ("CONTINUOUS", None),
            ("BACKLOG", Some(Warning)),
            ("CREATING_SNAPSHOT", Some(Warning)),
            ("RESCAN", Some(Warning)),
            ("STOPPED", Some(Blocking)),
            ("INITIATING", Some(Blocking)),
            ("INITIAL_SYNC", Some(Blocking)),
            ("PAUSED", Some(Blocking)),
            ("STALLED", Some(Blocking)),
            ("DISCONNECTED", Some(Blocking)),
            ("SOMETHING_NEW", Some(Blocking)),
        ] {
            assert_eq!(replication_severity(state), want, "{state}");
        }
    }

    /// ID, tags, replication state, lag.
    type Seeded<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

    fn inventory(servers: &[Seeded<'_>]) -> Inventory {
        Inventory {
            servers: servers
                .iter()
                .map(|(id, tags, state, lag)| {
                    (
                        (*id).to_owned(),
                        ServerInfo {
                            tags: tags
                                .iter()
                                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                                .collect(),
                            replication_state: Some((*state).into()),
                            lag: Some((*lag).into()),
                        },
                    )
                })
                .collect(),
            snapshots: BTreeMap::new(),
            recovery_points: BTreeMap::new(),
        }
    }

    #[test]
    fn a_restore_is_judged_by_what_aws_backup_says_of_its_recovery_point() {
        const RP: &str = "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-1";
        let spec = |resource_type: Option<&str>, metadata: &[(&str, &str)]| RestoreSpec {
            recovery_point_arn: RP.into(),
            backup_vault_name: Some("vault-a".into()),
            metadata: metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            iam_role_arn: None,
            resource_type: resource_type.map(str::to_owned),
            copy_source_tags_to_restored_resource: None,
        };
        let mut seen = inventory(&[]);
        let codes = |findings: Vec<Finding>| -> Vec<(String, String)> {
            findings.into_iter().map(|f| (f.code, f.path)).collect()
        };
        let ok = [("DBInstanceIdentifier", "payments-drill")];
        // Not in the vault the plan names (or no such recovery point): blocked.
        assert_eq!(
            codes(restore("restores[0]", &spec(Some("RDS"), &ok), &seen)),
            [(
                "RECOVERY_POINT_NOT_FOUND".into(),
                "restores[0].recoveryPointArn".into()
            )]
        );
        seen.recovery_points.insert(
            ("vault-a".into(), RP.into()),
            Some(RecoveryPoint {
                resource_type: Some("RDS".into()),
            }),
        );
        assert_eq!(
            codes(restore("restores[0]", &spec(Some("RDS"), &ok), &seen)),
            []
        );
        // AWS Backup's type is the one judged: the plan that leaves it out is warned.
        assert_eq!(
            codes(restore("restores[0]", &spec(None, &ok), &seen)),
            [(
                "RESOURCE_TYPE_MISSING".into(),
                "restores[0].resourceType".into()
            )]
        );
        assert_eq!(
            codes(restore("restores[0]", &spec(Some("EBS"), &ok), &seen)),
            [(
                "RESOURCE_TYPE_MISMATCH".into(),
                "restores[0].resourceType".into()
            )]
        );
        let public = [
            ("DBInstanceIdentifier", "x"),
            ("PubliclyAccessible", "true"),
        ];
        let findings = restore("restores[0]", &spec(Some("RDS"), &public), &seen);
        assert_eq!(
            codes(findings.clone()),
            [(
                "RESTORE_METADATA_NOT_ALLOWED".into(),
                "restores[0].metadata.PubliclyAccessible".into()
            )]
        );
        assert_eq!(findings[0].severity, Severity::Blocking);
        seen.recovery_points.insert(
            ("vault-a".into(), RP.into()),
            Some(RecoveryPoint {
                resource_type: Some("FSx".into()),
            }),
        );
        assert_eq!(
            codes(restore("restores[0]", &spec(None, &ok), &seen))
                .last()
                .unwrap()
                .0,
            "RESOURCE_TYPE_NOT_SUPPORTED"
        );
        seen.recovery_points.insert(
            ("vault-a".into(), RP.into()),
            Some(RecoveryPoint::default()),
        );
        assert_eq!(
            codes(restore("restores[0]", &spec(None, &ok), &seen)),
            [(
                "RESOURCE_TYPE_UNKNOWN".into(),
                "restores[0].resourceType".into()
            )]
        );
        assert!(codes(restore("restores[0]", &spec(None, &[]), &seen))
            .iter()
            .any(|(code, _)| code == "RESTORE_METADATA_EMPTY"));
    }

    fn wave(servers: &[&str], select: Option<&[(&str, &str)]>) -> Wave {
        Wave {
            name: Some("w".into()),
            source_servers: servers
                .iter()
                .map(|id| SourceServerSpec {
                    source_server_id: (*id).into(),
                    recovery_snapshot_id: None,
                })
                .collect(),
            pause_before: None,
            rto_target_minutes: None,
            rpo_target_minutes: None,
            select: select.map(|tags| crate::plan::Selector {
                tags: tags
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            }),
            restores: vec![],
        }
    }

    const A: &str = "s-aaaaaaaaaaaaaaaaa";
    const B: &str = "s-bbbbbbbbbbbbbbbbb";
    const C: &str = "s-ccccccccccccccccc";
    const D: &str = "s-ddddddddddddddddd";

    #[test]
    fn selectors_pick_servers_carrying_every_tag_and_report_conflicts() {
        let inv = inventory(&[
            (A, &[("dr-wave", "1"), ("app", "pay")], "CONTINUOUS", "PT0S"),
            (B, &[("dr-wave", "1")], "CONTINUOUS", "PT0S"),
            (C, &[("dr-wave", "2"), ("app", "pay")], "CONTINUOUS", "PT0S"),
        ]);
        let waves = [
            wave(&[], Some(&[("dr-wave", "1"), ("app", "pay")])),
            wave(&[], Some(&[("app", "pay")])),
            wave(&[], Some(&[("dr-wave", "9")])),
        ];
        let (servers, findings) = resolve(&waves, &inv);
        let ids = |w: usize| -> Vec<&str> {
            servers[w]
                .iter()
                .map(|s| s.source_server_id.as_str())
                .collect()
        };
        assert_eq!(ids(0), [A]);
        assert_eq!(ids(1), [C], "A is already in wave 0");
        assert!(ids(2).is_empty());
        let codes: Vec<(&str, &str)> = findings
            .iter()
            .map(|f| (f.code.as_str(), f.path.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("SERVER_IN_TWO_WAVES", "waves[1].select"),
                ("SELECTOR_MATCHES_NOTHING", "waves[2].select")
            ]
        );
        assert_eq!(findings[0].source_server_id.as_deref(), Some(A));
    }

    #[test]
    fn a_selector_may_match_a_server_its_own_wave_lists() {
        let inv = inventory(&[(A, &[("t", "1")], "CONTINUOUS", "PT0S")]);
        let (servers, findings) = resolve(&[wave(&[A], Some(&[("t", "1")]))], &inv);
        assert_eq!(servers[0].len(), 1);
        assert!(findings.is_empty());
    }

    #[test]
    fn unknown_stalled_and_lagging_servers_are_findings() {
        let inv = inventory(&[
            (A, &[], "STALLED", "PT0S"),
            (B, &[], "CONTINUOUS", "PT1H"),
            (C, &[], "BACKLOG", "PT1M"),
            (D, &[], "CONTINUOUS", "about a minute"),
        ]);
        let waves = [wave(&[A, B, C, "s-zzzzzzzzzzzzzzzzz", D], None)];
        let (servers, mut findings) = resolve(&waves, &inv);
        findings.extend(replication(&waves, &servers, &inv, 900));
        let got: Vec<(Severity, &str, &str)> = findings
            .iter()
            .map(|f| (f.severity, f.code.as_str(), f.path.as_str()))
            .collect();
        use Severity::*;
        assert_eq!(
            got,
            [
                (Blocking, "UNKNOWN_SERVER", "waves[0].sourceServers[3]"),
                (Blocking, "NOT_REPLICATING", "waves[0].sourceServers[0]"),
                (Blocking, "LAG_TOO_HIGH", "waves[0].sourceServers[1]"),
                (Warning, "NOT_REPLICATING", "waves[0].sourceServers[2]"),
                (Warning, "LAG_UNKNOWN", "waves[0].sourceServers[4]"),
            ]
        );
        assert!(
            findings[4].message.contains("\"about a minute\""),
            "{}",
            findings[4].message
        );
        assert!(
            findings[1].message.contains("STALLED"),
            "{}",
            findings[1].message
        );
        assert!(
            findings[2].message.contains("3600 s"),
            "{}",
            findings[2].message
        );
    }

    #[test]
    fn a_pinned_snapshot_must_be_one_of_the_servers_own() {
        let mut inv = inventory(&[(A, &[], "CONTINUOUS", "PT0S")]);
        inv.snapshots
            .insert(A.into(), ["pit-11111111111111111".to_owned()].into());
        let mut w = wave(&[A], None);
        for (snapshot, ok) in [
            ("pit-11111111111111111", true),
            ("pit-22222222222222222", false),
        ] {
            w.source_servers[0].recovery_snapshot_id = Some(snapshot.into());
            let waves = [w.clone()];
            let (servers, _) = resolve(&waves, &inv);
            let findings = replication(&waves, &servers, &inv, 900);
            assert_eq!(findings.is_empty(), ok, "{snapshot}");
            if !ok {
                assert_eq!(findings[0].code, "SNAPSHOT_NOT_FOUND");
                assert_eq!(
                    findings[0].path,
                    "waves[0].sourceServers[0].recoverySnapshotID"
                );
            }
        }
    }

    #[test]
    fn the_verdict_follows_the_mode_and_the_listing_is_bounded() {
        let f = |severity| Finding {
            severity,
            code: "X".into(),
            path: "p".into(),
            source_server_id: None,
            message: "m".into(),
        };
        assert_eq!(
            PreflightReport::new(vec![], PreflightMode::Fail, 0).verdict,
            Verdict::Passed
        );
        let warn = PreflightReport::new(vec![f(Severity::Warning)], PreflightMode::Fail, 1);
        assert_eq!(warn.verdict, Verdict::Warnings);
        assert!(!warn.blocks());
        let many: Vec<Finding> = (0..70)
            .map(|i| {
                f(if i % 2 == 0 {
                    Severity::Warning
                } else {
                    Severity::Blocking
                })
            })
            .collect();
        let blocked = PreflightReport::new(many.clone(), PreflightMode::Fail, 70);
        assert!(blocked.blocks());
        assert_eq!((blocked.blocking, blocked.warnings), (35, 35));
        assert_eq!(blocked.findings.len(), MAX_LISTED_FINDINGS);
        assert_eq!(blocked.findings_omitted, 20);
        assert!(blocked.findings[..35]
            .iter()
            .all(|f| f.severity == Severity::Blocking));
        assert!(
            blocked.describe().contains("and 15 more"),
            "{}",
            blocked.describe()
        );
        let continued = PreflightReport::new(many, PreflightMode::Continue, 70);
        assert_eq!(continued.verdict, Verdict::BlockedContinued);
        assert!(!continued.blocks());
    }

    #[test]
    fn a_failback_leaves_out_each_instance_that_cannot_fail_back_naming_it() {
        let candidate = |id: &str, job: &str, drill: bool, state: &str| InstanceFacts {
            recovery_instance_id: id.into(),
            source_server_id: Some(format!("s-{id}")),
            job_id: Some(job.into()),
            is_drill: Some(drill),
            failback_state: Some(state.into()),
        };
        let described = [
            candidate(
                "i-0000000000000001",
                "drsjob-1",
                false,
                "FAILBACK_READY_FOR_LAUNCH",
            ),
            candidate(
                "i-0000000000000002",
                "drsjob-1",
                true,
                "FAILBACK_READY_FOR_LAUNCH",
            ),
            candidate(
                "i-0000000000000003",
                "drsjob-9",
                false,
                "FAILBACK_READY_FOR_LAUNCH",
            ),
            candidate(
                "i-0000000000000004",
                "drsjob-1",
                false,
                "FAILBACK_NOT_STARTED",
            ),
        ];
        let ids: Vec<String> = (1..=5).map(|n| format!("i-000000000000000{n}")).collect();
        let (ready, findings) = failback(&ids, &described, &["drsjob-1".to_owned()]);
        assert_eq!(ready, ["i-0000000000000001"]);
        let codes: Vec<(&str, &str, Severity)> = findings
            .iter()
            .map(|f| (f.code.as_str(), f.path.as_str(), f.severity))
            .collect();
        assert_eq!(
            codes,
            [
                (
                    "DRILL_INSTANCE",
                    "recoveryInstanceIDs[1]",
                    Severity::Warning
                ),
                (
                    "NOT_FROM_THE_RECOVERY",
                    "recoveryInstanceIDs[2]",
                    Severity::Warning
                ),
                (
                    "NOT_READY_FOR_FAILBACK",
                    "recoveryInstanceIDs[3]",
                    Severity::Warning
                ),
                (
                    "RECOVERY_INSTANCE_NOT_FOUND",
                    "recoveryInstanceIDs[4]",
                    Severity::Warning
                ),
            ]
        );
        assert!(
            findings[3].message.contains("i-0000000000000005")
                && findings[3].message.ends_with("left out of the failback")
        );
        assert_eq!(
            findings[0].source_server_id.as_deref(),
            Some("s-i-0000000000000002")
        );
        // Explicit instances (no recovery run named): any job will do.
        let (ready, _) = failback(&ids[2..3], &described, &[]);
        assert_eq!(ready, ["i-0000000000000003"]);
        // Nothing left: blocking.
        let (ready, findings) = failback(&ids[4..], &described, &[]);
        assert!(ready.is_empty());
        assert_eq!(
            findings.last().map(|f| (f.code.as_str(), f.severity)),
            Some(("NOTHING_TO_FAIL_BACK", Severity::Blocking))
        );
    }
}
