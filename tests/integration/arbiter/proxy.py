"""A TCP forwarder the test controls: "the database (or Redis) went down" without touching the machine's servers.

`cut()` closes the listening socket and every connection through it (the service sees its
dependency vanish); `restore()` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Proxy:
    def __init__(self, target: tuple[str, int] | str) -> None:
        """`target`: (host, port), or the path of a Unix socket (the bundled PostgreSQL listens on one only)."""
        self._target = target
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port = 0
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                with contextlib.suppress(OSError):  # shutdown wakes the thread blocked in accept() (Linux)
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                if isinstance(self._target, str):
                    upstream = socket.socket(socket.AF_UNIX)
                    upstream.connect(self._target)
                else:
                    upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def proxied_database_url(url: str) -> tuple[Proxy, str]:
    """A proxy in front of the PostgreSQL server `url` names, and the URL that goes through it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    if socket_dir:
        proxy = Proxy(f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}")
        parsed = parsed.difference_update_query(["host"])
    else:
        proxy = Proxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    return proxy, parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
