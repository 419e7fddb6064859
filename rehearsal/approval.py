"""Approvals: before a real run (a real recovery, a failback, a restore), before a wave marked
pauseBefore, a workflow publishes an approval request to the approvals topic, then waits: the
`await-approval` handler keeps the wait's task token in the approvals table, inside the stack.
The message is plain text for a person (what will happen, why now, preflight, how to answer) and
names an approval id, never the token:

    Subject: "Approve REAL recovery of payments: wave 0 (db) before it starts (12 servers)"
    Message: "APPROVAL NEEDED: REAL recovery of plan "payments" ... Approval id: apr-..."
    MessageAttributes: kind = APPROVAL_NEEDED, severity = ACTION_REQUIRED, approvalId = apr-...

A person answers at the approval endpoint (the `answer-approval` handler behind a Lambda function
URL with AWS_IAM auth): POST {"approvalId", "decision": "APPROVE" | "REJECT", "reason"}. AWS
verifies the caller's signature and passes the caller's ARN; the endpoint checks it against the
deployment's approvers (DR_APPROVERS), records the answer once and resumes the run with it. No
answer within the request's timeout fails the run (ApprovalTimedOut).

Here (no AWS to sign with): the request as the function URL hands it to the handler, with the
caller ARN that AWS would have verified (`function_url_event`); reading such a notification,
printing it for a person, answering it, and `Approver`, which does all three as the
notifications arrive.
"""

import base64
import json
import shlex
import time
import urllib.parse

APPROVAL_NEEDED = "APPROVAL_NEEDED"
# The rehearsal's approver: a session of the role the rehearsal's deployment names as approver
# (rehearsal.processes.APPROVER_ROLE).
AUTO_APPROVER = "arn:aws:sts::123456789012:assumed-role/DrApprover/rehearsal-auto"
MODES = ("auto", "manual", "reject", "never")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# How long an answer is retried while the run has published its request but not started
# waiting yet (the endpoint answers 404 NotWaiting meanwhile).
NOT_WAITING_GRACE_SECONDS = 30


def attribute(notification, name):
    """A message attribute's value (attributes as SNS delivers them: {"Type", "Value"})."""
    value = (notification.get("attributes") or {}).get(name)
    return value.get("Value") if isinstance(value, dict) else value


def kind_of(notification):
    message = notification.get("message")
    from_message = message.get("kind") if isinstance(message, dict) else None
    return attribute(notification, "kind") or from_message


def approval_id_of(notification):
    return attribute(notification, "approvalId")


def is_approval_request(notification):
    return kind_of(notification) == APPROVAL_NEEDED and isinstance(approval_id_of(notification), str)


def function_url_event(caller, body, method="POST"):
    """A request to the approval endpoint as Lambda hands it to the function behind a function
    URL with AWS_IAM auth (payload format 2.0): `caller` is the ARN AWS verified (None: an
    unsigned request, which the endpoint refuses)."""
    now = time.time()
    authorizer = {"iam": {"accessKey": "AKIDLOCALREHEARSAL", "accountId": "123456789012",
                          "callerId": "AROALOCALREHEARSAL:rehearsal", "userArn": caller,
                          "userId": "AROALOCALREHEARSAL:rehearsal"}} if caller else None
    context = {"accountId": "123456789012", "apiId": "rehearsal", "domainName": "rehearsal.lambda-url.local",
               "domainPrefix": "rehearsal", "requestId": f"rehearsal-{now}", "routeKey": "$default",
               "stage": "$default", "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
               "timeEpoch": int(now * 1000),
               "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                        "userAgent": "dr-orchestrator rehearsal"}}
    if authorizer:
        context["authorizer"] = authorizer
    raw = json.dumps(body) if not isinstance(body, str) else body
    return {"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": "rehearsal.lambda-url.local"},
            "requestContext": context, "body": base64.b64encode(raw.encode()).decode(),
            "isBase64Encoded": True}


def short_line(notification):
    """One line for any notification."""
    tags = "/".join(v for v in (kind_of(notification), attribute(notification, "severity")) if v)
    subject = notification.get("subject")
    if not subject:
        message = notification.get("message")
        subject = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        subject = subject if len(subject) <= 160 else subject[:157] + "..."
    return f"notification [{tags or 'no kind'}] {subject}"


def describe(notification, endpoint=None):
    """The approval request in full, for a person: the message as an e-mail shows it, and how
    to answer it against `endpoint` (the local AWS) when given."""
    message = notification.get("message")
    lines = [f"APPROVAL NEEDED: {notification.get('subject') or '(no subject)'}"]
    text = message if isinstance(message, str) else json.dumps(message, indent=2)
    lines += [f"  {line}" if line else "" for line in text.splitlines()]
    if endpoint:
        lines += answer_commands(endpoint, approval_id_of(notification))
    return lines


def answer_commands(endpoint, approval_id):
    """How to answer from another terminal, against the local endpoint."""
    i = shlex.quote(approval_id)
    return [
        "  to approve, from another terminal (in this directory):",
        f"    python3 -m rehearsal approve --endpoint {endpoint} --approval-id {i} --reason 'WHY'",
        "  to reject:",
        f"    python3 -m rehearsal reject --endpoint {endpoint} --approval-id {i} --reason 'WHY'",
        "  (add --as ARN to answer as someone else: the endpoint refuses whoever the deployment does",
        "   not name as an approver)",
    ]


def check_loopback(endpoint):
    """The rehearsal's own endpoint only: nothing is sent beyond this machine."""
    host = urllib.parse.urlsplit(endpoint).hostname
    if host not in LOOPBACK:
        raise ValueError(f"{endpoint}: the rehearsal answers approvals on its local endpoint only (127.0.0.1)")


def answer(endpoint_call, approval_id, decision, reason, caller=AUTO_APPROVER):
    """Sends one answer; `endpoint_call(caller, body)` returns (status, body)."""
    return endpoint_call(caller, {"approvalId": approval_id, "decision": decision, "reason": reason})


class Approver:
    """Reads the notifications as they arrive (`read`: returns every notification so far, e.g.
    Engine.notifications) and answers each approval request once through the approval endpoint
    (`endpoint_call(caller, body)` -> (status, body)), by `mode`: auto (approve as
    `approved_by`, a caller ARN), reject, manual (print how to answer and wait for a person),
    never (do not answer: the request times out). `out` (e.g. print) shows every notification
    as a short line and each approval request in full; `endpoint` is where a person answers.
    Call `tick()` while the run goes."""

    def __init__(self, endpoint_call, read, mode="auto", out=None, endpoint=None, approved_by=AUTO_APPROVER,
                 reject_cause="rejected by the rehearsal (--reject)"):
        if mode not in MODES:
            raise ValueError(f"approval mode {mode!r}: one of {', '.join(MODES)}")
        self.endpoint_call, self.read, self.mode, self.out = endpoint_call, read, mode, out
        self.endpoint, self.approved_by, self.reject_cause = endpoint, approved_by, reject_cause
        self.seen = 0
        self.requests = []  # the approval requests, in order
        self.answers = []   # (approval id, HTTP status, body)
        self.pending = []   # (approval id, first tried at): the run was not waiting yet

    def _say(self, line=""):
        if self.out:
            self.out(line)

    def tick(self):
        notifications = self.read()
        for n in notifications[self.seen:]:
            self.seen += 1
            if not is_approval_request(n):
                self._say(f"  {short_line(n)}")
                continue
            self.requests.append(n)
            self._say()
            for line in describe(n, self.endpoint if self.mode == "manual" else None):
                self._say(line)
            if self.mode == "manual":
                self._say("  -> waiting for your answer...\n")
            elif self.mode in ("auto", "reject"):
                self.pending.append((approval_id_of(n), time.time()))
        still = []
        for approval_id, since in self.pending:
            if not self._answer(approval_id) and time.time() - since < NOT_WAITING_GRACE_SECONDS:
                still.append((approval_id, since))
        self.pending = still

    def _answer(self, approval_id):
        """Answers; False when the run is not waiting yet (to be tried again)."""
        approve = self.mode == "auto"
        status, body = answer(self.endpoint_call, approval_id, "APPROVE" if approve else "REJECT",
                              "approved by the rehearsal (--approval auto)" if approve else self.reject_cause,
                              self.approved_by)
        if status == 404:
            return False
        self.answers.append((approval_id, status, body))
        if status == 200:
            self._say(f"  -> {'approved' if approve else 'rejected'} automatically as {self.approved_by}\n")
        else:
            self._say(f"  -> could not answer: HTTP {status}: {body.get('error')}: {body.get('message')}\n")
        return True
