//! Lambda entry point for `on-event`; the logic is in the library.
use dr_orchestrator::aws::wake_table::WakeTable;
use dr_orchestrator::handlers::on_event;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, sdk) = runtime::init().await?;
    let table = WakeTable::new(&sdk, &config)?;
    run(service_fn(|event| on_event::handle(&table, event))).await
}
