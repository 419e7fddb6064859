//! Judges a wave (or one round of it) from the judged state of each of its jobs, with no I/O:
//! the state a `Choice` routes on, and for a failed wave the error name and a cause that
//! names the wave, each failed job, its servers and why, bounded in size whatever AWS sent.

use crate::contract::{JobReport, JobState, Tracked, WaveCheckInput, WaveReport};
use crate::error::TaskError;
use crate::status::{drs_summary, restore_summary, truncate, wire};

/// A wave's cause is at most this many characters (a run's cause joins its failed waves').
pub const MAX_CAUSE_CHARS: usize = 1200;
/// Servers named per failed job in a cause.
const SERVERS_PER_JOB_IN_CAUSE: usize = 5;
/// A reason quoted in a cause is cut to this many characters.
const REASON_CHARS_IN_CAUSE: usize = 120;

/// Servers that did not launch listed in one wave's report, over all its jobs (each job also
/// lists at most [`crate::status::MAX_LISTED_SERVERS`]); the rest are counted.
pub const MAX_LISTED_SERVERS_PER_WAVE: usize = 50;

/// Jobs named in the error of a round cut short by an AWS outage; the rest are counted.
pub const MAX_JOBS_IN_OUTAGE: usize = 20;

/// The error of a round whose check gave up on an AWS outage ([`TaskError::AwsOutage`]), its
/// message naming the round's started jobs, which may still be running (at most
/// [`MAX_JOBS_IN_OUTAGE`]); any other error unchanged.
pub fn outage_in_round(err: TaskError, jobs: &[Tracked]) -> TaskError {
    let TaskError::AwsOutage {
        budget_seconds,
        spent_seconds,
        message,
    } = err
    else {
        return err;
    };
    let started: Vec<String> = jobs
        .iter()
        .filter_map(|job| {
            let (id, label) = match job {
                Tracked::DrsJob(d) => (&d.job_id, &d.label),
                Tracked::RestoreJob(r) => (&r.restore_job_id, &r.label),
                Tracked::NotStarted(_) => return None,
            };
            Some(match label {
                Some(label) => format!("{id} ({label})"),
                None => id.clone(),
            })
        })
        .collect();
    let mut listed = started
        .iter()
        .take(MAX_JOBS_IN_OUTAGE)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if started.len() > MAX_JOBS_IN_OUTAGE {
        listed.push_str(&format!(" and {} more", started.len() - MAX_JOBS_IN_OUTAGE));
    }
    let jobs = if started.is_empty() {
        "this round started no job".to_owned()
    } else {
        format!("these jobs of the round may still be running: {listed}")
    };
    TaskError::AwsOutage {
        budget_seconds,
        spent_seconds,
        message: bounded(format!("{}; {jobs}", truncate(&message, 300))),
    }
}

/// Judges the wave `input` names from its jobs' reports (in the order of `input.jobs`).
pub fn judge(input: &WaveCheckInput, mut jobs: Vec<JobReport>, elapsed_seconds: u64) -> WaveReport {
    bound_listing(&mut jobs, MAX_LISTED_SERVERS_PER_WAVE);
    let scope = &input.wave;
    let total = jobs.len();
    let running: Vec<&JobReport> = jobs
        .iter()
        .filter(|j| j.state() == JobState::InProgress)
        .collect();
    let failed: Vec<&JobReport> = jobs
        .iter()
        .filter(|j| j.state() == JobState::Failed)
        .collect();
    let timed_out = elapsed_seconds > input.give_up_after_seconds;
    // At the wave's judgement a running job was not waited for to its end: its round ended
    // early, on a check that failed. It timed out only if it has run past giveUpAfterSeconds.
    let gave_up = !running.is_empty() && (input.is_final || timed_out);

    let (state, error, cause) = if gave_up {
        let still: Vec<String> = running.iter().map(|j| describe(j)).collect();
        let why = if timed_out {
            format!(
                "gave up after {elapsed_seconds} s (giveUpAfterSeconds {})",
                input.give_up_after_seconds
            )
        } else {
            format!("its rounds ended early, on a status check that failed, after {elapsed_seconds} s (giveUpAfterSeconds {})", input.give_up_after_seconds)
        };
        let mut cause = format!(
            "{scope}: {why} with {} of {total} jobs still running: {}",
            running.len(),
            still.join("; ")
        );
        if !failed.is_empty() {
            cause.push_str(&format!("; {} failed: {}", failed.len(), list(&failed)));
        }
        let error = if timed_out { "TimedOut" } else { "Unsettled" };
        (JobState::Failed, error.to_owned(), bounded(cause))
    } else if !running.is_empty() {
        (JobState::InProgress, String::new(), String::new())
    } else if let Some(first) = failed.first() {
        let cause = format!(
            "{scope}: {} of {total} jobs failed: {}",
            failed.len(),
            list(&failed)
        );
        (JobState::Failed, error_of(first), bounded(cause))
    } else {
        (JobState::Succeeded, String::new(), String::new())
    };

    let started_at = jobs.iter().filter_map(started_at).min().map(str::to_owned);
    let ended_at = if running.is_empty() {
        jobs.iter().filter_map(ended_at).max().map(str::to_owned)
    } else {
        None
    };
    WaveReport {
        state,
        summary: summary(scope, state, &jobs),
        error,
        cause,
        elapsed_seconds,
        started_at,
        ended_at,
        jobs,
    }
}

/// Keeps the wave's report small whatever the number of jobs: past the wave's budget, a job's
/// servers that did not launch are counted, not listed.
pub fn bound_listing(jobs: &mut [JobReport], budget: usize) {
    let mut left = budget;
    for job in jobs.iter_mut() {
        if let JobReport::DrsJob(d) = job {
            let keep = d.not_launched.len().min(left);
            let dropped = d.not_launched.len() - keep;
            d.not_launched.truncate(keep);
            d.not_launched_omitted += u32::try_from(dropped).unwrap_or(u32::MAX);
            left -= keep;
        }
    }
}

fn summary(scope: &str, state: JobState, jobs: &[JobReport]) -> String {
    let (mut launched, mut servers, mut restored, mut restores) = (0, 0, 0, 0);
    for job in jobs {
        match job {
            JobReport::DrsJob(d) => {
                launched += d.counts.launched as usize;
                servers += d.counts.launched as usize
                    + d.not_launched.len()
                    + d.not_launched_omitted as usize;
            }
            JobReport::RestoreJob(r) => {
                restores += 1;
                restored += usize::from(r.state == JobState::Succeeded);
            }
            JobReport::NotStarted(_) => {}
        }
    }
    let done = jobs
        .iter()
        .filter(|j| j.state() != JobState::InProgress)
        .count();
    let word = match state {
        JobState::InProgress => "in progress",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
    };
    let mut parts = vec![format!("{done} of {} jobs ended", jobs.len())];
    if servers > 0 {
        parts.push(format!("{launched} of {servers} servers launched"));
    }
    if restores > 0 {
        parts.push(format!("{restored} of {restores} restores completed"));
    }
    format!("{scope} {word}: {}", parts.join(", "))
}

/// The failures of a wave, one job after the other, until the cause is long enough.
fn list(failed: &[&JobReport]) -> String {
    let mut out = String::new();
    for (i, job) in failed.iter().enumerate() {
        let part = describe(job);
        // Room is left for the wave's name and this tail.
        if !out.is_empty() && out.len() + part.len() > MAX_CAUSE_CHARS - 150 {
            out.push_str(&format!("; and {} more failed jobs", failed.len() - i));
            break;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&part);
    }
    out
}

/// One job in a cause: its label, ID and what went wrong, with a few servers and reasons.
fn describe(job: &JobReport) -> String {
    match job {
        JobReport::DrsJob(d) => {
            let label = d.label.as_deref().unwrap_or("job");
            if d.state == JobState::InProgress {
                return format!("{label} ({})", drs_summary(d));
            }
            let launched = d.counts.launched as usize;
            let total = launched + d.not_launched.len() + d.not_launched_omitted as usize;
            let not = total - launched;
            let named: Vec<String> = d
                .not_launched
                .iter()
                .take(SERVERS_PER_JOB_IN_CAUSE)
                .map(|s| match &s.reason {
                    Some(r) => format!(
                        "{} {} ({})",
                        s.source_server_id,
                        wire(s.launch_status),
                        truncate(r, REASON_CHARS_IN_CAUSE)
                    ),
                    None => format!("{} {}", s.source_server_id, wire(s.launch_status)),
                })
                .collect();
            let head = format!(
                "{label} (job {}): {not} of {total} servers did not launch",
                d.job_id
            );
            let more = not.saturating_sub(named.len());
            match (named.is_empty(), more) {
                (true, _) => head,
                (false, 0) => format!("{head}: {}", named.join(", ")),
                (false, more) => format!("{head}: {}, and {more} more", named.join(", ")),
            }
        }
        JobReport::RestoreJob(r) => {
            let label = r.label.as_deref().unwrap_or("restore");
            format!(
                "{label} of {} ({})",
                r.recovery_point_arn,
                truncate(&restore_summary(r), 2 * REASON_CHARS_IN_CAUSE)
            )
        }
        JobReport::NotStarted(n) if n.may_be_running => {
            let label = n.label.as_deref().unwrap_or("job");
            format!(
                "{label}: its start task ended with {} after the call may have reached AWS, so the job may be running: find it by the tag dr-orchestrator:idempotency-key = {}",
                n.error,
                n.idempotency_key.as_deref().unwrap_or("?")
            )
        }
        JobReport::NotStarted(n) => {
            let label = n.label.as_deref().unwrap_or("job");
            format!(
                "{label} was not started: {}: {}",
                n.error,
                truncate(&n.cause, 2 * REASON_CHARS_IN_CAUSE)
            )
        }
    }
}

fn error_of(job: &JobReport) -> String {
    match job {
        JobReport::DrsJob(d) => d.operation.failure_error().to_owned(),
        JobReport::RestoreJob(_) => "RestoreFailed".to_owned(),
        JobReport::NotStarted(n) => n.error.clone(),
    }
}

fn bounded(cause: String) -> String {
    truncate(&cause, MAX_CAUSE_CHARS)
}

fn started_at(job: &JobReport) -> Option<&str> {
    match job {
        JobReport::DrsJob(d) => d.started_at.as_deref(),
        JobReport::RestoreJob(r) => r.started_at.as_deref(),
        JobReport::NotStarted(_) => None,
    }
}

fn ended_at(job: &JobReport) -> Option<&str> {
    match job {
        JobReport::DrsJob(d) => d.ended_at.as_deref(),
        JobReport::RestoreJob(r) => r.ended_at.as_deref(),
        JobReport::NotStarted(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{
        DrsJobStatus, DrsOperation, LaunchCounts, LaunchStatus, NotStartedStatus, ServerOutcome,
    };

    fn input(give_up: u64, is_final: bool) -> WaveCheckInput {
        WaveCheckInput {
            wave: "wave 1 (app)".into(),
            jobs: vec![],
            give_up_after_seconds: give_up,
            is_final,
        }
    }

    fn drs(b: usize, state: JobState, failed: usize, reason: &str) -> JobReport {
        JobReport::DrsJob(DrsJobStatus {
            label: Some(format!("batch {b}")),
            state,
            job_id: format!("drsjob-{b:017}"),
            operation: DrsOperation::Recovery,
            job_status: if state == JobState::InProgress {
                "STARTED"
            } else {
                "COMPLETED"
            }
            .into(),
            counts: LaunchCounts {
                launched: 1,
                ..LaunchCounts::default()
            },
            not_launched: (0..failed)
                .map(|i| ServerOutcome {
                    source_server_id: format!("s-{b:08}{i:09}"),
                    recovery_instance_id: None,
                    launch_status: if state == JobState::InProgress {
                        LaunchStatus::InProgress
                    } else {
                        LaunchStatus::Failed
                    },
                    reason: (state != JobState::InProgress).then(|| reason.to_owned()),
                })
                .collect(),
            not_launched_omitted: 0,
            started_at: Some(format!("2026-11-25T02:0{b}:00Z")),
            ended_at: (state != JobState::InProgress).then(|| format!("2026-11-25T03:0{b}:00Z")),
        })
    }

    #[test]
    fn a_wave_succeeds_only_when_every_job_did() {
        let r = judge(
            &input(600, false),
            vec![
                drs(0, JobState::Succeeded, 0, ""),
                drs(1, JobState::Succeeded, 0, ""),
            ],
            30,
        );
        assert_eq!(r.state, JobState::Succeeded);
        assert_eq!((r.error.as_str(), r.cause.as_str()), ("", ""));
        assert_eq!(r.started_at.as_deref(), Some("2026-11-25T02:00:00Z"));
        assert_eq!(r.ended_at.as_deref(), Some("2026-11-25T03:01:00Z"));
        assert_eq!(
            r.summary,
            "wave 1 (app) succeeded: 2 of 2 jobs ended, 2 of 2 servers launched"
        );
    }

    #[test]
    fn a_wave_waits_for_every_job_even_after_one_failed() {
        let r = judge(
            &input(600, false),
            vec![
                drs(0, JobState::Failed, 1, "LAUNCH_FAILED: no capacity"),
                drs(1, JobState::InProgress, 2, ""),
            ],
            30,
        );
        assert_eq!(r.state, JobState::InProgress);
        assert!(r.ended_at.is_none());
    }

    #[test]
    fn a_failed_wave_names_each_job_server_and_reason_with_the_error_of_the_first() {
        let not_started = JobReport::NotStarted(NotStartedStatus {
            label: Some("batch 2".into()),
            state: JobState::Failed,
            error: "Conflict".into(),
            cause: "StartRecovery: ConflictException: server in an active job".into(),
            may_be_running: false,
            idempotency_key: Some("run#w1#b2".into()),
        });
        let r = judge(
            &input(600, false),
            vec![
                drs(0, JobState::Succeeded, 0, ""),
                drs(1, JobState::Failed, 1, "LAUNCH_FAILED: no capacity"),
                not_started,
            ],
            30,
        );
        assert_eq!(r.state, JobState::Failed);
        assert_eq!(r.error, "RecoveryFailed");
        assert!(r.cause.starts_with("wave 1 (app): 2 of 3 jobs failed: batch 1 (job drsjob-00000000000000001): 1 of 2 servers did not launch: s-00000001000000000 FAILED (LAUNCH_FAILED: no capacity)"), "{}", r.cause);
        assert!(
            r.cause
                .contains("batch 2 was not started: Conflict: StartRecovery"),
            "{}",
            r.cause
        );
    }

    #[test]
    fn a_round_cut_short_by_an_outage_names_its_started_jobs_and_no_more_than_twenty() {
        let outage = |message: &str| TaskError::AwsOutage {
            budget_seconds: 1800,
            spent_seconds: 1812,
            message: message.into(),
        };
        let job = |i: usize| {
            Tracked::DrsJob(crate::contract::DrsJobRef {
                job_id: format!("drsjob-{i:017}"),
                operation: DrsOperation::Recovery,
                source_server_ids: vec![],
                recovery_instance_ids: vec![],
                reused: false,
                label: Some(format!("batch {i}")),
            })
        };
        let not_started = Tracked::NotStarted(crate::contract::NotStarted {
            label: Some("batch 9".into()),
            idempotency_key: None,
            error: "AwsOutage".into(),
            cause: None,
        });
        let err = outage_in_round(outage("DescribeJobs: 503"), &[job(1), not_started, job(2)]);
        let TaskError::AwsOutage { message, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            message,
            "DescribeJobs: 503; these jobs of the round may still be running: \
             drsjob-00000000000000001 (batch 1), drsjob-00000000000000002 (batch 2)"
        );
        let many: Vec<Tracked> = (0..23).map(job).collect();
        let err = outage_in_round(outage("x"), &many);
        let text = err.to_string();
        assert!(
            text.contains("drsjob-00000000000000019 (batch 19) and 3 more"),
            "{text}"
        );
        assert!(!text.contains("batch 20"), "{text}");
        assert!(outage_in_round(outage("x"), &[])
            .to_string()
            .contains("this round started no job"));
        // Any other error is left as it is.
        let other = TaskError::Conflict {
            message: "busy".into(),
        };
        assert_eq!(outage_in_round(other.clone(), &many), other);
    }

    #[test]
    fn a_start_that_timed_out_is_never_called_not_started() {
        let timed_out = JobReport::NotStarted(NotStartedStatus {
            label: Some("batch 0".into()),
            state: JobState::Failed,
            error: "Sandbox.Timedout".into(),
            cause: "Task timed out after 30.00 seconds".into(),
            may_be_running: true,
            idempotency_key: Some("run#w1#b0".into()),
        });
        let r = judge(&input(600, false), vec![timed_out], 0);
        assert_eq!(
            (r.state, r.error.as_str()),
            (JobState::Failed, "Sandbox.Timedout")
        );
        assert!(!r.cause.contains("not started"), "{}", r.cause);
        assert!(r.cause.contains("the job may be running: find it by the tag dr-orchestrator:idempotency-key = run#w1#b0"), "{}", r.cause);
    }

    #[test]
    fn running_past_the_limit_is_timed_out_and_at_the_final_check_before_it_unsettled() {
        for (elapsed, is_final, error) in [
            (601, false, "TimedOut"),
            (601, true, "TimedOut"),
            (10, true, "Unsettled"),
        ] {
            let r = judge(
                &input(600, is_final),
                vec![
                    drs(0, JobState::Succeeded, 0, ""),
                    drs(1, JobState::InProgress, 2, ""),
                ],
                elapsed,
            );
            assert_eq!((r.state, r.error.as_str()), (JobState::Failed, error));
            assert!(r.cause.contains("with 1 of 2 jobs still running: batch 1 (job drsjob-00000000000000001 (STARTED)"), "{}", r.cause);
        }
        let r = judge(
            &input(600, true),
            vec![drs(1, JobState::InProgress, 2, "")],
            10,
        );
        assert!(
            r.cause
                .contains("its rounds ended early, on a status check that failed, after 10 s"),
            "{}",
            r.cause
        );
        // Inside the limit and not final, a running job is waited for.
        let r = judge(
            &input(600, false),
            vec![drs(1, JobState::InProgress, 2, "")],
            600,
        );
        assert_eq!(r.state, JobState::InProgress);
    }

    #[test]
    fn a_wave_lists_a_bounded_number_of_servers_and_counts_the_rest() {
        let jobs: Vec<JobReport> = (0..10)
            .map(|b| drs(b, JobState::Failed, 20, "LAUNCH_FAILED"))
            .collect();
        let r = judge(&input(600, false), jobs, 30);
        let (listed, omitted) = r.jobs.iter().fold((0, 0), |(l, o), j| match j {
            JobReport::DrsJob(d) => (
                l + d.not_launched.len(),
                o + d.not_launched_omitted as usize,
            ),
            _ => (l, o),
        });
        // The documented bound: a wave lists at most 50 servers; the rest are counted.
        assert_eq!((listed, omitted), (50, 150));
        assert!(
            r.summary.contains("10 of 210 servers launched"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn the_cause_stays_bounded_for_a_thousand_failures_with_long_reasons() {
        let long = format!("LAUNCH_FAILED: {}", "y".repeat(4000));
        let jobs: Vec<JobReport> = (0..10)
            .map(|b| drs(b, JobState::Failed, 100, &long))
            .collect();
        let r = judge(&input(600, false), jobs, 30);
        // The documented bound: a wave's cause is at most 1,200 characters.
        assert!(r.cause.chars().count() <= 1200, "{}", r.cause.len());
        assert!(r.cause.contains("and 95 more"), "{}", r.cause);
        assert!(r.cause.contains("more failed jobs"), "{}", r.cause);
    }
}
