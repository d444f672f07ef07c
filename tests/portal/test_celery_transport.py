"""The embedded broker (filesystem transport): a consumer never reads a message that is still being written.

The demo's worker died on a JSONDecodeError: kombu's stock transport makes a message file visible before it
has written the payload. These tests race a real producer against a real consumer on the same folders."""

import threading

import pytest
from kombu import Connection

BIG = {"items": [f"appliance-{i}" * 4 for i in range(200_000)]}


def _connection(tmp_path):
    for sub in ("in", "processed", "control"):
        (tmp_path / sub).mkdir(exist_ok=True)
    options = {
        "data_folder_in": str(tmp_path / "in"),
        "data_folder_out": str(tmp_path / "in"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    # The alias is registered by portal.celery, which Django loads with the portal package.
    return Connection("filesystem://", transport_options=options)


def test_a_message_being_written_is_never_read_half_written(tmp_path):
    producer, consumer = _connection(tmp_path), _connection(tmp_path)
    put_channel, get_channel = producer.default_channel, consumer.default_channel
    messages = 5
    writer = threading.Thread(target=lambda: [put_channel._put("probes", BIG) for _ in range(messages)])
    received = []
    writer.start()
    # Poll as a worker does, as fast as possible, while the producer serialises and writes large messages.
    while writer.is_alive() or len(received) < messages:
        try:
            received.append(get_channel._get("probes"))
        except Exception as exc:  # noqa: BLE001 - Empty is expected; anything else is the bug
            if type(exc).__name__ != "Empty":
                raise
            if not writer.is_alive() and len(received) < messages and not list((tmp_path / "in").glob("*.msg")):
                break
    writer.join()
    assert received == [BIG] * messages
    assert not list((tmp_path / "in").iterdir()), "no half-written file is left behind"


def test_a_damaged_message_file_is_set_aside_and_the_next_one_delivered(tmp_path):
    connection = _connection(tmp_path)
    channel = connection.default_channel
    (tmp_path / "in" / "0_damaged.probes.msg").write_bytes(b'{"trunc')
    channel._put("probes", {"ok": True})
    assert channel._get("probes") == {"ok": True}
    assert [p.name for p in (tmp_path / "damaged").iterdir()] == ["0_damaged.probes.msg"]


def test_exchange_tables_are_rewritten_whole_while_read(tmp_path):
    writer_channel = _connection(tmp_path).default_channel
    reader_channel = _connection(tmp_path).default_channel
    done = threading.Event()

    def bind_many():
        for i in range(300):
            writer_channel._queue_bind("celery.pidbox", "", "", f"worker-{i}.celery.pidbox")
        done.set()

    thread = threading.Thread(target=bind_many)
    thread.start()
    while not done.is_set():
        reader_channel.get_table("celery.pidbox")  # raised JSONDecodeError on a table being created
    thread.join()
    assert len(reader_channel.get_table("celery.pidbox")) == 300
    writer_channel._delete("worker-7.celery.pidbox", "celery.pidbox", "", "")
    assert len(reader_channel.get_table("celery.pidbox")) == 299


@pytest.fixture(autouse=True)
def _portal_celery_loaded():
    import portal.celery  # noqa: F401 - registers the transport alias
