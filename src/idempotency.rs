//! Idempotency keys. DRS `StartRecovery` and `StartFailbackLaunch` take no client token, so the
//! job is tagged with the key and a retried task finds it; AWS Backup takes a token, which is
//! derived from the key so that every retry of the same restore sends the same one.

use sha2::{Digest, Sha256};

/// The tag that carries the idempotency key on every DRS job this project starts.
pub const IDEMPOTENCY_TAG: &str = "dr-orchestrator:idempotency-key";

/// The tag that carries the Step Functions execution that started a DRS job: the drill sweeper
/// leaves the instances of a running execution alone.
pub const EXECUTION_TAG: &str = "dr-orchestrator:execution";

/// The `IdempotencyToken` for `StartRestoreJob`: the same for the same key and recovery point,
/// different for anything else.
pub fn restore_token(idempotency_key: &str, recovery_point_arn: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(idempotency_key.as_bytes());
    hash.update([0]);
    hash.update(recovery_point_arn.as_bytes());
    hash.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_token_is_stable_and_depends_on_both_parts() {
        let a = restore_token(
            "exec-1#restore-0",
            "arn:aws:backup:eu-west-1:123456789012:recovery-point:1",
        );
        assert_eq!(
            a,
            restore_token(
                "exec-1#restore-0",
                "arn:aws:backup:eu-west-1:123456789012:recovery-point:1"
            )
        );
        assert_eq!(a.len(), 32);
        assert_ne!(
            a,
            restore_token(
                "exec-2#restore-0",
                "arn:aws:backup:eu-west-1:123456789012:recovery-point:1"
            )
        );
        assert_ne!(
            a,
            restore_token(
                "exec-1#restore-0",
                "arn:aws:backup:eu-west-1:123456789012:recovery-point:2"
            )
        );
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(restore_token("ab", "c"), restore_token("a", "bc"));
    }
}
