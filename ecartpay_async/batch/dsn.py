"""What a ``--journal`` string names, and how it may be shown.

One home for two rules every command and the batch follow:

- :func:`journal_kind`: ``postgresql://`` / ``postgres://`` URLs and libpq keyword
  strings (``host=db dbname=pay password=...``) name a PostgreSQL journal; any other
  ``scheme://`` is refused (never a SQLite file named after a mistyped URL or a
  password); the rest is a SQLite file's path.
- :func:`mask_dsn` and :func:`hide_password`: a DSN is shown with its password
  masked, in every message, including a DSN too broken to parse (the masking reads
  the text itself, not a parser's result) and the text of errors that quote it.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from typing import Final, Literal

__all__ = ["JournalKind", "hide_password", "journal_kind", "mask_dsn"]

JournalKind = Literal["postgresql", "sqlite"]

MASK: Final = "***"
_POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")
_URL_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# libpq's keyword form starts with one of its keywords and an "=" (host=..., dbname=...).
_KEYWORD_DSN: Final = re.compile(
    r"^\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|"
    r"connect_timeout|application_name|options|target_session_attrs)\s*=",
    re.IGNORECASE,
)
_KEYWORD_PASSWORD: Final = re.compile(
    r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE
)
_QUERY_PASSWORD: Final = re.compile(r"([?&]password=)([^&#\s]*)", re.IGNORECASE)


def journal_kind(journal: str | os.PathLike[str]) -> JournalKind:
    """``"postgresql"`` or ``"sqlite"`` for a ``journal`` option; ValueError (masked)
    for a URL of another kind."""
    if not isinstance(journal, str):
        return "sqlite"  # a path object names a file
    if (journal.lower().startswith(_POSTGRES_SCHEMES) or _KEYWORD_DSN.match(journal)
            or _KEYWORD_PASSWORD.search(journal)):
        # A "password=" anywhere: a connection string, never a file to create.
        return "postgresql"
    if _URL_SCHEME.match(journal):
        raise ValueError(
            f"{mask_dsn(journal)} is not a journal: give a SQLite file's path or a "
            "postgresql:// DSN"
        )
    return "sqlite"


def mask_dsn(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***`` (URL or keyword form, parsed or not)."""
    scheme = _URL_SCHEME.match(dsn)
    if scheme is None:
        return _KEYWORD_PASSWORD.sub(lambda m: m.group(1) + MASK, dsn)
    masked = _QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, dsn)
    rest = masked[scheme.end():]
    at = rest.rfind("@")
    if at < 0:
        return masked
    userinfo = rest[:at]
    user, colon, _ = userinfo.partition(":")
    # Everything up to the last "@" is user information: a password holding "@" or "/"
    # (a mistyped one, not percent-encoded) stays hidden whole.
    return masked[: scheme.end()] + (user + ":" + MASK if colon else user) + rest[at:]


def _passwords(dsn: str) -> list[str]:
    scheme = _URL_SCHEME.match(dsn)
    if scheme is None:
        found = [m.group(2).strip("'") for m in _KEYWORD_PASSWORD.finditer(dsn)]
    else:
        found = [m.group(2) for m in _QUERY_PASSWORD.finditer(dsn)]
        rest = dsn[scheme.end():]
        at = rest.rfind("@")
        if at >= 0 and ":" in rest[:at]:
            found.append(rest[:at].partition(":")[2])
    decoded = [urllib.parse.unquote(p) for p in found]
    return sorted({p for p in found + decoded if p}, key=len, reverse=True)


def hide_password(text: str, dsn: str) -> str:
    """``text`` (an error message that may quote ``dsn``) with ``dsn``'s password masked."""
    text = text.replace(dsn, mask_dsn(dsn))
    for password in _passwords(dsn):
        text = text.replace(password, MASK)
    return text
