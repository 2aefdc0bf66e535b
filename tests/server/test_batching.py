"""The request coalescer: every submitter gets its own result, nothing waits forever."""

import asyncio
import random
import threading
import time

import pytest

from accunode_cli.errors import ConflictError
from accunode_cli.server.batching import Coalescer


def _run(coroutine):  # a hang fails the test instead of stalling the suite
    async def bounded():
        return await asyncio.wait_for(coroutine, timeout=30)

    return asyncio.run(bounded())


def test_concurrent_submissions_share_batches_and_each_gets_its_own_result():
    batches: list[list[int]] = []
    lock = threading.Lock()

    def handle(items: list[int]) -> list[int | BaseException]:
        with lock:
            batches.append(list(items))
        time.sleep(random.uniform(0, 0.003))  # a round trip
        return [ConflictError(f"odd {i}") if i % 2 else i * 10 for i in items]

    coalescer = Coalescer(handle)

    async def one(i: int) -> int | str:
        await asyncio.sleep(random.uniform(0, 0.01))
        try:
            return await coalescer.submit(i)
        except ConflictError as exc:
            return exc.message

    async def main():
        return await asyncio.gather(*(one(i) for i in range(400)))

    results = _run(main())
    assert results == [f"odd {i}" if i % 2 else i * 10 for i in range(400)]
    assert sorted(i for batch in batches for i in batch) == list(range(400))
    assert max(len(batch) for batch in batches) > 1  # requests really were batched
    assert len(batches) < 400


def test_one_request_alone_runs_at_once_and_back_to_back_requests_never_stall():
    calls: list[list[int]] = []

    def handle(items: list[int]) -> list[int]:
        calls.append(items)
        return items

    coalescer = Coalescer(handle)

    async def main():
        # a submission arriving just as a runner finishes must still be served
        for i in range(2000):
            assert await coalescer.submit(i) == i
            if i % 3 == 0:
                await asyncio.sleep(0)

    _run(main())
    assert calls[0] == [0]


def test_a_failing_handler_fails_its_batch_only():
    def handle(items: list[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("database gone")
        return items

    coalescer = Coalescer(handle, max_batch=1)

    async def main():
        return await asyncio.gather(
            *(coalescer.submit(i) for i in (12, 13, 14)), return_exceptions=True
        )

    first, failed, last = _run(main())
    assert (first, last) == (12, 14)
    assert isinstance(failed, RuntimeError) and str(failed) == "database gone"


def test_a_handler_returning_the_wrong_number_of_results_is_an_error_not_a_hang():
    coalescer = Coalescer(lambda items: items[:-1])

    async def main():
        return await asyncio.gather(
            *(coalescer.submit(i) for i in range(3)), return_exceptions=True
        )

    assert all(isinstance(result, RuntimeError) for result in _run(main()))


def test_an_empty_batch_limit_is_refused():
    with pytest.raises(ValueError):
        Coalescer(lambda items: items, max_batch=0)


def _sessions(tmp_path):
    from accunode_cli.storage.db import make_engine, make_session_factory

    return make_session_factory(make_engine(f"sqlite:///{tmp_path / 'batch.db'}"))


def test_a_batch_the_database_refuses_is_retried_one_request_at_a_time(tmp_path):
    from sqlalchemy.exc import IntegrityError

    from accunode_cli.server.state import in_transactions

    calls: list[list[str]] = []

    def work(session, items):
        calls.append(list(items))
        if "bad" in items:
            raise IntegrityError("INSERT", {}, Exception("refused"))
        return [item.upper() for item in items]

    results = in_transactions(_sessions(tmp_path), work, ["a", "bad", "c"])
    assert results[0] == "A" and results[2] == "C"
    assert isinstance(results[1], IntegrityError)
    assert calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


def test_an_unreachable_database_fails_the_batch_once_without_retries(tmp_path):
    from sqlalchemy.exc import OperationalError

    from accunode_cli.server.state import in_transactions

    calls: list[list[str]] = []

    def work(session, items):
        calls.append(list(items))
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        in_transactions(_sessions(tmp_path), work, ["a", "b", "c"])
    assert calls == [["a", "b", "c"]]
