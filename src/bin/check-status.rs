//! Lambda entry point for `check-status`; the logic is in the library.
use dr_orchestrator::handlers::check_status::{self, Clients};
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init()?;
    let clients = runtime::clients(|sdk| Clients {
        drs: aws_sdk_drs::Client::new(sdk),
        backup: aws_sdk_backup::Client::new(sdk),
    })?;
    run(service_fn(|event| async {
        check_status::handle(clients.get().await?, event).await
    }))
    .await
}
