"""CSV text that spreadsheets open as data: a text cell starting with ``= + - @`` (or a tab or
carriage return) is a formula to Excel/LibreOffice, so such cells get a leading apostrophe
(the OWASP "CSV injection" advice). Numbers stay numbers: only text cells are touched."""

from __future__ import annotations

from typing import Any

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """``value`` with an apostrophe in front if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)`` with every text cell (and column name) escaped."""
    escaped = frame.copy()
    for column in escaped.columns:
        if escaped[column].dtype == object or isinstance(escaped[column].dtype, pd.StringDtype):
            escaped[column] = escaped[column].map(escape_cell)
    escaped.columns = [escape_cell(str(c)) for c in escaped.columns]
    return escaped.to_csv(index=False)
