//! Lambda entry point for `start-failback`; the logic is in the library.
use dr_orchestrator::{handlers::start_failback, runtime};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, sdk) = runtime::init().await?;
    let drs = aws_sdk_drs::Client::new(&sdk);
    run(service_fn(|event| {
        start_failback::handle(&drs, &config, event)
    }))
    .await
}
