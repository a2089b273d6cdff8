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

import contextlib
import gzip
import hashlib
import io
import os
import re
import stat
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import IngestError, OutputError, UnsafeInputError

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
        raw = _read_file_bounded(Path(source), label, max_bytes)
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        return InputBytes(label, _gunzip_bounded(raw, label, max_bytes), digest, compressed=True)
    if len(raw) > max_bytes:
        raise UnsafeInputError(
            f"input is {len(raw) / 1024**2:.0f} MB, over the {max_bytes / 1024**2:.0f} MB limit",
            source=label,
        )
    return InputBytes(label, raw, digest)


def _read_file_bounded(path: Path, label: str, max_bytes: int) -> bytes:
    """The bytes of a local file, reading at most ``max_bytes + 1`` whatever size the file reports.

    Pipes and FIFOs (``/dev/stdin``) are read with the same cap (their size
    says nothing); character and block devices (``/dev/zero``) are refused.
    Every file read is remembered (see :func:`tracking_inputs`) so no output
    can overwrite it.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise IngestError("file not found", source=str(path)) from None
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc.strerror or exc}", source=str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise IngestError("is a folder, expected a file", source=str(path))
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise UnsafeInputError("is a device or socket, not a file; save the data to a file and pass that",
                               source=str(path))
    if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
        raise UnsafeInputError(
            f"file is {info.st_size / 1024**2:.0f} MB, over the {max_bytes / 1024**2:.0f} MB limit", source=label)
    try:
        fd = os.open(path, os.O_RDONLY)  # a FIFO waits for its writer, as `cat` does
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc.strerror or exc}", source=str(path)) from None
    chunks: list[bytes] = []
    total = 0
    # a regular file in one read of its size (one buffer, no joined copy); pipes in 16 MB pieces
    first = info.st_size + 1 if stat.S_ISREG(info.st_mode) else 1 << 24
    with os.fdopen(fd, "rb", buffering=0) as fh:
        _remember_input(os.fstat(fh.fileno()))
        while True:
            chunk = fh.read(min(first if not chunks else 1 << 24, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise UnsafeInputError(f"input is over the {max_bytes / 1024**2:.0f} MB limit "
                                       "(stopped reading there)", source=label)
    return b"".join(chunks)


# --------------------------------------------------------------------- outputs
#: identities (device, inode) of the files read in the current command / app run, when tracked
_INPUTS: ContextVar[set[tuple[int, int]] | None] = ContextVar("processmining_inputs", default=None)


@contextlib.contextmanager
def tracking_inputs() -> Iterator[set[tuple[int, int]]]:
    """Within this block every file read through :func:`read_bytes` is an input no output may overwrite.

    The CLI wraps each command in it, so ``convert X -o X`` (or ``--report X``)
    is refused however the command names its outputs.
    """
    token = _INPUTS.set(set())
    try:
        yield _INPUTS.get()  # type: ignore[misc]
    finally:
        _INPUTS.reset(token)


def _remember_input(info: os.stat_result) -> None:
    seen = _INPUTS.get()
    if seen is not None and stat.S_ISREG(info.st_mode):
        seen.add((info.st_dev, info.st_ino))


def check_output_path(dest: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """``dest`` as a :class:`Path` if an output may be written there, else :class:`OutputError` (one line).

    Refused: a URL, a folder, a path inside a missing folder, a symbolic-link
    loop, and any file that is one of ``inputs`` or was read in the current
    :func:`tracking_inputs` block (same file, also through links).
    """
    text = os.fspath(dest)
    if _URL.match(text):
        raise OutputError("outputs are written to local files only, not URLs", source=text)
    path = Path(text)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
        if os.path.islink(path):
            raise OutputError("is a symbolic link to a missing file; refusing to write through it",
                              source=text) from None
    except OSError as exc:  # ELOOP, EACCES, ENOTDIR ...
        why = "symbolic link loop" if exc.errno == 40 else (exc.strerror or str(exc))
        raise OutputError(f"cannot write here: {why}", source=text) from None
    if info is None:
        parent = path.parent
        if not parent.is_dir():
            raise OutputError(f"the folder {str(parent)!r} does not exist; create it first", source=text)
        return path
    if stat.S_ISDIR(info.st_mode):
        raise OutputError("is a folder; give a file name for the output", source=text)
    ident = (info.st_dev, info.st_ino)
    given = set()
    for other in inputs:
        if other is None or isinstance(other, (bytes, bytearray)):
            continue
        with contextlib.suppress(OSError):
            o = os.stat(other)
            given.add((o.st_dev, o.st_ino))
    if ident in given or ident in (_INPUTS.get() or set()):
        raise OutputError("is one of the inputs; refusing to overwrite it (choose another output name)",
                          source=text)
    return path


@contextlib.contextmanager
def atomic_output(dest: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``dest`` to write to; renamed onto ``dest`` only when the block succeeds.

    A failure (or Ctrl-C) never leaves half a file: the temporary file is
    removed and ``dest`` is untouched. The temporary name ends with the
    destination's name, so writers that look at the extension (``.xes.gz``)
    behave the same.
    """
    path = check_output_path(dest)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # replacing a file keeps its permissions
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix="-" + path.name)
    os.close(fd)
    os.chmod(tmp, mode)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_atomic(dest: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``dest`` atomically (see :func:`atomic_output`); returns the path."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(dest) as tmp:
        tmp.write_bytes(blob)
    return Path(dest)


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


# --------------------------------------------------------------------- YAML
#: limits for YAML documents (rules files, label mappings, accepted deviations)
MAX_YAML_BYTES = 2 * 1024**2
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 100


def load_yaml(data: bytes | str, source: str) -> tuple[object, object]:
    """Parse untrusted YAML safely: ``(python value, node tree)`` (the tree gives line numbers).

    Before any object is built, the size, the number of aliases, the nesting
    depth and the *expanded* node count (each alias counted as a full copy of
    what it names) are checked, so an alias bomb of a few hundred bytes is
    refused at once (:class:`UnsafeInputError`) instead of running for minutes.
    Only plain YAML types are built (``yaml.SafeLoader``). Syntax errors raise
    ``yaml.YAMLError`` for the caller to word.
    """
    import yaml

    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise UnsafeInputError(f"YAML file is over the {MAX_YAML_BYTES // 1024**2} MB limit", source=source)
    aliases = depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise UnsafeInputError(f"YAML uses more than {MAX_YAML_ALIASES} aliases (*name); refusing a possible "
                                       "alias bomb", source=source, line=event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise UnsafeInputError(f"YAML is nested deeper than {MAX_YAML_DEPTH} levels", source=source,
                                       line=event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        if _expanded_nodes(root) > MAX_YAML_NODES:
            raise UnsafeInputError(f"YAML expands to more than {MAX_YAML_NODES:,} values through its aliases; "
                                   "refusing a possible alias bomb", source=source)
        return loader.construct_document(root), root
    finally:
        loader.dispose()


def _expanded_nodes(root: object) -> int:
    """Nodes of the tree with every alias expanded, computed without expanding (memoised, iterative)."""
    import yaml

    memo: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in memo and not done:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [c for pair in node.value for c in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            memo[key] = 1
            continue
        if done:
            memo[key] = min(1 + sum(memo[id(c)] for c in children), 1 << 62)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)]


def read_yaml_mapping(path: str | Path | bytes, *, what: str, expected: str,
                      name: str | None = None) -> tuple[dict, str]:
    """A small YAML settings file (calendar, KPI targets, ...) read safely: ``(mapping, file name)``.

    ``path`` may also be the bytes of an uploaded file (``name`` is then its
    name). Goes through :func:`load_yaml` (alias bombs, depth and size refused);
    a syntax error or a document that is not a mapping raises
    :class:`~processmining.errors.AnalysisError` naming the file (``what`` names
    the kind of file, ``expected`` says what it must look like).
    """
    from collections.abc import Mapping

    import yaml

    from .errors import AnalysisError

    if isinstance(path, bytes):
        raw, source = path, name or f"{what}.yaml"
    else:
        data = read_bytes(Path(path))
        raw, source = data.data, data.name
    try:
        doc, _ = load_yaml(raw, source)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"{source}: not a readable YAML {what}: {exc}") from exc
    doc = doc or {}
    if not isinstance(doc, Mapping):
        raise AnalysisError(f"{source}: {expected}")
    return dict(doc), source
