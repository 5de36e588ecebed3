"""A TCP proxy on loopback that can go silent, for fault tests: `blackhole()` keeps every
connection open but forwards nothing (a partition: no reset, no answer), `heal()` closes what it
held and forwards again."""
import socket
import threading


class FaultProxy:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.silent = False
        self.lock = threading.Lock()
        self.sockets = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _track(self, *socks):
        with self.lock:
            self.sockets.extend(socks)

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.silent:
                self._track(client)
                threading.Thread(target=self._pump, args=(client, None), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self._track(client, upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source, destination):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if destination is not None and not self.silent:
                    destination.sendall(data)
        except OSError:
            pass
        for s in (source, destination):
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def blackhole(self):
        self.silent = True

    def heal(self):
        """Forward again; connections held while silent are closed (their streams lost bytes)."""
        with self.lock:
            held, self.sockets = self.sockets, []
        for s in held:
            try:
                s.close()
            except OSError:
                pass
        self.silent = False

    def close(self):
        self.closed = True
        self.listener.close()
        self.heal()
