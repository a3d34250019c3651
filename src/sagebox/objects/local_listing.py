"""Listing the local backend's file tree in S3 order, lazily and without reading it all.

Keys come out in UTF-8 byte order (which is Python's code point order for str). Folders
are only read when the merge reaches them, folders entirely before `start_after` or
outside `prefix` are skipped, and with the "/" delimiter a folder below the prefix
becomes one common prefix without being walked.
"""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sagebox.objects.local_keys import FOLDER_FILE, OBJECT_FILE, decode_name


@dataclass(frozen=True)
class Entry:
    """A key and the file holding its bytes, or a common prefix (path None)."""

    name: str
    path: Path | None


@dataclass(frozen=True)
class _Filter:
    prefix: str
    start_after: str
    rollup: bool

    def wants(self, key: str) -> bool:
        return key.startswith(self.prefix) and key > self.start_after

    def may_hold(self, folder_prefix: str) -> bool:
        """Whether keys starting with `folder_prefix` (or equal to it less its "/") may match."""
        if not (folder_prefix.startswith(self.prefix) or self.prefix.startswith(folder_prefix)):
            return False
        after = self.start_after
        return not (after >= folder_prefix and not after.startswith(folder_prefix))


def list_entries(
    bucket_folder: Path, *, prefix: str, delimiter: str | None, start_after: str | None
) -> Iterator[Entry]:
    """Keys under `prefix` after `start_after`, in order; with delimiter "/" the folders
    below the prefix come out as common prefixes (other delimiters are rolled up by the
    caller)."""
    rules = _Filter(prefix, start_after or "", rollup=delimiter == "/")
    return _walk(bucket_folder, "", rules)


def has_keys(bucket_folder: Path) -> bool:
    return next(_walk(bucket_folder, "", _Filter("", "", rollup=False)), None) is not None


def _walk(folder: Path, folder_prefix: str, rules: _Filter) -> Iterator[Entry]:
    candidates: list[tuple[str, Callable[[], Iterator[Entry]]]] = []
    try:
        with os.scandir(folder) as scan:
            found = list(scan)
    except (FileNotFoundError, NotADirectoryError):
        return
    for item in found:
        try:
            is_folder = item.is_dir()
        except OSError:
            continue
        if is_folder:
            candidates.extend(_folder_candidates(Path(item.path), item.name, folder_prefix, rules))
            continue
        key = _file_key(item.name, folder_prefix)
        if key is not None and rules.wants(key):
            candidates.append((key, partial(iter, (Entry(key, Path(item.path)),))))
    yield from _merge(candidates)


def _file_key(name: str, folder_prefix: str) -> str | None:
    if name == OBJECT_FILE:
        return folder_prefix[:-1] or None
    if name == FOLDER_FILE:
        return folder_prefix or None
    segment = decode_name(name)
    return None if segment is None else folder_prefix + segment


def _folder_candidates(
    path: Path, name: str, folder_prefix: str, rules: _Filter
) -> list[tuple[str, Callable[[], Iterator[Entry]]]]:
    segment = decode_name(name)
    if segment is None:
        return []
    sub = f"{folder_prefix}{segment}/"
    if not rules.may_hold(sub):
        return []
    if not (rules.rollup and sub.startswith(rules.prefix) and len(sub) > len(rules.prefix)):
        return [(sub[:-1], partial(_walk, path, sub, rules))]
    # Below the prefix with the "/" delimiter: the folder's own object is a key, the rest
    # of it one common prefix.
    found: list[tuple[str, Callable[[], Iterator[Entry]]]] = []
    own = path / OBJECT_FILE
    if rules.wants(sub[:-1]) and own.is_file():
        found.append((sub[:-1], partial(iter, (Entry(sub[:-1], own),))))
    if sub != rules.start_after:
        found.append((sub, partial(_common_prefix, path, sub, rules.start_after)))
    return found


def _common_prefix(path: Path, sub: str, start_after: str) -> Iterator[Entry]:
    inner = _walk(path, sub, _Filter(sub, start_after, rollup=False))
    if next(inner, None) is not None:
        yield Entry(sub, None)


def _merge(candidates: list[tuple[str, Callable[[], Iterator[Entry]]]]) -> Iterator[Entry]:
    """Merges sorted streams, each starting no earlier than its bound, opening each lazily."""
    candidates.sort(key=lambda candidate: candidate[0])
    heap: list[tuple[str, int, Entry, Iterator[Entry]]] = []
    order = itertools.count()
    waiting = 0
    while True:
        while waiting < len(candidates) and (not heap or candidates[waiting][0] <= heap[0][0]):
            stream = candidates[waiting][1]()
            waiting += 1
            first = next(stream, None)
            if first is not None:
                heapq.heappush(heap, (first.name, next(order), first, stream))
        if not heap:
            return
        _, _, entry, stream = heapq.heappop(heap)
        yield entry
        following = next(stream, None)
        if following is not None:
            heapq.heappush(heap, (following.name, next(order), following, stream))


def page_of(
    entries: Iterator[Entry],
    prefix: str,
    delimiter: str | None,
    start_after: str | None,
    max_keys: int,
) -> tuple[list[Entry], bool]:
    """Up to max_keys entries, keys rolled up into common prefixes; and whether more follow."""
    chosen: list[Entry] = []
    last_prefix = None
    for entry in entries:
        if delimiter and entry.path is not None:
            cut = entry.name.find(delimiter, len(prefix))
            if cut >= 0:
                common = entry.name[: cut + len(delimiter)]
                if common == start_after:
                    continue
                entry = Entry(common, None)
        if entry.path is None:
            if entry.name == last_prefix:
                continue
            last_prefix = entry.name
        if len(chosen) >= max_keys:
            return chosen, True
        chosen.append(entry)
    return chosen, False
