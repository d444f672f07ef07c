"""A tiny real DNS server on 127.0.0.1 for tests: answers A queries from a dict, NXDOMAIN otherwise, over UDP and
TCP (the DNS swing driver reads over TCP)."""

import socket
import threading

import dns.message
import dns.rcode
import dns.rrset


class TinyDNSServer:
    def __init__(self, records: dict[str, str] | None = None) -> None:
        self.records = dict(records or {})
        # One port for UDP and TCP: a port free for UDP may be taken for TCP, so try until both bind.
        for _attempt in range(50):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.sock.close()
                self.tcp.close()
        self.sock.settimeout(0.2)
        self.tcp.listen(8)
        self.tcp.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._tcp_thread = threading.Thread(target=self._serve_tcp, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = self.tcp.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    while True:
                        head = conn.recv(2)
                        if len(head) < 2:
                            break
                        data = conn.recv(int.from_bytes(head, "big"))
                        wire = self._answer(data)
                        conn.sendall(len(wire).to_bytes(2, "big") + wire)
                except OSError:
                    continue

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.sock.sendto(self._answer(data), peer)

    def _answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text().rstrip(".")
        if name in self.records and dns.rdatatype.to_text(question.rdtype) == "A":
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.records[name]))
        elif name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()

    def __enter__(self):
        self._thread.start()
        self._tcp_thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._tcp_thread.join()
        self.sock.close()
        self.tcp.close()
