//! From what AWS recorded to the report, with no I/O: which job and restore belong to which
//! planned server and restore, the achieved RTO and RPO of each, and the verdict against the
//! plan's targets.
//!
//! The workflow's own clock is used for one thing only: when the run started (the execution's
//! start). Every other time is one AWS wrote: DRS job log items, the recovery instance's
//! `pointInTimeSnapshotDateTime`, AWS Backup's restore job dates.

use std::collections::BTreeMap;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};

use super::model::{
    ApprovalRecord, Judgement, Outcome, OutcomeState, Report, RestoreReport, ServerReport, Targets,
    Verdict, WaveReport, Worst, SCHEMA_VERSION,
};

/// What the run planned and how the workflow says it ended.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunFacts {
    pub workflow: String,
    pub plan_name: String,
    pub is_drill: Option<bool>,
    pub execution_id: String,
    pub trigger: String,
    pub disaster_at: Option<String>,
    pub run_started_at: String,
    pub run_ended_at: String,
    pub outcome: Outcome,
    pub targets: Targets,
    pub waves: Vec<PlannedWave>,
    /// What the workflow recorded per wave, when its waves ran to the end.
    pub wave_outcomes: Vec<WaveOutcome>,
    pub preflight: serde_json::Value,
    pub approvals: Vec<ApprovalRecord>,
    pub cleanup: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlannedWave {
    pub index: usize,
    pub name: String,
    pub targets: Targets,
    /// Source server IDs; for a failback, recovery instance IDs.
    pub servers: Vec<String>,
    /// (label, recovery point ARN).
    pub restores: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct WaveOutcome {
    pub index: usize,
    pub state: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

/// What DRS and AWS Backup say about the run's jobs (this run's only: the adapter selects them
/// by the run's idempotency key).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub jobs: Vec<DrsJob>,
    pub instances: Vec<Instance>,
    pub restores: Vec<RestoreJob>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrsJob {
    pub job_id: String,
    pub created_at: Option<String>,
    pub servers: Vec<JobServer>,
    pub log: Vec<LogItem>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobServer {
    pub source_server_id: String,
    pub launch_status: String,
    pub recovery_instance_id: Option<String>,
}

/// One `DescribeJobLogItems` item.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogItem {
    pub at: String,
    pub event: String,
    pub source_server_id: Option<String>,
    pub raw_error: Option<String>,
}

/// A recovery instance as `DescribeRecoveryInstances` describes it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    pub recovery_instance_id: String,
    pub source_server_id: Option<String>,
    pub job_id: Option<String>,
    pub snapshot_at: Option<String>,
}

/// A restore job as AWS Backup describes it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreJob {
    pub restore_job_id: String,
    pub recovery_point_arn: String,
    pub status: String,
    pub created_at: Option<String>,
    pub completed_at: Option<String>,
    pub created_resource_arn: Option<String>,
    pub recovery_point_created_at: Option<String>,
    pub status_message: Option<String>,
}

/// Seconds since the epoch of an ISO 8601 date-time, as AWS writes them.
pub fn epoch(text: &str) -> Option<f64> {
    DateTime::from_str(text, Format::DateTime)
        .ok()
        .map(|t| t.as_secs_f64())
}

/// Whole seconds from `from` to `to` (rounded), when both parse.
pub fn seconds_between(from: &str, to: &str) -> Option<i64> {
    Some((epoch(to)? - epoch(from)?).round() as i64)
}

/// `42s`, `4m 05s`, `1h 02m 03s`; negative durations get a minus sign.
pub fn duration_text(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{sign}{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{sign}{m}m {s:02}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// How every number in the report is measured (shown on the page as it is).
pub const METHOD: [&str; 5] = [
    "RTO of a server: when DRS had launched it (the JOB_END item of its job's log: DRS logs no per-server end of a launch, and a job ends once every launch in it has ended) minus the run's start (the Step Functions execution's start). When a disaster event started the run, the RTO judged is counted from the event's time instead.",
    "RPO of a server: the run's start minus the point in time its recovery instance was launched from (pointInTimeSnapshotDateTime of DescribeRecoveryInstances); 0 when that point in time is after the run's start.",
    "RTO of a restore: AWS Backup's CompletionDate of the restore job minus the run's start; its RPO: the run's start minus the recovery point's RecoveryPointCreationDate.",
    "A server or restore that did not recover fails its RTO; a target that cannot be measured (AWS did not say) is UNKNOWN and the run's targets are then not proven.",
    "Only this run's jobs are read: DRS jobs tagged with this execution's idempotency keys, and the AWS Backup restore jobs of the plan's recovery points created after the run started.",
];

/// Builds the report from the run's facts and AWS's evidence.
pub fn report(run: &RunFacts, evidence: &Evidence) -> Report {
    let started = run.run_started_at.as_str();
    let disaster = run.disaster_at.as_deref();
    let instances: BTreeMap<&str, &Instance> = evidence
        .instances
        .iter()
        .map(|i| (i.recovery_instance_id.as_str(), i))
        .collect();
    let mut servers = Vec::new();
    let mut restores = Vec::new();
    let mut waves = Vec::new();
    for wave in &run.waves {
        let mut wave_servers = Vec::new();
        for id in &wave.servers {
            wave_servers.push(server(id, wave, evidence, &instances, started, disaster));
        }
        let mut wave_restores = Vec::new();
        for (label, arn) in &wave.restores {
            wave_restores.push(restore(label, arn, wave, evidence, started, disaster));
        }
        waves.push(wave_report(run, wave, &wave_servers, &wave_restores));
        servers.extend(wave_servers);
        restores.extend(wave_restores);
    }
    let verdict = verdict(run, &servers, &restores);
    Report {
        schema_version: SCHEMA_VERSION,
        workflow: run.workflow.clone(),
        plan_name: run.plan_name.clone(),
        is_drill: run.is_drill,
        execution_id: run.execution_id.clone(),
        trigger: run.trigger.clone(),
        disaster_at: run.disaster_at.clone(),
        run_started_at: run.run_started_at.clone(),
        run_ended_at: run.run_ended_at.clone(),
        run_seconds: seconds_between(&run.run_started_at, &run.run_ended_at).unwrap_or(0),
        outcome: run.outcome.clone(),
        targets: run.targets,
        verdict,
        waves,
        servers,
        restores,
        preflight: run.preflight.clone(),
        approvals: run.approvals.clone(),
        cleanup: run.cleanup.clone(),
        method: METHOD.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn server(
    id: &str,
    wave: &PlannedWave,
    evidence: &Evidence,
    instances: &BTreeMap<&str, &Instance>,
    started: &str,
    disaster: Option<&str>,
) -> ServerReport {
    // The last job of the run that included the server (a failback names recovery instances).
    let found = evidence.jobs.iter().rev().find_map(|job| {
        job.servers
            .iter()
            .find(|s| s.source_server_id == id || s.recovery_instance_id.as_deref() == Some(id))
            .map(|s| (job, s))
    });
    let mut out = ServerReport {
        source_server_id: id.to_owned(),
        wave: wave.index,
        job_id: None,
        launch_status: "NOT_STARTED".into(),
        recovery_instance_id: None,
        job_started_at: None,
        launch_started_at: None,
        launched_at: None,
        failed_at: None,
        error: None,
        snapshot_at: None,
        rto_seconds: None,
        rto_from_disaster_seconds: None,
        rpo_seconds: None,
        targets: wave.targets,
        rto: Judgement::NoTarget,
        rpo: Judgement::NoTarget,
    };
    if let Some((job, member)) = found {
        let source = member.source_server_id.as_str();
        let logged = |event: &str| {
            job.log
                .iter()
                .filter(|l| l.event == event)
                .filter(|l| l.source_server_id.as_deref().is_none_or(|s| s == source))
                .map(|l| l.at.clone())
                .next_back()
        };
        out.source_server_id = source.to_owned();
        out.job_id = Some(job.job_id.clone());
        out.launch_status = member.launch_status.clone();
        out.recovery_instance_id = member.recovery_instance_id.clone();
        out.job_started_at = logged("JOB_START").or_else(|| job.created_at.clone());
        out.launch_started_at = logged("LAUNCH_START");
        if member.launch_status == "LAUNCHED" {
            out.launched_at = logged("JOB_END");
        }
        if let Some(failed) = job
            .log
            .iter()
            .rev()
            .find(|l| l.source_server_id.as_deref() == Some(source) && is_failure(&l.event))
        {
            out.failed_at = Some(failed.at.clone());
            out.error = Some(match &failed.raw_error {
                Some(raw) if !raw.is_empty() => format!("{}: {raw}", failed.event),
                _ => failed.event.clone(),
            });
        }
        out.snapshot_at = member
            .recovery_instance_id
            .as_deref()
            .and_then(|r| instances.get(r))
            .and_then(|i| i.snapshot_at.clone());
    }
    out.rto_seconds = out
        .launched_at
        .as_deref()
        .and_then(|t| seconds_between(started, t));
    out.rto_from_disaster_seconds = match (disaster, out.launched_at.as_deref()) {
        (Some(d), Some(t)) => seconds_between(d, t),
        _ => None,
    };
    // A snapshot DRS took after the run started (an on-demand one) lost nothing before it.
    out.rpo_seconds = out
        .snapshot_at
        .as_deref()
        .and_then(|s| seconds_between(s, started))
        .map(|s| s.max(0));
    let recovered = out.launched_at.is_some();
    out.rto = judge(
        wave.targets.rto_minutes,
        recovered,
        out.rto_from_disaster_seconds.or(out.rto_seconds),
    );
    out.rpo = judge(wave.targets.rpo_minutes, recovered, out.rpo_seconds);
    out
}

fn restore(
    label: &str,
    arn: &str,
    wave: &PlannedWave,
    evidence: &Evidence,
    started: &str,
    disaster: Option<&str>,
) -> RestoreReport {
    let job = evidence
        .restores
        .iter()
        .filter(|r| r.recovery_point_arn == arn)
        .min_by(|a, b| {
            let at = |r: &RestoreJob| r.created_at.as_deref().and_then(epoch).unwrap_or(0.0);
            at(a).total_cmp(&at(b))
        });
    let mut out = RestoreReport {
        label: label.to_owned(),
        wave: wave.index,
        recovery_point_arn: arn.to_owned(),
        restore_job_id: None,
        status: "NOT_STARTED".into(),
        started_at: None,
        completed_at: None,
        seconds: None,
        created_resource_arn: None,
        recovery_point_created_at: None,
        error: None,
        rto_seconds: None,
        rto_from_disaster_seconds: None,
        rpo_seconds: None,
        targets: wave.targets,
        rto: Judgement::NoTarget,
        rpo: Judgement::NoTarget,
    };
    if let Some(job) = job {
        out.restore_job_id = Some(job.restore_job_id.clone());
        out.status = job.status.clone();
        out.started_at = job.created_at.clone();
        out.created_resource_arn = job.created_resource_arn.clone();
        out.recovery_point_created_at = job.recovery_point_created_at.clone();
        if job.status == "COMPLETED" {
            out.completed_at = job.completed_at.clone();
        } else if matches!(job.status.as_str(), "FAILED" | "ABORTED") {
            out.error = Some(
                job.status_message
                    .clone()
                    .unwrap_or_else(|| job.status.clone()),
            );
        }
        out.seconds = match (&out.started_at, &job.completed_at) {
            (Some(a), Some(b)) => seconds_between(a, b),
            _ => None,
        };
    }
    out.rto_seconds = out
        .completed_at
        .as_deref()
        .and_then(|t| seconds_between(started, t));
    out.rto_from_disaster_seconds = match (disaster, out.completed_at.as_deref()) {
        (Some(d), Some(t)) => seconds_between(d, t),
        _ => None,
    };
    out.rpo_seconds = out
        .recovery_point_created_at
        .as_deref()
        .and_then(|c| seconds_between(c, started));
    let recovered = out.completed_at.is_some();
    out.rto = judge(
        wave.targets.rto_minutes,
        recovered,
        out.rto_from_disaster_seconds.or(out.rto_seconds),
    );
    out.rpo = judge(wave.targets.rpo_minutes, recovered, out.rpo_seconds);
    out
}

fn is_failure(event: &str) -> bool {
    event.ends_with("_FAIL") || event.ends_with("_FAILED")
}

/// One target: met, missed, not set, or not measurable. Something that did not recover
/// misses every target it has.
fn judge(target_minutes: Option<u64>, recovered: bool, achieved: Option<i64>) -> Judgement {
    let Some(minutes) = target_minutes else {
        return Judgement::NoTarget;
    };
    if !recovered {
        return Judgement::Fail;
    }
    match achieved {
        None => Judgement::Unknown,
        Some(s) if s <= target_seconds(minutes) => Judgement::Pass,
        Some(_) => Judgement::Fail,
    }
}

fn target_seconds(minutes: u64) -> i64 {
    i64::try_from(minutes.saturating_mul(60)).unwrap_or(i64::MAX)
}

fn wave_report(
    run: &RunFacts,
    wave: &PlannedWave,
    servers: &[ServerReport],
    restores: &[RestoreReport],
) -> WaveReport {
    let recorded = run.wave_outcomes.iter().find(|w| w.index == wave.index);
    let first = |times: Vec<Option<&String>>| {
        times
            .into_iter()
            .flatten()
            .min_by(|a, b| cmp_time(a, b))
            .cloned()
    };
    let last = |times: Vec<Option<&String>>| {
        times
            .into_iter()
            .flatten()
            .max_by(|a, b| cmp_time(a, b))
            .cloned()
    };
    // AWS's times when it has them; the workflow's record otherwise.
    let started_at = first(
        servers
            .iter()
            .map(|s| s.job_started_at.as_ref())
            .chain(restores.iter().map(|r| r.started_at.as_ref()))
            .collect(),
    )
    .or_else(|| recorded.and_then(|w| w.started_at.clone()));
    let ended_at = last(
        servers
            .iter()
            .map(|s| s.launched_at.as_ref().or(s.failed_at.as_ref()))
            .chain(restores.iter().map(|r| r.completed_at.as_ref()))
            .collect(),
    )
    .or_else(|| recorded.and_then(|w| w.ended_at.clone()));
    let launched = servers.iter().filter(|s| s.launched_at.is_some()).count();
    let restored = restores.iter().filter(|r| r.completed_at.is_some()).count();
    let started_any = servers.iter().any(|s| s.job_id.is_some())
        || restores.iter().any(|r| r.restore_job_id.is_some());
    let state = match recorded {
        Some(w) => w.state.clone(),
        None if !started_any => "NOT_STARTED".into(),
        None if launched == servers.len() && restored == restores.len() => "SUCCEEDED".into(),
        None => "FAILED".into(),
    };
    let mut job_ids: Vec<String> = servers
        .iter()
        .filter_map(|s| s.job_id.clone())
        .chain(restores.iter().filter_map(|r| r.restore_job_id.clone()))
        .collect();
    job_ids.dedup();
    WaveReport {
        index: wave.index,
        name: wave.name.clone(),
        state,
        seconds: match (&started_at, &ended_at) {
            (Some(a), Some(b)) => seconds_between(a, b),
            _ => None,
        },
        started_at,
        ended_at,
        targets: wave.targets,
        servers: servers.len(),
        launched,
        restores: restores.len(),
        restored,
        job_ids,
    }
}

fn cmp_time(a: &str, b: &str) -> std::cmp::Ordering {
    epoch(a)
        .unwrap_or(f64::MAX)
        .total_cmp(&epoch(b).unwrap_or(f64::MAX))
}

/// One judged item: its name, achieved RTO and RPO, targets and judgements.
struct Judged<'a> {
    of: &'a str,
    rto: Option<i64>,
    rpo: Option<i64>,
    targets: Targets,
    judgements: [Judgement; 2],
    recovered: bool,
}

fn verdict(run: &RunFacts, servers: &[ServerReport], restores: &[RestoreReport]) -> Verdict {
    let items: Vec<Judged<'_>> = servers
        .iter()
        .map(|s| Judged {
            of: &s.source_server_id,
            rto: s.rto_from_disaster_seconds.or(s.rto_seconds),
            rpo: s.rpo_seconds,
            targets: s.targets,
            judgements: [s.rto, s.rpo],
            recovered: s.launched_at.is_some(),
        })
        .chain(restores.iter().map(|r| Judged {
            of: &r.label,
            rto: r.rto_from_disaster_seconds.or(r.rto_seconds),
            rpo: r.rpo_seconds,
            targets: r.targets,
            judgements: [r.rto, r.rpo],
            recovered: r.completed_at.is_some(),
        }))
        .collect();
    let worst = |pick: fn(&Judged<'_>) -> (Option<i64>, Option<u64>)| {
        // The first of equals: reversed, because `max_by_key` keeps the last.
        items
            .iter()
            .rev()
            .filter_map(|j| {
                let (seconds, target) = pick(j);
                seconds.map(|s| (s, j.of, target))
            })
            .max_by_key(|(s, _, _)| *s)
            .map(|(seconds, of, target)| Worst {
                seconds,
                of: of.to_owned(),
                target_seconds: target.map(target_seconds),
            })
    };
    let worst_rto = worst(|j| (j.rto, j.targets.rto_minutes));
    let worst_rpo = worst(|j| (j.rpo, j.targets.rpo_minutes));
    let has_targets = items
        .iter()
        .any(|j| j.targets.rto_minutes.is_some() || j.targets.rpo_minutes.is_some());
    let judged: Vec<&Judged<'_>> = items
        .iter()
        .filter(|j| j.judgements.iter().any(|x| *x != Judgement::NoTarget))
        .collect();
    let passed = judged
        .iter()
        .filter(|j| {
            j.judgements
                .iter()
                .all(|x| matches!(x, Judgement::Pass | Judgement::NoTarget))
        })
        .count();
    let total = items.len();
    let recovered = items.iter().filter(|j| j.recovered).count();
    let failed_target = |k: usize| {
        items
            .iter()
            .filter(|j| j.judgements[k] == Judgement::Fail && j.recovered)
            .count()
    };
    let unknown = items
        .iter()
        .filter(|j| j.judgements.contains(&Judgement::Unknown))
        .count();
    let achieved = format!(
        "worst RTO {}, worst RPO {}",
        worst_rto
            .as_ref()
            .map_or("not measured".into(), |w| duration_text(w.seconds)),
        worst_rpo
            .as_ref()
            .map_or("not measured".into(), |w| duration_text(w.seconds)),
    );
    let (state, summary) = if run.outcome.state == OutcomeState::Skipped {
        (
            "SKIPPED",
            format!(
                "the scheduled drill was skipped, nothing started: {}",
                run.outcome
                    .cause
                    .as_deref()
                    .unwrap_or("the last drill of the plan still runs")
            ),
        )
    } else if total == 0 && run.outcome.state != OutcomeState::Succeeded {
        (
            "MISSED",
            format!(
                "nothing was started: the run was refused before it began ({})",
                run.outcome.error.as_deref().unwrap_or("no error given")
            ),
        )
    } else if run.outcome.state != OutcomeState::Succeeded || recovered < total {
        (
            "MISSED",
            format!(
                "the run did not recover everything: {recovered} of {total} servers and restores recovered{}; {achieved}",
                run.outcome
                    .error
                    .as_deref()
                    .map(|e| format!(", the run ended with {e}"))
                    .unwrap_or_default()
            ),
        )
    } else if !has_targets {
        (
            "NO_TARGETS",
            format!(
                "all {total} servers and restores recovered; {achieved}; the plan sets no RTO or RPO target"
            ),
        )
    } else if failed_target(0) + failed_target(1) > 0 {
        let margins = [
            margin_text("RTO", worst_rto.as_ref(), failed_target(0)),
            margin_text("RPO", worst_rpo.as_ref(), failed_target(1)),
        ]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
        let missed = if margins.is_empty() {
            format!(
                "{} RTO and {} RPO targets missed",
                failed_target(0),
                failed_target(1)
            )
        } else {
            margins
        };
        ("MISSED", format!("{missed}; {achieved}"))
    } else if unknown > 0 {
        (
            "UNPROVEN",
            format!("{unknown} servers or restores have a target AWS gave no time to measure against; {achieved}"),
        )
    } else {
        (
            "MET",
            format!(
                "every target met{}{}; {achieved}",
                spare_text("RTO", worst_rto.as_ref()),
                spare_text("RPO", worst_rpo.as_ref()),
            ),
        )
    };
    Verdict {
        state: state.into(),
        summary,
        worst_rto,
        worst_rpo,
        judged: judged.len(),
        passed,
    }
}

fn margin_text(what: &str, worst: Option<&Worst>, failed: usize) -> String {
    match worst {
        Some(Worst {
            seconds,
            of,
            target_seconds: Some(t),
        }) if failed > 0 && seconds > t => format!(
            "{what} target {} missed by {} ({of}: {}; {failed} missed)",
            duration_text(*t),
            duration_text(seconds - t),
            duration_text(*seconds)
        ),
        _ => String::new(),
    }
}

fn spare_text(what: &str, worst: Option<&Worst>) -> String {
    match worst {
        Some(Worst {
            seconds,
            target_seconds: Some(t),
            ..
        }) => format!(
            ", {what} {} of {} ({} to spare)",
            duration_text(*seconds),
            duration_text(*t),
            duration_text(t - seconds)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "2026-11-25T10:00:00Z";

    fn run(targets: Targets) -> RunFacts {
        RunFacts {
            workflow: "RECOVERY_PLAN".into(),
            plan_name: "payments".into(),
            is_drill: Some(true),
            execution_id: "arn:aws:states:eu-west-1:123456789012:execution:rp:x".into(),
            trigger: "CONSOLE".into(),
            run_started_at: START.into(),
            run_ended_at: "2026-11-25T10:20:00Z".into(),
            outcome: Outcome {
                state: OutcomeState::Succeeded,
                error: None,
                cause: None,
            },
            targets,
            waves: vec![PlannedWave {
                index: 0,
                name: "db".into(),
                targets,
                servers: vec!["s-1".into(), "s-2".into()],
                restores: vec![("restore 0".into(), "arn:rp:1".into())],
            }],
            ..RunFacts::default()
        }
    }

    fn item(at: &str, event: &str, server: Option<&str>) -> LogItem {
        LogItem {
            at: at.into(),
            event: event.into(),
            source_server_id: server.map(Into::into),
            raw_error: None,
        }
    }

    fn evidence(second_fails: bool) -> Evidence {
        let status = if second_fails { "FAILED" } else { "LAUNCHED" };
        let mut log = vec![
            item("2026-11-25T10:00:30Z", "JOB_START", None),
            item("2026-11-25T10:04:00Z", "LAUNCH_START", Some("s-1")),
        ];
        if second_fails {
            log.push(LogItem {
                raw_error: Some("InsufficientInstanceCapacity".into()),
                ..item("2026-11-25T10:05:00Z", "LAUNCH_FAILED", Some("s-2"))
            });
        } else {
            log.push(item("2026-11-25T10:05:00Z", "LAUNCH_START", Some("s-2")));
        }
        log.push(item("2026-11-25T10:07:10Z", "JOB_END", None));
        Evidence {
            jobs: vec![DrsJob {
                job_id: "drsjob-1".into(),
                created_at: Some("2026-11-25T10:00:20Z".into()),
                servers: vec![
                    JobServer {
                        source_server_id: "s-1".into(),
                        launch_status: "LAUNCHED".into(),
                        recovery_instance_id: Some("i-1".into()),
                    },
                    JobServer {
                        source_server_id: "s-2".into(),
                        launch_status: status.into(),
                        recovery_instance_id: (!second_fails).then(|| "i-2".into()),
                    },
                ],
                log,
            }],
            instances: vec![
                Instance {
                    recovery_instance_id: "i-1".into(),
                    source_server_id: Some("s-1".into()),
                    job_id: Some("drsjob-1".into()),
                    snapshot_at: Some("2026-11-25T09:58:30Z".into()),
                },
                Instance {
                    recovery_instance_id: "i-2".into(),
                    source_server_id: Some("s-2".into()),
                    job_id: Some("drsjob-1".into()),
                    snapshot_at: Some("2026-11-25T09:55:00.500Z".into()),
                },
            ],
            restores: vec![RestoreJob {
                restore_job_id: "r-1".into(),
                recovery_point_arn: "arn:rp:1".into(),
                status: "COMPLETED".into(),
                created_at: Some("2026-11-25T10:00:40Z".into()),
                completed_at: Some("2026-11-25T10:03:40Z".into()),
                created_resource_arn: Some("arn:fs:1".into()),
                recovery_point_created_at: Some("2026-11-25T08:30:00Z".into()),
                status_message: None,
            }],
        }
    }

    fn targets(rto: u64, rpo: u64) -> Targets {
        Targets {
            rto_minutes: Some(rto),
            rpo_minutes: Some(rpo),
        }
    }

    #[test]
    fn rto_is_the_job_end_after_the_run_start_and_rpo_the_snapshot_before_it() {
        let r = report(&run(Targets::default()), &evidence(false));
        let s1 = &r.servers[0];
        assert_eq!(s1.launched_at.as_deref(), Some("2026-11-25T10:07:10Z"));
        assert_eq!(
            s1.launch_started_at.as_deref(),
            Some("2026-11-25T10:04:00Z")
        );
        assert_eq!(s1.rto_seconds, Some(430));
        assert_eq!(s1.rpo_seconds, Some(90));
        assert_eq!(r.servers[1].rpo_seconds, Some(300), "rounded from 299.5 s");
        assert_eq!(r.restores[0].rto_seconds, Some(220));
        assert_eq!(r.restores[0].seconds, Some(180));
        assert_eq!(r.restores[0].rpo_seconds, Some(5400));
        assert_eq!(r.verdict.state, "NO_TARGETS");
        assert_eq!(r.verdict.worst_rto.as_ref().unwrap().seconds, 430);
        assert_eq!(r.verdict.worst_rpo.as_ref().unwrap().of, "restore 0");
        assert_eq!(r.waves[0].state, "SUCCEEDED");
        assert_eq!(r.waves[0].seconds, Some(430 - 30));
    }

    #[test]
    fn targets_met_say_how_much_was_left() {
        let r = report(&run(targets(10, 120)), &evidence(false));
        assert_eq!(r.verdict.state, "MET", "{}", r.verdict.summary);
        assert!(
            r.verdict
                .summary
                .contains("RTO 7m 10s of 10m 00s (2m 50s to spare)"),
            "{}",
            r.verdict.summary
        );
        assert_eq!(r.verdict.judged, 3);
        assert_eq!(r.verdict.passed, 3);
        assert!(r.servers.iter().all(|s| s.rto == Judgement::Pass));
    }

    #[test]
    fn a_missed_target_says_by_how_much_and_whose() {
        let r = report(&run(targets(5, 120)), &evidence(false));
        assert_eq!(r.verdict.state, "MISSED");
        assert!(
            r.verdict
                .summary
                .contains("RTO target 5m 00s missed by 2m 10s (s-1: 7m 10s; 2 missed)"),
            "{}",
            r.verdict.summary
        );
        assert_eq!(r.restores[0].rto, Judgement::Pass);
        assert_eq!(
            r.restores[0].rpo,
            Judgement::Pass,
            "90 min of data within 120"
        );
    }

    #[test]
    fn a_server_that_did_not_launch_fails_its_targets_and_the_run() {
        let mut facts = run(targets(10, 120));
        facts.outcome = Outcome {
            state: OutcomeState::Failed,
            error: Some("RecoveryFailed".into()),
            cause: None,
        };
        let r = report(&facts, &evidence(true));
        let s2 = &r.servers[1];
        assert_eq!(s2.launch_status, "FAILED");
        assert_eq!(s2.launched_at, None);
        assert_eq!(s2.rto, Judgement::Fail);
        assert_eq!(
            s2.error.as_deref(),
            Some("LAUNCH_FAILED: InsufficientInstanceCapacity")
        );
        assert_eq!(s2.failed_at.as_deref(), Some("2026-11-25T10:05:00Z"));
        assert_eq!(r.verdict.state, "MISSED");
        assert!(r
            .verdict
            .summary
            .contains("2 of 3 servers and restores recovered, the run ended with RecoveryFailed"));
        assert_eq!(r.waves[0].launched, 1);
    }

    #[test]
    fn a_disaster_event_counts_the_rto_from_the_event() {
        let mut facts = run(targets(8, 120));
        facts.disaster_at = Some("2026-11-25T09:59:00Z".into());
        let r = report(&facts, &evidence(false));
        assert_eq!(r.servers[0].rto_seconds, Some(430));
        assert_eq!(r.servers[0].rto_from_disaster_seconds, Some(490));
        assert_eq!(r.servers[0].rto, Judgement::Fail, "490 s > 8 min");
        assert_eq!(r.verdict.state, "MISSED");
    }

    #[test]
    fn servers_never_started_are_listed_as_such() {
        let mut facts = run(Targets::default());
        facts.waves.push(PlannedWave {
            index: 1,
            name: "app".into(),
            servers: vec!["s-9".into()],
            ..PlannedWave::default()
        });
        facts.outcome.state = OutcomeState::Failed;
        let r = report(&facts, &evidence(false));
        assert_eq!(r.servers[3 - 1].launch_status, "NOT_STARTED");
        assert_eq!(r.waves[1].state, "NOT_STARTED");
        assert_eq!(r.verdict.state, "MISSED");
    }

    #[test]
    fn a_target_without_a_time_to_measure_is_unproven() {
        let mut ev = evidence(false);
        ev.instances.clear();
        ev.restores[0].recovery_point_created_at = None;
        let r = report(&run(targets(10, 120)), &ev);
        assert_eq!(r.servers[0].rpo, Judgement::Unknown);
        assert_eq!(r.verdict.state, "UNPROVEN", "{}", r.verdict.summary);
    }

    #[test]
    fn durations_read_as_a_person_writes_them() {
        assert_eq!(duration_text(42), "42s");
        assert_eq!(duration_text(245), "4m 05s");
        assert_eq!(duration_text(3723), "1h 02m 03s");
        assert_eq!(duration_text(-65), "-1m 05s");
    }
}
