"""AccuNode: probability of default from financial ratios."""

# A literal, not importlib.metadata: `accunode --help` pays for every import (pyproject reads it).
__version__ = "0.1.0"

__all__ = ["__version__"]
