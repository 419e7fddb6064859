//! The wake table (DynamoDB) and the Step Functions call that resumes a waiting round.
//!
//! One item per job, keyed `key` (`drs:<jobID>` / `backup:<restoreJobId>`, see
//! [`crate::wake`]): `token` (the latest wait's task token), `expected` (reports that mean the
//! job has ended), `reported` (a string set of the servers, or the restore, AWS reported:
//! a duplicate event adds nothing), `woken` (set once, by whoever resumed a wait for this job)
//! and `expiresAt` (the table's TTL attribute). Every write is one `UpdateItem`, so an event and
//! a registration may arrive in either order.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_sfn::Client as Sfn;

use super::callback::{send_task_success, Resumed};
use super::errors::classify;
use crate::error::TaskError;
use crate::wake::{Registration, Report, REGISTRATION_TTL_SECONDS};

/// The table and the clients both wake functions use.
#[derive(Debug, Clone)]
pub struct WakeTable {
    pub dynamodb: DynamoDb,
    pub sfn: Sfn,
    pub table: String,
}

/// How a wake attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The job has not ended yet, has no waiting round, or a round was already woken for it.
    NotYet,
    /// This call resumed the waiting task.
    Resumed,
    /// The task had already ended (timed out, or its run stopped): nothing to resume.
    Gone,
}

impl WakeTable {
    /// The wake table the deployment names (`DR_WAKE_TABLE`); without one the function fails
    /// its init phase.
    pub fn name(config: &crate::config::Config) -> Result<String, String> {
        crate::config::required(
            &config.wake_table,
            "DR_WAKE_TABLE",
            "the wake functions need the stack's WakeTable",
        )
    }

    /// The clients for the table named `table`.
    pub fn new(sdk: &aws_config::SdkConfig, table: String) -> Self {
        WakeTable {
            dynamodb: DynamoDb::new(sdk),
            sfn: Sfn::new(sdk),
            table,
        }
    }

    /// Puts a wait's token under `job` (the newest wait replaces an older one).
    pub async fn register(&self, job: &Registration, token: &str) -> Result<(), TaskError> {
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(job.key.clone()))
            .update_expression("SET #token = :token, expected = :expected, expiresAt = :ttl")
            .expression_attribute_names("#token", "token")
            .set_expression_attribute_values(Some(HashMap::from([
                (":token".to_owned(), AttributeValue::S(token.to_owned())),
                (
                    ":expected".to_owned(),
                    AttributeValue::N(job.expected.to_string()),
                ),
                (":ttl".to_owned(), expires_at()),
            ])))
            .send()
            .await
            .map_err(|e| classify("DynamoDB UpdateItem", e))?;
        Ok(())
    }

    /// Records what an event reported (the item may not exist yet: the event came first), and
    /// says whether the job may now be woken: every expected report is in, a round is waiting
    /// and none was woken yet. Only then is [`WakeTable::wake`] worth its call; its
    /// conditional update still decides. Each report is one atomic update, so whichever lands
    /// last sees them all; a registration that comes after tries the wake itself.
    pub async fn record(&self, report: &Report) -> Result<bool, TaskError> {
        let recorded = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(report.key.clone()))
            .update_expression("ADD reported :reporter SET expiresAt = :ttl")
            .set_expression_attribute_values(Some(HashMap::from([
                (
                    ":reporter".to_owned(),
                    AttributeValue::Ss(vec![report.reporter.clone()]),
                ),
                (":ttl".to_owned(), expires_at()),
            ])))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| classify("DynamoDB UpdateItem", e))?;
        Ok(may_wake(&recorded.attributes.unwrap_or_default()))
    }

    /// Resumes the round waiting on `key` if every expected report is in and no round was woken
    /// for this job before. The conditional update decides, so of an event and a registration
    /// arriving together exactly one resumes the wait.
    pub async fn wake(&self, key: &str, by: &str) -> Result<Wake, TaskError> {
        let claimed = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .update_expression("SET woken = :woken")
            .condition_expression(
                "attribute_exists(#token) AND attribute_not_exists(woken) \
                 AND attribute_exists(reported) AND size(reported) >= expected",
            )
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":woken", AttributeValue::S(by.to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match claimed {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                return Ok(Wake::NotYet)
            }
            Err(e) => return Err(classify("DynamoDB UpdateItem", e)),
        };
        let Some(AttributeValue::S(token)) = item.get("token") else {
            return Err(TaskError::Unexpected {
                message: format!("wake table item {key} has no string token"),
            });
        };
        let output = serde_json::json!({"wokenBy": by, "job": key}).to_string();
        match send_task_success(&self.sfn, token, output).await? {
            Resumed::Resumed => Ok(Wake::Resumed),
            Resumed::Gone => {
                // That wait had already timed out: the next one for this job may be woken.
                self.release(key).await?;
                Ok(Wake::Gone)
            }
        }
    }

    async fn release(&self, key: &str) -> Result<(), TaskError> {
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(key.to_owned()))
            .update_expression("REMOVE woken")
            .send()
            .await
            .map_err(|e| classify("DynamoDB UpdateItem", e))?;
        Ok(())
    }
}

/// What [`WakeTable::wake`]'s condition asks, read from the item as an update left it.
fn may_wake(item: &HashMap<String, AttributeValue>) -> bool {
    let reported = match item.get("reported") {
        Some(AttributeValue::Ss(reported)) => reported.len(),
        _ => 0,
    };
    let expected = match item.get("expected") {
        Some(AttributeValue::N(n)) => n.parse::<usize>().ok(),
        _ => None,
    };
    item.contains_key("token")
        && !item.contains_key("woken")
        && expected.is_some_and(|expected| reported >= expected)
}

fn expires_at() -> AttributeValue {
    let now = super::epoch_seconds();
    AttributeValue::N((now + REGISTRATION_TTL_SECONDS).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(fields: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn reported(n: usize) -> (&'static str, AttributeValue) {
        let servers = (0..n).map(|i| format!("s-{i}")).collect();
        ("reported", AttributeValue::Ss(servers))
    }

    #[test]
    fn an_event_may_wake_only_a_waiting_unwoken_round_with_every_report_in() {
        let token = ("token", AttributeValue::S("t".into()));
        let expected = ("expected", AttributeValue::N("3".into()));
        let woken = ("woken", AttributeValue::S("event".into()));
        let cases = [
            (item(&[token.clone(), expected.clone(), reported(3)]), true),
            (item(&[token.clone(), expected.clone(), reported(4)]), true),
            (item(&[token.clone(), expected.clone(), reported(2)]), false),
            // The event came before the round registered: its registration tries the wake.
            (item(&[reported(3)]), false),
            (item(&[token.clone(), reported(3)]), false),
            (item(&[expected.clone(), reported(3)]), false),
            (
                item(&[token.clone(), expected.clone(), reported(3), woken]),
                false,
            ),
            (item(&[token, expected]), false),
        ];
        for (item, may) in cases {
            assert_eq!(may_wake(&item), may, "{item:?}");
        }
    }
}
