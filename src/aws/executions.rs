//! Is an execution still running? What the drill sweeper asks of a drill's run, and
//! prepare-plan of the run that holds a plan's lease.

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::Client;

use super::errors::classify;
use crate::error::TaskError;

/// Whether Step Functions reports `execution_arn` as `RUNNING`. An execution it does not know
/// (`ExecutionDoesNotExist`, e.g. past its retention) is not running.
pub async fn is_running(client: &Client, execution_arn: &str) -> Result<bool, TaskError> {
    match client
        .describe_execution()
        .execution_arn(execution_arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.status().as_str() == "RUNNING"),
        Err(e) if e.code() == Some("ExecutionDoesNotExist") => Ok(false),
        Err(e) => Err(classify("DescribeExecution", e)),
    }
}
