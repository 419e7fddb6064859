//! Lambda entry point for `clean-up-drill`; the logic is in the library.
use dr_orchestrator::handlers::clean_up_drill;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_config, sdk) = runtime::init().await?;
    let client = aws_sdk_drs::Client::new(&sdk);
    run(service_fn(|event| clean_up_drill::handle(&client, event))).await
}
