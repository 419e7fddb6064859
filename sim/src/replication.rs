//! Point-in-time recovery snapshots: the snapshots `DescribeRecoverySnapshots` lists for a
//! seeded server (the model's vocabulary they use is in `model`).

use crate::clock::{iso, parse_iso};
use crate::seed::SourceServerSeed;

/// How many snapshots a server without explicit ones has.
pub const SNAPSHOTS_PER_SERVER: u64 = 3;
/// The interval between generated snapshots (wall clock, not scaled by `timeScale`).
pub const SNAPSHOT_INTERVAL_MS: i64 = 10 * 60 * 1000;

/// One recovery snapshot, in the model's `RecoverySnapshot` terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub snapshot_id: String,
    pub source_server_id: String,
    pub expected_ms: i64,
    pub taken_ms: i64,
    pub ebs_snapshots: Vec<String>,
}

impl Snapshot {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "snapshotID": self.snapshot_id,
            "sourceServerID": self.source_server_id,
            "expectedTimestamp": iso(self.expected_ms),
            "timestamp": iso(self.taken_ms),
            "ebsSnapshots": self.ebs_snapshots,
        })
    }
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The ID of generated snapshot `k` (0 = the newest) of a source server:
/// `pit-` + the digit `k` + the 64-bit FNV-1a hash of the full source server ID (e.g. the
/// bytes of `s-0a1b2c3d4e5f60001`) as 16 lowercase hex digits. Its one EBS snapshot is
/// `snap-` + the same 17 characters. In Python:
/// `h = 0xcbf29ce484222325; for b in sid.encode(): h = ((h ^ b) * 0x100000001b3) % 2**64`,
/// then `f"pit-{k}{h:016x}"`.
pub fn snapshot_id(source_server_id: &str, k: u64) -> String {
    format!("pit-{k}{:016x}", fnv1a(source_server_id.as_bytes()))
}

/// A server's snapshots at `now`, oldest first: the seed's, or else `SNAPSHOTS_PER_SERVER`
/// generated ones, one every `SNAPSHOT_INTERVAL_MS` on the interval grid, the newest being the
/// last grid point at or before `now - lag` (so a lagging server's snapshots are that old).
/// Their IDs do not change with time; their timestamps follow the clock.
pub fn snapshots(server: &SourceServerSeed, lag_seconds: u64, now: i64) -> Vec<Snapshot> {
    let id = &server.source_server_id;
    if let Some(listed) = &server.recovery_snapshots {
        let mut out: Vec<Snapshot> = listed
            .iter()
            .map(|s| {
                let expected_ms = parse_iso(&s.expected_timestamp).unwrap_or(0);
                Snapshot {
                    snapshot_id: s.snapshot_id.clone(),
                    source_server_id: id.clone(),
                    expected_ms,
                    taken_ms: s
                        .timestamp
                        .as_deref()
                        .and_then(parse_iso)
                        .unwrap_or(expected_ms),
                    ebs_snapshots: s.ebs_snapshots.clone(),
                }
            })
            .collect();
        out.sort_by_key(|s| s.taken_ms);
        return out;
    }
    let lag_ms = i64::try_from(lag_seconds.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    let newest = (now - lag_ms).div_euclid(SNAPSHOT_INTERVAL_MS) * SNAPSHOT_INTERVAL_MS;
    (0..SNAPSHOTS_PER_SERVER)
        .rev()
        .map(|k| {
            let at = newest - k as i64 * SNAPSHOT_INTERVAL_MS;
            let snapshot_id = snapshot_id(id, k);
            Snapshot {
                ebs_snapshots: vec![format!("snap-{}", &snapshot_id[4..])],
                snapshot_id,
                source_server_id: id.clone(),
                expected_ms: at,
                taken_ms: at,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::matches_id;

    #[test]
    fn generated_snapshots_are_stable_distinct_and_on_the_grid() {
        let server: SourceServerSeed = serde_json::from_value(
            serde_json::json!({"sourceServerID": "s-0a1b2c3d4e5f60001", "hostname": "h"}),
        )
        .unwrap();
        let now = 1_795_400_123_456;
        let snaps = snapshots(&server, 0, now);
        assert_eq!(snaps.len(), 3);
        for s in &snaps {
            assert!(matches_id(&s.snapshot_id, "pit-"), "{}", s.snapshot_id);
            assert!(matches_id(&s.ebs_snapshots[0], "snap-"));
            assert_eq!(s.expected_ms % SNAPSHOT_INTERVAL_MS, 0);
        }
        assert_eq!(snaps[2].snapshot_id, snapshot_id("s-0a1b2c3d4e5f60001", 0));
        assert_eq!(snaps[2].snapshot_id, "pit-013124c750d41905e"); // checked with the Python above
        assert!(snaps[2].taken_ms <= now && now - snaps[2].taken_ms < SNAPSHOT_INTERVAL_MS);
        assert_eq!(snaps[1].taken_ms, snaps[2].taken_ms - SNAPSHOT_INTERVAL_MS);
        let later = snapshots(&server, 0, now + 2 * SNAPSHOT_INTERVAL_MS);
        let ids = |v: &[Snapshot]| v.iter().map(|s| s.snapshot_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&later), ids(&snaps));
        let lagging = snapshots(&server, 3600, now);
        assert!(now - lagging[2].taken_ms >= 3_600_000);
        let other = snapshots(
            &SourceServerSeed {
                source_server_id: "s-0a1b2c3d4e5f60002".into(),
                ..server
            },
            0,
            now,
        );
        assert!(ids(&other).iter().all(|i| !ids(&snaps).contains(i)));
    }
}
