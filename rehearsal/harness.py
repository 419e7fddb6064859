"""What the rehearsal (rehearsal.workflow.Engine: the definitions on their own) and the deploy
rehearsal (rehearsal.deploy.DeployedStack: the stack the template creates) share: one lifecycle
on a LocalAws (moto in server mode on 127.0.0.1), Lambda invocations routed to the real
handlers, dr-sim's completion events delivered through the rules, approval requests answered,
and the runs read back.

A subclass sets up what its workflows need (`_set_up`, which returns the ARNs of the topics
whose notifications it reads: the notifications and the approvals topics) and may name the
handler of a function (`_handler_of`); the rest is here."""

import json
import time

from .approval import AUTO_APPROVER, MODES, Approver, function_url_event
from .completion import Completion, clear_wake_table
from .local_aws import Inbox, LocalAws


class Stats:
    """What the workflow cost: Lambda invocations by function."""

    def __init__(self):
        self.invocations = {}


def forwarder(handlers, stats, resolve=None):
    """A LocalAws route (moto's Lambda backend `invoke`): without Docker, moto's Lambda cannot
    run a function, so the invocation goes to the real handler instead.
    `resolve(backend, function_name)` names the handler of a function (default: the function's
    name, the last part of an ARN) and may raise moto's own Lambda errors; `stats` counts
    invocations by handler."""

    def forward(backend, function_name, qualifier, body, headers, response_headers):
        name = resolve(backend, function_name) if resolve else function_name.rsplit(":", 1)[-1]
        payload = json.loads(body or "{}")
        stats.invocations[name] = stats.invocations.get(name, 0) + 1
        answer, errored = handlers.invoke(name, payload)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        return answer.encode()

    return forward


class Harness:
    """Workflows on a LocalAws, their Lambda tasks served by `handlers` (a
    rehearsal.processes.Handlers, or anything with its `invoke`).

    `aws`: the LocalAws; default the one running in this process (LocalAws.current), else one of
    its own for the harness's lifetime. `approval`: how `wait` answers approval requests
    (rehearsal.approval.Approver, also `self.approver`, whose `mode` may change between runs):
    "auto" (approve as `approved_by`), "reject", "manual" (print how to answer, and wait for a
    person) or "never"; `out` (e.g. print) shows every notification as it arrives."""

    def __init__(self, handlers, aws=None, approval="auto", out=None, approved_by=AUTO_APPROVER):
        if approval not in MODES:
            raise ValueError(f"approval {approval!r}: one of {', '.join(MODES)}")
        self.handlers = handlers
        self.stats = Stats()
        self._aws = aws
        self._own = None
        self.aws = None
        self.inbox = None
        self.completion = None
        self.approver = None
        self._approval = (approval, out, approved_by)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        aws = self._aws or LocalAws.current
        if aws is None:
            self._own = aws = LocalAws().__enter__()
        self.aws = aws
        self._previous_route = aws.route
        try:
            theirs = getattr(self.handlers, "aws_url", None)
            if theirs and theirs != aws.url:
                raise ValueError(f"the handlers call the local AWS at {theirs}, this harness runs on {aws.url}")
            aws.route = forwarder(self.handlers, self.stats, self._handler_of)
            self.sfn = aws.client("stepfunctions")
            topic_arns = [arn for arn in self._set_up(aws) if arn]
            if topic_arns:
                self.inbox = Inbox(aws, *topic_arns)
            self._deliver_events()
            approval, out, approved_by = self._approval
            self.approver = Approver(self.answer_approval, self.notifications, approval, out=out,
                                     endpoint=aws.url, approved_by=approved_by)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.completion:
            self.completion.stop()
            self.completion = None
        if self.inbox:
            self.inbox.close()
            self.inbox = None
        if self.aws:
            self.aws.route = self._previous_route
        if self._own:
            self._own.__exit__(*exc)
            self._own = None

    def _set_up(self, aws):
        """Creates what the workflows need on `aws`; returns the ARNs of the topics to read."""
        raise NotImplementedError

    def _handler_of(self, backend, function_name):
        """The handler serving `function_name` (a name or an ARN): by default its name."""
        return function_name.rsplit(":", 1)[-1]

    def answer_approval(self, caller, body):
        """A request to the approval endpoint (the `answer-approval` handler) from `caller`, the
        ARN the function URL's IAM auth would have verified: (HTTP status, parsed body)."""
        answer, errored = self.handlers.invoke("answer-approval", function_url_event(caller, body))
        if errored:
            raise RuntimeError(f"the approval endpoint failed: {answer}")
        response = json.loads(answer)
        return response["statusCode"], json.loads(response.get("body") or "{}")

    @property
    def url(self):
        """The local AWS endpoint (Step Functions, SNS, SQS, ...)."""
        return self.aws.url

    def client(self, service):
        return self.aws.client(service)

    def restart_completion(self):
        """(Re)starts delivering dr-sim's completion events, through the rules, to on-event, from
        now on; call it after resetting the sim (its job and event IDs start over, so the wake
        table is emptied too)."""
        self._deliver_events(clear=True)

    def _deliver_events(self, clear=False):
        if self.completion:
            self.completion.stop()
            self.completion = None
        sim_url = getattr(self.handlers, "endpoint_url", None)
        if not sim_url:
            return
        if clear:
            clear_wake_table(self.client("dynamodb"))
        self.completion = Completion(self.aws, sim_url).start()

    # -- running -----------------------------------------------------------------------------

    def start_execution(self, state_machine_arn, plan, name):
        """Starts an execution called `name` (or `name-2`, ... when that name was used already)."""
        return self.sfn.start_execution(stateMachineArn=state_machine_arn,
                                        name=self.aws.execution_name(state_machine_arn, name),
                                        input=json.dumps(plan))["executionArn"]

    def wait(self, execution_arn, on_tick=None, timeout=900):
        """Waits for the run to end, answering its approval requests (`approver`); `on_tick` is
        called about twice a second meanwhile."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.approver.tick()
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if d["status"] != "RUNNING":
                self.approver.tick()  # what the run published at its end
                return d
            if on_tick:
                on_tick()
            time.sleep(0.5)
        raise TimeoutError(f"{execution_arn} still running after {timeout} s")

    def history(self, execution_arn):
        """The run's execution history, every page."""
        events, token = [], None
        while True:
            kw = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kw["nextToken"] = token
            page = self.sfn.get_execution_history(**kw)
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def notifications(self):
        """Every notification published to the topic since the harness opened, in order:
        {"subject", "message" (parsed JSON when it is JSON), "attributes" (name -> {"Type",
        "Value"}, as SNS delivers them), "topicArn", "timestamp"}."""
        return self.inbox.read() if self.inbox else []
