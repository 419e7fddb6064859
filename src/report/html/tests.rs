//! The pages, rendered from hand-made reports.

use super::gantt::PLOT_X;
use super::history::PlanChart;
use super::*;
use crate::report::model::{
    ApprovalRecord, Outcome, OutcomeState, Verdict, WaveReport, Worst, SCHEMA_VERSION,
};
use serde_json::json;

fn targets() -> Targets {
    Targets {
        rto_minutes: Some(15),
        rpo_minutes: Some(10),
    }
}

fn wave(index: usize, name: &str, state: &str, start: &str, end: &str) -> WaveReport {
    WaveReport {
        index,
        name: name.to_string(),
        state: state.to_string(),
        started_at: Some(start.to_string()),
        ended_at: Some(end.to_string()),
        seconds: Some(epoch(end).unwrap() as i64 - epoch(start).unwrap() as i64),
        targets: targets(),
        servers: 2,
        launched: 2,
        restores: 0,
        restored: 0,
        job_ids: vec![format!("drsjob-{index}")],
    }
}

/// A server of wave `wave` whose job started `job` seconds into the run, whose launch
/// started 40 s later and ended `rto` seconds into the run.
fn server(id: &str, wave: usize, job: i64, rto: i64) -> ServerReport {
    let at = |s: i64| format!("2026-11-25T10:{:02}:{:02}Z", s / 60, s % 60);
    ServerReport {
        source_server_id: id.to_string(),
        wave,
        job_id: Some(format!("drsjob-{wave}")),
        launch_status: "LAUNCHED".to_string(),
        recovery_instance_id: Some(format!("i-{id}")),
        job_started_at: Some(at(job)),
        launch_started_at: Some(at(job + 40)),
        launched_at: Some(at(rto)),
        failed_at: None,
        error: None,
        snapshot_at: Some("2026-11-25T09:58:00Z".to_string()),
        rto_seconds: Some(rto),
        rto_from_disaster_seconds: None,
        rpo_seconds: Some(120),
        targets: targets(),
        rto: if rto <= 900 {
            Judgement::Pass
        } else {
            Judgement::Fail
        },
        rpo: Judgement::Pass,
    }
}

fn sample() -> Report {
    let mut failed = server("s-00000000000000005", 2, 700, 0);
    failed.launch_status = "FAILED".to_string();
    failed.launched_at = None;
    failed.recovery_instance_id = None;
    failed.failed_at = Some("2026-11-25T10:14:10Z".to_string());
    failed.rto_seconds = None;
    failed.rpo_seconds = None;
    failed.error = Some("LAUNCH_FAILED: insufficient capacity".to_string());
    failed.rto = Judgement::Fail;
    failed.rpo = Judgement::Unknown;
    Report {
        schema_version: SCHEMA_VERSION,
        workflow: "RECOVERY_PLAN".to_string(),
        plan_name: "payments-prod".to_string(),
        is_drill: Some(true),
        execution_id: "arn:aws:states:eu-west-1:123456789012:execution:dr:drill-42".into(),
        trigger: "CONSOLE".to_string(),
        disaster_at: None,
        run_started_at: "2026-11-25T10:00:00Z".to_string(),
        run_ended_at: "2026-11-25T10:16:30.250Z".to_string(),
        run_seconds: 990,
        outcome: Outcome {
            state: OutcomeState::Failed,
            error: Some("RecoveryFailed".to_string()),
            cause: Some("wave 2 (app): 1 of 2 servers did not launch".to_string()),
        },
        targets: targets(),
        verdict: Verdict {
            state: "MISSED".to_string(),
            summary: "1 of 6 servers did not launch; worst RTO 14m 05s against 15 min.".to_string(),
            worst_rto: Some(Worst {
                seconds: 845,
                of: "s-00000000000000006".to_string(),
                target_seconds: Some(900),
            }),
            worst_rpo: Some(Worst {
                seconds: 120,
                of: "s-00000000000000001".to_string(),
                target_seconds: Some(600),
            }),
            judged: 7,
            passed: 6,
        },
        waves: vec![
            wave(
                0,
                "data",
                "SUCCEEDED",
                "2026-11-25T10:00:05Z",
                "2026-11-25T10:04:10Z",
            ),
            wave(
                1,
                "app",
                "SUCCEEDED",
                "2026-11-25T10:05:00Z",
                "2026-11-25T10:09:30Z",
            ),
            wave(
                2,
                "web",
                "FAILED",
                "2026-11-25T10:10:00Z",
                "2026-11-25T10:14:30Z",
            ),
        ],
        servers: vec![
            server("s-00000000000000001", 0, 5, 245),
            server("s-00000000000000002", 0, 5, 250),
            server("s-00000000000000003", 1, 300, 540),
            server("s-00000000000000004", 1, 300, 565),
            failed,
            server("s-00000000000000006", 2, 600, 845),
        ],
        restores: vec![RestoreReport {
            label: "orders-db".to_string(),
            wave: 0,
            recovery_point_arn: "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-1"
                .to_string(),
            restore_job_id: Some("restore-1".to_string()),
            status: "COMPLETED".to_string(),
            started_at: Some("2026-11-25T10:00:10Z".to_string()),
            completed_at: Some("2026-11-25T10:03:30Z".to_string()),
            seconds: Some(200),
            created_resource_arn: Some(
                "arn:aws:rds:eu-west-1:123456789012:db:orders-restored".to_string(),
            ),
            recovery_point_created_at: Some("2026-11-25T09:00:00Z".to_string()),
            error: None,
            rto_seconds: Some(210),
            rto_from_disaster_seconds: None,
            rpo_seconds: Some(3600),
            targets: targets(),
            rto: Judgement::Pass,
            rpo: Judgement::Fail,
        }],
        preflight: json!({
            "verdict": "WARNINGS",
            "mode": "FAIL",
            "blocking": 0,
            "warnings": 1,
            "serversChecked": 6,
            "findings": [{
                "severity": "WARNING",
                "code": "LAG_TOO_HIGH",
                "path": "waves[2].sourceServers[0]",
                "sourceServerID": "s-00000000000000005",
                "message": "replication lag is 12 minutes"
            }],
            "findingsOmitted": 0
        }),
        approvals: vec![ApprovalRecord {
            wave: 1,
            decision: "APPROVED".to_string(),
            note: None,
            by: Some("alice@example.com".to_string()),
            answered_at: Some("2026-11-25T10:04:50Z".to_string()),
            reason: "data tier verified".to_string(),
        }],
        cleanup: Some(json!({"state": "SUCCEEDED", "summary": "5 recovery instances terminated"})),
        method: vec![
            "RTO: the job's JOB_END log item minus the execution start.".to_string(),
            "RPO: the execution start minus the snapshot of the recovery instance.".to_string(),
        ],
    }
}

fn entry(plan: &str, id: &str, started: &str, verdict: &str, rto: Option<i64>) -> IndexEntry {
    IndexEntry {
        plan_name: plan.to_string(),
        execution_id: id.to_string(),
        workflow: "RECOVERY_PLAN".to_string(),
        is_drill: Some(true),
        run_started_at: started.to_string(),
        outcome: "SUCCEEDED".to_string(),
        verdict: verdict.to_string(),
        worst_rto_seconds: rto,
        worst_rpo_seconds: Some(60),
        rto_target_minutes: Some(15),
        report: format!("{plan}/{id}/report.html"),
    }
}

#[test]
fn formats_durations() {
    assert_eq!(duration_text(42), "42s");
    assert_eq!(duration_text(245), "4m 05s");
    assert_eq!(duration_text(3723), "1h 02m 03s");
    assert_eq!(duration_text(0), "0s");
    assert_eq!(duration_text(-65), "-1m 05s");
    assert_eq!(clock_text(125), "2:05");
    assert_eq!(clock_text(3900), "1:05:00");
}

#[test]
fn parses_times_with_and_without_fractions() {
    let start = epoch("2026-11-25T10:00:00Z").unwrap();
    let end = epoch("2026-11-25T10:16:30.250Z").unwrap();
    assert!((end - start - 990.25).abs() < 1e-6);
    assert_eq!(epoch("yesterday"), None);
    assert_eq!(
        time_text("2026-11-25T10:16:30.250Z"),
        "2026-11-25 10:16:30 UTC"
    );
}

#[test]
fn opens_with_the_verdict_and_its_margins() {
    let page = report_page(&sample()).unwrap();
    let verdict = page.find(r#"id="verdict""#).unwrap();
    assert!(verdict < page.find(r#"id="run""#).unwrap());
    assert!(page.find(r#"id="run""#).unwrap() < page.find(r#"id="timeline""#).unwrap());
    assert!(page.contains(r#"class="verdict missed" id="verdict" data-state="MISSED""#));
    assert!(page.contains("1 of 6 servers did not launch; worst RTO 14m 05s against 15 min."));
    assert!(page.contains("met with 55s to spare"));
    assert!(page.contains("met with 8m 00s to spare"));
    assert!(page.contains("RecoveryFailed"));
    assert!(page.contains(">6/7<"));
}

#[test]
fn lists_every_server_with_its_rto() {
    let report = sample();
    let page = report_page(&report).unwrap();
    for s in &report.servers {
        assert!(page.contains(&format!(r#"id="server-{}""#, s.source_server_id)));
        if let Some(rto) = s.rto_seconds {
            assert!(page.contains(&format!(
                r#"data-rto-seconds="{rto}">{}"#,
                duration_text(rto)
            )));
        }
    }
    assert!(page.contains("4m 05s"));
    assert!(page.contains("14m 05s"));
}

#[test]
fn marks_the_failed_server_in_table_and_timeline() {
    let page = report_page(&sample()).unwrap();
    assert!(page.contains(r#"<tr class="server failed" id="server-s-00000000000000005">"#));
    assert!(page.contains(r#"<tr class="server" id="server-s-00000000000000006">"#));
    assert!(page.contains(r#"<g class="row server failed" data-server="s-00000000000000005">"#));
    assert!(page.contains(r#"class="bar launching failed""#));
    assert!(page.contains("✗ FAILED"));
    assert!(page.contains("LAUNCH_FAILED: insufficient capacity"));
}

#[test]
fn draws_waves_servers_restores_and_the_rto_target() {
    let page = report_page(&sample()).unwrap();
    assert!(page.contains(r#"<g class="row wave">"#));
    assert!(page.contains(r#"class="bar preparing""#));
    assert!(page.contains(r#"class="bar restoring""#));
    assert!(page.contains(r#"<g class="marker target">"#));
    assert!(page.contains("RTO target 15 min from run start"));
    // 990 s of run and a 900 s target: 2-minute ticks up to 18:00.
    assert!(page.contains(">18:00</text>"));
    assert!(!page.contains(">20:00</text>"));
    for external in ["<link", "<script", " src=", "@import", "url(http"] {
        assert!(!page.contains(external), "{external}");
    }
}

#[test]
fn starts_the_axis_at_the_disaster() {
    let mut report = sample();
    report.disaster_at = Some("2026-11-25T09:55:00Z".to_string());
    let page = report_page(&report).unwrap();
    assert!(page.contains(r#"<g class="marker disaster">"#));
    assert!(page
        .contains("since the disaster at 2026-11-25 09:55:00 UTC; the run started 5m 00s later"));
    assert!(page.contains("RTO target 15 min from disaster"));
    // The target line sits at 15:00 of an axis that starts at the disaster.
    let gantt = Gantt::new(&report);
    let target = gantt.markers.iter().find(|m| m.class == "target").unwrap();
    let tick = gantt.ticks.iter().find(|t| t.label == "15:00").unwrap();
    assert_eq!(target.x, tick.x);
    assert!(gantt
        .rows
        .iter()
        .flat_map(|r| &r.bars)
        .all(|b| b.x >= PLOT_X));
}

#[test]
fn escapes_user_text() {
    let mut report = sample();
    report.plan_name = "<script>alert(1)</script>".to_string();
    report.servers[0].error = Some(r#""><img src=x onerror=alert(1)>"#.to_string());
    let page = report_page(&report).unwrap();
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(!page.contains("<img src=x"));
    let index = index_page(&[entry(
        "<script>alert(1)</script>",
        "x",
        "2026-11-25T10:00:00Z",
        "MET",
        Some(60),
    )])
    .unwrap();
    assert!(!index.contains("<script>alert(1)</script>"));
    assert!(index.contains("&#60;script&#62;"));
}

#[test]
fn renders_preflight_and_cleanup_defensively() {
    let page = report_page(&sample()).unwrap();
    assert!(page.contains("LAG_TOO_HIGH"));
    assert!(page.contains("replication lag is 12 minutes"));
    assert!(page.contains("0 blocking, 1 warnings, 6 servers checked; mode FAIL"));
    assert!(page.contains("5 recovery instances terminated"));
    assert!(page.contains("alice@example.com"));
    assert!(page.contains("the snapshot of the recovery instance"));

    let mut odd = sample();
    odd.preflight = json!({"findings": [42, {"code": "ODD"}], "verdict": null});
    odd.cleanup = Some(json!("done"));
    let page = report_page(&odd).unwrap();
    assert!(page.contains(">ODD<"));
    assert!(page.contains("No cleanup recorded."));
    odd.preflight = Value::Null;
    assert!(report_page(&odd)
        .unwrap()
        .contains("No preflight recorded."));
}

#[test]
fn aggregates_the_timeline_of_a_thousand_servers_per_wave() {
    let mut report = sample();
    report.servers = (0..1000)
        .map(|i| {
            server(
                &format!("s-{i:017}"),
                i % 3,
                (i % 3) as i64 * 300,
                240 + (i % 3) as i64 * 300 + (i % 7) as i64,
            )
        })
        .collect();
    report.servers[10].launch_status = "FAILED".to_string();
    let page = report_page(&report).unwrap();
    assert!(page.contains(r#"class="gantt tl aggregated""#));
    assert!(
        page.matches("<rect").count() < 40,
        "{}",
        page.matches("<rect").count()
    );
    assert_eq!(page.matches(r#"<tr class="server"#).count(), 1000);
    assert!(page.contains(">334 servers</text>"));
    assert!(page.contains(">launched 334/334 · worst RTO 4m 06s</text>"));
    assert!(page.contains(">launched 332/333 · ✗ failed 1 · worst RTO 9m 06s</text>"));
    assert!(!report_page(&sample()).unwrap().contains("aggregated"));
}

#[test]
fn lists_runs_in_the_given_order_with_links_and_charts() {
    let entries = [
        entry(
            "payments",
            "run-3",
            "2026-11-27T10:00:00Z",
            "MISSED",
            Some(1000),
        ),
        entry("crm", "run-2", "2026-11-26T10:00:00Z", "MET", Some(300)),
        entry("payments", "run-1", "2026-11-25T10:00:00Z", "MET", None),
    ];
    let page = index_page(&entries).unwrap();
    let at = |s: &str| page.find(s).unwrap();
    assert!(at(r#"data-execution="run-3""#) < at(r#"data-execution="run-2""#));
    assert!(at(r#"data-execution="run-2""#) < at(r#"data-execution="run-1""#));
    assert!(page.contains(r#"<a href="payments/run-3/report.html">"#));
    assert!(page.contains(r#"<a href="crm/run-2/report.html">"#));
    assert!(page.contains("16m 40s"));
    assert!(page.contains(r#"data-plan="payments""#));
    assert!(page.contains("target 15m 00s"));
    // Oldest left: the run without an RTO comes before the missed one.
    let chart = PlanChart::new("payments", &[&entries[0], &entries[2]]);
    assert_eq!(chart.bars[0].class, "none");
    assert_eq!(chart.bars[1].class, "missed");
    assert!(chart.bars[0].x < chart.bars[1].x);
}

#[test]
fn says_so_when_there_are_no_runs() {
    let page = index_page(&[]).unwrap();
    assert!(page.contains("No runs yet."));
    assert!(!page.contains("<table"));
}
