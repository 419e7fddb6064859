//! Lambda entry point for `start-restore`; the logic is in the library.
use dr_orchestrator::{handlers::start_restore, runtime};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (_config, sdk) = runtime::init().await?;
    let backup = aws_sdk_backup::Client::new(&sdk);
    run(service_fn(|event| start_restore::handle(&backup, event))).await
}
