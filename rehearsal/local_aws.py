"""Local AWS: moto 5.2.1 in server mode on 127.0.0.1, for everything but DRS and AWS Backup
(dr-sim serves those).

Step Functions executes the definitions, and because it is a server, anything outside this
Python process can reach it over HTTP: the handlers (through AWS_ENDPOINT_URL_SFN, _SNS, _SQS,
_DYNAMODB, _S3, see rehearsal.processes.Handlers), and a person answering an approval from
another terminal (SendTaskSuccess / SendTaskFailure).

    with LocalAws() as aws:                      # http://127.0.0.1:<port>, aws.url
        handlers = Handlers(sim.url, aws.url)    # the handlers' SFN/SNS/SQS/... calls go here
        aws.route = forwarder(handlers, stats)   # Lambda invokes go to the real handlers
        aws.client("stepfunctions").start_execution(...)

moto 5.2.1 is adjusted in nine places while a LocalAws runs, each explained where it is done
(`_adjust`), and put back on exit:

1. MOTO_PORT: the Step Functions interpreter calls Lambda, SNS, SQS, ... with boto3 at
   localhost:$MOTO_PORT; it is this server's port.
2. Lambda invoke goes to `route` (the real handler) instead of Docker.
3. moto's CloudFormation creates state machines in the backend that executes them.
4. A state machine may run more than once (Execution.__deepcopy__).
5. $$.State.EnteredTime and $$.Execution.StartTime are written as Step Functions writes them
   (2026-11-25T06:40:09.306Z).
6. A DynamoDB write is atomic, its condition included (one write at a time).
7. A task token answers once: SendTaskSuccess / SendTaskFailure on a task already answered, or
   timed out, fails with TaskTimedOut, as in Step Functions (moto accepted a second answer, and
   an answer after the task's timeout, writing a TaskSucceeded after the TaskTimedOut).
8. A task's timeout is computed even when its frame ended before the task's thread started
   (moto wrote the state's input as `timeoutInSeconds`, and the history could not be read).
9. Tests only: task timeouts and Wait states can be made shorter (`LocalAws.time_scaled`).

6 and 7 make the local AWS as strict as AWS where moto is more lenient: without them, two
`on-event` calls at the same moment could both claim a wake and both resume the same task, and
the rehearsal would pass what AWS refuses (or hide a double resume AWS would report).

moto's backends and its configuration are per process, whichever server serves them: only one
LocalAws may run in a process at a time (`LocalAws.current`), and on exit it stops the executions
still running and resets moto, so the next one starts empty.
"""

import contextlib
import datetime
import functools
import json
import logging
import os
import threading
import types
import urllib.request
import warnings

import boto3
from botocore.config import Config
from moto.awslambda.models import LambdaBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser.asl.component.state import state as parser_state
from moto.core.exceptions import AWSError
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError, Timeout
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackConsumerTimeout, CallbackPoolManager
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = {"aws_access_key_id": "AKIDLOCALREHEARSAL", "aws_secret_access_key": "local"}


# The DynamoDB backend's writes that may carry a condition.
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def _serialised(write, lock):
    @functools.wraps(write)
    def one_at_a_time(*args, **kwargs):
        with lock:
            return write(*args, **kwargs)

    return one_at_a_time


# Held while a task token is answered or marked timed out: one or the other, as in Step Functions.
_CALLBACK_LOCK = threading.Lock()


def _answer_once(notify):
    lock = _CALLBACK_LOCK

    @functools.wraps(notify)
    def once(pool, callback_id, outcome):
        with lock:
            endpoint = pool.get(callback_id)
            if endpoint is not None and endpoint.get_outcome() is not None:
                raise AWSError("Task Timed Out: 'Provided task has already been closed'", "TaskTimedOut")
            if endpoint is not None and isinstance(endpoint.consumer_error, CallbackConsumerTimeout):
                raise AWSError("Task Timed Out: 'Provided task has timed out'", "TaskTimedOut")
            if endpoint is not None and endpoint.consumer_error is not None:
                raise AWSError("Task Does Not Exist: 'Provided task is no longer waiting'", "TaskDoesNotExist")
            return notify(pool, callback_id, outcome)

    return once


def _time_out_callbacks(evaluate):
    @functools.wraps(evaluate)
    def with_timeout(state, env):
        try:
            return evaluate(state, env)
        except EvalTimeoutError:
            task = env.states.context_object.context_object_data.get("Task") or {}
            endpoint = env.callback_pool_manager.get(task["Token"]) if "Token" in task else None
            if endpoint is not None:
                with _CALLBACK_LOCK:
                    endpoint.report(CallbackConsumerTimeout())
            raise

    return with_timeout


def _scaled(seconds):
    """`seconds` times the running LocalAws's `time_scale` (tests only), at least a second."""
    aws = LocalAws.current
    scale = aws.time_scale if aws is not None else 1
    return seconds if scale == 1 or seconds <= 0 else max(1, round(seconds * scale))


def _always_computed(eval_body):
    """A timeout's `eval`: its seconds on the stack, even on a frame that has ended (scaled,
    see `_scaled`)."""

    @functools.wraps(eval_body)
    def evaluate(timeout, env):
        eval_body(timeout, env)
        env.stack.append(_scaled(env.stack.pop()))

    return evaluate


def _scaled_wait(wait, env):
    """A Wait state's `_eval_body`, its seconds scaled (see `_scaled`)."""
    wait._wait_interval(env=env, wait_seconds=_scaled(wait._get_wait_seconds(env=env)))


class _AwsTime(datetime.datetime):
    """A datetime whose isoformat() is the context object's as Step Functions writes it:
    UTC, milliseconds, "Z" (2026-11-25T06:40:09.306Z)."""

    def isoformat(self, sep="T", timespec="auto"):
        utc = self.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _unrouted(function_name):
    return json.dumps({"errorType": "Rehearsal.NoHandler",
                       "errorMessage": f"no handler serves {function_name} (LocalAws.route is not set)"})


def _invoke(backend, function_name, qualifier, body, headers, response_headers):
    """LambdaBackend.invoke while a LocalAws runs: the current route, i.e. the real handler."""
    aws = LocalAws.current
    route = aws.route if aws else None
    if route is None:
        response_headers["x-amz-function-error"] = "Unhandled"
        return _unrouted(function_name).encode()
    return route(backend, function_name, qualifier, body, headers, response_headers)


class LocalAws:
    """moto in server mode on 127.0.0.1 (port 0: a free one), as a context manager.

    `route`: what a Lambda invoke runs, a callable with moto's LambdaBackend.invoke signature
    (rehearsal.harness.forwarder builds one); None answers every invoke with a function error.
    `state` is a dict for the users of this server (e.g. what Engine created once).
    `time_scale` (tests only, see `time_scaled`) multiplies task timeouts and Wait states."""

    current = None

    def __init__(self):
        self.url = None
        self.port = None
        self.route = None
        self.state = {}
        self.time_scale = 1
        self._server = None
        self._saved = {}
        self._names = {}

    @contextlib.contextmanager
    def time_scaled(self, scale):
        """Tests only: while in the block, a task's timeout (TimeoutSeconds, TimeoutSecondsPath:
        an approval's wait, a round's poll) and a Wait state (a drill keeping its instances)
        last `scale` times as long, at least a second, so a test of a time the plan cannot set
        below a minute takes seconds. The definitions and the plan's limits are unchanged."""
        self.time_scale = scale
        try:
            yield
        finally:
            self.time_scale = 1

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        if LocalAws.current is not None:
            raise RuntimeError(f"a LocalAws already runs in this process ({LocalAws.current.url}): "
                               "moto's backends are per process; use that one")
        LocalAws.current = self
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._server:
                self._stop_running_executions()
                try:
                    self._call("POST", "/moto-api/reset", {})
                except OSError:
                    pass
                if "config" in self._saved:
                    self._call("POST", "/moto-api/config", self._saved.pop("config"))
        finally:
            self._revert()
            if self._server:
                self._server.stop()
                self._server = None
            if LocalAws.current is self:
                LocalAws.current = None

    def _start(self):
        # moto logs every interpreter error with the whole parsed definition; the run's own error
        # and cause are what a person needs.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto warns (in its server thread) for every CloudFormation resource type it skips;
        # rehearsal.deploy.DeployedStack.skipped lists them.
        warnings.filterwarnings("ignore", message=r"Tried to parse .* not supported by moto")
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, self.port = self._server.get_host_and_port()
        self.url = f"http://{host}:{self.port}"
        self._adjust()

    def _adjust(self):
        # 1. moto's Step Functions interpreter calls Lambda (and SNS, SQS, ...) with boto3 at
        #    localhost:$MOTO_PORT when it runs in server mode
        #    (moto.stepfunctions.parser.asl.utils.boto_client).
        self._saved["MOTO_PORT"] = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.port)
        # 2. Step Functions executes the definitions; Lambda keeps moto's standard backend, the
        #    one both its API and its CloudFormation create functions in
        #    (moto.awslambda.models.lambda_backends; the "use_docker: false" backend is a
        #    separate one that only echoes). Its invoke, the only part that would use Docker, is
        #    replaced by `_invoke` (the current route), so Docker is never involved.
        #    (moto's configuration is per process: what it was is put back on exit.)
        previous = self._call("GET", "/moto-api/config")
        self._saved["config"] = {k: previous[k] for k in ("stepfunctions", "lambda") if k in previous}
        self._call("POST", "/moto-api/config", {"stepfunctions": {"execute_state_machine": True},
                                                "lambda": {"use_docker": True}})
        self._saved["invoke"] = LambdaBackend.invoke
        LambdaBackend.invoke = _invoke
        # 3. With execute_state_machine, moto's Step Functions API serves a separate backend (the
        #    interpreter's, moto.stepfunctions.parser.models), but its CloudFormation still
        #    creates state machines in the plain one, where the API never finds them. Its
        #    CloudFormation handler looks the backend up by this module name at call time: point
        #    it at the interpreter's backend, so that a stack creates its state machines where
        #    they run (and its definitions pass the interpreter's parser, as CreateStateMachine
        #    requires). State machines created through the API are unaffected.
        self._saved["sfn_backends"] = sfn_models.stepfunctions_backends
        sfn_models.stepfunctions_backends = stepfunctions_parser_backends
        # 4. moto 5.2.1's StartExecution deep-copies the state machine together with its past
        #    executions, and a past execution holds its interpreter's locks: the second execution
        #    of any state machine fails with "cannot pickle '_thread.RLock' object". A past
        #    execution is shared by the copy instead of copied, so one state machine (and one
        #    server) runs any number of executions.
        self._saved["execution_deepcopy"] = ParserExecution.__dict__.get("__deepcopy__")
        ParserExecution.__deepcopy__ = lambda execution, memo: execution
        # 5. moto writes $$.State.EnteredTime with Python's isoformat() (microseconds, "+00:00");
        #    Step Functions writes milliseconds and "Z", and a strict RFC 3339 parser (the Rust
        #    SDK's DateTime) refuses the offset form. The interpreter's state module uses its
        #    `datetime` import only for that timestamp: it gets one whose isoformat() is AWS's.
        self._saved["state_datetime"] = parser_state.datetime
        parser_state.datetime = types.SimpleNamespace(datetime=_AwsTime, timezone=datetime.timezone)
        #    $$.Execution.StartTime is the execution's start date, written the same way.
        self._saved["execution_details"] = ParserExecution.get_start_execution_details
        original = ParserExecution.get_start_execution_details

        def start_execution_details(execution):
            details = original(execution)
            start = details.start_time
            if isinstance(start, datetime.datetime):
                if start.tzinfo is None:
                    start = start.replace(tzinfo=datetime.timezone.utc)
                details.start_time = _AwsTime.fromtimestamp(start.timestamp(), tz=datetime.timezone.utc).isoformat()
            return details

        ParserExecution.get_start_execution_details = start_execution_details
        # 6. moto's DynamoDB evaluates a write's condition and applies it in steps, and the
        #    server answers requests on several threads: two conditional updates of one item at
        #    the same moment could both pass. DynamoDB applies each write atomically; so does
        #    this server, one write at a time.
        lock = threading.Lock()
        for name in DYNAMODB_WRITES:
            write = getattr(DynamoDBBackend, name)
            self._saved[f"dynamodb.{name}"] = write
            setattr(DynamoDBBackend, name, _serialised(write, lock))
        # 7. moto keeps a task's callback after it was answered, and a second SendTaskSuccess or
        #    SendTaskFailure for its token succeeds again; Step Functions answers TaskTimedOut
        #    ("the task associated with the token has already been closed"). For a task that
        #    timed out moto means to answer TaskTimedOut too, but builds its error without a
        #    message and answers HTTP 500: the error is raised here, whole.
        self._saved["callback_notify"] = CallbackPoolManager.notify
        CallbackPoolManager.notify = _answer_once(CallbackPoolManager.notify)
        #    moto times a task out in the state's thread, but never tells the task's callback:
        #    the thread that waits for the answer goes on, and a late SendTaskSuccess is
        #    accepted and written into the history after the TaskTimedOut (under load, events
        #    written that way also broke GetExecutionHistory with HTTP 500). The callback of a
        #    task that timed out is marked so, and answers TaskTimedOut as above.
        self._saved["evaluate_with_timeout"] = ExecutionState._evaluate_with_timeout
        ExecutionState._evaluate_with_timeout = _time_out_callbacks(ExecutionState._evaluate_with_timeout)
        # 8. A task runs in a thread of its own while the state's thread waits for its timeout.
        #    When the timeout ends before that thread even starts (a 1 s poll interval on a
        #    starved CPU), moto ends the task's frame, and every evaluation on an ended frame is
        #    skipped: the late thread's `timeout.eval(...)` pushed nothing, its `stack.pop()`
        #    took the state's input instead, and the TaskScheduled / LambdaFunctionScheduled
        #    event was written with that dict as `timeoutInSeconds`, which GetExecutionHistory
        #    cannot serialise (HTTP 500 for the whole history, as CI saw). A timeout is computed
        #    from the state's input whether or not the frame still runs.
        self._saved["timeout_eval"] = Timeout.eval
        Timeout.eval = _always_computed(Timeout._eval_body)
        # 9. Tests only (`time_scaled`): a Wait state waits `time_scale` times its seconds.
        self._saved["wait_eval_body"] = WaitFunction._eval_body
        WaitFunction._eval_body = _scaled_wait

    def _revert(self):
        if "wait_eval_body" in self._saved:
            WaitFunction._eval_body = self._saved.pop("wait_eval_body")
        if "timeout_eval" in self._saved:
            Timeout.eval = self._saved.pop("timeout_eval")
        if "evaluate_with_timeout" in self._saved:
            ExecutionState._evaluate_with_timeout = self._saved.pop("evaluate_with_timeout")
        if "callback_notify" in self._saved:
            CallbackPoolManager.notify = self._saved.pop("callback_notify")
        for name in DYNAMODB_WRITES:
            if f"dynamodb.{name}" in self._saved:
                setattr(DynamoDBBackend, name, self._saved.pop(f"dynamodb.{name}"))
        if "execution_details" in self._saved:
            ParserExecution.get_start_execution_details = self._saved.pop("execution_details")
        if "state_datetime" in self._saved:
            parser_state.datetime = self._saved.pop("state_datetime")
        if "execution_deepcopy" in self._saved:
            previous = self._saved.pop("execution_deepcopy")
            if previous is None:
                del ParserExecution.__deepcopy__
            else:
                ParserExecution.__deepcopy__ = previous
        if "sfn_backends" in self._saved:
            sfn_models.stepfunctions_backends = self._saved.pop("sfn_backends")
        if "invoke" in self._saved:
            LambdaBackend.invoke = self._saved.pop("invoke")
        if "MOTO_PORT" in self._saved:
            previous = self._saved.pop("MOTO_PORT")
            if previous is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = previous

    def _stop_running_executions(self):
        """An execution waiting (for a task token, a Wait state) would go on in its thread after
        the reset; stopped, it ends."""
        try:
            sfn = self.client("stepfunctions")
            for page in sfn.get_paginator("list_state_machines").paginate():
                for machine in page["stateMachines"]:
                    running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"],
                                                  statusFilter="RUNNING")["executions"]
                    for execution in running:
                        sfn.stop_execution(executionArn=execution["executionArn"],
                                           error="Rehearsal.Stopped", cause="the local AWS endpoint stopped")
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass

    # -- using it ----------------------------------------------------------------------------

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def client(self, service):
        """A boto3 client for this server (never AWS)."""
        return client(service, self.url)

    def execution_name(self, state_machine_arn, name):
        """`name`, or `name-2`, `name-3`, ... when a run of that state machine already had it:
        StartExecution with a used name returns that (finished) execution instead of a new one."""
        used = self._names.setdefault(state_machine_arn, set())
        unique, n = name, 1
        while unique in used:
            n += 1
            unique = f"{name}-{n}"
        used.add(unique)
        return unique


def client(service, url, region=REGION):
    """A boto3 client for a local endpoint, with local credentials."""
    return boto3.client(service, endpoint_url=url, region_name=region,
                        config=Config(retries={"max_attempts": 2}), **CREDENTIALS)


class Inbox:
    """What SNS topics on a LocalAws publish, read back in order: an SQS queue subscribed
    to each of them. `read()` returns every notification so far, each {"subject", "message" (the Message,
    parsed as JSON when it is JSON), "attributes" (the MessageAttributes as SNS delivers them:
    name -> {"Type": "String", "Value": ...}), "topicArn", "timestamp"}."""

    _count = 0

    def __init__(self, aws, *topic_arns):
        Inbox._count += 1
        self.topic_arns = topic_arns
        self.sqs = aws.client("sqs")
        self.sns = aws.client("sns")
        name = f"{topic_arns[0].rsplit(':', 1)[-1]}-inbox-{Inbox._count}"[-80:]
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                  AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.subscriptions = [self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn,
                                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
                              for arn in topic_arns]
        self.received = []

    def read(self):
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return list(self.received)
            for m in got:
                self.received.append(parse_notification(m["Body"]))
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])

    def close(self):
        try:
            for subscription in self.subscriptions:
                self.sns.unsubscribe(SubscriptionArn=subscription)
            self.sqs.delete_queue(QueueUrl=self.queue_url)
        except Exception:  # noqa: BLE001 - the server may be gone already
            pass


def parse_notification(body):
    """An SNS notification as an SQS subscriber receives it (the JSON envelope)."""
    envelope = json.loads(body)
    message = envelope.get("Message")
    try:
        message = json.loads(message)
    except (TypeError, ValueError):
        pass
    return {"subject": envelope.get("Subject"), "message": message,
            "attributes": envelope.get("MessageAttributes") or {},
            "topicArn": envelope.get("TopicArn"), "timestamp": envelope.get("Timestamp")}
