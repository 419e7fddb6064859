//! Lambda entry point for `clean-up-drill`; the logic is in the library.
use dr_orchestrator::handlers::clean_up_drill;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init()?;
    let drs = runtime::clients(aws_sdk_drs::Client::new)?;
    run(service_fn(|event| async {
        clean_up_drill::handle(drs.get().await?, event).await
    }))
    .await
}
