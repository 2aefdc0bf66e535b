"""Use cases shared by the server and the workers: score through the scoring core, then store.

Storage stores and never scores; the single-prediction routes and the bulk-upload job chunks
both score here. Import the submodules directly (``accunode_cli.services.predictions``).
"""

__all__ = ["predictions"]
