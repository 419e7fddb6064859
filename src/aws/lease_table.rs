//! One run per plan: the lease table (DynamoDB). `prepare-plan` takes the plan's lease before
//! its run starts anything; the report releases it when the run ends. A lease whose run has
//! ended without releasing it (stopped from the console, timed out, failed before its report)
//! is taken over: Step Functions says the holder is no longer running.
//!
//! One item per plan, keyed `plan` (the plan's name): `executionId`, `what` (a drill, a real
//! recovery, ...), `since` and `expiresAt` (the table's TTL attribute, housekeeping only: the
//! holder's status decides). Every write is conditional, so of two runs starting together
//! exactly one takes the lease.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_sfn::Client as Sfn;

use super::errors::classify;
use super::executions;
use crate::error::TaskError;

/// How long a lease's item lives: the TTL only cleans up; it never decides. Longer than any run
/// (checked when this compiles), so DynamoDB never deletes the lease of a run still going.
const KEPT_SECONDS: u64 = 30 * 24 * 3600;
const _: () = assert!(KEPT_SECONDS > crate::plan::MAX_RUN_SECONDS);

/// The table and the clients `prepare-plan` and the report use.
#[derive(Debug, Clone)]
pub struct LeaseTable {
    pub dynamodb: DynamoDb,
    pub sfn: Sfn,
    pub table: String,
}

/// A run that holds, or asks for, a plan's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub execution_id: String,
    /// What the run is, for the refusal: `a drill`, `a real recovery`, ...
    pub what: String,
    /// When it started (RFC 3339).
    pub since: String,
}

impl LeaseTable {
    /// The table the deployment names (`DR_LEASE_TABLE`); without one the function fails its
    /// init phase.
    pub fn name(config: &crate::config::Config) -> Result<String, String> {
        crate::config::required(
            &config.lease_table,
            "DR_LEASE_TABLE",
            "prepare-plan and the report need the stack's LeaseTable (one run per plan)",
        )
    }

    /// The clients for the table named `table`.
    pub fn new(sdk: &aws_config::SdkConfig, table: String) -> Self {
        LeaseTable {
            dynamodb: DynamoDb::new(sdk),
            sfn: Sfn::new(sdk),
            table,
        }
    }

    /// Takes `plan`'s lease for `me`, or says which running execution holds it
    /// ([`TaskError::PlanBusy`]). Taking it again in the same execution (a retried task) is a
    /// no-op; a holder that is no longer running loses it.
    pub async fn take(&self, plan: &str, me: &Holder) -> Result<(), TaskError> {
        // A takeover can race another run's; two rounds settle it.
        for _ in 0..3 {
            if self.put(plan, me, None).await? {
                return Ok(());
            }
            let Some(holder) = self.holder(plan).await? else {
                continue; // released meanwhile
            };
            if holder.execution_id == me.execution_id {
                return Ok(());
            }
            if executions::is_running(&self.sfn, &holder.execution_id).await? {
                return Err(TaskError::PlanBusy {
                    plan: plan.to_owned(),
                    execution: holder.execution_id,
                    what: holder.what,
                    since: holder.since,
                });
            }
            if self.put(plan, me, Some(&holder.execution_id)).await? {
                return Ok(());
            }
        }
        Err(TaskError::AwsUnavailable {
            message: format!("the lease of plan {plan:?} kept changing hands; try again"),
        })
    }

    /// Releases `plan`'s lease if `execution_id` holds it.
    pub async fn release(&self, plan: &str, execution_id: &str) -> Result<(), TaskError> {
        let released = self
            .dynamodb
            .delete_item()
            .table_name(&self.table)
            .key("plan", AttributeValue::S(plan.to_owned()))
            .condition_expression("executionId = :me")
            .expression_attribute_values(":me", AttributeValue::S(execution_id.to_owned()))
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            // Not ours (taken over after this run was thought gone) or released already.
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(classify("DynamoDB DeleteItem", e)),
        }
    }

    /// Puts `me` as the holder: when nobody holds the lease or `me` does (`replacing` None), or
    /// in place of `replacing`. False when the condition did not hold.
    async fn put(
        &self,
        plan: &str,
        me: &Holder,
        replacing: Option<&str>,
    ) -> Result<bool, TaskError> {
        let now = super::epoch_seconds();
        let mut put = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .item("plan", AttributeValue::S(plan.to_owned()))
            .item("executionId", AttributeValue::S(me.execution_id.clone()))
            .item("what", AttributeValue::S(me.what.clone()))
            .item("since", AttributeValue::S(me.since.clone()))
            .item(
                "expiresAt",
                AttributeValue::N((now + KEPT_SECONDS).to_string()),
            );
        put = match replacing {
            None => put
                .condition_expression("attribute_not_exists(#plan) OR executionId = :me")
                .expression_attribute_names("#plan", "plan")
                .expression_attribute_values(":me", AttributeValue::S(me.execution_id.clone())),
            Some(old) => put
                .condition_expression("executionId = :old")
                .expression_attribute_values(":old", AttributeValue::S(old.to_owned())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify("DynamoDB PutItem", e)),
        }
    }

    async fn holder(&self, plan: &str) -> Result<Option<Holder>, TaskError> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("plan", AttributeValue::S(plan.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB GetItem", e))?
            .item;
        let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| match item
            .get(name)
        {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        };
        Ok(item.map(|item| Holder {
            execution_id: text(&item, "executionId"),
            what: text(&item, "what"),
            since: text(&item, "since"),
        }))
    }
}
