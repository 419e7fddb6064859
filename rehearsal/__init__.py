"""Offline rehearsal of the dr-orchestrator workflows.

The real Rust handlers run under `cargo lambda watch` (a Lambda Runtime API emulator) against
the local DRS / AWS Backup endpoint (`dr-sim`); the definitions from statemachine/ run unchanged
but for their ${...} substitutions on moto's Step Functions interpreter, whose Lambda tasks are
routed to the handlers.
"""
