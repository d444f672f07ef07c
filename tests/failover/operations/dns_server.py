"""A tiny real DNS server on 127.0.0.1 for tests: answers A queries from a dict, NXDOMAIN otherwise."""

import socket
import threading

import dns.message
import dns.rcode
import dns.rrset


class TinyDNSServer:
    def __init__(self, records: dict[str, str] | None = None) -> None:
        self.records = dict(records or {})
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            if name in self.records and dns.rdatatype.to_text(question.rdtype) == "A":
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.records[name]))
            elif name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()
