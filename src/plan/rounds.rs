//! Batching into quota-sized rounds: a wave's start tasks (each a DRS job of at most
//! `batchSize` servers, or a restore) are grouped into rounds that fit what the account has
//! left of DRS's job and in-flight server quotas, and `maxConcurrentJobs`.

use super::limits::{DRS_MAX_CONCURRENT_JOBS, DRS_MAX_SERVERS_IN_ACTIVE_JOBS};
use super::options::ResolvedOptions;
use super::run_state::Task;
use crate::preflight::{Finding, Severity};

/// The account's DRS load before the run starts (`DescribeJobs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveLoad {
    pub jobs: usize,
    pub servers: usize,
}

/// Groups a wave's tasks into rounds that fit what the account has left: at most
/// `maxConcurrentJobs` (and the DRS job quota) jobs, at most the DRS in-flight server quota.
pub(super) fn rounds(
    tasks: Vec<Task>,
    active: ActiveLoad,
    options: &ResolvedOptions,
    scope: &str,
    findings: &mut Vec<Finding>,
) -> Vec<Vec<Task>> {
    let jobs_left = DRS_MAX_CONCURRENT_JOBS.saturating_sub(active.jobs);
    let servers_left = DRS_MAX_SERVERS_IN_ACTIVE_JOBS.saturating_sub(active.servers);
    let per_round = usize::try_from(options.max_concurrent_jobs)
        .unwrap_or(usize::MAX)
        .min(jobs_left.max(1));
    let mut out: Vec<Vec<Task>> = Vec::new();
    let mut current: Vec<Task> = Vec::new();
    let mut in_flight = 0;
    for task in tasks {
        let n = task.servers();
        if n > servers_left || jobs_left == 0 {
            findings.push(Finding {
                severity: Severity::Blocking,
                code: "QUOTA".into(),
                path: scope.to_owned(),
                source_server_id: None,
                message: format!(
                    "{} active DRS jobs hold {} servers; a job of {n} servers would pass DRS's limits of {DRS_MAX_CONCURRENT_JOBS} jobs and {DRS_MAX_SERVERS_IN_ACTIVE_JOBS} servers in active jobs",
                    active.jobs, active.servers
                ),
            });
        }
        if !current.is_empty() && (current.len() >= per_round || in_flight + n > servers_left) {
            out.push(std::mem::take(&mut current));
            in_flight = 0;
        }
        in_flight += n;
        current.push(task);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{inventory, plan, prepare, round_sizes, servers};
    use crate::plan::input::Trigger;

    #[test]
    fn rounds_fit_the_servers_and_jobs_the_account_has_left() {
        let p = plan(
            serde_json::json!({"isDrill": true, "options": {"batchSize": 100, "maxConcurrentJobs": 10},
            "waves": [{"name": "w", "sourceServers": servers(0, 1000)}]}),
        );
        let inv = inventory(1000);
        let idle = prepare(&p, &inv, Trigger::console(), ActiveLoad::default()).unwrap();
        assert_eq!(round_sizes(&idle.waves[0]), [vec![100; 5], vec![100; 5]]);
        let busy = ActiveLoad {
            jobs: 17,
            servers: 250,
        };
        let prepared = prepare(&p, &inv, Trigger::console(), busy).unwrap();
        let sizes = round_sizes(&prepared.waves[0]);
        assert!(
            sizes
                .iter()
                .all(|r| r.len() <= 3 && r.iter().sum::<usize>() <= 250),
            "{sizes:?}"
        );
        assert_eq!(sizes.iter().flatten().sum::<usize>(), 1000);

        let full = ActiveLoad {
            jobs: 20,
            servers: 10,
        };
        let err = prepare(&p, &inv, Trigger::console(), full).unwrap_err();
        assert_eq!(err.name(), "PreflightBlocked");
        assert!(err.to_string().contains("QUOTA"), "{err}");
    }
}
