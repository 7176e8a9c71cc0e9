"""A DNS server on loopback for tests, built on dnspython's own message parsing.

    with LoopbackDns({"acme.example": ["v=spf1 -all", "mitel-domain-verification=..."]}) as dns:
        settings.DOMAIN_VERIFICATION_NAMESERVERS = [dns.address]

Names in ``zones`` answer their TXT records (an empty list: the name exists, with no TXT record;
a tuple of strings: one record of several character-strings); names in ``silent`` get no answer
at all (a time-out); every other name is NXDOMAIN. ``queries`` records what was asked, so a test
can tell the check really went to the DNS.
"""

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class LoopbackDns:
    def __init__(self, zones: dict[str, list[str | tuple[str, ...]]] | None = None, *,
                 silent: set[str] = frozenset()):
        self.zones = {name.lower().rstrip("."): list(values) for name, values in (zones or {}).items()}
        self.silent = {name.lower().rstrip(".") for name in silent}
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def __enter__(self) -> "LoopbackDns":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(wire)
            if reply is not None:
                self.sock.sendto(reply, client)

    def answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name not in self.zones:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and self.zones[name]:
            records = [" ".join(map(_quoted, (value,) if isinstance(value, str) else value))
                       for value in self.zones[name]]
            response.answer.append(dns.rrset.from_text(question.name, 300, dns.rdataclass.IN,
                                                       dns.rdatatype.TXT, *records))
        return response.to_wire()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
