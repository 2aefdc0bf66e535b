"""The API's routers, mounted under /api/v1 by the app factory."""

__all__ = ["auth", "companies", "health", "organizations", "predictions", "users"]
