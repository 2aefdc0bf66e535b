"""The HTTP API: app factory, dependencies, routes, middleware and schemas."""

from accunode_cli.server.app import create_app

__all__ = ["create_app"]
