//! One module per Lambda function: parse the payload, validate it, call the adapter, shape the
//! output. Each `handle` is what the binary of the same name runs.

pub mod answer_approval;
pub mod await_approval;
pub mod check_status;
pub mod clean_up_drill;
pub mod on_event;
pub mod prepare_plan;
pub mod report;
pub mod start_failback;
pub mod start_recovery;
pub mod start_restore;
pub mod sweep_drill_instances;
pub mod wait_for_jobs;
