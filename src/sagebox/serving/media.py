"""Content-Type and Accept headers: parsing and negotiation.

Headers repeat from request to request, so parsing results are cached by header text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sagebox.serving.errors import UnsupportedAccept, UnsupportedContentType

CSV = "text/csv"
LIBSVM = "text/libsvm"
X_LIBSVM = "text/x-libsvm"
JSON = "application/json"
JSONLINES = "application/jsonlines"
RECORDIO = "application/x-recordio-protobuf"

ALIASES = {
    "csv": CSV,
    "libsvm": LIBSVM,
    X_LIBSVM: LIBSVM,
    "json": JSON,
    "jsonlines": JSONLINES,
    "application/x-jsonlines": JSONLINES,
    "application/jsonl": JSONLINES,
    "recordio-protobuf": RECORDIO,
}
"""Other spellings of a media type, mapped to the canonical one."""


@dataclass(frozen=True)
class MediaType:
    """A media type (lower case, aliases resolved) and its parameters."""

    name: str
    parameters: tuple[tuple[str, str], ...] = ()

    def parameter(self, key: str) -> str | None:
        for name, value in self.parameters:
            if name == key:
                return value
        return None


@lru_cache(maxsize=512)
def parse_media_type(header: str) -> MediaType:
    """``'text/csv; charset=utf-8'`` -> ``MediaType('text/csv', (('charset', 'utf-8'),))``."""
    name, *pieces = header.split(";")
    parameters = []
    for piece in pieces:
        key, _, value = piece.partition("=")
        if key.strip():
            parameters.append((key.strip().lower(), value.strip().strip('"')))
    media = name.strip().lower()
    return MediaType(ALIASES.get(media, media), tuple(parameters))


@lru_cache(maxsize=512)
def content_type(header: str, supported: tuple[str, ...], default: str) -> MediaType:
    """The request's media type; an empty header means ``default``.

    Raises ``UnsupportedContentType`` (415) listing ``supported``.
    """
    media = parse_media_type(header) if header.strip() else MediaType(default)
    if media.name not in supported:
        raise UnsupportedContentType(header, supported)
    return media


@lru_cache(maxsize=512)
def negotiate(header: str, supported: tuple[str, ...], default: str) -> str:
    """The response media type for an Accept header.

    An empty header or ``*/*`` means ``default``; ``type/*`` means the first supported
    type of that family; otherwise the supported types named are tried by quality
    (``q``), then in order. Raises ``UnsupportedAccept`` (406) listing ``supported``.
    """
    if not header.strip():
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        media = parse_media_type(part)
        try:
            quality = float(media.parameter("q") or 1)
        except ValueError:
            quality = 1.0
        if media.name and quality > 0:
            ranked.append((-quality, position, media.name))
    for _, _, name in sorted(ranked):
        if name == "*/*":
            return default
        if name.endswith("/*"):
            family = name[:-1]
            if default.startswith(family):
                return default
            for candidate in supported:
                if candidate.startswith(family):
                    return candidate
        elif name in supported:
            return name
    raise UnsupportedAccept(header, supported)
