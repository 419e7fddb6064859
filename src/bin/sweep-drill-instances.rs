//! Lambda entry point for `sweep-drill-instances`; the logic is in the library.
use dr_orchestrator::handlers::sweep_drill_instances;
use dr_orchestrator::runtime;
use lambda_runtime::{run, service_fn, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = runtime::init()?;
    let max_age = config.drill_instance_max_age_hours;
    let clients =
        runtime::clients(|sdk| (aws_sdk_drs::Client::new(sdk), aws_sdk_sfn::Client::new(sdk)))?;
    run(service_fn(|event| async {
        let (drs, sfn) = clients.get().await?;
        sweep_drill_instances::handle(drs, sfn, max_age, event).await
    }))
    .await
}
