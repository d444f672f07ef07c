"""The demo's local webhook receiver: what a chat or paging tool would get. It prints every JSON message Apprise
posts (title first) and appends it to ``var/demo/webhook.jsonl``. Loopback only, no dependencies."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(port: int, log_path: Path) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)) or 0)
            try:
                message = json.loads(body or b"{}")
            except ValueError:
                message = {"raw": body.decode("utf-8", "replace")}
            with log_path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(message) + "\n")
            sys.stdout.write(f"\n[webhook] {message.get('title', '')}\n{message.get('message', '')}\n")
            sys.stdout.flush()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
