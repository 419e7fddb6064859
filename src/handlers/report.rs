//! `report`: the run report, and how a run ended. Every workflow calls it once its waves are
//! over, whether the run succeeded or failed, with its whole state (`{"operation": ..., "run": $}`,
//! a [`RunState`]):
//!
//! - `MEASURE` (before a drill's instances are terminated: a terminated instance's snapshot time
//!   cannot be read any more) reads what DRS and AWS Backup recorded about the run and stores it
//!   as `measurements.json`; it returns where.
//! - `SETTLE` (no AWS call) decides how the run ended, from every wave's result, an interruption
//!   and the drill cleanup ([`crate::progress::settle`]), with its last notification.
//! - `WRITE` measures (or reads the measurements), judges the run against its targets, writes
//!   `report.json` and `report.html` under `runs/<plan>/<execution>/` and adds the run to the
//!   history (`runs/index.json`, `runs/index.html`) with conditional writes, so that two runs
//!   ending at once both stay in it. It returns the run's [`Ending`]: the outcome with the
//!   report's location in its cause, the last notification, and where the report is.
//! - `REFUSED` (`{"operation", "workflow", "input", "executionId", "startedAt"}`, when
//!   `prepare-plan` refused the run: an invalid plan, a preflight that blocks it) writes the report
//!   of a run that started nothing: its plan name, the error and why. No DRS or Backup call.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

use crate::aws::lease_table::LeaseTable;
use crate::aws::{evidence, reports};
use crate::config::Config;
use crate::error::TaskError;
use crate::notify;
use crate::plan::{
    ApprovalDecision, EndNotice, Ending, Measured, RunState, Settled, Task, TaskFailure,
    TriggerKind, WaveResult, Written,
};
use crate::progress;
use crate::report::measure::{self, Evidence, PlannedWave, RunFacts, WaveOutcome};
use crate::report::model::{ApprovalRecord, Outcome, OutcomeState};
use crate::report::{html, index};
use crate::{contract, validate};

/// How far before a run's start its jobs are looked for (clocks differ).
const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// Conditional writes of the history tried before giving up (each loser merges again).
const INDEX_ATTEMPTS: u32 = 12;
/// Characters a plan name keeps in an S3 key; the others become `-`.
fn key_safe(text: &str) -> String {
    let safe: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.is_empty() || safe.chars().all(|c| c == '.') {
        "unnamed".into()
    } else {
        safe
    }
}

/// The clients and the bucket `report` needs.
#[derive(Debug, Clone)]
pub struct Clients {
    pub drs: aws_sdk_drs::Client,
    pub backup: aws_sdk_backup::Client,
    pub s3: aws_sdk_s3::Client,
    /// The report bucket (`DR_REPORT_BUCKET`).
    pub bucket: String,
    /// The plans' leases: `WRITE` releases the run's (none: nothing to release).
    pub lease: Option<LeaseTable>,
}

impl Clients {
    /// The bucket the deployment names; without one the function fails its init phase.
    pub fn bucket(config: &Config) -> Result<String, String> {
        crate::config::required(
            &config.report_bucket,
            "DR_REPORT_BUCKET",
            "the report function needs its bucket",
        )
    }

    /// The clients, writing to `bucket` and releasing leases in the table `lease`.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: String, lease: String) -> Clients {
        Clients {
            lease: Some(LeaseTable::new(sdk, lease)),
            drs: aws_sdk_drs::Client::new(sdk),
            backup: aws_sdk_backup::Client::new(sdk),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(sdk)
                    // A local S3 (an endpoint override) is addressed by path: its bucket names
                    // are not host names.
                    .force_path_style(
                        std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
                            || std::env::var_os("AWS_ENDPOINT_URL").is_some(),
                    )
                    .build(),
            ),
            bucket,
        }
    }
}

/// What a payload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Operation {
    Measure,
    Settle,
    Write,
    Refused,
}

/// A run `prepare-plan` refused: the execution's input as given (it may be anything) with the
/// error the workflow caught at `input.error`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefusedRun {
    workflow: crate::plan::Workflow,
    input: Value,
    execution_id: String,
    started_at: String,
}

/// Characters of a plan name a refused run's report keeps (the name was not validated).
const MAX_REFUSED_NAME_CHARS: usize = 128;

/// `MEASURE`, `SETTLE` and `WRITE` read the whole run state.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Request {
    run: RunState,
}

/// What `measurements.json` holds.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Measurements {
    measured_at: String,
    evidence: Evidence,
}

/// A refused run's request, parsed and checked: the facts of a run that started nothing, and
/// the subject of its `RUN_FAILED` notification. `payload` is the request without its
/// `operation`.
pub fn parse_refused(payload: Value) -> Result<(RunFacts, String), TaskError> {
    let refused: RefusedRun = contract::parse(payload)?;
    validate::date_time("startedAt", &refused.started_at)?;
    if !refused.execution_id.starts_with("arn:") {
        return Err(TaskError::invalid(
            "executionId",
            "must be the execution's ARN ($$.Execution.Id)",
        ));
    }
    // The input is whatever the execution was started with: read as the loosest shape a plan
    // has, a field at a time, since it was refused for not being a plan.
    let input = &refused.input;
    // An EventBridge rule's input is {plan, trigger}; the console's is the plan itself.
    let plan = input.get("plan").filter(|p| p.is_object()).unwrap_or(input);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let error = input
        .get("error")
        .cloned()
        .and_then(|e| serde_json::from_value::<TaskFailure>(e).ok());
    let cause = error.as_ref().map(|e| {
        // A Lambda error's cause is {"errorType", "errorMessage", ...}: the message is the news.
        serde_json::from_str::<LambdaErrorCause>(&e.cause)
            .map(|c| c.error_message)
            .unwrap_or_else(|_| e.cause.clone())
    });
    let plan_name = text(plan.get("planName"))
        .map(|n| n.chars().take(MAX_REFUSED_NAME_CHARS).collect::<String>())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "unnamed plan".into());
    let trigger = input
        .get("trigger")
        .and_then(|t| t.get("kind"))
        .and_then(|k| TriggerKind::deserialize(k).ok())
        .unwrap_or(TriggerKind::Console);
    let is_drill = plan.get("isDrill").and_then(Value::as_bool);
    let error = error
        .map(|e| e.error)
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "Unexpected".into());
    // A scheduled drill while the last drill of its plan runs is skipped, not failed: the
    // schedule will come round again, and nobody should be paged for it.
    let skipped = error == "PlanBusy" && trigger == TriggerKind::Schedule && is_drill == Some(true);
    let subject = if skipped {
        notify::skipped_subject(&plan_name)
    } else {
        notify::refused_subject(refused.workflow, is_drill, &plan_name)
    };
    let facts = RunFacts {
        workflow: enum_text(&refused.workflow),
        plan_name,
        is_drill,
        execution_id: refused.execution_id,
        trigger: enum_text(&trigger),
        disaster_at: None,
        run_started_at: refused.started_at,
        run_ended_at: String::new(),
        outcome: Outcome {
            state: if skipped {
                OutcomeState::Skipped
            } else {
                OutcomeState::Failed
            },
            error: Some(error),
            cause,
        },
        ..RunFacts::default()
    };
    Ok((facts, subject))
}

/// The `Cause` of a Lambda function's error, as Step Functions passes it on.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LambdaErrorCause {
    error_message: String,
}

/// A `MEASURE` or `WRITE` request, parsed and checked: nothing invalid reaches AWS. `payload` is
/// the request without its `operation`.
pub fn parse_request(payload: Value) -> Result<(RunFacts, Planned), TaskError> {
    run_facts(&contract::parse::<Request>(payload)?.run)
}

/// What the report says about `run`, and what its adapters are asked for.
fn run_facts(run: &RunState) -> Result<(RunFacts, Planned), TaskError> {
    let plan = &run.plan;
    let since = validate::date_time("run.cleanup.since", &plan.cleanup.since)?;
    validate::date_time("run.startedAt", &plan.started_at)?;
    if !plan.execution_id.starts_with("arn:") {
        return Err(TaskError::invalid(
            "run.executionId",
            "must be the execution's ARN ($$.Execution.Id)",
        ));
    }
    if plan.cleanup.key_base.is_empty() {
        return Err(TaskError::invalid(
            "run.cleanup.keyBase",
            "must not be empty",
        ));
    }
    let mut waves = Vec::new();
    let mut recovery_points = BTreeSet::new();
    for wave in &plan.waves {
        let mut planned = PlannedWave {
            index: wave.index,
            name: wave.name.clone(),
            targets: wave.targets,
            ..PlannedWave::default()
        };
        for task in wave.rounds.iter().flatten() {
            match task {
                Task::Recovery(r) => planned
                    .servers
                    .extend(r.source_servers.iter().map(|s| s.source_server_id.clone())),
                Task::Failback(f) => planned
                    .servers
                    .extend(f.recovery_instance_ids.iter().flatten().cloned()),
                Task::Restore(r) => {
                    recovery_points.insert(r.restore.recovery_point_arn.clone());
                    planned.restores.push((
                        r.label.clone().unwrap_or_else(|| r.idempotency_key.clone()),
                        r.restore.recovery_point_arn.clone(),
                    ));
                }
            }
        }
        waves.push(planned);
    }
    let results = &plan.progress.results;
    let facts = RunFacts {
        workflow: enum_text(&plan.workflow),
        plan_name: plan.plan_name.clone(),
        is_drill: plan.is_drill,
        execution_id: plan.execution_id.clone(),
        trigger: enum_text(&plan.trigger.kind),
        disaster_at: match plan.trigger.kind {
            TriggerKind::Event => plan.trigger.time.clone(),
            _ => None,
        },
        run_started_at: plan.started_at.clone(),
        run_ended_at: String::new(),
        // MEASURE runs before the run is settled; WRITE after.
        outcome: run
            .settled
            .as_ref()
            .map(|s| s.outcome.clone())
            .unwrap_or_default(),
        targets: plan.options.targets,
        waves,
        wave_outcomes: results
            .iter()
            .map(|w| WaveOutcome {
                index: w.index,
                state: enum_text(&w.state),
                started_at: w.started_at.clone(),
                ended_at: w.ended_at.clone(),
            })
            .collect(),
        preflight: serde_json::to_value(&plan.preflight).unwrap_or(Value::Null),
        approvals: results.iter().filter_map(approval_record).collect(),
        cleanup: cleanup_record(run),
    };
    if let Some(m) = &run.measured {
        if !m.key.starts_with("runs/") {
            return Err(TaskError::invalid(
                "run.measured.key",
                "must be a key under runs/ that MEASURE returned",
            ));
        }
    }
    Ok((
        facts,
        Planned {
            key_base: plan.cleanup.key_base.clone(),
            since: since.checked_sub(CLOCK_SKEW).unwrap_or(since),
            recovery_points,
            measured: run.measured.clone(),
        },
    ))
}

/// What the report says of a wave's approval: every request asked, answered or not.
fn approval_record(wave: &WaveResult) -> Option<ApprovalRecord> {
    let record = |decision: &str, reason: &str, at: &str| ApprovalRecord {
        wave: wave.index,
        decision: decision.into(),
        note: None,
        by: None,
        answered_at: Some(at.to_owned()),
        reason: reason.to_owned(),
    };
    match &wave.approval {
        ApprovalDecision::NotRequired => None,
        ApprovalDecision::Approved { reason, answer, .. } => Some(ApprovalRecord {
            by: Some(answer.by.clone()),
            note: Some(answer.reason.clone()),
            ..record("APPROVED", reason, &answer.at)
        }),
        ApprovalDecision::Rejected { reason, answer, .. } => Some(ApprovalRecord {
            by: Some(answer.by.clone()),
            note: Some(answer.reason.clone()),
            ..record("REJECTED", reason, &answer.at)
        }),
        ApprovalDecision::TimedOut { reason, decided_at } => {
            Some(record("TIMED_OUT", reason, decided_at))
        }
        ApprovalDecision::NotAnAnswer { reason, decided_at } => Some(ApprovalRecord {
            note: Some(
                "resumed by something other than the approval endpoint: not an approval".into(),
            ),
            ..record("NOT_AN_ANSWER", reason, decided_at)
        }),
    }
}

/// The cleanup as the report shows it: its report, or why there is none.
fn cleanup_record(run: &RunState) -> Option<Value> {
    match (&run.cleanup_result, &run.cleanup_error) {
        (_, Some(failure)) => Some(serde_json::json!({
            "state": "FAILED",
            "summary": "the drill's instances could not be terminated",
            "error": "CleanupFailed",
            "cause": format!("{}: {}", failure.error, failure.cause),
        })),
        (Some(result), None) => serde_json::to_value(&result.report).ok(),
        (None, None) => None,
    }
}

/// What the adapters are asked for.
#[derive(Debug)]
pub struct Planned {
    key_base: String,
    since: SystemTime,
    recovery_points: BTreeSet<String>,
    measured: Option<Measured>,
}

/// A request, parsed and checked: nothing invalid reaches AWS.
#[derive(Debug)]
pub enum Parsed {
    Refused {
        facts: RunFacts,
        subject: String,
    },
    Measure {
        facts: RunFacts,
        planned: Planned,
    },
    Settle(Box<RunState>),
    Write {
        settled: Settled,
        facts: RunFacts,
        planned: Planned,
    },
}

/// Parses and checks a request of any operation.
pub fn parse(mut payload: Value) -> Result<Parsed, TaskError> {
    let operation = contract::take_operation(&mut payload)?.ok_or_else(|| {
        TaskError::invalid(
            "operation",
            "is required: MEASURE, SETTLE, WRITE or REFUSED",
        )
    })?;
    Ok(match operation {
        Operation::Refused => {
            let (facts, subject) = parse_refused(payload)?;
            Parsed::Refused { facts, subject }
        }
        Operation::Settle => Parsed::Settle(Box::new(contract::parse::<Request>(payload)?.run)),
        Operation::Measure => {
            let (facts, planned) = parse_request(payload)?;
            Parsed::Measure { facts, planned }
        }
        Operation::Write => {
            let run = contract::parse::<Request>(payload)?.run;
            let settled = run.settled.clone().ok_or_else(|| {
                TaskError::invalid(
                    "run.settled",
                    "is required: the workflow settles the run (SETTLE) before its report",
                )
            })?;
            let (facts, planned) = run_facts(&run)?;
            Parsed::Write {
                settled,
                facts,
                planned,
            }
        }
    })
}

/// Handles one invocation.
pub async fn handle(clients: &Clients, event: LambdaEvent<Value>) -> Result<Value, TaskError> {
    let answer = match parse(event.payload)? {
        Parsed::Refused { facts, subject } => {
            let outcome = facts.outcome.clone();
            let written = write(clients, facts, Evidence::default()).await?;
            let (kind, severity) = match outcome.state {
                OutcomeState::Skipped => ("RUN_SKIPPED", "WARNING"),
                _ => ("RUN_FAILED", "ERROR"),
            };
            let notice = EndNotice {
                kind: kind.into(),
                severity: severity.into(),
                subject,
            };
            serde_json::to_value(ending(outcome, written, notice))
        }
        Parsed::Settle(run) => serde_json::to_value(progress::settle(&run)),
        Parsed::Measure { facts, planned } => {
            let prefix = prefix(&facts);
            let evidence = gather(clients, &planned).await?;
            let key = format!("{prefix}measurements.json");
            let body = serde_json::to_vec(&Measurements {
                measured_at: now_text()?,
                evidence,
            })
            .map_err(unexpected)?;
            reports::put(&clients.s3, &clients.bucket, &key, body, "application/json").await?;
            info!(key, "measured");
            serde_json::to_value(Measured { key })
        }
        Parsed::Write {
            settled,
            facts,
            planned,
        } => {
            let evidence = match &planned.measured {
                Some(m) => match reports::get(&clients.s3, &clients.bucket, &m.key).await? {
                    Some(stored) => {
                        serde_json::from_slice::<Measurements>(&stored.body)
                            .map_err(|e| TaskError::Unexpected {
                                message: format!("{} is not a measurements file: {e}", m.key),
                            })?
                            .evidence
                    }
                    None => gather(clients, &planned).await?,
                },
                None => gather(clients, &planned).await?,
            };
            let (plan, execution) = (facts.plan_name.clone(), facts.execution_id.clone());
            let written = write(clients, facts, evidence).await?;
            // The run is over: the plan's next run may start. (Were this to fail, the next run
            // takes the lease over once Step Functions says this one has ended.)
            if let Some(lease) = &clients.lease {
                if let Err(e) = lease.release(&plan, &execution).await {
                    warn!(error = %e, plan, "the plan's lease was not released");
                }
            }
            serde_json::to_value(ending(settled.outcome, written, settled.notice))
        }
    };
    answer.map_err(unexpected)
}

/// The run's ending once its report is written: the cause names the report.
fn ending(outcome: Outcome, written: Written, notice: EndNotice) -> Ending {
    Ending {
        outcome: Outcome {
            cause: Some(written.cause.clone()),
            ..outcome
        },
        notice,
        report: written,
    }
}

/// Where a run's report goes: `runs/<plan>/<execution name>/`.
fn prefix(facts: &RunFacts) -> String {
    format!(
        "runs/{}/{}/",
        key_safe(&facts.plan_name),
        key_safe(facts.execution_id.rsplit(':').next().unwrap_or_default())
    )
}

/// Judges the run, writes its report and adds it to the history.
async fn write(
    clients: &Clients,
    mut facts: RunFacts,
    evidence: Evidence,
) -> Result<Written, TaskError> {
    let prefix = prefix(&facts);
    facts.run_ended_at = now_text()?;
    let report = measure::report(&facts, &evidence);
    let page = html::report_page(&report).map_err(|e| TaskError::Unexpected {
        message: format!("rendering report.html: {e}"),
    })?;
    let json_key = format!("{prefix}report.json");
    let html_key = format!("{prefix}report.html");
    let body = serde_json::to_vec_pretty(&report).map_err(unexpected)?;
    reports::put(
        &clients.s3,
        &clients.bucket,
        &json_key,
        body,
        "application/json",
    )
    .await?;
    reports::put(
        &clients.s3,
        &clients.bucket,
        &html_key,
        page.into_bytes(),
        "text/html; charset=utf-8",
    )
    .await?;
    let entry = index::entry(&report, html_key.trim_start_matches("runs/"));
    update_history(clients, entry).await?;
    let s3 = |key: &str| format!("s3://{}/{key}", clients.bucket);
    let written = Written {
        written: true,
        bucket: clients.bucket.clone(),
        html: s3(&html_key),
        json: s3(&json_key),
        index: s3("runs/index.html"),
        verdict: report.verdict.state.clone(),
        summary: report.verdict.summary.clone(),
        worst_rto_seconds: report.verdict.worst_rto.as_ref().map(|w| w.seconds),
        worst_rpo_seconds: report.verdict.worst_rpo.as_ref().map(|w| w.seconds),
        cause: match &report.outcome.cause {
            Some(c) => format!("{c} (run report: {})", s3(&html_key)),
            None => format!("run report: {}", s3(&html_key)),
        },
        error: None,
    };
    info!(html = %written.html, verdict = %written.verdict, "report written");
    Ok(written)
}

async fn gather(clients: &Clients, planned: &Planned) -> Result<Evidence, TaskError> {
    let jobs = evidence::run_jobs(&clients.drs, &planned.key_base, planned.since).await?;
    let instances = evidence::instances(&clients.drs, &evidence::instance_ids(&jobs)).await?;
    let points: BTreeSet<&str> = planned.recovery_points.iter().map(String::as_str).collect();
    let restores = evidence::restore_jobs(&clients.backup, &points, planned.since).await?;
    Ok(Evidence {
        jobs,
        instances,
        restores,
    })
}

/// Adds `entry` to `runs/index.json` and renders `runs/index.html` from it. Each object is
/// written only if it has not changed since it was read; a writer that loses reads and merges
/// again, so an entry another run added in between is kept.
async fn update_history(
    clients: &Clients,
    entry: crate::report::model::IndexEntry,
) -> Result<(), TaskError> {
    const JSON: &str = "runs/index.json";
    const HTML: &str = "runs/index.html";
    let (s3, bucket) = (&clients.s3, clients.bucket.as_str());
    for attempt in 0..INDEX_ATTEMPTS {
        if attempt > 0 {
            // Spread the retries of runs that ended together.
            let jitter = u64::from(
                SystemTime::now()
                    .elapsed()
                    .unwrap_or_default()
                    .subsec_nanos()
                    ^ std::process::id(),
            ) % 200;
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt) + jitter)).await;
        }
        // The page's ETag is read first: whoever writes the page after us has read the
        // history after our write of it.
        let page_before = reports::get(s3, bucket, HTML).await?.map(|v| v.etag);
        let stored = reports::get(s3, bucket, JSON).await?;
        let history = match &stored {
            Some(v) => serde_json::from_slice(&v.body).map_err(|e| TaskError::Unexpected {
                message: format!("{JSON} is not a run history: {e}"),
            })?,
            None => index::History::default(),
        };
        let history = index::merge(history, entry.clone());
        let body = serde_json::to_vec_pretty(&history).map_err(unexpected)?;
        let expect = match &stored {
            Some(v) => reports::Expect::Unchanged(&v.etag),
            None => reports::Expect::Absent,
        };
        if !reports::put_if(s3, bucket, JSON, body, "application/json", expect).await? {
            continue;
        }
        let page = html::index_page(&history.runs).map_err(|e| TaskError::Unexpected {
            message: format!("rendering runs/index.html: {e}"),
        })?;
        let expect = match &page_before {
            Some(etag) => reports::Expect::Unchanged(etag),
            None => reports::Expect::Absent,
        };
        if reports::put_if(
            s3,
            bucket,
            HTML,
            page.into_bytes(),
            "text/html; charset=utf-8",
            expect,
        )
        .await?
        {
            return Ok(());
        }
    }
    Err(TaskError::Conflict {
        message: format!(
            "the run history (runs/index.json) changed under {INDEX_ATTEMPTS} attempts in a row; this run's report is written, its history entry is not"
        ),
    })
}

fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn now_text() -> Result<String, TaskError> {
    crate::aws::api_time(SystemTime::now())
}

fn unexpected(e: serde_json::Error) -> TaskError {
    TaskError::Unexpected {
        message: format!("serialising the report: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(input: Value) -> Result<(RunFacts, String), TaskError> {
        parse_refused(serde_json::json!({
            "workflow": "RECOVERY_PLAN",
            "input": input,
            "executionId": "arn:aws:states:eu-west-1:123456789012:execution:rp:x",
            "startedAt": "2026-11-25T06:00:00Z",
        }))
    }

    #[test]
    fn a_refused_run_is_reported_from_whatever_input_it_had() {
        let cause = r#"{"errorType":"InvalidInput","errorMessage":"plan: isDrill is required"}"#;
        let (facts, subject) = refused(serde_json::json!({
            "plan": {"planName": "monthly", "isDrill": true},
            "trigger": {"kind": "SCHEDULE"},
            "error": {"Error": "InvalidInput", "Cause": cause},
        }))
        .unwrap();
        assert_eq!(subject, "Drill of monthly refused, nothing started");
        assert_eq!(facts.plan_name, "monthly");
        assert_eq!(facts.is_drill, Some(true));
        assert_eq!(facts.trigger, "SCHEDULE");
        assert_eq!(facts.outcome.error.as_deref(), Some("InvalidInput"));
        assert_eq!(
            facts.outcome.cause.as_deref(),
            Some("plan: isDrill is required")
        );
        let report = crate::report::measure::report(&facts, &Evidence::default());
        assert_eq!(report.verdict.state, "MISSED");
        assert!(report
            .verdict
            .summary
            .contains("refused before it began (InvalidInput)"));
        assert!(report.servers.is_empty() && report.waves.is_empty());
        assert!(html::report_page(&report).unwrap().contains("InvalidInput"));
        // Garbage in: still a report, of an unnamed plan.
        let (facts, subject) = refused(serde_json::json!([1, 2, 3])).unwrap();
        assert_eq!(subject, "Recovery of unnamed plan refused, nothing started");
        assert_eq!(facts.plan_name, "unnamed plan");
        assert_eq!(facts.trigger, "CONSOLE");
        assert_eq!(facts.outcome.error.as_deref(), Some("Unexpected"));
        // The request itself must be well-formed.
        let err = parse_refused(serde_json::json!({"workflow": "RECOVERY_PLAN", "input": {}, "executionId": "x", "startedAt": "2026-11-25T06:00:00Z"})).unwrap_err();
        assert!(
            matches!(err, TaskError::InvalidInput { ref field, .. } if field == "executionId"),
            "{err:?}"
        );
    }

    #[test]
    fn a_scheduled_drill_whose_plan_is_busy_is_skipped_and_nothing_else_is() {
        let busy = |trigger: &str, is_drill: bool, error: &str| {
            refused(serde_json::json!({
                "plan": {"planName": "monthly", "isDrill": is_drill},
                "trigger": {"kind": trigger},
                "error": {"Error": error, "Cause": "arn:aws:states:eu-west-1:123456789012:execution:rp:last runs"},
            }))
            .unwrap()
        };
        let (facts, subject) = busy("SCHEDULE", true, "PlanBusy");
        assert_eq!(facts.outcome.state, OutcomeState::Skipped);
        assert_eq!(
            subject,
            "Drill of monthly skipped: the last drill still runs"
        );
        let report = crate::report::measure::report(&facts, &Evidence::default());
        assert_eq!(report.verdict.state, "SKIPPED");
        assert!(report.verdict.summary.contains("execution:rp:last runs"));
        // A person's second run, a real recovery, or another refusal: failed, as before.
        for (trigger, is_drill, error) in [
            ("CONSOLE", true, "PlanBusy"),
            ("SCHEDULE", false, "PlanBusy"),
            ("EVENT", false, "PlanBusy"),
            ("SCHEDULE", true, "PreflightBlocked"),
        ] {
            let (facts, subject) = busy(trigger, is_drill, error);
            assert_eq!(
                facts.outcome.state,
                OutcomeState::Failed,
                "{trigger} {error}"
            );
            assert!(subject.ends_with("refused, nothing started"), "{subject}");
        }
    }

    #[test]
    fn plan_names_become_safe_key_parts() {
        assert_eq!(key_safe("payments app/v2"), "payments-app-v2");
        assert_eq!(key_safe(".."), "unnamed");
        assert_eq!(key_safe("Q4 drill_1.x"), "Q4-drill_1.x");
    }
}
