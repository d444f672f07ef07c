"""The embedded Celery transport: kombu's filesystem transport with atomic writes.

Why: kombu's filesystem transport creates a message file under its final name and only then serialises and
writes the payload, so a consumer listing the folder in between moves and reads an empty or half-written file
and the worker stops with an unrecoverable ``JSONDecodeError`` (the demo died that way after 18 minutes). The
exchange tables have the same window when they are created. Here every file is written under a name no reader
looks at and renamed into place (``os.replace`` is atomic on one filesystem), so a reader sees a whole file or
none. A file that still cannot be decoded (left by an older version, a full disk) is moved aside and logged
instead of stopping the worker.

Selected by ``CELERY_BROKER_URL=filesystem://`` (the embedded default); registered under the ``filesystem``
alias by ``portal.celery``.
"""

from __future__ import annotations

import logging
import os
import uuid
from json import JSONDecodeError
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

# Message files end in ".<queue>.msg"; a file being written ends in ".part" so no reader ever matches it.
PART_SUFFIX = ".part"
DAMAGED_FOLDER = "damaged"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file, no file, or the whole new file."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}{PART_SUFFIX}")
    try:
        with open(tmp, "wb", buffering=0) as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ChannelError(f"Cannot write {path}") from exc


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # Serialise first: the old code held an empty, visible file open while it serialised.
        data = str_to_bytes(dumps(payload))
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        _atomic_write(Path(self.data_folder_out) / name, data)

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(file.read_bytes()))]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc

    def _update_table(self, exchange, change) -> None:
        """Read-modify-write an exchange table under an exclusive lock on a separate lock file (the table
        itself is replaced by rename, so locking it would lock a file that is about to vanish)."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with open(file.with_name(file.name + ".lock"), "a+b") as lock_file:
            filesystem.lock(lock_file, filesystem.LOCK_EX)
            try:
                queues = self.get_table(exchange)
                changed = change(queues)
                if changed is not None:
                    _atomic_write(file, str_to_bytes(dumps(changed)))
            finally:
                filesystem.unlock(lock_file)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(exchange, lambda queues: None if binding in queues else [binding, *queues])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        filesystem.virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(
            exchange, lambda queues: [q for q in queues if q != binding] if binding in queues else None
        )

    def _get(self, queue):
        wanted = f"{queue}.msg"
        folder_in = Path(self.data_folder_in)
        # Claimed files go to a folder on the same filesystem, so the claim is one atomic rename (the stock
        # transport moved them to the system temp folder, a copy when that is another filesystem).
        claimed = Path(self.processed_folder)
        claimed.mkdir(parents=True, exist_ok=True)
        for filename in sorted(os.listdir(folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            target = claimed / filename
            try:
                os.rename(folder_in / filename, target)
            except OSError:
                continue  # another consumer claimed it first
            try:
                payload = target.read_bytes()
                message = loads(bytes_to_str(payload))
            except (OSError, JSONDecodeError, UnicodeDecodeError):
                self._set_aside(target)
                continue
            if not self.store_processed:
                target.unlink(missing_ok=True)
            return message
        raise Empty()

    def _set_aside(self, path: Path) -> None:
        damaged = Path(self.processed_folder).parent / DAMAGED_FOLDER
        damaged.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, damaged / path.name)
        except OSError:
            path.unlink(missing_ok=True)
        logger.error("Broker file %s could not be decoded; moved to %s and skipped", path.name, damaged)


class Transport(filesystem.Transport):
    Channel = Channel
