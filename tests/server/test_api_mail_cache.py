"""Email through SMTP when configured, and the prediction read cache (Redis or in-process)."""

from __future__ import annotations

import email
import email.policy
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest
from api_helpers import API, TestClient, annual_body, register
from sqlalchemy import text

from accunode_cli.server import create_app
from accunode_cli.storage.db import make_engine


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib.send_message; the messages land on the server."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250 test\r\n")
            elif command == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.messages.append(data.decode())  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_verification_is_mailed_when_smtp_is_configured(make_settings, smtp_server) -> None:
    host, port = smtp_server.server_address
    settings = make_settings(smtp_host=host, smtp_port=port, smtp_from="api@example.com")
    with TestClient(create_app(settings)) as client:
        account = register(client)
        [raw] = smtp_server.messages  # type: ignore[attr-defined]
        mail = email.message_from_string(raw, policy=email.policy.default)
        assert mail["To"] == account["email"] and mail["From"] == "api@example.com"
        text_body = mail.get_content()  # type: ignore[attr-defined]
        assert "verify-email" in text_body
        token = next(
            line.strip() for line in text_body.splitlines() if line.strip().startswith("eyJ")
        )
        assert client.post(f"{API}/auth/verify-email", json={"token": token}).status_code == 200
        invited = client.post(
            f"{API}/organizations",
            json={"name": "Team"},
            headers=account["headers"],
        ).json()
        client.post(
            f"{API}/organizations/{invited['id']}/invitations",
            json={"email": "bo@example.com", "role": "viewer"},
            headers=account["headers"],
        )
        assert any("bo@example.com" in m for m in smtp_server.messages)  # type: ignore[attr-defined]


def test_single_prediction_reads_are_cached_until_changed(client, settings) -> None:
    headers = register(client)["headers"]
    created = client.post(f"{API}/predictions/annual", json=annual_body(), headers=headers).json()
    url = f"{API}/predictions/annual/{created['id']}"
    assert client.get(url, headers=headers).json()["probability"] == created["probability"]
    engine = make_engine(settings.effective_database_url)
    with engine.begin() as connection:  # change the row behind the API's back
        connection.execute(text("UPDATE annual_predictions SET probability = 0.5"))
    engine.dispose()
    assert client.get(url, headers=headers).json()["probability"] == created["probability"]
    client.put(url, json={"return_on_assets": 1.0}, headers=headers)  # invalidates
    fresh = client.get(url, headers=headers).json()
    assert fresh["return_on_assets"] == 1.0 and fresh["probability"] != 0.5


def test_smtp_fixture_speaks_smtp(smtp_server) -> None:
    with socket.create_connection(smtp_server.server_address, timeout=5) as sock:
        assert sock.recv(100).startswith(b"220")
