//! The twelve Lambda functions by name, and how each is served: its configuration, its SDK clients
//! (built beside the first `next`, see [`crate::runtime`]) and its handler. Each function has
//! its own binary for the local runtime emulator (`src/bin/<name>.rs`, which `cargo lambda
//! watch` serves by name); the deployment builds one binary, `dr-orchestrator`, that serves the
//! function its Lambda `Handler` setting names (`_HANDLER`), so that `sam build` compiles and
//! links the code once for all twelve functions instead of once per function.
//!
//! The functions that call DRS or AWS Backup for a run's step answer within the step's outage
//! budget ([`outage::within`]).

use lambda_runtime::{run, service_fn, Error};

use crate::approval::Approvers;
use crate::aws::approvals_table::ApprovalsTable;
use crate::aws::lease_table::LeaseTable;
use crate::aws::wake_table::WakeTable;
use crate::handlers::{
    answer_approval, await_approval, check_status, clean_up_drill, on_event, prepare_plan, report,
    start_failback, start_recovery, start_restore, sweep_drill_instances, wait_for_jobs,
};
use crate::{outage, runtime};

/// One of the stack's functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    PreparePlan,
    StartRecovery,
    StartFailback,
    StartRestore,
    CheckStatus,
    WaitForJobs,
    OnEvent,
    CleanUpDrill,
    SweepDrillInstances,
    Report,
    AwaitApproval,
    AnswerApproval,
}

impl Function {
    /// Every function, in the order the template lists them.
    pub const ALL: [Function; 12] = [
        Function::PreparePlan,
        Function::StartRecovery,
        Function::StartFailback,
        Function::StartRestore,
        Function::CheckStatus,
        Function::WaitForJobs,
        Function::OnEvent,
        Function::CleanUpDrill,
        Function::SweepDrillInstances,
        Function::Report,
        Function::AwaitApproval,
        Function::AnswerApproval,
    ];

    /// Its name: the binary `cargo lambda watch` serves and the template's `Handler`.
    pub fn name(self) -> &'static str {
        match self {
            Function::PreparePlan => "prepare-plan",
            Function::StartRecovery => "start-recovery",
            Function::StartFailback => "start-failback",
            Function::StartRestore => "start-restore",
            Function::CheckStatus => "check-status",
            Function::WaitForJobs => "wait-for-jobs",
            Function::OnEvent => "on-event",
            Function::CleanUpDrill => "clean-up-drill",
            Function::SweepDrillInstances => "sweep-drill-instances",
            Function::Report => "report",
            Function::AwaitApproval => "await-approval",
            Function::AnswerApproval => "answer-approval",
        }
    }

    /// The function a `Handler` setting names; an unknown name says which ones there are.
    pub fn named(name: &str) -> Result<Function, String> {
        Function::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "_HANDLER is {name:?}: the function's Handler must be one of {}",
                    known.join(", ")
                )
            })
    }
}

/// Serves the function the Lambda `Handler` setting names (`_HANDLER`, which Lambda sets for
/// a custom runtime); a missing or unknown name fails the init phase.
pub async fn serve_handler() -> Result<(), Error> {
    let name = std::env::var("_HANDLER").unwrap_or_default();
    serve(Function::named(&name)?).await
}

/// Serves `function` until the runtime stops: configuration errors fail the init phase.
pub async fn serve(function: Function) -> Result<(), Error> {
    let config = runtime::init()?;
    let budget = config.defaults.outage_budget_seconds;
    match function {
        Function::PreparePlan => {
            let name = LeaseTable::name(&config)?;
            let clients = runtime::clients(|sdk| {
                let read = prepare_plan::Clients {
                    drs: aws_sdk_drs::Client::new(sdk),
                    backup: aws_sdk_backup::Client::new(sdk),
                };
                (read, LeaseTable::new(sdk, name))
            })?;
            run(service_fn(|event| async {
                outage::within(budget, event, |event, _| async {
                    let (read, lease) = clients.get().await?;
                    prepare_plan::handle(read, Some(lease), &config, event).await
                })
                .await
            }))
            .await
        }
        Function::StartRecovery => {
            let drs = runtime::clients(aws_sdk_drs::Client::new)?;
            run(service_fn(|event| async {
                outage::within(budget, event, |event, _| async {
                    start_recovery::handle(drs.get().await?, &config, event).await
                })
                .await
            }))
            .await
        }
        Function::StartFailback => {
            let drs = runtime::clients(aws_sdk_drs::Client::new)?;
            run(service_fn(|event| async {
                outage::within(budget, event, |event, _| async {
                    start_failback::handle(drs.get().await?, &config, event).await
                })
                .await
            }))
            .await
        }
        Function::StartRestore => {
            let backup = runtime::clients(aws_sdk_backup::Client::new)?;
            run(service_fn(|event| async {
                outage::within(budget, event, |event, _| async {
                    start_restore::handle(backup.get().await?, event).await
                })
                .await
            }))
            .await
        }
        Function::CheckStatus => {
            let clients = runtime::clients(|sdk| check_status::Clients {
                drs: aws_sdk_drs::Client::new(sdk),
                backup: aws_sdk_backup::Client::new(sdk),
            })?;
            let clients = &clients;
            run(service_fn(|event| async move {
                outage::within(budget, event, |event, budget| async move {
                    check_status::handle(clients.get().await?, budget, event).await
                })
                .await
            }))
            .await
        }
        Function::WaitForJobs => {
            let name = WakeTable::name(&config)?;
            let table = runtime::clients(|sdk| WakeTable::new(sdk, name))?;
            run(service_fn(|event| async {
                wait_for_jobs::handle(table.get().await?, event).await
            }))
            .await
        }
        Function::OnEvent => {
            let name = WakeTable::name(&config)?;
            let table = runtime::clients(|sdk| WakeTable::new(sdk, name))?;
            run(service_fn(|event| async {
                on_event::handle(table.get().await?, event).await
            }))
            .await
        }
        Function::CleanUpDrill => {
            let drs = runtime::clients(aws_sdk_drs::Client::new)?;
            run(service_fn(|event| async {
                outage::within(budget, event, |event, _| async {
                    clean_up_drill::handle(drs.get().await?, event).await
                })
                .await
            }))
            .await
        }
        Function::SweepDrillInstances => {
            let scope = sweep_drill_instances::Scope::of(&config)?;
            let clients = runtime::clients(|sdk| {
                (aws_sdk_drs::Client::new(sdk), aws_sdk_sfn::Client::new(sdk))
            })?;
            run(service_fn(|event| async {
                let (drs, sfn) = clients.get().await?;
                sweep_drill_instances::handle(drs, sfn, &scope, event).await
            }))
            .await
        }
        Function::Report => {
            let bucket = report::Clients::bucket(&config)?;
            let lease = LeaseTable::name(&config)?;
            let clients = runtime::clients(|sdk| report::Clients::new(sdk, bucket, lease))?;
            run(service_fn(|event| async {
                outage::within(budget, event, |event, _| async {
                    report::handle(clients.get().await?, event).await
                })
                .await
            }))
            .await
        }
        Function::AwaitApproval => {
            let name = ApprovalsTable::name(&config)?;
            let table = runtime::clients(|sdk| ApprovalsTable::new(sdk, name))?;
            run(service_fn(|event| async {
                await_approval::handle(table.get().await?, event).await
            }))
            .await
        }
        Function::AnswerApproval => {
            let name = ApprovalsTable::name(&config)?;
            let approvers = Approvers::parse(config.approvers.as_deref().unwrap_or(""))?;
            let endpoint = runtime::clients(|sdk| answer_approval::Endpoint {
                table: ApprovalsTable::new(sdk, name),
                approvers,
            })?;
            run(service_fn(|event| async {
                answer_approval::handle(endpoint.get().await?, event).await
            }))
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_found_by_its_name_and_nothing_else_is() {
        for f in Function::ALL {
            assert_eq!(Function::named(f.name()), Ok(f));
        }
        let err = Function::named("bootstrap").unwrap_err();
        assert!(
            err.contains("\"bootstrap\"") && err.contains("prepare-plan, start-recovery"),
            "{err}"
        );
        assert!(Function::named("").is_err());
    }
}
