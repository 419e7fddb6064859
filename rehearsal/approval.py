"""Approvals: before a real recovery, before a wave marked pauseBefore and before every failback,
a workflow publishes an approval request to the notifications topic and waits on its task token
(Step Functions' `sns:publish.waitForTaskToken`). The message:

    Subject: "Approve real recovery of payments-dr: 3 waves, 12 servers"
    Message: {"kind": "APPROVAL_NEEDED", "request": {planName, isDrill, workflow, wave, servers,
              restores, waves: [{name, servers, restores}], preflight: {verdict, findings},
              trigger: {kind, eventId, ...}, reason, timeoutSeconds, ...},
              "taskToken": "...", "approve": "aws stepfunctions send-task-success ...",
              "reject": "aws stepfunctions send-task-failure --error Rejected ..."}
    MessageAttributes: kind = APPROVAL_NEEDED, severity = ACTION_REQUIRED

Approving is SendTaskSuccess with {"approvedBy": "..."}; rejecting is SendTaskFailure with the
error "Rejected"; no answer within the request's timeout fails the run (ApprovalTimedOut).
Here: reading such a notification, printing it for a person, answering it, and `Approver`, which
does all three as the notifications arrive.
"""

import json
import shlex
import urllib.parse

from botocore.exceptions import ClientError

APPROVAL_NEEDED = "APPROVAL_NEEDED"
AUTO_APPROVER = "rehearsal (--approval auto)"
MODES = ("auto", "manual", "reject", "never")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def attribute(notification, name):
    """A message attribute's value (attributes as SNS delivers them: {"Type", "Value"})."""
    value = (notification.get("attributes") or {}).get(name)
    return value.get("Value") if isinstance(value, dict) else value


def kind_of(notification):
    message = notification.get("message")
    from_message = message.get("kind") if isinstance(message, dict) else None
    return attribute(notification, "kind") or from_message


def is_approval_request(notification):
    message = notification.get("message")
    return (kind_of(notification) == APPROVAL_NEEDED and isinstance(message, dict)
            and isinstance(message.get("taskToken"), str))


def token_of(notification):
    return notification["message"]["taskToken"]


def short_line(notification):
    """One line for any notification."""
    tags = "/".join(v for v in (kind_of(notification), attribute(notification, "severity")) if v)
    subject = notification.get("subject")
    if not subject:
        message = notification.get("message")
        subject = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        subject = subject if len(subject) <= 160 else subject[:157] + "..."
    return f"notification [{tags or 'no kind'}] {subject}"


def _count(value, noun):
    """`servers`/`restores` as a request gives them: a number or a list."""
    if isinstance(value, list):
        n = len(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        n = int(value)
    else:
        return None
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _wave(wave):
    if not isinstance(wave, dict):
        return str(wave)
    parts = [p for p in (_count(wave.get("servers"), "server"), _count(wave.get("restores"), "restore")) if p]
    name = wave.get("name", wave.get("index", "?"))
    return f"{name}: {', '.join(parts)}" if parts else str(name)


def _what(request):
    workflow = request.get("workflow") or ""
    is_drill = request.get("isDrill")
    if workflow == "FAILBACK":
        kind = "a FAILBACK"
    elif workflow == "RESTORE":
        kind = "a restore"
    elif is_drill is True:
        kind = "a drill"
    elif is_drill is False:
        kind = "a REAL RECOVERY"
    else:
        kind = "a run"
    plan = request.get("planName")
    return f"{kind}{f' of plan {plan!r}' if plan else ''}{f' (workflow {workflow})' if workflow else ''}"


def _trigger(trigger):
    if not isinstance(trigger, dict) or trigger.get("kind") in (None, "", "MANUAL", "CONSOLE"):
        return "a person or a program (StartExecution: the console, the CLI), no EventBridge rule"
    kind = trigger["kind"]
    what = {"EVENT": "the EventBridge event", "SCHEDULE": "the schedule"}.get(kind, kind)
    details = ", ".join(f"{k} {trigger[k]}" for k in ("source", "detailType", "time", "account") if trigger.get(k))
    return f"{what} {trigger.get('eventId', '')}".rstrip() + (f" ({details})" if details else "")


SHOWN = {"planName", "isDrill", "workflow", "wave", "servers", "restores", "waves", "preflight", "trigger",
         "reason", "timeoutSeconds", "executionId"}


def describe(notification, endpoint=None):
    """The approval request in full, for a person: what will happen, what preflight found, what
    started the run, and how to answer it (against `endpoint`, the local AWS, when given)."""
    message = notification["message"]
    request = message.get("request") if isinstance(message.get("request"), dict) else {}
    lines = [f"APPROVAL NEEDED: {notification.get('subject') or '(no subject)'}",
             f"  what:        {_what(request)}"]
    if request.get("reason"):
        lines.append(f"  why now:     {request['reason']}")
    if request.get("wave") is not None:
        lines.append(f"  next wave:   {_wave(request['wave'])}")
    waves = request.get("waves")
    if isinstance(waves, list) and waves:
        lines.append(f"  waves:       {_wave(waves[0])}")
        lines += [f"               {_wave(w)}" for w in waves[1:]]
    totals = [p for p in (_count(request.get("servers"), "server"), _count(request.get("restores"), "restore")) if p]
    if totals:
        lines.append(f"  in all:      {', '.join(totals)}")
    preflight = request.get("preflight")
    if isinstance(preflight, dict):
        findings = preflight.get("findings") or []
        lines.append(f"  preflight:   {preflight.get('verdict', '?')}"
                     + (f", {len(findings)} finding(s)" if findings else ", nothing found"))
        for f in findings:
            if isinstance(f, dict):
                where = f" at {f['path']}" if f.get("path") else ""
                lines.append(f"                 {f.get('severity', ''):<8} {f.get('code', '')}{where}: {f.get('message', '')}")
            else:
                lines.append(f"                 {f}")
    lines.append(f"  started by:  {_trigger(request.get('trigger'))}")
    if request.get("executionId"):
        lines.append(f"  run:         {request['executionId']}")
    if request.get("timeoutSeconds") is not None:
        lines.append(f"  answer within {request['timeoutSeconds']} s, or the run fails with ApprovalTimedOut")
    for key in sorted(set(request) - SHOWN):
        lines.append(f"  {key}: {json.dumps(request[key], separators=(',', ':'))}")
    if endpoint:
        lines += answer_commands(endpoint, token_of(notification))
    else:
        for verb in ("approve", "reject"):
            if message.get(verb):
                lines.append(f"  {verb} (in AWS): {message[verb]}")
    return lines


def answer_commands(endpoint, token):
    """How to answer from another terminal, against the local endpoint: this package's
    subcommands (no aws CLI needed) and the aws CLI."""
    aws = (f"AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url {endpoint} "
           f"--region eu-west-1 stepfunctions")
    t = shlex.quote(token)
    return [
        "  to approve, from another terminal (in this directory):",
        f"    python3 -m rehearsal approve --endpoint {endpoint} --token {t} --by 'YOUR NAME'",
        f"    {aws} send-task-success --task-output '{{\"approvedBy\":\"YOUR NAME\"}}' --task-token {t}",
        "  to reject:",
        f"    python3 -m rehearsal reject --endpoint {endpoint} --token {t} --why 'WHY'",
        f"    {aws} send-task-failure --error Rejected --cause 'WHY' --task-token {t}",
    ]


def check_loopback(endpoint):
    """The rehearsal's own endpoint only: nothing is sent beyond this machine."""
    host = urllib.parse.urlsplit(endpoint).hostname
    if host not in LOOPBACK:
        raise ValueError(f"{endpoint}: the rehearsal answers approvals on its local endpoint only (127.0.0.1)")


def approve(sfn, token, by):
    sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": by}))


def reject(sfn, token, why):
    sfn.send_task_failure(taskToken=token, error="Rejected", cause=why)


class Approver:
    """Reads the notifications as they arrive (`read`: returns every notification so far, e.g.
    Engine.notifications) and answers each approval request once, by `mode`:
    auto (approve as `approved_by`), reject, manual (print how to answer and wait for a person),
    never (do not answer: the request times out). `out` (e.g. print) shows every notification
    as a short line and each approval request in full; `endpoint` is where a person answers.
    Call `tick()` while the run goes."""

    def __init__(self, sfn, read, mode="auto", out=None, endpoint=None, approved_by=AUTO_APPROVER,
                 reject_cause="rejected by the rehearsal (--reject)"):
        if mode not in MODES:
            raise ValueError(f"approval mode {mode!r}: one of {', '.join(MODES)}")
        self.sfn, self.read, self.mode, self.out = sfn, read, mode, out
        self.endpoint, self.approved_by, self.reject_cause = endpoint, approved_by, reject_cause
        self.seen = 0
        self.requests = []  # the approval requests, in order
        self.answers = []   # (token, "approved" | "rejected" | error text)

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
            self._answer(token_of(n))

    def _answer(self, token):
        try:
            if self.mode == "auto":
                approve(self.sfn, token, self.approved_by)
                self.answers.append((token, "approved"))
                self._say(f"  -> approved automatically, approvedBy {self.approved_by!r}\n")
            elif self.mode == "reject":
                reject(self.sfn, token, self.reject_cause)
                self.answers.append((token, "rejected"))
                self._say("  -> rejected automatically (Rejected)\n")
            elif self.mode == "manual":
                self._say("  -> waiting for your answer...\n")
        except ClientError as err:
            # The task timed out or the run ended before the answer: the run says what happened.
            self.answers.append((token, err.response["Error"]["Code"]))
            self._say(f"  -> could not answer: {err.response['Error']['Code']}: {err.response['Error'].get('Message')}\n")
