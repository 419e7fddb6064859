"""A local Lambda Runtime API (the interface a function process polls), enough to time cold
starts and invocations of any runtime: the Rust handlers, the hello-world floor, and Python
under awslambdaric. The process cannot tell it from Lambda's."""

import json
import os
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """Serves events one at a time and records when the function asked for and answered them."""

    def __init__(self):
        self.events = []          # (request_id, payload) still to serve
        self.cond = threading.Condition()
        self.first_next_at = None
        self.served_at = {}       # request_id -> perf_counter when the event was handed out
        self.answered = {}        # request_id -> (perf_counter, status, body)
        self.generation = 0       # bumped by reset(): polls of a killed process must not take events
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404)
                now = time.perf_counter()
                with api.cond:
                    generation = api.generation
                    if api.first_next_at is None:
                        api.first_next_at = now
                    while not api.events and generation == api.generation:
                        api.cond.wait()
                    if generation != api.generation:
                        return self._reply(410)
                    request_id, payload = api.events.pop(0)
                    api.served_at[request_id] = time.perf_counter()
                body = json.dumps(payload).encode()
                try:
                    self._reply(200, body, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 900_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:bench",
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                    })
                except OSError:
                    # A poll of a process that was killed meanwhile: the event goes back.
                    with api.cond:
                        api.events.insert(0, (request_id, payload))
                        api.served_at.pop(request_id, None)
                        api.cond.notify_all()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts[:1] == ["invocation"] and len(parts) == 3 and parts[2] in ("response", "error"):
                    with api.cond:
                        api.answered[parts[1]] = (time.perf_counter(), parts[2], body)
                        api.cond.notify_all()
                    return self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
                if parts == ["init", "error"]:
                    with api.cond:
                        api.answered["init"] = (time.perf_counter(), "init-error", body)
                        api.cond.notify_all()
                    return self._reply(202, b"{}")
                return self._reply(404)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # connections of killed processes reset; nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        with self.cond:
            self.generation += 1
            self.cond.notify_all()
            self.events.clear()
            self.first_next_at = None
            self.served_at.clear()
            self.answered.clear()

    def push(self, payload):
        request_id = str(uuid.uuid4())
        with self.cond:
            self.events.append((request_id, payload))
            self.cond.notify_all()
        return request_id

    def wait_answer(self, request_id, timeout=60):
        deadline = time.time() + timeout
        with self.cond:
            while request_id not in self.answered and "init" not in self.answered:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(f"no answer to {request_id}")
                self.cond.wait(left)
            if "init" in self.answered:
                raise RuntimeError(f"init error: {self.answered['init'][2][:500]!r}")
            return self.answered[request_id]

    def stop(self):
        self.server.shutdown()


def function_env(api, name, extra):
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDLOCALBENCH",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    env.update(extra)
    return env


def peak_rss_kib(pid):
    """VmHWM: the process's peak resident set size so far."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def cold_start(api, argv, env, payload, cwd=None):
    """Starts the function process, serves it one event, and returns (to_next_ms,
    to_response_ms, peak_rss_kib, status)."""
    api.reset()
    request_id = api.push(payload)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answered_at, status, body = api.wait_answer(request_id)
        rss = peak_rss_kib(proc.pid)
        return (api.first_next_at - t0) * 1000, (answered_at - t0) * 1000, rss, status, body
    finally:
        proc.kill()
        proc.wait()


def warm_latencies(api, argv, env, payloads, cwd=None):
    """One process, many invocations: latency from handing out each event to its response."""
    api.reset()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = []
    try:
        for payload in payloads:
            request_id = api.push(payload)
            answered_at, status, body = api.wait_answer(request_id)
            if status != "response":
                raise RuntimeError(body[:500])
            out.append((answered_at - api.served_at[request_id]) * 1000)
        return out, peak_rss_kib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
