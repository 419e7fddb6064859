//! Lambda entry point for `start-failback`; the logic is in the library.
use dr_orchestrator::{handlers::start_failback, runtime};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = runtime::init()?;
    let drs = runtime::clients(aws_sdk_drs::Client::new)?;
    run(service_fn(|event| async {
        start_failback::handle(drs.get().await?, &config, event).await
    }))
    .await
}
