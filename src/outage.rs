//! The outage budget: how long one step of a run keeps going through AWS answering throttled or
//! unavailable before it gives up, one setting for every step (`DR_OUTAGE_BUDGET_SECONDS`, the
//! template's `OutageBudgetSeconds`, 30 minutes by default).
//!
//! The workflow retries `Throttled` and `AwsUnavailable` with a backoff and far more attempts
//! than any budget needs; the budget is what ends the retries. Each task that reaches DRS or
//! AWS Backup sends the time its state was entered (`$$.State.EnteredTime`, which a Step
//! Functions retry keeps) as `stepEnteredAt`; [`Budget::take`] removes it from the payload
//! before the handler parses it, and [`Budget::judge`] turns a throttled or unavailable answer
//! that comes after the budget is spent into [`TaskError::AwsOutage`], which no `Retry` matches.
//! Its range is [`crate::plan::OUTAGE_BUDGET_SECONDS`].

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::error::TaskError;

/// The payload field a task's entry time travels in.
pub const ENTERED_AT: &str = "stepEnteredAt";

/// One invocation's budget: since when its step has been trying, and for how long it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// When the step was entered; `None` when the payload did not say (a direct invocation),
    /// and then no error is changed.
    pub since: Option<SystemTime>,
    pub allowed: Duration,
}

impl Budget {
    /// Takes `stepEnteredAt` out of `payload` (an object). A value that is not an RFC 3339
    /// time is `InvalidInput` naming the field.
    pub fn take(allowed_seconds: u64, payload: &mut Value) -> Result<Budget, TaskError> {
        let since = match payload.as_object_mut().and_then(|p| p.remove(ENTERED_AT)) {
            None => None,
            Some(raw) => Some(raw.as_str().and_then(parse_time).ok_or_else(|| {
                TaskError::invalid(
                    ENTERED_AT,
                    "must be an RFC 3339 time ($$.State.EnteredTime)",
                )
            })?),
        };
        Ok(Budget {
            since,
            allowed: Duration::from_secs(allowed_seconds),
        })
    }

    /// `err` as the step should report it at `now`: a throttled or unavailable answer once
    /// the budget is spent becomes [`TaskError::AwsOutage`]; anything else is unchanged.
    pub fn judge(&self, err: TaskError, now: SystemTime) -> TaskError {
        let Some(since) = self.since else { return err };
        let spent = now.duration_since(since).unwrap_or_default();
        match err {
            TaskError::Throttled { message, .. } | TaskError::AwsUnavailable { message }
                if spent >= self.allowed =>
            {
                TaskError::AwsOutage {
                    budget_seconds: self.allowed.as_secs(),
                    spent_seconds: spent.as_secs(),
                    message,
                }
            }
            other => other,
        }
    }
}

/// Runs `handler` on `event` with the step's budget taken out of the payload, and judges its
/// error against it.
pub async fn within<T, F, Fut>(
    allowed_seconds: u64,
    mut event: LambdaEvent<Value>,
    handler: F,
) -> Result<T, TaskError>
where
    F: FnOnce(LambdaEvent<Value>, Budget) -> Fut,
    Fut: Future<Output = Result<T, TaskError>>,
{
    let budget = Budget::take(allowed_seconds, &mut event.payload)?;
    // Boxed: the handlers' futures are deep, and each binary's `main` awaits all twelve.
    Box::pin(handler(event, budget))
        .await
        .map_err(|err| budget.judge(err, SystemTime::now()))
}

/// Parses the times Step Functions writes (`2026-12-07T17:00:00.123Z`; the local interpreter
/// writes an offset, `+00:00`).
fn parse_time(text: &str) -> Option<SystemTime> {
    let t = DateTime::from_str(text, Format::DateTimeWithOffset).ok()?;
    SystemTime::try_from(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unavailable() -> TaskError {
        TaskError::AwsUnavailable {
            message: "DescribeJobs: 503".into(),
        }
    }

    fn at(text: &str) -> SystemTime {
        parse_time(text).unwrap()
    }

    #[test]
    fn the_entry_time_is_taken_out_of_the_payload_in_either_form() {
        for text in ["2026-12-07T17:00:00.250Z", "2026-12-07T17:00:00.250+00:00"] {
            let mut payload = json!({"operation": "ROUND", "stepEnteredAt": text});
            let budget = Budget::take(1800, &mut payload).unwrap();
            assert_eq!(payload, json!({"operation": "ROUND"}));
            assert_eq!(budget.since, Some(at("2026-12-07T17:00:00.250Z")));
            assert_eq!(budget.allowed, Duration::from_secs(1800));
        }
        let mut bare = json!({"jobs": []});
        assert_eq!(Budget::take(60, &mut bare).unwrap().since, None);
        for bad in [json!("yesterday"), json!(17)] {
            let mut payload = json!({"stepEnteredAt": bad});
            let err = Budget::take(60, &mut payload).unwrap_err();
            assert!(
                matches!(&err, TaskError::InvalidInput { field, .. } if field == "stepEnteredAt"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn throttled_or_unavailable_becomes_an_outage_once_the_budget_is_spent_and_not_before() {
        let budget = Budget {
            since: Some(at("2026-12-07T17:00:00Z")),
            allowed: Duration::from_secs(1800),
        };
        let inside = at("2026-12-07T17:29:59Z");
        let after = at("2026-12-07T17:30:00Z");
        assert_eq!(budget.judge(unavailable(), inside), unavailable());
        assert_eq!(
            budget.judge(unavailable(), after),
            TaskError::AwsOutage {
                budget_seconds: 1800,
                spent_seconds: 1800,
                message: "DescribeJobs: 503".into(),
            }
        );
        let throttled = TaskError::Throttled {
            message: "StartRecovery: ThrottlingException".into(),
            retry_after_seconds: Some(1),
        };
        assert_eq!(budget.judge(throttled, after).name(), "AwsOutage");
        // Errors that are not an outage pass unchanged, however late.
        let conflict = TaskError::Conflict {
            message: "busy".into(),
        };
        assert_eq!(budget.judge(conflict.clone(), after), conflict);
        // Without an entry time there is no budget to spend.
        let unknown = Budget {
            since: None,
            ..budget
        };
        assert_eq!(unknown.judge(unavailable(), after), unavailable());
    }

    #[tokio::test]
    async fn within_hands_the_handler_a_payload_without_the_entry_time() {
        let event = LambdaEvent::new(
            json!({"stepEnteredAt": "2000-01-01T00:00:00Z", "x": 1}),
            lambda_runtime::Context::default(),
        );
        let err = within(60, event, |event, _| async move {
            assert_eq!(event.payload, json!({"x": 1}));
            Err::<(), _>(unavailable())
        })
        .await
        .unwrap_err();
        assert_eq!(err.name(), "AwsOutage");
    }
}
