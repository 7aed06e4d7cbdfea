import threading
from collections.abc import Callable

GROUP = "/datalake-etl/test"  # the log group of the sinks on moto (conftest.make_sink)


def balanced(sink):
    """The sink's counters, checked: every event enqueued is sent, in the fallback, dropped or
    still pending."""
    figures = sink.snapshot()
    assert figures["enqueued"] == (
        figures["sent"] + figures["to_fallback"] + figures["dropped"] + figures["pending"]
    ), figures
    return figures


def in_threads(work: Callable[[int], None], count: int) -> None:
    """work(0) … work(count - 1), each in a thread of its own, all started, then all joined."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
