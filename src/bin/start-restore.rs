//! Lambda entry point for `start-restore`; the logic is in the library.
use dr_orchestrator::{handlers::start_restore, runtime};
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init()?;
    let backup = runtime::clients(aws_sdk_backup::Client::new)?;
    run(service_fn(|event| async {
        start_restore::handle(backup.get().await?, event).await
    }))
    .await
}
