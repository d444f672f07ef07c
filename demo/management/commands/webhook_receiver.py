from django.conf import settings
from django.core.management.base import BaseCommand

from demo.webhook_receiver import serve


class Command(BaseCommand):
    help = "A local webhook receiver for the demo's notification channel (prints what Apprise posts)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8025)

    def handle(self, *args, port, **options):
        log = settings.VAR_DIR / "demo" / "webhook.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Webhook receiver on http://127.0.0.1:{port}/ (log: {log})")
        serve(port, log)
