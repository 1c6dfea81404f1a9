"""A small TCP proxy, the tests' own, that sits in front of RabbitMQ, PostgreSQL or SMTP and injects faults.

    proxy = FaultProxy("127.0.0.1", 5672).start()      # listens on proxy.port
    proxy.cut()                                         # close every open connection now
    proxy.refuse = True                                 # new connections are closed at once (server "down")
    proxy.delay = 0.2                                   # every chunk waits this long before it is forwarded
    proxy.cut_when(b"INSERT INTO inbox")                # cut the connection that sends this, before forwarding it
    proxy.cut_when(b"COMMIT", after=b"INSERT INTO inbox", forward=True)  # commit reaches the server, reply is lost

Threads, one pair per connection; nothing here touches the real server except by forwarding bytes, so other
users of that server are never disturbed.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Trigger:
    pattern: bytes
    after: bytes | None = None  # only on a connection that already sent this
    forward: bool = False  # forward the matching chunk, then cut (the server acts, the client never hears)
    fired: threading.Event = field(default_factory=threading.Event)


class _Link:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.sent_upstream = bytearray()  # what the client sent, kept only while triggers are armed
        self.closed = threading.Event()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, listen_port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.refuse = False
        self.delay = 0.0
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", listen_port), reuse_port=False)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._triggers: list[Trigger] = []
        self._thread = threading.Thread(target=self._accept, name=f"proxy:{self.port}", daemon=True)

    # -- control ---------------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        self.cut()

    def cut(self) -> int:
        """Close every open connection (both sides); returns how many were cut."""
        with self._lock:
            links = list(self._links)
            self._links.clear()
        for link in links:
            link.close()
        self.cuts += len(links)
        return len(links)

    def cut_when(self, pattern: bytes, *, after: bytes | None = None, forward: bool = False) -> Trigger:
        """Arm a one-shot trigger: the first connection whose client sends `pattern` (after `after`) is cut."""
        trigger = Trigger(pattern, after, forward)
        with self._lock:
            self._triggers.append(trigger)
        return trigger

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._links)

    # -- plumbing --------------------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            link = _Link(client, server)
            with self._lock:
                self._links.add(link)
            threading.Thread(target=self._pump, args=(link, client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, server, client, False), daemon=True).start()

    def _armed_trigger(self, link: _Link, chunk: bytes) -> Trigger | None:
        with self._lock:
            armed = [t for t in self._triggers if not t.fired.is_set()]
            if not armed:
                link.sent_upstream.clear()
                return None
            previous = bytes(link.sent_upstream)
            link.sent_upstream += chunk
            for trigger in armed:
                index = chunk.find(trigger.pattern)
                if index < 0:
                    continue
                if trigger.after is not None and trigger.after not in previous + chunk[:index]:
                    continue
                trigger.fired.set()
                self._triggers.remove(trigger)
                return trigger
        return None

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while not link.closed.is_set():
                chunk = source.recv(65536)
                if not chunk:
                    break
                if self.delay:
                    time.sleep(self.delay)
                if upstream:
                    trigger = self._armed_trigger(link, chunk)
                    if trigger is not None:
                        if trigger.forward:
                            sink.sendall(chunk)
                            time.sleep(0.3)  # let the server act on it before the connection dies
                        self.cuts += 1
                        break
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._links.discard(link)
            link.close()
