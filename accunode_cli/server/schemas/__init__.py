"""Request and response schemas of the API (role suffixes: Create, Update, Public)."""

from accunode_cli.server.schemas import api_keys, auth, common, resources
from accunode_cli.server.schemas.api_keys import *  # noqa: F403
from accunode_cli.server.schemas.auth import *  # noqa: F403
from accunode_cli.server.schemas.common import *  # noqa: F403
from accunode_cli.server.schemas.resources import *  # noqa: F403

__all__ = [*api_keys.__all__, *auth.__all__, *common.__all__, *resources.__all__]
