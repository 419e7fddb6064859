//! Lambda entry point for `prepare-plan`; the logic is in the library.
use dr_orchestrator::{handlers::prepare_plan, runtime};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = runtime::init()?;
    let drs = runtime::clients(aws_sdk_drs::Client::new)?;
    run(service_fn(|event| async {
        prepare_plan::handle(drs.get().await?, &config, event).await
    }))
    .await
}
