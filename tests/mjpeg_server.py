"""A small MJPEG-over-HTTP camera for tests: serves frames until stopped, can be restarted."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        server: MjpegServer = self.server.owner  # type: ignore[attr-defined]
        i = 0
        try:
            while not server.stopping.is_set():
                if server.stall_after is not None and i >= server.stall_after:
                    server.stopping.wait()  # the connection stays open, nothing more is sent
                    break
                frame = np.full((120, 160, 3), (i * 7) % 255, np.uint8)
                cv2.putText(frame, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 255), 2)
                _, jpeg = cv2.imencode(".jpg", frame)
                data = jpeg.tobytes()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                self.wfile.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                i += 1
                time.sleep(0.04)
        except (BrokenPipeError, ConnectionResetError):
            pass


class MjpegServer:
    """``stall_after``: frames sent before the stream goes silent, its connection held open."""

    def __init__(self, stall_after: int | None = None) -> None:
        self.stall_after = stall_after
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> None:
        self.stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.owner = self  # type: ignore[attr-defined]
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class SilentServer:
    """Accepts connections and never sends a byte: a camera that hangs."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self.accepted = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/stream"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self._sock.close()
        for conn in self._held:
            conn.close()
