"""Storage: SQLAlchemy models, repositories, Alembic migrations and the Redis adapters.

Import the submodules (``accunode_cli.storage.models``, ``.companies``, ``.predictions``...)
directly; this package itself imports nothing heavy so ``accunode --help`` stays fast. Every
repository function takes ``(session, *, organization_id, ...)``, may flush and never commits.
"""

__all__ = [
    "api_keys",
    "common",
    "companies",
    "db",
    "kv",
    "migrate",
    "models",
    "operators",
    "organizations",
    "predictions",
    "tokens",
    "users",
]
