"""The outbox relay of profile's erasures, woken as soon as one is committed."""

from __future__ import annotations

import threading

from declic.kit.outbox import OutboxRelay


class PromptRelay:
    """The outbox relay, woken by a new erasure (see ProfileService) and by the stop event."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay = relay

    def run(self, stop: threading.Event) -> None:
        def wake_on_stop() -> None:
            stop.wait()
            self.relay.wake.set()

        threading.Thread(target=wake_on_stop, daemon=True).start()
        self.relay.run(stop)
