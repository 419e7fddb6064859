//! Lambda entry point for `prepare-plan`; the logic is in the library.
use dr_orchestrator::{handlers::prepare_plan, runtime};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, sdk) = runtime::init().await?;
    let drs = aws_sdk_drs::Client::new(&sdk);
    run(service_fn(|event| {
        prepare_plan::handle(&drs, &config, event)
    }))
    .await
}
