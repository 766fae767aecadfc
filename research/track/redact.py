"""Credentials never leave the process: :func:`redact` masks the password of every URL in a
text (``postgresql://user:***@host:5432/db``) and secret query values (``?password=***``).

Everything that is written to MLflow (params, tags, run reasons, text and dict artifacts), every
``command`` tag and every message ``research.run`` prints goes through it. The user name and
host are kept: they say which database or server was used, and the password is the user's to
supply again when a command is rerun.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MASK = "***"

# scheme://user:password@  -- the password runs to the last '@' of the authority (no '/', '?',
# '#', whitespace or quote after it), so an unescaped '@' in a password is masked too
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@'\"]*):(?P<password>[^\s/?#'\"]*)@"
)
# ?password=...&token=...  (libpq, JDBC-style and cloud URLs carry secrets as query values)
_QUERY = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|pass|secret|token|access_token|api_key|apikey"
    r"|access_key|secret_key|sas|sig|signature|auth|authorization)=)(?P<value>[^&;#\s'\"]*)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` and every secret
    query value replaced by ``***``. Text without credentials is returned unchanged."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@" if m["password"] else m[0], text)
    return _QUERY.sub(lambda m: f"{m['head']}{MASK}" if m["value"] else m[0], text)


def redact_value(value: Any) -> Any:
    """:func:`redact` applied to a string, or to every string inside dicts, lists and tuples
    (keys included); other values are returned as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    return value


MAX_VALUE_LENGTH = 6000  # MLflow's limit on a param value
TEXT_SUFFIXES = (".html", ".md", ".txt", ".csv", ".json", ".yaml", ".yml", ".log", ".tsv")
MAX_SCANNED_BYTES = 50_000_000


@contextmanager
def redacted_file(path: Path) -> Iterator[Path]:
    """``path`` itself, or a redacted copy of it (same file name, in a temporary folder) when
    it is a text file that holds a credential."""
    text = None
    if path.suffix.lower() in TEXT_SUFFIXES and path.is_file():
        try:
            if path.stat().st_size <= MAX_SCANNED_BYTES:
                text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    safe = redact(text) if text is not None else None
    if safe is None or safe == text:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="research-redacted-") as folder:
        copy = Path(folder) / path.name
        copy.write_text(safe, encoding="utf-8")
        yield copy


def as_text(value: Any) -> str:
    """A param or tag value as MLflow stores it: a string without credentials, truncated to
    MLflow's limit."""
    text = redact("None" if value is None else str(value))
    if len(text) > MAX_VALUE_LENGTH:
        text = text[: MAX_VALUE_LENGTH - 15] + "...[truncated]"
    return text
