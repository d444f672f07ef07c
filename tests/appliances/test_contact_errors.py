"""A call a person triggers towards a typed host and port answers the same for a closed port, a silent one and a
service that does not speak TLS: the portal is no port scanner."""

import socket
import threading

import pytest

from appliances.connect import PURPOSE_TIMEOUTS, ClientPurpose, client_for, contact_failure_text
from appliances.drivers import ApplianceError, TrustSettings

pytestmark = pytest.mark.django_db
PIN = "sha256//" + "A" * 43 + "="


def _failure(org, port: int) -> str:
    client = client_for(host="127.0.0.1", port=port, client_id="c", client_secret="s",
                        trust=TrustSettings(pin=PIN), purpose=ClientPurpose.REPLACEMENT, organization=org)
    with pytest.raises(ApplianceError) as error:
        client.check_health()
    return contact_failure_text(error.value).replace(f":{port}", ":PORT")


def test_closed_silent_and_plain_text_ports_read_the_same(org_a, monkeypatch):
    monkeypatch.setitem(PURPOSE_TIMEOUTS, ClientPurpose.REPLACEMENT, 0.5)  # the silent port times out quickly
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    texts = {"closed": _failure(org_a, closed)}

    plain = socket.create_server(("127.0.0.1", 0))

    def answer_in_plain_text():
        conn, _ = plain.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer_in_plain_text, daemon=True)
    thread.start()
    try:
        texts["plain"] = _failure(org_a, plain.getsockname()[1])
    finally:
        thread.join(timeout=5)
        plain.close()
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        texts["silent"] = _failure(org_a, silent.getsockname()[1])
    assert len(set(texts.values())) == 1, texts
    assert "no appliance API answered" in texts["closed"]
