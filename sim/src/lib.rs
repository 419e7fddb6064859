//! dr-sim: a local AWS Elastic Disaster Recovery and AWS Backup endpoint. It speaks both
//! services' REST-JSON wire protocol closely enough that unmodified clients (the Rust SDK,
//! boto3, the AWS CLI) work against it, so the handlers and workflows can be rehearsed and
//! tested with no AWS account. Jobs progress with the clock; faults are injected on demand.
//! `GET /_sim/events` lists the EventBridge events AWS would have sent (`events`).

mod backup;
pub mod cli;
pub mod clock;
mod control;
mod drs;
pub mod events;
pub mod model;
pub mod replication;
pub mod seed;
pub mod store;
mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post, put};
use axum::Router;

pub use seed::Seed;
pub use store::Store;

/// The state every route shares.
pub type Shared = Arc<Mutex<Store>>;

/// Every route of both services and the control endpoint.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/StartRecovery", post(drs::start_recovery))
        .route("/StartFailbackLaunch", post(drs::start_failback_launch))
        .route(
            "/TerminateRecoveryInstances",
            post(drs::terminate_recovery_instances),
        )
        .route("/DescribeJobs", post(drs::describe_jobs))
        .route("/DescribeJobLogItems", post(drs::describe_job_log_items))
        .route("/DescribeSourceServers", post(drs::describe_source_servers))
        .route(
            "/DescribeRecoverySnapshots",
            post(drs::describe_recovery_snapshots),
        )
        .route(
            "/DescribeRecoveryInstances",
            post(drs::describe_recovery_instances),
        )
        .route(
            "/restore-jobs",
            put(backup::start_restore_job).get(backup::list_restore_jobs),
        )
        .route("/restore-jobs/", get(backup::list_restore_jobs))
        .route("/restore-jobs/{id}", get(backup::describe_restore_job))
        .route(
            "/backup-vaults/{vault}/recovery-points/{arn}/restore-metadata",
            get(backup::get_recovery_point_restore_metadata),
        )
        .route("/_sim/faults", post(control::add_faults))
        .route("/_sim/reset", post(control::reset))
        .route("/_sim/age", post(control::age_job))
        .route("/_sim/state", get(control::state))
        .route("/_sim/events", get(control::events))
        .with_state(shared)
}

/// A running endpoint.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for tests that look inside.
    pub store: Shared,
}

impl Running {
    /// `http://ADDR`, for `endpoint_url` or `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Binds `addr` (port 0 picks a free port) and serves in the background on the current
/// Tokio runtime.
pub async fn spawn(seed: Seed, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let store: Shared = Arc::new(Mutex::new(Store::new(seed)));
    let app = router(store.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Running { addr, store })
}
