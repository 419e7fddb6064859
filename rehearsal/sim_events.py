"""Delivers the EventBridge events dr-sim emits to a callback, as an EventBridge rule delivers
them to its target.

dr-sim derives the events AWS would send (DRS `DRS Source Server Launch Result`, AWS Backup
`Restore Job State Change`) from its jobs and lists the ones due at `GET /_sim/events`, each
with an `id` that stays the same on every read. `EventPump` polls that list on a daemon thread
and hands each event it has not handed over before to `deliver`, in the order listed (due time,
then id). The sim's `events` faults (drop, delay, duplicate) act before the pump sees anything:
a duplicate has its own id, so it is delivered too, as AWS would.

Standard library only. Example::

    pump = EventPump(sim.url, deliver=lambda event: wake(event)).start()
    ...
    pump.stop()

Event ids start over after `/_sim/reset` (job ids do), so use a new pump after a reset.
"""

import json
import logging
import threading
import urllib.request

log = logging.getLogger(__name__)


class EventPump:
    """Polls `URL/_sim/events` every `interval` seconds on a daemon thread and calls
    `deliver(event)` once per event id, in order.

    - `delivered`: the ids handed to `deliver`, in order. An id is recorded (and never handed
      over again) even when `deliver` raised: delivery is at most once.
    - `errors`: what went wrong, newest last, as `"where: Type: message"` strings (at most
      `max_errors`, older ones are dropped); each is also logged. Nothing raises out of the
      thread: a failed poll is retried at the next interval.
    """

    def __init__(self, url, deliver, interval=0.2, timeout=5.0, max_errors=100):
        self.events_url = url.rstrip("/") + "/_sim/events"
        self.deliver = deliver
        self.interval = interval
        self.timeout = timeout
        self.max_errors = max_errors
        self.delivered = []
        self.errors = []
        self._seen = set()
        self._poll_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = None

    def start(self):
        """Starts polling (if not already); returns the pump."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="sim-event-pump", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout=5.0):
        """Stops polling and waits (up to `timeout` seconds) for the thread to end. A `deliver`
        call in progress is not interrupted."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def skip_due(self):
        """Marks every event due now as handed over, without delivering it: a pump started
        beside a sim that already ran other jobs delivers only what happens from now on.
        Returns how many it skipped; raises when the sim cannot be read."""
        with self._poll_lock:
            events = self._fetch()
            ids = {e.get("id") for e in events if isinstance(e, dict)}
            self._seen.update(ids)
            return len(ids)

    def poll_once(self):
        """One poll: fetches the due events and delivers the new ones, until the pump is told to
        stop (what it did not deliver stays new for a restart). Returns how many it delivered.
        Never raises; problems go to `errors`."""
        with self._poll_lock:
            try:
                events = self._fetch()
            except Exception as e:  # noqa: BLE001 - collected, the pump keeps going
                self._error(f"GET {self.events_url}", e)
                return 0
            count = 0
            for event in events:
                if self._stopping.is_set():
                    break
                event_id = event.get("id") if isinstance(event, dict) else None
                if not isinstance(event_id, str):
                    self._error("event", ValueError(f"no string id in {event!r}"))
                    continue
                if event_id in self._seen:
                    continue
                self._seen.add(event_id)
                self.delivered.append(event_id)
                count += 1
                try:
                    self.deliver(event)
                except Exception as e:  # noqa: BLE001 - collected, the pump keeps going
                    self._error(f"deliver {event_id}", e)
            return count

    def _fetch(self):
        with urllib.request.urlopen(self.events_url, timeout=self.timeout) as resp:
            body = json.loads(resp.read())
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise ValueError(f"no events list in {body!r:.200}")
        return events

    def _error(self, where, e):
        message = f"{where}: {type(e).__name__}: {e}"
        log.warning("sim event pump: %s", message)
        self.errors.append(message)
        del self.errors[: max(0, len(self.errors) - self.max_errors)]

    def _run(self):
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except BaseException as e:  # noqa: BLE001 - nothing leaves the thread
                self._error("poll", e)
            self._stopping.wait(self.interval)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
