"""Bulk-upload jobs: splitting an upload into chunks, the chunk runner, results, executors.

The job and chunk rows in the database are the source of truth. The same functions run in a
background thread of ``accunode serve`` (embedded, no Redis) and in ``accunode worker``
processes fed by dramatiq's Redis broker. Import the submodules directly.
"""

__all__ = ["context", "executors", "files", "identity", "results", "runner", "worker"]
