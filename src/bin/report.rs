//! Lambda entry point for `report`; the logic is in the library.
use dr_orchestrator::handlers::report;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, sdk) = runtime::init().await?;
    let clients = report::Clients::new(&sdk, &config)?;
    run(service_fn(|event| report::handle(&clients, event))).await
}
