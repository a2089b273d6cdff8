"""Reading untrusted files safely: no URLs, bounded decompression, hardened XML.

Every reader in the package (XES, BPMN, XLSX, CSV, JSON) opens its input
through :func:`read_bytes`; every XML parse goes through :func:`parse_xml` or
:func:`xml_parser_options` + :func:`check_xml_prolog`. That way the rules
below hold everywhere:

* a path that looks like a URL is refused, no request is ever made;
* ``.gz`` input is decompressed through a size-limited reader, so a 1 MB
  file that expands to 1 GB is refused instead of exhausting memory;
* XML with a DOCTYPE that declares entities or names an external DTD is
  refused before parsing, with the line; lxml runs with entity resolution,
  DTD loading and network access off, and its default depth / size limits on.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import IngestError, UnsafeInputError

#: Largest decompressed or plain input we accept (bytes). Overridable per call.
MAX_INPUT_BYTES = 2 * 1024**3
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class InputBytes:
    """The bytes of one input, with its display name and sha256 (of the file as given)."""

    name: str
    data: bytes
    sha256: str
    compressed: bool = False


def display_name(source: str | os.PathLike | bytes | None, name: str | None = None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return "<upload>"


def refuse_url(source: str | os.PathLike) -> None:
    text = os.fspath(source)
    if _URL.match(text):
        raise UnsafeInputError(
            "URLs are not read: processmining never makes network requests. "
            "Download the file and pass its local path.",
            source=text,
        )


def read_bytes(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
) -> InputBytes:
    """Return the (decompressed) bytes of a local file or an in-memory upload.

    Gzip is detected by its magic bytes, not the file name. Decompression
    stops with :class:`UnsafeInputError` as soon as ``max_bytes`` is passed.
    """
    label = display_name(source, name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    else:
        refuse_url(source)
        path = Path(source)
        if not path.exists():
            raise IngestError("file not found", source=str(source))
        if path.is_dir():
            raise IngestError("is a folder, expected a file", source=str(source))
        size = path.stat().st_size
        if size > max_bytes:
            raise UnsafeInputError(
                f"file is {size / 1024**2:.0f} MB, over the {max_bytes / 1024**2:.0f} MB limit",
                source=label,
            )
        raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        return InputBytes(label, _gunzip_bounded(raw, label, max_bytes), digest, compressed=True)
    if len(raw) > max_bytes:
        raise UnsafeInputError(
            f"input is {len(raw) / 1024**2:.0f} MB, over the {max_bytes / 1024**2:.0f} MB limit",
            source=label,
        )
    return InputBytes(label, raw, digest)


def _gunzip_bounded(raw: bytes, label: str, max_bytes: int) -> bytes:
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            while True:
                chunk = gz.read(1024 * 1024)
                if not chunk:
                    break
                out.write(chunk)
                if out.tell() > max_bytes:
                    raise UnsafeInputError(
                        f"decompressed size exceeds limit ({max_bytes / 1024**2:.0f} MB); "
                        "refusing a possible decompression bomb",
                        source=label,
                    )
    except (OSError, EOFError, zlib.error) as exc:
        raise IngestError(f"corrupt or truncated gzip data ({exc})", source=label) from None
    return out.getvalue()


# --------------------------------------------------------------------- XML

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def check_xml_prolog(data: bytes, source: str) -> None:
    """Refuse DOCTYPEs that declare entities or load an external DTD.

    A DOCTYPE can only appear before the root element, so only the prolog
    is inspected. The prolog is decoded with the declared encoding when it
    is UTF-16 (the byte patterns differ).
    """
    head = data[: 1024 * 1024]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            head = head.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            head = head.decode("utf-16", errors="replace").encode("utf-8")
    match = _DOCTYPE.search(head)
    if not match:
        return
    # Stop at the first element start that is not <? or <! : that is the root.
    root = re.search(rb"<[A-Za-z_]", head)
    if root and root.start() < match.start():
        return
    line = head.count(b"\n", 0, match.start()) + 1
    end = head.find(b"]>", match.start())
    decl = head[match.start() : (end if end != -1 else match.start() + 4096)]
    if b"<!ENTITY" in decl.upper():
        raise UnsafeInputError(
            "XML entity declarations are refused (possible entity-expansion or "
            "external-entity attack); remove the DOCTYPE",
            source=source,
            line=line,
        )
    if re.search(rb"\b(SYSTEM|PUBLIC)\b", decl):
        raise UnsafeInputError(
            "external DTD references are refused (no file or network access); remove the DOCTYPE",
            source=source,
            line=line,
        )


def xml_parser_options() -> dict:
    """Keyword arguments for ``etree.XMLParser`` / ``etree.iterparse``: hardened."""
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }


def parse_xml(data: bytes, source: str, *, expected_roots: tuple[str, ...] = ()) -> etree._Element:
    """Parse a whole XML document safely and check the root's local name.

    Raises :class:`IngestError` naming the line and column of a syntax
    error, or ``root <html>, expected <log>`` when the root is wrong.
    """
    if not data.strip():
        raise IngestError("the file is empty", source=source)
    check_xml_prolog(data, source)
    parser = etree.XMLParser(**xml_parser_options())
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (None, None)
        msg = exc.msg or str(exc)
        if data.lstrip()[:1] in (b"{", b"["):
            msg = "this is JSON, not XML"
        raise IngestError(
            f"not well-formed XML: {msg}" + (f" (column {col})" if col else ""),
            source=source,
            line=line,
        ) from None
    if expected_roots:
        local = etree.QName(root).localname
        if local not in expected_roots:
            want = " or ".join(f"<{r}>" for r in expected_roots)
            raise IngestError(f"root <{local}>, expected {want}", source=source, line=root.sourceline)
    return root
