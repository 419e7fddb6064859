//! Lambda entry point for `on-event`; the logic is in the library.
use dr_orchestrator::aws::wake_table::WakeTable;
use dr_orchestrator::handlers::on_event;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = runtime::init()?;
    let name = WakeTable::name(&config)?;
    let table = runtime::clients(|sdk| WakeTable::new(sdk, name))?;
    run(service_fn(|event| async {
        on_event::handle(table.get().await?, event).await
    }))
    .await
}
