//! Answers to approval requests, with no I/O: who may answer (the deployment's approver
//! principals, matched against the caller AWS verified), what an answer must say, and the one
//! shape the workflow accepts from the approval endpoint.
//!
//! The endpoint is a Lambda function URL with `AWS_IAM` auth: Lambda checks the SigV4
//! signature and the caller's `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` permissions
//! before the function runs,
//! and hands it the caller's ARN (`requestContext.authorizer.iam.userArn`). That ARN, not a
//! name typed into the request, is who answered.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::TaskError;

/// An approver's reason: required, and short enough for an e-mail and the report.
pub const MAX_REASON_CHARS: usize = 1000;
/// Hex digits of the execution's hash in an approval id.
const ID_HEX: usize = 20;
/// What an approval id starts with.
const ID_PREFIX: &str = "apr-";

/// The approval id of the request before wave `wave` of the execution `execution_id`: the same
/// id for every attempt of that wait, and nothing secret (the token stays in the stack).
pub fn approval_id(execution_id: &str, wave: usize) -> String {
    let digest = Sha256::digest(format!("{execution_id}#w{wave}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{ID_PREFIX}{}", &hex[..ID_HEX])
}

/// Whether `value` is an approval id as [`approval_id`] writes them.
pub fn is_approval_id(value: &str) -> bool {
    value.strip_prefix(ID_PREFIX).is_some_and(|hex| {
        hex.len() == ID_HEX && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    })
}

/// What the approver asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Approve,
    Reject,
}

/// The body of a request to the approval endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnswerRequest {
    pub approval_id: String,
    pub decision: Decision,
    /// Why: required, recorded with the verified caller in the report.
    pub reason: String,
}

impl AnswerRequest {
    /// Parses and checks a request body; every problem names its field.
    pub fn parse(body: &str) -> Result<Self, TaskError> {
        let value: serde_json::Value = serde_json::from_str(body)
            .map_err(|e| TaskError::invalid("body", format!("must be a JSON object: {e}")))?;
        let request: AnswerRequest = crate::contract::parse(value)?;
        if !is_approval_id(&request.approval_id) {
            return Err(TaskError::invalid(
                "approvalId",
                format!(
                    "must be the id the approval request names ({ID_PREFIX} and {ID_HEX} hex digits)"
                ),
            ));
        }
        let reason = request.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(TaskError::invalid(
                "reason",
                format!("must be 1 to {MAX_REASON_CHARS} characters, not blank"),
            ));
        }
        Ok(request)
    }
}

/// What the approval endpoint decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Approved,
    Rejected,
}

/// The approval endpoint's answer: the output it sends to the waiting run, the only one the
/// workflow takes as an approval (`Answered` routes on `verdict`; any other output, such as a
/// wake function's, is not an answer and the wave does not start).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalAnswer {
    pub approval_id: String,
    pub verdict: Verdict,
    /// The caller's ARN as AWS verified it (the function URL's IAM authorizer).
    pub by: String,
    /// When the endpoint recorded the answer (RFC 3339, UTC).
    pub at: String,
    /// The approver's reason.
    pub reason: String,
}

impl ApprovalAnswer {
    /// The answer `request` gives, from the verified caller `by`, recorded at `at`.
    pub fn of(request: &AnswerRequest, by: &str, at: String) -> Self {
        ApprovalAnswer {
            approval_id: request.approval_id.clone(),
            verdict: match request.decision {
                Decision::Approve => Verdict::Approved,
                Decision::Reject => Verdict::Rejected,
            },
            by: by.to_owned(),
            at,
            reason: request.reason.trim().to_owned(),
        }
    }
}

/// One principal the deployment lets answer (`DR_APPROVERS`, the stack's `ApproverPrincipals`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    /// An IAM role: any session of it (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`).
    Role {
        partition: String,
        account: String,
        name: String,
    },
    /// An IAM user, or one role session, named by its exact ARN.
    Exact(String),
}

/// Who may answer approval requests. Never empty, no wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvers(Vec<Principal>);

impl Approvers {
    /// Parses a comma-separated list of IAM role ARNs, IAM user ARNs and role-session ARNs.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut principals = Vec::new();
        for (i, entry) in raw.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            principals.push(principal(entry).ok_or_else(|| {
                format!(
                    "DR_APPROVERS entry {} ({entry:?}) must be an IAM role ARN (arn:aws:iam::123456789012:role/Name), an IAM user ARN (arn:aws:iam::123456789012:user/Name) or a role session ARN (arn:aws:sts::123456789012:assumed-role/Name/session), without wildcards",
                    i + 1
                )
            })?);
        }
        if principals.is_empty() {
            return Err("DR_APPROVERS is empty: the deployment must name who may approve a run (the stack's ApproverPrincipals)".into());
        }
        Ok(Approvers(principals))
    }

    /// Whether `caller` (the ARN AWS verified) is one of the approvers.
    pub fn admit(&self, caller: &str) -> bool {
        let session = session_of(caller);
        self.0.iter().any(|p| match p {
            Principal::Exact(arn) => arn == caller,
            Principal::Role {
                partition,
                account,
                name,
            } => session
                .as_ref()
                .is_some_and(|s| (&s.0, &s.1, &s.2) == (partition, account, name)),
        })
    }
}

/// `(partition, account, role name)` of an assumed-role session ARN.
fn session_of(arn: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, "sts", "", account, resource] = parts.as_slice() else {
        return None;
    };
    let mut path = resource.strip_prefix("assumed-role/")?.split('/');
    let (name, session) = (path.next()?, path.next()?);
    (!name.is_empty() && !session.is_empty() && path.next().is_none()).then(|| {
        (
            (*partition).to_owned(),
            (*account).to_owned(),
            name.to_owned(),
        )
    })
}

fn principal(entry: &str) -> Option<Principal> {
    if entry.contains('*') || entry.contains('?') {
        return None;
    }
    let parts: Vec<&str> = entry.splitn(6, ':').collect();
    let ["arn", partition, service, "", account, resource] = parts.as_slice() else {
        return None;
    };
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    if !account_ok || partition.is_empty() {
        return None;
    }
    match *service {
        "iam" => {
            if let Some(role) = resource.strip_prefix("role/") {
                // A role's sessions name the role without its path.
                let name = role.rsplit('/').next().filter(|n| !n.is_empty())?;
                return Some(Principal::Role {
                    partition: (*partition).to_owned(),
                    account: (*account).to_owned(),
                    name: name.to_owned(),
                });
            }
            let user = resource.strip_prefix("user/")?;
            (!user.is_empty() && !user.ends_with('/')).then(|| Principal::Exact(entry.to_owned()))
        }
        "sts" => session_of(entry).map(|_| Principal::Exact(entry.to_owned())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_ids_are_stable_per_wave_and_differ_between_waves_and_runs() {
        let run = "arn:aws:states:eu-west-1:123456789012:execution:dr:run-1";
        let id = approval_id(run, 0);
        assert_eq!(id, approval_id(run, 0));
        assert_ne!(id, approval_id(run, 1));
        assert_ne!(id, approval_id(&run.replace("run-1", "run-2"), 0));
        assert!(is_approval_id(&id), "{id}");
        assert_eq!(id.len(), 24);
        for bad in [
            "",
            "apr-",
            "apr-0123456789abcdef012",
            "apr-0123456789ABCDEF0123",
            "x",
        ] {
            assert!(!is_approval_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_role_admits_its_sessions_and_nothing_else() {
        let approvers = Approvers::parse(
            "arn:aws:iam::123456789012:role/ops/DrApprover, arn:aws:iam::123456789012:user/alice",
        )
        .unwrap();
        for (caller, admitted) in [
            (
                "arn:aws:sts::123456789012:assumed-role/DrApprover/alice@example.com",
                true,
            ),
            ("arn:aws:iam::123456789012:user/alice", true),
            ("arn:aws:iam::123456789012:user/mallory", false),
            (
                "arn:aws:sts::123456789012:assumed-role/DrApproverX/alice",
                false,
            ),
            (
                "arn:aws:sts::210987654321:assumed-role/DrApprover/alice",
                false,
            ),
            (
                "arn:aws-cn:sts::123456789012:assumed-role/DrApprover/alice",
                false,
            ),
            ("arn:aws:iam::123456789012:role/ops/DrApprover", false),
            // Not a session ARN AWS writes: no session name, one part too many, no role name.
            ("arn:aws:sts::123456789012:assumed-role/DrApprover/", false),
            (
                "arn:aws:sts::123456789012:assumed-role/DrApprover/alice/x",
                false,
            ),
            ("arn:aws:sts::123456789012:assumed-role//alice", false),
            ("arn:aws:iam::123456789012:root", false),
            ("DrApprover", false),
            ("", false),
        ] {
            assert_eq!(approvers.admit(caller), admitted, "{caller}");
        }
        let one_session =
            Approvers::parse("arn:aws:sts::123456789012:assumed-role/DrApprover/alice").unwrap();
        assert!(one_session.admit("arn:aws:sts::123456789012:assumed-role/DrApprover/alice"));
        assert!(!one_session.admit("arn:aws:sts::123456789012:assumed-role/DrApprover/bob"));
    }

    #[test]
    fn the_approver_list_is_never_empty_and_never_a_wildcard() {
        for raw in [
            "",
            " , ",
            "*",
            "arn:aws:iam::123456789012:role/*",
            "arn:aws:iam::*:role/A",
            "arn:aws:iam::12345678901:role/A",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:group/ops",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::123456789012:user/ops/",
        ] {
            assert!(Approvers::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn a_request_names_the_approval_a_decision_and_a_reason() {
        let id = approval_id("arn:x", 0);
        let ok = AnswerRequest::parse(&format!(
            r#"{{"approvalId": "{id}", "decision": "APPROVE", "reason": "failover agreed on the bridge call"}}"#
        ))
        .unwrap();
        assert_eq!(ok.decision, Decision::Approve);
        let field = |body: String| match AnswerRequest::parse(&body) {
            Err(TaskError::InvalidInput { field, .. }) => field,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(
            field(r#"{"approvalId": "x", "decision": "APPROVE", "reason": "r"}"#.to_owned()),
            "approvalId"
        );
        assert_eq!(
            field(format!(
                r#"{{"approvalId": "{id}", "decision": "APPROVE", "reason": "  "}}"#
            )),
            "reason"
        );
        // A reason is 1 to 1,000 characters.
        assert_eq!(
            field(format!(
                r#"{{"approvalId": "{id}", "decision": "APPROVE", "reason": "{}"}}"#,
                "r".repeat(1001)
            )),
            "reason"
        );
        let longest = format!(
            r#"{{"approvalId": "{id}", "decision": "APPROVE", "reason": "{}"}}"#,
            "é".repeat(1000)
        );
        assert_eq!(
            AnswerRequest::parse(&longest)
                .unwrap()
                .reason
                .chars()
                .count(),
            1000
        );
        assert_eq!(
            field(format!(
                r#"{{"approvalId": "{id}", "decision": "YES", "reason": "r"}}"#
            )),
            "decision"
        );
        // A name typed into the request is not who answered: the field does not exist.
        assert_eq!(
            field(format!(
                r#"{{"approvalId": "{id}", "decision": "APPROVE", "reason": "r", "approvedBy": "ceo"}}"#
            )),
            "approvedBy"
        );
    }
}
