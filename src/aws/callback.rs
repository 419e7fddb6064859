//! Resuming a task that waits on a token (Step Functions' callback pattern): what both the
//! wake functions and the approval functions send.

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::Client as Sfn;

use super::errors::classify;
use crate::error::TaskError;

/// How a `SendTaskSuccess` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// The waiting task took `output` as its result.
    Resumed,
    /// The task had ended already (timed out, or its run stopped): nothing to resume.
    Gone,
}

/// Sends `output` to the task waiting on `token`.
pub async fn send_task_success(
    sfn: &Sfn,
    token: &str,
    output: String,
) -> Result<Resumed, TaskError> {
    match sfn
        .send_task_success()
        .task_token(token)
        .output(output)
        .send()
        .await
    {
        Ok(_) => Ok(Resumed::Resumed),
        Err(e)
            if matches!(
                e.code(),
                Some("TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken")
            ) =>
        {
            Ok(Resumed::Gone)
        }
        Err(e) => Err(classify("SendTaskSuccess", e)),
    }
}
