"""Offline rehearsal of the dr-orchestrator workflows.

The real Rust handlers run under `cargo lambda watch` (a Lambda Runtime API emulator) against
the local DRS / AWS Backup endpoint (`dr-sim`); the definitions from statemachine/ run unchanged
but for their ${...} substitutions on moto's Step Functions interpreter, with moto in server mode
on 127.0.0.1 (`local_aws`: Step Functions, SNS, SQS, Lambda, ... over HTTP), whose Lambda tasks
are routed to the handlers. Approval requests the workflows publish to the notifications topic
are read back from an SQS queue and answered with SendTaskSuccess / SendTaskFailure
(`approval`), automatically or by a person from another terminal.
"""
