//! Lambda entry point for `report`; the logic is in the library.
use dr_orchestrator::handlers::report;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = runtime::init()?;
    let bucket = report::Clients::bucket(&config)?;
    let clients = runtime::clients(|sdk| report::Clients::new(sdk, bucket))?;
    run(service_fn(|event| async {
        report::handle(clients.get().await?, event).await
    }))
    .await
}
