"""A local XES file read piece by piece: the decompressed XML never has to be in memory at once.

:class:`FileStream` reads a regular file in pieces, gunzips it as it goes
(gzip detected by its magic bytes, members one after the other) with the
output of every step bounded, and hashes the file's own bytes. It only ever
*declines*: whatever it does not handle plainly - not a regular file, a file
or an output over ``max_bytes``, corrupt gzip data - raises :class:`Declined`,
and the caller reads the file the usual way through
:func:`processmining.safe_input.read_bytes`, which refuses it with its usual
message. So the hardening stays where it is, in one place.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zlib
from collections.abc import Iterator

from .. import safe_input

__all__ = ["Declined", "FileStream"]

#: bytes read from the file at a time, and the largest piece of XML one decompression step gives
PIECE_BYTES = 1 << 20
_GZIP = b"\x1f\x8b"


class Declined(Exception):
    """The file is not streamed; read it with :func:`processmining.safe_input.read_bytes` instead."""


class FileStream:
    """The (decompressed) bytes of a local regular file, piece by piece; its sha256 once read to the end."""

    def __init__(self, path: str | os.PathLike, max_bytes: int) -> None:
        safe_input.refuse_url(path)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                raise Declined  # opening a FIFO (/dev/stdin) would wait for a writer
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            raise Declined from None
        self._fh = os.fdopen(fd, "rb", buffering=0)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            self._fh.close()
            raise Declined
        safe_input._remember_input(info)  # noqa: SLF001 - no output may overwrite an input (as read_bytes does)
        self.size = info.st_size  # bytes of the file: progress is counted in these
        self.done = 0
        self._max = max_bytes
        self._hash = hashlib.sha256()

    def __enter__(self) -> FileStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def _raw(self) -> Iterator[bytes]:
        while chunk := self._fh.read(PIECE_BYTES):
            self.done += len(chunk)
            self._hash.update(chunk)
            yield chunk

    def pieces(self) -> Iterator[bytes]:
        """The file's XML bytes in pieces of at most ``PIECE_BYTES``."""
        raw = self._raw()
        pending = next(raw, b"")
        if pending[:2] != _GZIP:
            yield pending
            yield from raw
            return
        out = 0
        inflate = None  # between two gzip members (a file may have several, as gzip itself allows)
        while True:
            if not pending and not (pending := next(raw, b"")):
                break
            if inflate is None:
                if len(pending) >= 2 and pending[:2] != _GZIP:
                    raise Declined  # not gzip data after a member
                inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:  # every piece of output this input gives (a full piece may leave more inside zlib)
                try:
                    piece = inflate.decompress(pending, PIECE_BYTES)
                except zlib.error:
                    raise Declined from None
                pending = inflate.unconsumed_tail
                out += len(piece)
                if out > self._max:
                    raise Declined  # read_bytes names the limit
                if piece:
                    yield piece
                if inflate.eof:  # the rest of the input (zlib may also leave a copy of it in unconsumed_tail)
                    pending, inflate = inflate.unused_data, None
                    break
                if not pending and len(piece) < PIECE_BYTES:
                    break
        if inflate is not None:
            raise Declined  # truncated gzip data

    def sha256(self) -> str:
        """The hex sha256 of the file (call after :meth:`pieces` is exhausted)."""
        return self._hash.hexdigest()

