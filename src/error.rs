//! The one error type every task returns, and the stable Step Functions error names that
//! `Retry` and `Catch` in `statemachine/` match on.

use lambda_runtime::Diagnostic;

/// Every error name of this project: first the ones a task can produce (one per
/// [`TaskError`] variant, in order), then the ones the workflows raise themselves when a job
/// they judged did not succeed. The state machines match and fail only with these (and the
/// Lambda service's own transient errors); a test checks that.
pub const ERROR_NAMES: &[&str] = &[
    "InvalidInput",
    "Throttled",
    "Conflict",
    "QuotaExceeded",
    "NotFound",
    "AccessDenied",
    "AwsRejected",
    "AwsUnavailable",
    "UnknownStatus",
    "Unexpected",
    "PreflightBlocked",
    "NotListedYet",
    "PlanBusy",
    "AwsOutage",
    // Raised by the workflows:
    "RecoveryFailed",
    "FailbackFailed",
    "RestoreFailed",
    "TimedOut",
    // A wave judged while a job it started still ran, before giveUpAfterSeconds: its rounds
    // ended early on a status check that failed.
    "Unsettled",
    // An approval request rejected at the approval endpoint, not answered in time, or resumed
    // by something other than the endpoint:
    "Rejected",
    "ApprovalTimedOut",
    "NotAnAnswer",
    // A drill's instances could not all be terminated:
    "CleanupFailed",
];

/// How many problems of an invalid plan one error spells out.
pub const MAX_LISTED_PROBLEMS: usize = 20;

/// A task failure. Its [`TaskError::name`] becomes the Lambda `errorType`, which Step Functions
/// uses as the error name.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TaskError {
    /// The payload broke a constraint; nothing was sent to AWS.
    #[error("invalid input: {field}: {constraint}")]
    InvalidInput { field: String, constraint: String },
    /// AWS throttled the call after the SDK's own retries. Retryable.
    #[error("throttled by AWS: {message}{}", retry_hint(*.retry_after_seconds))]
    Throttled {
        message: String,
        retry_after_seconds: Option<u64>,
    },
    /// A resource is busy, e.g. a source server is already in an active DRS job.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// A service quota (servers per job, servers in active jobs, concurrent jobs) is exhausted.
    #[error("quota exceeded: {message}")]
    QuotaExceeded { message: String },
    /// A job, server or recovery point does not exist.
    #[error("not found: {message}")]
    NotFound { message: String },
    /// The function's role, or the account's DRS setup, does not allow the call.
    #[error("access denied: {message}")]
    AccessDenied { message: String },
    /// AWS rejected a request that passed local validation.
    #[error("rejected by AWS: {message}")]
    AwsRejected { message: String },
    /// AWS failed or could not be reached. Retryable.
    #[error("AWS unavailable: {message}")]
    AwsUnavailable { message: String },
    /// AWS answered with a status value this version does not know; waiting on it could last
    /// forever, so the run stops here.
    #[error("unknown {what} {value:?} from AWS: upgrade dr-orchestrator or check the job by hand")]
    UnknownStatus { what: &'static str, value: String },
    /// Anything else.
    #[error("unexpected: {message}")]
    Unexpected { message: String },
    /// The plan is valid, but what AWS reports about its servers says it cannot succeed
    /// (`prepare-plan`'s preflight); nothing was started.
    #[error("preflight blocked the plan: {message}")]
    PreflightBlocked { message: String },
    /// AWS does not list yet a job this run started: its reads are eventually consistent, so a
    /// job started moments ago may be missing for a while. Retryable (unlike `NotFound`).
    #[error("not listed yet: {message}")]
    NotListedYet { message: String },
    /// Another run of the same plan is running (`prepare-plan`'s lease): one run per plan;
    /// nothing was started.
    #[error("plan {plan:?} is already running in {execution} ({what}, since {since}): one run per plan; this run started nothing")]
    PlanBusy {
        plan: String,
        execution: String,
        what: String,
        since: String,
    },
    /// AWS kept answering throttled or unavailable for longer than the outage budget
    /// ([`crate::outage`]): the step gave up. Not retried.
    #[error("AWS answered throttled or unavailable for {spent_seconds} s, longer than the outage budget ({budget_seconds} s): {message}")]
    AwsOutage {
        budget_seconds: u64,
        spent_seconds: u64,
        message: String,
    },
}

fn retry_hint(secs: Option<u64>) -> String {
    secs.map(|s| format!(" (retry after {s} s)"))
        .unwrap_or_default()
}

impl TaskError {
    /// One `InvalidInput` for every problem found in a plan (`path: constraint`), the first
    /// path as its field when there is one problem, `plan` when there are more; at most [`MAX_LISTED_PROBLEMS`] are spelled out.
    pub fn invalid_all(problems: &[(String, String)]) -> Self {
        let (field, constraint) = match problems {
            [] => ("payload".to_owned(), "invalid".to_owned()),
            [(field, constraint)] => (field.clone(), constraint.clone()),
            _ => {
                let mut listed: Vec<String> = problems
                    .iter()
                    .take(MAX_LISTED_PROBLEMS)
                    .map(|(f, c)| format!("{f}: {c}"))
                    .collect();
                if problems.len() > MAX_LISTED_PROBLEMS {
                    listed.push(format!("and {} more", problems.len() - MAX_LISTED_PROBLEMS));
                }
                (
                    "plan".to_owned(),
                    format!("{} problems: {}", problems.len(), listed.join("; ")),
                )
            }
        };
        TaskError::InvalidInput { field, constraint }
    }

    /// Shorthand for [`TaskError::InvalidInput`].
    pub fn invalid(field: impl Into<String>, constraint: impl Into<String>) -> Self {
        TaskError::InvalidInput {
            field: field.into(),
            constraint: constraint.into(),
        }
    }

    /// This error with its field named under `prefix` (`restore.` + `metadata`), when it is
    /// an [`TaskError::InvalidInput`]; any other error unchanged.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            TaskError::InvalidInput { field, constraint } => TaskError::InvalidInput {
                field: format!("{prefix}{field}"),
                constraint,
            },
            other => other,
        }
    }

    /// The stable Step Functions error name of this error (one of [`ERROR_NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            TaskError::InvalidInput { .. } => "InvalidInput",
            TaskError::Throttled { .. } => "Throttled",
            TaskError::Conflict { .. } => "Conflict",
            TaskError::QuotaExceeded { .. } => "QuotaExceeded",
            TaskError::NotFound { .. } => "NotFound",
            TaskError::AccessDenied { .. } => "AccessDenied",
            TaskError::AwsRejected { .. } => "AwsRejected",
            TaskError::AwsUnavailable { .. } => "AwsUnavailable",
            TaskError::UnknownStatus { .. } => "UnknownStatus",
            TaskError::Unexpected { .. } => "Unexpected",
            TaskError::PreflightBlocked { .. } => "PreflightBlocked",
            TaskError::NotListedYet { .. } => "NotListedYet",
            TaskError::PlanBusy { .. } => "PlanBusy",
            TaskError::AwsOutage { .. } => "AwsOutage",
        }
    }
}

impl From<TaskError> for Diagnostic {
    fn from(err: TaskError) -> Self {
        Diagnostic {
            error_type: err.name().to_owned(),
            error_message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_listed_name() {
        let all = [
            TaskError::invalid("f", "c"),
            TaskError::Throttled {
                message: String::new(),
                retry_after_seconds: None,
            },
            TaskError::Conflict {
                message: String::new(),
            },
            TaskError::QuotaExceeded {
                message: String::new(),
            },
            TaskError::NotFound {
                message: String::new(),
            },
            TaskError::AccessDenied {
                message: String::new(),
            },
            TaskError::AwsRejected {
                message: String::new(),
            },
            TaskError::AwsUnavailable {
                message: String::new(),
            },
            TaskError::UnknownStatus {
                what: "x",
                value: String::new(),
            },
            TaskError::Unexpected {
                message: String::new(),
            },
            TaskError::PreflightBlocked {
                message: String::new(),
            },
            TaskError::NotListedYet {
                message: String::new(),
            },
            TaskError::PlanBusy {
                plan: String::new(),
                execution: String::new(),
                what: String::new(),
                since: String::new(),
            },
            TaskError::AwsOutage {
                budget_seconds: 0,
                spent_seconds: 0,
                message: String::new(),
            },
        ];
        let names: Vec<_> = all.iter().map(TaskError::name).collect();
        assert_eq!(names, ERROR_NAMES[..names.len()]);
    }

    #[test]
    fn diagnostic_carries_the_stable_name_and_the_retry_hint() {
        let d = Diagnostic::from(TaskError::Throttled {
            message: "Rate exceeded".into(),
            retry_after_seconds: Some(7),
        });
        assert_eq!(d.error_type, "Throttled");
        assert_eq!(
            d.error_message,
            "throttled by AWS: Rate exceeded (retry after 7 s)"
        );
    }
}
