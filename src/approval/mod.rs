//! Approvals, with no I/O: which waves of a run wait for a person, and what the request that
//! person reads says. The workflow publishes the request (plain text, naming an approval id,
//! never the task token) to the approvals topic, then waits: `await-approval` keeps the wait's
//! task token in the approvals table, inside the stack. A person answers through the approval
//! endpoint (`answer-approval`, a function URL with `AWS_IAM` auth), which checks the caller AWS
//! verified against the deployment's approvers and only then resumes the run with an
//! [`ApprovalAnswer`]; no answer within `options.approvalTimeoutSeconds` ends the run with
//! `ApprovalTimedOut`.
//!
//! Who must approve:
//! - a real run (a real recovery, a failback, a restore-only run: each changes production),
//!   unless the deployment's `RealRunApproval` is `NOT_REQUIRED`. Only the deployment may waive
//!   it: a real run whose plan says `options.approval: "NOT_REQUIRED"` while the deployment
//!   requires approval is refused before anything starts ([`is_real`],
//!   `plan::check::approval_not_waived`);
//! - a real recovery started by a disaster event, always, unless the deployment sets
//!   `SkipApprovalForDisasterEvents` (dangerous, off by default), whatever `RealRunApproval` says;
//! - a drill only when its plan says `options.approval: "REQUIRED"`;
//! - any wave that says `"pauseBefore": true`, drills too.

mod answer;
mod message;

pub use answer::{
    approval_id, is_approval_id, AnswerRequest, ApprovalAnswer, Approvers, Decision, Verdict,
    MAX_REASON_CHARS,
};

use serde::{Deserialize, Serialize};

use crate::plan::input::{Trigger, TriggerKind, Workflow};
use crate::plan::options::ApprovalMode;
use crate::preflight::PreflightReport;

/// SNS: a subject is printable ASCII and "must be less than 100 characters long".
pub const MAX_SUBJECT_LEN: usize = 99;
/// Findings spelled out in a request (the rest are counted).
pub const LISTED_FINDINGS: usize = 10;

/// What decides the run-level approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The plan's `options.approval`, if it gave one.
    pub plan: Option<ApprovalMode>,
    /// The deployment's default for real recoveries and failbacks (`DR_DEFAULT_APPROVAL`).
    pub deployment_default: ApprovalMode,
    /// `DR_DISASTER_EVENTS_SKIP_APPROVAL`: a disaster event's real recovery starts unasked.
    pub disaster_events_skip: bool,
}

/// Whether a run changes production: a real recovery, a failback, a restore-only run.
pub fn is_real(workflow: Workflow, is_drill: bool) -> bool {
    match workflow {
        Workflow::RecoveryPlan => !is_drill,
        Workflow::Failback | Workflow::Restore => true,
    }
}

/// Why a run must be approved before it starts, or `None`.
pub fn run_reason(
    policy: Policy,
    workflow: Workflow,
    is_drill: bool,
    trigger: TriggerKind,
) -> Option<String> {
    let real = is_real(workflow, is_drill);
    let what = match workflow {
        Workflow::Failback => "a failback",
        Workflow::Restore => "a restore",
        _ if real => "a real recovery",
        _ => "this drill",
    };
    if real && trigger == TriggerKind::Event && !policy.disaster_events_skip {
        return Some(format!(
            "{what} started by an event always waits for a person (the deployment's SkipApprovalForDisasterEvents is false)"
        ));
    }
    if real && policy.deployment_default == ApprovalMode::Required {
        // A plan's NOT_REQUIRED was refused before this (plan::check): only the deployment
        // waives a real run's approval.
        return Some(format!(
            "{what} waits for a person (the deployment's RealRunApproval is REQUIRED)"
        ));
    }
    (policy.plan == Some(ApprovalMode::Required))
        .then(|| format!("the plan asks for approval before {what} (options.approval REQUIRED)"))
}

/// One wave's approval, as the workflow reads it: `required` routes, the rest is what the
/// notification says.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveApproval {
    pub required: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ask: Option<Ask>,
}

impl WaveApproval {
    pub fn not_required() -> Self {
        WaveApproval {
            required: false,
            ask: None,
        }
    }
}

/// What the workflow publishes and how long it waits.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ask {
    /// What the approver names in the answer ([`approval_id`]); not a secret.
    pub approval_id: String,
    /// The e-mail subject: short, printable ASCII.
    pub subject: String,
    /// The e-mail body: plain text a person can read, with how to answer.
    pub message: String,
    pub reason: String,
    pub timeout_seconds: u64,
    pub request: Request,
}

/// What will happen if the person approves.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub plan_name: String,
    pub workflow: Workflow,
    pub is_drill: bool,
    /// The wave that starts once approved (`wave 0 (db)`).
    pub wave: String,
    pub reason: String,
    pub servers: usize,
    pub restores: usize,
    pub waves: Vec<WaveCount>,
    pub preflight: PreflightSummary,
    pub trigger: Trigger,
    pub execution_id: String,
    pub timeout_seconds: u64,
}

/// One wave of the run, counted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveCount {
    pub name: String,
    pub servers: usize,
    pub restores: usize,
}

/// The preflight, short enough for an e-mail.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightSummary {
    pub verdict: crate::preflight::Verdict,
    pub blocking: usize,
    pub warnings: usize,
    pub findings: Vec<String>,
}

impl PreflightSummary {
    pub fn of(report: &PreflightReport) -> Self {
        PreflightSummary {
            verdict: report.verdict,
            blocking: report.blocking,
            warnings: report.warnings,
            findings: report
                .findings
                .iter()
                .take(LISTED_FINDINGS)
                .map(|f| {
                    let server = f
                        .source_server_id
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default();
                    format!(
                        "{:?} {} at {}{server}: {}",
                        f.severity, f.code, f.path, f.message
                    )
                })
                .collect(),
        }
    }
}

/// The approval request `approval_id` for the wave `request.wave`; `endpoint` is the approval
/// endpoint's URL, where the deployment has one.
pub fn ask(request: Request, approval_id: String, endpoint: Option<&str>) -> WaveApproval {
    let kind = match (request.workflow, request.is_drill) {
        (Workflow::Failback, _) => "failback",
        (Workflow::Restore, _) => "REAL restore",
        (_, true) => "drill",
        _ => "REAL recovery",
    };
    let size = match (request.servers, request.restores) {
        (servers, 0) => format!("{servers} servers"),
        (0, restores) => format!("{restores} restores"),
        (servers, restores) => format!("{servers} servers, {restores} restores"),
    };
    let subject = subject(&format!(
        "Approve {kind} of {}: {} before it starts ({size})",
        request.plan_name, request.wave
    ));
    WaveApproval {
        required: true,
        ask: Some(Ask {
            message: message::text(&request, kind, &approval_id, endpoint),
            approval_id,
            subject,
            reason: request.reason.clone(),
            timeout_seconds: request.timeout_seconds,
            request,
        }),
    }
}

/// An SNS subject: printable ASCII only (anything else becomes `?`), cut to
/// [`MAX_SUBJECT_LEN`] characters.
pub fn subject(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if clean.len() <= MAX_SUBJECT_LEN {
        clean
    } else {
        format!("{}...", &clean[..MAX_SUBJECT_LEN - 3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(plan: Option<ApprovalMode>) -> Policy {
        Policy {
            plan,
            deployment_default: ApprovalMode::Required,
            disaster_events_skip: false,
        }
    }

    #[test]
    fn a_real_run_waits_and_a_drill_does_not_by_default() {
        let p = policy(None);
        for (workflow, is_drill) in [
            (Workflow::RecoveryPlan, false),
            (Workflow::Failback, false),
            (Workflow::Restore, false),
        ] {
            let reason = run_reason(p, workflow, is_drill, TriggerKind::Console);
            assert!(
                reason
                    .as_deref()
                    .is_some_and(|r| r.contains("RealRunApproval")),
                "{workflow:?}: {reason:?}"
            );
        }
        assert!(run_reason(p, Workflow::RecoveryPlan, true, TriggerKind::Console).is_none());
        let asked = policy(Some(ApprovalMode::Required));
        assert!(run_reason(asked, Workflow::RecoveryPlan, true, TriggerKind::Schedule).is_some());
    }

    #[test]
    fn only_the_deployment_waives_a_real_runs_approval_and_never_a_disaster_events() {
        // A plan's waiver does not reach here (plan::check refuses it); were it to, the run
        // would still wait.
        let waived_by_plan = policy(Some(ApprovalMode::NotRequired));
        assert!(run_reason(
            waived_by_plan,
            Workflow::RecoveryPlan,
            false,
            TriggerKind::Console
        )
        .is_some());
        let deployment_waives = Policy {
            plan: None,
            deployment_default: ApprovalMode::NotRequired,
            disaster_events_skip: false,
        };
        for workflow in [
            Workflow::RecoveryPlan,
            Workflow::Failback,
            Workflow::Restore,
        ] {
            assert!(run_reason(deployment_waives, workflow, false, TriggerKind::Console).is_none());
        }
        // ... unless the plan itself asks.
        let plan_asks = Policy {
            plan: Some(ApprovalMode::Required),
            ..deployment_waives
        };
        assert!(run_reason(plan_asks, Workflow::Restore, false, TriggerKind::Console).is_some());
        let reason = run_reason(
            deployment_waives,
            Workflow::RecoveryPlan,
            false,
            TriggerKind::Event,
        )
        .expect("an event's real recovery waits");
        assert!(reason.contains("SkipApprovalForDisasterEvents"), "{reason}");
        let dangerous = Policy {
            disaster_events_skip: true,
            ..deployment_waives
        };
        assert!(run_reason(dangerous, Workflow::RecoveryPlan, false, TriggerKind::Event).is_none());
        // A drill from an event is not a real recovery: no forced approval.
        assert!(run_reason(
            policy(None),
            Workflow::RecoveryPlan,
            true,
            TriggerKind::Event
        )
        .is_none());
    }

    #[test]
    fn the_reason_says_what_the_run_is_and_who_made_it_wait() {
        let p = policy(None);
        let console = TriggerKind::Console;
        let required = "waits for a person (the deployment's RealRunApproval is REQUIRED)";
        for (workflow, is_drill, what) in [
            (Workflow::RecoveryPlan, false, "a real recovery"),
            (Workflow::Failback, false, "a failback"),
            (Workflow::Restore, false, "a restore"),
        ] {
            assert_eq!(
                run_reason(p, workflow, is_drill, console).as_deref(),
                Some(format!("{what} {required}").as_str())
            );
        }
        let asked = policy(Some(ApprovalMode::Required));
        assert_eq!(
            run_reason(asked, Workflow::RecoveryPlan, true, console).as_deref(),
            Some("the plan asks for approval before this drill (options.approval REQUIRED)")
        );
        assert_eq!(
            run_reason(p, Workflow::RecoveryPlan, false, TriggerKind::Event).as_deref(),
            Some("a real recovery started by an event always waits for a person (the deployment's SkipApprovalForDisasterEvents is false)")
        );
    }

    fn request(workflow: Workflow, is_drill: bool, servers: usize, restores: usize) -> Request {
        Request {
            plan_name: "payments".into(),
            workflow,
            is_drill,
            wave: "wave 0 (db)".into(),
            reason: "r".into(),
            servers,
            restores,
            waves: vec![],
            preflight: PreflightSummary {
                verdict: crate::preflight::Verdict::Passed,
                blocking: 0,
                warnings: 0,
                findings: vec![],
            },
            trigger: crate::plan::input::Trigger::console(),
            execution_id: "arn:aws:states:eu-west-1:123456789012:execution:dr:run-1".into(),
            timeout_seconds: 3600,
        }
    }

    #[test]
    fn the_subject_names_what_will_happen_and_its_size() {
        for (workflow, is_drill, servers, restores, subject) in [
            (
                Workflow::RecoveryPlan,
                false,
                3,
                0,
                "Approve REAL recovery of payments: wave 0 (db) before it starts (3 servers)",
            ),
            (
                Workflow::RecoveryPlan,
                true,
                3,
                1,
                "Approve drill of payments: wave 0 (db) before it starts (3 servers, 1 restores)",
            ),
            (
                Workflow::Failback,
                false,
                7,
                0,
                "Approve failback of payments: wave 0 (db) before it starts (7 servers)",
            ),
            (
                Workflow::Restore,
                false,
                0,
                2,
                "Approve REAL restore of payments: wave 0 (db) before it starts (2 restores)",
            ),
        ] {
            let approval = ask(
                request(workflow, is_drill, servers, restores),
                "apr-1".into(),
                None,
            );
            assert!(approval.required);
            let ask = approval.ask.unwrap();
            assert_eq!(ask.subject, subject);
            assert_eq!(
                (ask.approval_id.as_str(), ask.timeout_seconds),
                ("apr-1", 3600)
            );
        }
    }

    #[test]
    fn subjects_are_short_printable_ascii() {
        assert_eq!(
            subject("Approve drill of Zürich"),
            "Approve drill of Z?rich"
        );
        let long = subject(&"x".repeat(300));
        assert_eq!(long.len(), MAX_SUBJECT_LEN);
        assert!(long.ends_with("..."));
        assert_eq!(subject("a\nb"), "a?b");
    }
}
