//! The endpoint's state: inventory, jobs, restore jobs, faults and a record of every call.
//! Job progress is computed from the clock when asked (no background tasks), so the same seed
//! and timing always give the same timeline.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::replication::{snapshots, Snapshot};
use crate::seed::{
    Faults, Quotas, RecoveryPointSeed, RestoreOutcome, Seed, SourceServerSeed, Timing,
};
use crate::wire::ApiError;

/// Why a DRS job exists (the model's `InitiatedBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Initiated {
    StartRecovery,
    StartDrill,
    Failback,
    TerminateRecoveryInstances,
}

impl Initiated {
    pub fn wire(self) -> &'static str {
        match self {
            Initiated::StartRecovery => "START_RECOVERY",
            Initiated::StartDrill => "START_DRILL",
            Initiated::Failback => "FAILBACK",
            Initiated::TerminateRecoveryInstances => "TERMINATE_RECOVERY_INSTANCES",
        }
    }

    pub fn job_type(self) -> &'static str {
        match self {
            Initiated::TerminateRecoveryInstances => "TERMINATE",
            _ => "LAUNCH",
        }
    }
}

/// One server of a job and its planned timeline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobServer {
    #[serde(rename = "sourceServerID")]
    pub source_server_id: String,
    /// The instance it launches (launch jobs) or acts on (failback, terminate).
    #[serde(rename = "recoveryInstanceID")]
    pub recovery_instance_id: String,
    /// When it leaves `IN_PROGRESS`.
    pub settles_at_ms: i64,
    /// `None` when it succeeds; the job-log reason when it fails.
    pub failure: Option<String>,
    /// The recovery snapshot it launches from (`StartRecovery`'s `recoverySnapshotID`) and
    /// that snapshot's time; `None`: an on-demand snapshot at the job's creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_snapshot: Option<(String, i64)>,
}

/// A DRS job.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    #[serde(rename = "jobID")]
    pub job_id: String,
    pub initiated_by: Initiated,
    pub is_drill: bool,
    pub created_ms: i64,
    /// `DescribeJobs` lists it from then on (the `hideNewJobsSeconds` fault); `created_ms`
    /// unless that fault was set when it was created.
    pub listed_from_ms: i64,
    /// When it leaves `PENDING` and its servers start.
    pub started_ms: i64,
    pub servers: Vec<JobServer>,
    pub tags: BTreeMap<String, String>,
}

impl Job {
    /// When the job is `COMPLETED`.
    pub fn ends_ms(&self) -> i64 {
        self.servers
            .iter()
            .map(|s| s.settles_at_ms)
            .max()
            .unwrap_or(self.started_ms)
    }

    pub fn status(&self, now: i64) -> &'static str {
        if now < self.started_ms {
            "PENDING"
        } else if now < self.ends_ms() {
            "STARTED"
        } else {
            "COMPLETED"
        }
    }

    pub fn active(&self, now: i64) -> bool {
        now < self.ends_ms()
    }

    /// A server's `LaunchStatus` at `now`.
    pub fn launch_status(&self, server: &JobServer, now: i64) -> &'static str {
        if now < self.started_ms {
            "PENDING"
        } else if now < server.settles_at_ms {
            "IN_PROGRESS"
        } else if server.failure.is_some() {
            "FAILED"
        } else if self.initiated_by == Initiated::TerminateRecoveryInstances {
            "TERMINATED"
        } else {
            "LAUNCHED"
        }
    }
}

/// An AWS Backup restore job.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreJob {
    pub restore_job_id: String,
    pub recovery_point_arn: String,
    pub resource_type: String,
    pub iam_role_arn: Option<String>,
    pub idempotency_token: Option<String>,
    pub created_ms: i64,
    pub running_ms: i64,
    pub ends_ms: i64,
    pub outcome: Option<RestoreOutcome>,
    pub created_resource_arn: String,
    pub backup_size_in_bytes: i64,
}

impl RestoreJob {
    pub fn status(&self, now: i64) -> &str {
        if now < self.running_ms {
            "PENDING"
        } else if now < self.ends_ms {
            "RUNNING"
        } else {
            self.outcome
                .as_ref()
                .map(|o| o.status.as_str())
                .unwrap_or("COMPLETED")
        }
    }

    pub fn percent_done(&self, now: i64) -> String {
        let p = if now < self.running_ms {
            0.0
        } else if now >= self.ends_ms {
            100.0
        } else {
            (now - self.running_ms) as f64 * 100.0 / (self.ends_ms - self.running_ms).max(1) as f64
        };
        format!("{p:.2}%")
    }
}

/// Everything the endpoint holds.
#[derive(Debug)]
pub struct Store {
    pub account_id: String,
    pub region: String,
    pub timing: Timing,
    pub quotas: Quotas,
    pub servers: BTreeMap<String, SourceServerSeed>,
    pub recovery_points: BTreeMap<String, RecoveryPointSeed>,
    /// When this store was created (recovery points' ages count from it).
    pub started_ms: i64,
    pub faults: Faults,
    pub jobs: Vec<Job>,
    pub restores: Vec<RestoreJob>,
    /// Operation name → calls received (faulted ones included).
    pub calls: BTreeMap<String, u64>,
    /// Operation name → calls answered with an injected fault.
    pub faulted: BTreeMap<String, u64>,
    /// While the wall clock is before this (ms since the epoch), every call answers 503
    /// (`outageSeconds`).
    pub outage_until_ms: Option<i64>,
    seed: Seed,
    next_id: u64,
}

impl Store {
    pub fn new(seed: Seed) -> Store {
        let servers = seed
            .all_source_servers()
            .into_iter()
            .map(|s| (s.source_server_id.clone(), s))
            .collect();
        let recovery_points = seed
            .recovery_points
            .iter()
            .map(|r| (r.recovery_point_arn.clone(), r.clone()))
            .collect();
        Store {
            account_id: seed.account_id.clone(),
            region: seed.region.clone(),
            timing: seed.timing.clone(),
            quotas: seed.quotas.clone(),
            servers,
            recovery_points,
            started_ms: crate::clock::now_ms(),
            faults: seed.faults.clone(),
            jobs: Vec::new(),
            restores: Vec::new(),
            calls: BTreeMap::new(),
            faulted: BTreeMap::new(),
            outage_until_ms: seed
                .faults
                .outage_seconds
                .map(|s| crate::clock::now_ms() + (s * 1000.0).round() as i64),
            seed,
            next_id: 0,
        }
    }

    /// Back to the seed: no jobs, no calls, the seed's faults.
    pub fn reset(&mut self) {
        *self = Store::new(self.seed.clone());
    }

    /// A recovery instance's `failback.state`: the `failbackState` fault's, else ready for a
    /// recovery's instance and not started for a drill's.
    pub fn failback_state(&self, recovery_instance_id: &str, is_drill: bool) -> String {
        match self.faults.failback_state.get(recovery_instance_id) {
            Some(state) => state.clone(),
            None if is_drill => "FAILBACK_NOT_STARTED".into(),
            None => "FAILBACK_READY_FOR_LAUNCH".into(),
        }
    }

    /// Records a call and answers it with an injected fault if one is pending.
    pub fn begin(&mut self, op: &str, service: Service) -> Result<(), ApiError> {
        *self.calls.entry(op.to_owned()).or_default() += 1;
        if self
            .outage_until_ms
            .is_some_and(|until| crate::clock::now_ms() < until)
        {
            *self.faulted.entry(op.to_owned()).or_default() += 1;
            return Err(ApiError::outage());
        }
        if take(&mut self.faults.throttle, op) {
            *self.faulted.entry(op.to_owned()).or_default() += 1;
            let retry = self.faults.retry_after_seconds.unwrap_or(1);
            return Err(match service {
                Service::Drs => ApiError::drs_throttled(op, retry),
                Service::Backup => ApiError::backup_throttled(op),
            });
        }
        if take(&mut self.faults.internal_error, op) {
            *self.faulted.entry(op.to_owned()).or_default() += 1;
            return Err(match service {
                Service::Drs => ApiError::drs_internal(op),
                Service::Backup => ApiError::backup_unavailable(op),
            });
        }
        Ok(())
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn scaled_ms(&self, seconds: f64) -> i64 {
        (seconds * self.timing.time_scale * 1000.0).round() as i64
    }

    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:aws:{service}:{}:{}:{resource}",
            self.region, self.account_id
        )
    }

    /// Every recovery instance that exists at `now`: launched by a launch job and not
    /// terminated since.
    pub fn recovery_instances(&self, now: i64) -> Vec<(&Job, &JobServer)> {
        let terminated: BTreeSet<&str> = self
            .jobs
            .iter()
            .filter(|j| j.initiated_by == Initiated::TerminateRecoveryInstances)
            .flat_map(|j| {
                j.servers
                    .iter()
                    .filter(move |s| j.launch_status(s, now) == "TERMINATED")
            })
            .map(|s| s.recovery_instance_id.as_str())
            .collect();
        self.jobs
            .iter()
            .filter(|j| {
                matches!(
                    j.initiated_by,
                    Initiated::StartRecovery | Initiated::StartDrill
                )
            })
            .flat_map(|j| j.servers.iter().map(move |s| (j, s)))
            .filter(|(j, s)| j.launch_status(s, now) == "LAUNCHED")
            .filter(|(_, s)| !terminated.contains(s.recovery_instance_id.as_str()))
            .collect()
    }

    /// Checks the quotas and the one-active-job-per-server rule, then creates a job.
    pub fn create_job(
        &mut self,
        initiated_by: Initiated,
        is_drill: bool,
        members: Vec<(String, String)>,
        tags: BTreeMap<String, String>,
        now: i64,
    ) -> Result<&Job, ApiError> {
        if members.len() > self.quotas.max_servers_per_job {
            return Err(ApiError::quota(
                format!(
                    "Job would include {} servers; the quota is {} source servers per job",
                    members.len(),
                    self.quotas.max_servers_per_job
                ),
                "L-DRS-SERVERS-PER-JOB",
            ));
        }
        let busy: BTreeMap<&str, &str> = self
            .jobs
            .iter()
            .filter(|j| j.active(now))
            .flat_map(|j| {
                j.servers
                    .iter()
                    .map(move |s| (s.source_server_id.as_str(), j.job_id.as_str()))
            })
            .collect();
        if let Some((server, job)) = members
            .iter()
            .find_map(|(s, _)| busy.get(s.as_str()).map(|j| (s, j)))
        {
            return Err(ApiError::conflict(
                format!("Source server {server} is already participating in active job {job}"),
                server,
                "SOURCE_SERVER",
            ));
        }
        let active: Vec<&Job> = self.jobs.iter().filter(|j| j.active(now)).collect();
        if active.len() >= self.quotas.max_concurrent_jobs {
            return Err(ApiError::quota(
                format!(
                    "{} jobs are active; the quota is {} concurrent jobs",
                    active.len(),
                    self.quotas.max_concurrent_jobs
                ),
                "L-DRS-CONCURRENT-JOBS",
            ));
        }
        let in_flight: usize = active.iter().map(|j| j.servers.len()).sum();
        if in_flight + members.len() > self.quotas.max_servers_in_active_jobs {
            return Err(ApiError::quota(
                format!(
                    "{in_flight} servers are in active jobs and this job adds {}; the quota is {} servers in all active jobs",
                    members.len(),
                    self.quotas.max_servers_in_active_jobs
                ),
                "L-DRS-SERVERS-IN-ACTIVE-JOBS",
            ));
        }

        let n = self.id();
        let started_ms = now + self.scaled_ms(self.timing.job_pending_seconds);
        let launch = self.scaled_ms(self.timing.server_launch_seconds);
        let stagger = self.timing.server_stagger_seconds;
        let slow = if initiated_by == Initiated::TerminateRecoveryInstances {
            self.faults.slow_terminate.clone()
        } else {
            self.faults.slow_launch.clone()
        };
        let failures = if initiated_by == Initiated::TerminateRecoveryInstances {
            &self.faults.fail_terminate
        } else {
            &self.faults.fail_launch
        };
        let servers = members
            .into_iter()
            .enumerate()
            .map(|(i, (source, instance))| JobServer {
                failure: failures.get(&source).cloned(),
                settles_at_ms: started_ms
                    + launch
                    + self.scaled_ms(stagger * i as f64)
                    + slow.get(&source).map_or(0, |s| (s * 1000.0).round() as i64),
                source_server_id: source,
                recovery_instance_id: instance,
                recovery_snapshot: None,
            })
            .collect();
        let hide_ms = self
            .faults
            .hide_new_jobs_seconds
            .map_or(0, |s| (s * 1000.0).round() as i64);
        self.jobs.push(Job {
            job_id: format!("drsjob-{n:017x}"),
            initiated_by,
            is_drill,
            created_ms: now,
            listed_from_ms: now + hide_ms,
            started_ms,
            servers,
            tags,
        });
        Ok(self.jobs.last().expect("just pushed"))
    }

    /// A server's replication state and lag now: the seed's, under any `replication` fault.
    pub fn replication(&self, server: &SourceServerSeed) -> (String, u64) {
        let fault = self.faults.replication.get(&server.source_server_id);
        (
            fault
                .and_then(|f| f.state.clone())
                .unwrap_or_else(|| server.replication_state.clone()),
            fault
                .and_then(|f| f.lag_seconds)
                .unwrap_or(server.lag_seconds),
        )
    }

    /// A server's recovery snapshots at `now`, oldest first; `None` if there is no such server.
    pub fn recovery_snapshots(&self, source_server_id: &str, now: i64) -> Option<Vec<Snapshot>> {
        let server = self.servers.get(source_server_id)?;
        let (_, lag) = self.replication(server);
        Some(snapshots(server, lag, now))
    }

    /// A fresh recovery instance ID (`i-` and 17 hex digits).
    pub fn new_instance_id(&mut self) -> String {
        let n = self.id();
        format!("i-{:017x}", 0x0f00_0000_0000_0000_u64 + n)
    }

    /// Starts a restore job, or returns the one started with the same idempotency token.
    pub fn start_restore(
        &mut self,
        rp: RecoveryPointSeed,
        iam_role_arn: Option<String>,
        token: Option<String>,
        now: i64,
    ) -> &RestoreJob {
        if let Some(t) = &token {
            if let Some(i) = self
                .restores
                .iter()
                .position(|r| r.idempotency_token.as_ref() == Some(t))
            {
                return &self.restores[i];
            }
        }
        let n = self.id();
        let restore_job_id = format!(
            "{:08X}-5EB0-4A5C-9D2E-{:012X}",
            0x5AA0_0000_u32 + n as u32,
            n
        );
        let running_ms = now + self.scaled_ms(self.timing.restore_pending_seconds);
        let ends_ms = running_ms + self.scaled_ms(self.timing.restore_running_seconds);
        let created_resource_arn = self.created_resource_arn(&rp.resource_type, n);
        let job = RestoreJob {
            restore_job_id,
            outcome: self
                .faults
                .restore_outcomes
                .get(&rp.recovery_point_arn)
                .cloned(),
            recovery_point_arn: rp.recovery_point_arn,
            resource_type: rp.resource_type,
            iam_role_arn,
            idempotency_token: token,
            created_ms: now,
            running_ms,
            ends_ms,
            created_resource_arn,
            backup_size_in_bytes: rp.backup_size_in_bytes,
        };
        self.restores.push(job);
        self.restores.last().expect("just pushed")
    }

    fn created_resource_arn(&self, resource_type: &str, n: u64) -> String {
        match resource_type {
            "EFS" => self.arn("elasticfilesystem", &format!("file-system/fs-{n:017x}")),
            "EBS" => self.arn("ec2", &format!("volume/vol-{n:017x}")),
            "EC2" => self.arn("ec2", &format!("instance/i-{n:017x}")),
            "RDS" | "Aurora" => self.arn("rds", &format!("db:restored-{n}")),
            "DynamoDB" => self.arn("dynamodb", &format!("table/restored-{n}")),
            "S3" => format!("arn:aws:s3:::restored-{n}"),
            other => self.arn("backup", &format!("restored-{}/{n}", other.to_lowercase())),
        }
    }
}

/// Which service's error shapes to answer with.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    Drs,
    Backup,
}

fn take(counts: &mut BTreeMap<String, u32>, op: &str) -> bool {
    match counts.get_mut(op) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}
