//! The approval request as a person reads it in an e-mail: plain text, what will happen, why
//! now, what preflight found, and how to answer. It names the approval id, never the task
//! token: answering takes the approval endpoint, which checks who is calling.

use std::fmt::Write;

use super::Request;

/// The body of the approval request `approval_id` for `request` (`kind`: "REAL recovery",
/// "drill", ...), answered at `endpoint`.
pub fn text(request: &Request, kind: &str, approval_id: &str, endpoint: Option<&str>) -> String {
    let mut t = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(t, "APPROVAL NEEDED: {kind} of plan {:?}", request.plan_name);
    let _ = writeln!(t);
    let _ = writeln!(t, "Next wave:   {}", request.wave);
    let _ = writeln!(t, "Why asked:   {}", request.reason);
    let _ = writeln!(
        t,
        "In all:      {} servers, {} restores in {} waves",
        request.servers,
        request.restores,
        request.waves.len()
    );
    for wave in &request.waves {
        let _ = writeln!(
            t,
            "             {}: {} servers, {} restores",
            wave.name, wave.servers, wave.restores
        );
    }
    let p = &request.preflight;
    let _ = writeln!(
        t,
        "Preflight:   {:?}, {} blocking, {} warnings",
        p.verdict, p.blocking, p.warnings
    );
    for finding in &p.findings {
        let _ = writeln!(t, "             {finding}");
    }
    let started_by = match &request.trigger.event_id {
        Some(id) => format!("{:?} event {id}", request.trigger.kind),
        None => format!("{:?}", request.trigger.kind),
    };
    let _ = writeln!(t, "Started by:  {started_by}");
    let _ = writeln!(t, "Run:         {}", request.execution_id);
    let _ = writeln!(t);
    let _ = writeln!(t, "Approval id: {approval_id}");
    let _ = writeln!(
        t,
        "Answer within {} s, or the run ends with ApprovalTimedOut and nothing of this wave starts.",
        request.timeout_seconds
    );
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "To answer, call the approval endpoint signed with your own AWS credentials (an approver the deployment names; your verified ARN is recorded, with your reason):"
    );
    let url = endpoint.unwrap_or("<the stack's ApprovalEndpointUrl output>");
    let _ = writeln!(
        t,
        "  curl --aws-sigv4 aws:amz:<region>:lambda --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" -H \"x-amz-security-token: $AWS_SESSION_TOKEN\" -H 'content-type: application/json' {url} -d '{{\"approvalId\": \"{approval_id}\", \"decision\": \"APPROVE\", \"reason\": \"WHY\"}}'"
    );
    let _ = writeln!(t, "To reject: the same with \"decision\": \"REJECT\".");
    t
}

#[cfg(test)]
mod tests {
    use super::super::{PreflightSummary, WaveCount};
    use super::*;
    use crate::plan::input::{Trigger, Workflow};

    #[test]
    fn the_request_reads_as_plain_text_naming_the_approval_and_the_endpoint() {
        let request = Request {
            plan_name: "payments".into(),
            workflow: Workflow::RecoveryPlan,
            is_drill: false,
            wave: "wave 0 (db)".into(),
            reason: "a real recovery waits for a person".into(),
            servers: 3,
            restores: 1,
            waves: vec![WaveCount {
                name: "db".into(),
                servers: 3,
                restores: 1,
            }],
            preflight: PreflightSummary {
                verdict: crate::preflight::Verdict::Passed,
                blocking: 0,
                warnings: 0,
                findings: vec![],
            },
            trigger: Trigger::console(),
            execution_id: "arn:aws:states:eu-west-1:123456789012:execution:dr:run-1".into(),
            timeout_seconds: 3600,
        };
        let text = text(
            &request,
            "REAL recovery",
            "apr-0123456789abcdef0123",
            Some("https://abc.lambda-url.eu-west-1.on.aws/"),
        );
        assert!(
            text.starts_with("APPROVAL NEEDED: REAL recovery of plan \"payments\""),
            "{text}"
        );
        assert!(
            text.contains("Approval id: apr-0123456789abcdef0123"),
            "{text}"
        );
        assert!(
            text.contains("https://abc.lambda-url.eu-west-1.on.aws/"),
            "{text}"
        );
        assert!(text.contains("within 3600 s"), "{text}");
        assert!(!text.contains("taskToken"), "{text}");
    }
}
