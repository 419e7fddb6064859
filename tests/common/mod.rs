//! What the handler tests share: a Lambda event around a payload, and a round's check through
//! check-status's own entry point, read back as the state machine reads it.

use dr_orchestrator::contract::WaveReport;
use dr_orchestrator::error::TaskError;
use dr_orchestrator::handlers::check_status::{self, Clients};
use dr_orchestrator::outage;
use dr_orchestrator::plan::OUTAGE_BUDGET_SECONDS;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// The invocation of a handler with `payload`.
pub fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// A round's check through the handler's own entry point (within the default outage budget), read back as the state machine does.
pub async fn check_round(
    clients: &Clients,
    event: LambdaEvent<Value>,
) -> Result<WaveReport, TaskError> {
    outage::within(OUTAGE_BUDGET_SECONDS.default, event, |event, budget| {
        check_status::handle(clients, budget, event)
    })
    .await
    .map(|answer| serde_json::from_value(answer).expect("a round's report"))
}
