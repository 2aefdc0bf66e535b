"""The HTTP client of the remote commands (httpx): saved logins, sessions, the API's actions.

It imports only ``accunode_cli.errors`` and ``accunode_cli.config`` of the package, never the
server. Import the submodules directly (``client.session``, ``client.api``, ``client.jobs``).
"""

__all__ = ["api", "http", "jobs", "logins", "session"]
