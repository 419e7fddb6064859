//! The approvals table (DynamoDB) and the Step Functions call that resumes a run waiting for
//! an approval. The task token lives here and nowhere a person can read it.
//!
//! One item per approval, keyed `approvalId`: `token` (the latest wait's task token),
//! `executionId`, `state` (`WAITING`, then `APPROVED` or `REJECTED`, set once, by the approval
//! endpoint), `answer` (the [`ApprovalAnswer`] as JSON, once answered), `delivered` (the run
//! took the answer) and `expiresAt` (the table's TTL attribute). Every write is one conditional `UpdateItem`: an answer is recorded
//! once, and a wait that starts after its approval was answered gets that answer at once.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_sfn::Client as Sfn;

use super::callback::send_task_success;
pub use super::callback::Resumed;
use super::errors::classify;
use crate::approval::ApprovalAnswer;
use crate::error::TaskError;

/// How long an approval's item outlives its wait (the TTL counts from the wait's start).
const KEPT_AFTER_TIMEOUT_SECONDS: u64 = 2 * 24 * 3600;
const WAITING: &str = "WAITING";

/// The table and the clients both approval functions use.
#[derive(Debug, Clone)]
pub struct ApprovalsTable {
    pub dynamodb: DynamoDb,
    pub sfn: Sfn,
    pub table: String,
}

/// What keeping a wait's token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// The run now waits for an answer.
    Waiting,
    /// The approval had been answered already (an earlier attempt of this wait): the answer.
    Answered(ApprovalAnswer),
}

/// What recording an answer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded: the token of the waiting run.
    Recorded { token: String },
    /// No run waits under this id (unknown, or its wait has not started yet).
    NotWaiting,
    /// Someone answered first: their answer stands (`token`: the wait it was for;
    /// `delivered`: the run took it).
    AlreadyAnswered {
        first: ApprovalAnswer,
        token: String,
        delivered: bool,
    },
}

impl ApprovalsTable {
    /// The table the deployment names (`DR_APPROVALS_TABLE`); without one the function fails
    /// its init phase.
    pub fn name(config: &crate::config::Config) -> Result<String, String> {
        crate::config::required(
            &config.approvals_table,
            "DR_APPROVALS_TABLE",
            "the approval functions need the stack's ApprovalsTable",
        )
    }

    /// The clients for the table named `table`.
    pub fn new(sdk: &aws_config::SdkConfig, table: String) -> Self {
        ApprovalsTable {
            dynamodb: DynamoDb::new(sdk),
            sfn: Sfn::new(sdk),
            table,
        }
    }

    /// Keeps the token of the wait for `approval_id` (a newer attempt's replaces an older
    /// one's), unless the approval was answered already.
    pub async fn hold(
        &self,
        approval_id: &str,
        execution_id: &str,
        token: &str,
        timeout_seconds: u64,
    ) -> Result<Held, TaskError> {
        let held = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("approvalId", AttributeValue::S(approval_id.to_owned()))
            .update_expression(
                "SET #token = :token, executionId = :execution, #state = :waiting, expiresAt = :ttl",
            )
            .condition_expression("attribute_not_exists(#state) OR #state = :waiting")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(HashMap::from([
                (":token".to_owned(), AttributeValue::S(token.to_owned())),
                (
                    ":execution".to_owned(),
                    AttributeValue::S(execution_id.to_owned()),
                ),
                (":waiting".to_owned(), AttributeValue::S(WAITING.to_owned())),
                (
                    ":ttl".to_owned(),
                    AttributeValue::N(
                        (super::epoch_seconds() + timeout_seconds + KEPT_AFTER_TIMEOUT_SECONDS).to_string(),
                    ),
                ),
            ])))
            .send()
            .await;
        match held {
            Ok(_) => Ok(Held::Waiting),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                match self.answered(approval_id).await? {
                    Some((answer, _, _)) => Ok(Held::Answered(answer)),
                    None => Err(TaskError::Unexpected {
                        message: format!("approval {approval_id} is neither waiting nor answered"),
                    }),
                }
            }
            Err(e) => Err(classify("DynamoDB UpdateItem", e)),
        }
    }

    /// Records `answer` if its approval is waiting; the first answer stands.
    pub async fn record(&self, answer: &ApprovalAnswer) -> Result<Recorded, TaskError> {
        let json = serde_json::to_string(answer).map_err(|e| TaskError::Unexpected {
            message: format!("an answer that does not serialise: {e}"),
        })?;
        let verdict = serde_json::to_value(answer.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let recorded = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("approvalId", AttributeValue::S(answer.approval_id.clone()))
            .update_expression("SET #state = :verdict, answer = :answer")
            .condition_expression("#state = :waiting AND attribute_exists(#token)")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(HashMap::from([
                (":verdict".to_owned(), AttributeValue::S(verdict)),
                (":answer".to_owned(), AttributeValue::S(json)),
                (":waiting".to_owned(), AttributeValue::S(WAITING.to_owned())),
            ])))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match recorded {
            Ok(out) => match out.attributes.unwrap_or_default().get("token") {
                Some(AttributeValue::S(token)) => Ok(Recorded::Recorded {
                    token: token.clone(),
                }),
                _ => Err(TaskError::Unexpected {
                    message: format!("approval {} has no string token", answer.approval_id),
                }),
            },
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                Ok(match self.answered(&answer.approval_id).await? {
                    Some((first, token, delivered)) => Recorded::AlreadyAnswered {
                        first,
                        token,
                        delivered,
                    },
                    None => Recorded::NotWaiting,
                })
            }
            Err(e) => Err(classify("DynamoDB UpdateItem", e)),
        }
    }

    /// Resumes the run waiting on `token` with `answer`, and records that it took it.
    pub async fn resume(&self, token: &str, answer: &ApprovalAnswer) -> Result<Resumed, TaskError> {
        let output = serde_json::to_string(answer).map_err(|e| TaskError::Unexpected {
            message: format!("an answer that does not serialise: {e}"),
        })?;
        let resumed = send_task_success(&self.sfn, token, output).await?;
        if resumed == Resumed::Resumed {
            self.dynamodb
                .update_item()
                .table_name(&self.table)
                .key("approvalId", AttributeValue::S(answer.approval_id.clone()))
                .update_expression("SET delivered = :yes")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .send()
                .await
                .map_err(|e| classify("DynamoDB UpdateItem", e))?;
        }
        Ok(resumed)
    }

    /// The recorded answer of `approval_id` and the token of the wait it answered, if it was
    /// answered.
    async fn answered(
        &self,
        approval_id: &str,
    ) -> Result<Option<(ApprovalAnswer, String, bool)>, TaskError> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("approvalId", AttributeValue::S(approval_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB GetItem", e))?
            .item
            .unwrap_or_default();
        match (item.get("answer"), item.get("token")) {
            (Some(AttributeValue::S(json)), Some(AttributeValue::S(token))) => {
                serde_json::from_str(json)
                    .map(|answer| {
                        let delivered =
                            matches!(item.get("delivered"), Some(AttributeValue::Bool(true)));
                        Some((answer, token.clone(), delivered))
                    })
                    .map_err(|e| TaskError::Unexpected {
                        message: format!("approval {approval_id} holds an unreadable answer: {e}"),
                    })
            }
            _ => Ok(None),
        }
    }
}

/// Now, as the answer records it (RFC 3339, UTC, whole seconds).
pub fn now_rfc3339() -> String {
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(super::epoch_seconds());
    super::api_time(now).unwrap_or_else(|_| super::epoch_seconds().to_string())
}
