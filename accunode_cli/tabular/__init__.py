"""Tables in and out: format sniffing, streaming readers and writers, column matching, and the
bulk-scoring pipeline that streams any supported table through the scoring engine.

Imports ``scoring`` and ``errors`` only; pyarrow and openpyxl are imported when first needed.
"""

from accunode_cli.tabular.columns import ColumnMatch, infer_kind, match_columns
from accunode_cli.tabular.formats import INPUT_FORMATS, OUTPUT_FORMATS
from accunode_cli.tabular.pipeline import (
    DEFAULT_BATCH_SIZE,
    BulkRequest,
    BulkResult,
    default_errors_path,
    score_file,
)
from accunode_cli.tabular.sources import TableSource, open_source

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "BulkRequest",
    "BulkResult",
    "ColumnMatch",
    "TableSource",
    "default_errors_path",
    "infer_kind",
    "match_columns",
    "open_source",
    "score_file",
]
