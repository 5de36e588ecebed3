"""A deliberately small WebSocket client on a raw socket, so tests can also send what a real
client never would (unmasked frames, absurd lengths) and see how the server reacts."""
import base64
import json
import os
import socket
import ssl
import struct


class WS:
    def __init__(self, port, path="/oauth/device/push", host="127.0.0.1", timeout=10, tls_ca=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls_ca:                                             # wss: TLS trusting only `tls_ca`
            self.sock = ssl.create_default_context(cafile=tls_ca).wrap_socket(self.sock, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ")[1]) if head else 0
        self.buffer = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def frame(self, payload, opcode=1, mask=True, length=None):
        """A frame; `length` overrides the encoded payload length (to lie about it)."""
        n = len(payload) if length is None else length
        header = bytes([0x80 | opcode])
        mbit = 0x80 if mask else 0
        if n < 126:
            header += bytes([mbit | n])
        elif n < 1 << 16:
            header += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            header += bytes([mbit | 127]) + struct.pack(">Q", n)
        if not mask:
            return header + payload
        key = os.urandom(4)
        return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

    def send_text(self, text, **kw):
        self.send_raw(self.frame(text.encode(), **kw))

    def subscribe(self, device_code):
        self.send_text(json.dumps({"device_code": device_code}))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv(self):
        """The next data or close frame as (opcode, payload); answers pings."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 9:
                self.send_raw(self.frame(payload, opcode=10))
                continue
            return opcode, payload

    def event(self):
        opcode, payload = self.recv()
        if opcode == 8:
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
            return {"closed": code, "reason": payload[2:].decode(errors="replace")}
        return json.loads(payload)

    def close_code(self):
        """The code of the server's next frame, which must be a close frame; then asserts the
        server also ends the connection (EOF) within a second."""
        opcode, payload = self.recv()
        assert opcode == 8, (opcode, payload)
        self.sock.settimeout(1)
        try:
            rest = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):          # a close without close_notify is an end too
            rest = b""
        assert rest == b"", rest
        return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None

    def closed(self):
        """True when the server ends the connection (a close frame or EOF) before anything else."""
        try:
            opcode, _ = self.recv()
            return opcode == 8
        except (EOFError, ConnectionResetError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
