"""Research ethics and data protection: what the store keeps about people, and what outputs show.

* :mod:`whuffie.privacy.pseudonyms`: pseudonymisation on ingest (``whuffie ingest --pseudonymise
  KEYFILE``): actor ids, handles and names replaced by keyed hashes (HMAC-SHA256 with a key the
  user keeps), mentions in texts replaced the same way, e-mail addresses and phone numbers masked,
  personal query parameters stripped from addresses.
* :mod:`whuffie.privacy.erasure`: erasure of an actor (``whuffie forget``) and retention
  (``whuffie prune``), recorded in the store's ``erasures`` table.
* :mod:`whuffie.privacy.disclosure`: what the report, the map and the exports show of private
  individuals (actors below a reach threshold).

The store's own random secret (``meta.secret``, see :func:`store_secret`) keys the display
pseudonyms of shared outputs and the fingerprints of erased actors; it is not the user's key and
cannot undo a pseudonymised ingest. See ``docs/privacy.md``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

#: What an e-mail address becomes in a pseudonymised store and in the texts shared outputs quote.
EMAIL_MASK = "[email]"

#: Hex digits kept of a display pseudonym (40 bits: a map of 100,000 private actors has less than
#: a 1% chance of showing two of them under one label).
DISPLAY_DIGITS = 10


def store_secret(con: duckdb.DuckDBPyConnection) -> bytes:
    """The store's random secret (written when the store was created or migrated to version 5).

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     len(store_secret(store.con))
    32
    """
    rows = con.execute("SELECT value FROM meta WHERE key = 'secret'").fetchall()
    if not rows:  # pragma: no cover - every store of schema 5 has one
        raise LookupError("the store has no secret (schema older than 5)")
    return bytes.fromhex(rows[0][0])


def keyed(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``secret``, separated by ``purpose``, as hex.

    Examples
    --------
    >>> keyed(b"k", "display", "twitter:1") == keyed(b"k", "display", "twitter:1")
    True
    >>> keyed(b"k", "display", "twitter:1") == keyed(b"k", "erasure", "twitter:1")
    False
    """
    return hmac.new(secret, f"{purpose}\0{value}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def display_pseudonym(secret: bytes, actor_id: str) -> str:
    """The label shared outputs show for a private individual: stable within one store.

    Examples
    --------
    >>> display_pseudonym(b"secret", "reddit:Adarain")
    'anon-933ae81d72'
    """
    return "anon-" + keyed(secret, "display", actor_id)[:DISPLAY_DIGITS]
