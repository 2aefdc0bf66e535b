"""Optional installs: a command that needs an extra says which one, in one line."""

from __future__ import annotations

from importlib.util import find_spec

from accunode_cli.errors import ConfigError

__all__ = ["TRAINING_MODULES", "require_training_extra"]

# What `accunode model train|evaluate|generate` import (the `train` extra in pyproject.toml);
# scoring and serving import none of them.
TRAINING_MODULES = {
    "lightgbm": "lightgbm",
    "sklearn": "scikit-learn",
    "scipy": "scipy",
    "matplotlib": "matplotlib",
}


def require_training_extra(command: str) -> None:
    """Raise a ConfigError (exit 2) naming the install command when a training tool is absent."""
    missing = [package for module, package in TRAINING_MODULES.items() if find_spec(module) is None]
    if missing:
        raise ConfigError(
            f"`accunode {command}` needs the training tools ({', '.join(missing)} missing): "
            "pip install 'accunode[train]'",
            details={"missing": missing, "extra": "train"},
        )
