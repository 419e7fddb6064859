//! `await-approval`: the wait for a person's answer. Step Functions invokes it with the waiting
//! task's token (`lambda:invoke.waitForTaskToken`) after the request was published; it keeps
//! the token in the approvals table, inside the stack, and returns. Only the approval endpoint
//! (`answer-approval`) resumes the task, and only with an approver's answer; the task's own
//! timeout (`approvalTimeoutSeconds`) ends the wait otherwise. A wait whose approval was
//! answered already (an earlier attempt of the same wait) gets that answer at once.

use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::approval::is_approval_id;
use crate::aws::approvals_table::{ApprovalsTable, Held};
use crate::contract;
use crate::error::TaskError;

/// What `Wait for the answer` sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwaitInput {
    pub approval_id: String,
    /// `$$.Execution.Id`: the run that waits.
    pub execution_id: String,
    pub timeout_seconds: u64,
    /// `$$.Task.Token`.
    pub token: String,
}

/// What the invocation did (the waiting task's result comes from the endpoint's
/// `SendTaskSuccess`, not from here: this is for the logs and the tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiting {
    pub approval_id: String,
    pub answered_at_once: bool,
}

/// Checks an input before any AWS call.
pub fn validate(input: &AwaitInput) -> Result<(), TaskError> {
    if !is_approval_id(&input.approval_id) {
        return Err(TaskError::invalid(
            "approvalId",
            "must be an approval id as prepare-plan writes it",
        ));
    }
    if !input.execution_id.starts_with("arn:") {
        return Err(TaskError::invalid(
            "executionId",
            "must be the execution's ARN ($$.Execution.Id)",
        ));
    }
    // SendTaskSuccess: taskToken is 1 to 2,048 characters.
    if input.token.is_empty() || input.token.chars().count() > 2048 {
        return Err(TaskError::invalid(
            "token",
            "must be the task token ($$.Task.Token), 1 to 2,048 characters",
        ));
    }
    Ok(())
}

/// Handles one invocation.
pub async fn handle(
    table: &ApprovalsTable,
    event: LambdaEvent<Value>,
) -> Result<Waiting, TaskError> {
    let input: AwaitInput = contract::parse(event.payload)?;
    validate(&input)?;
    let held = table
        .hold(
            &input.approval_id,
            &input.execution_id,
            &input.token,
            input.timeout_seconds,
        )
        .await?;
    let answered_at_once = match held {
        Held::Waiting => false,
        Held::Answered(answer) => {
            table.resume(&input.token, &answer).await?;
            true
        }
    };
    info!(approval = %input.approval_id, answered_at_once, "waiting for an answer");
    Ok(Waiting {
        approval_id: input.approval_id,
        answered_at_once,
    })
}
