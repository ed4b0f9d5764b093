"""The real datasets: IMDB reviews and the Reuters-21578 five-topic subset.

Archives are read from ``RNNX_DATA_DIR`` (either the ``.tar.gz`` or its
extracted files). A missing archive is downloaded from its public home with a
progress bar; when that fails, :class:`DatasetError` says which file to put
where. Every archive has a content fingerprint (:func:`fingerprint`, the sha256
of the file) that is part of the parsed dataset's cache key and of every
classifier key, so a replaced archive is parsed and trained again. An archive
with missing SGML files (Reuters) or the wrong review counts (IMDB) is refused
with a :class:`DatasetError` that says what is wrong and what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import tarfile
import threading
import time
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from model import cache, config

IMDB_ARCHIVE = "aclImdb_v1.tar.gz"
REUTERS_ARCHIVE = "reuters21578.tar.gz"
DOWNLOAD_URLS = {
    IMDB_ARCHIVE: "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    REUTERS_ARCHIVE: "https://kdd.ics.uci.edu/databases/reuters21578/reuters21578.tar.gz",
}
REUTERS_TOPICS = ("earn", "acq", "crude", "grain", "money-fx")
REUTERS_CLASS_NAMES = ["earn", "acquisition", "crude-oil", "grain", "money-fx"]
IMDB_CLASS_NAMES = ["negative", "positive"]
ARCHIVES = {"imdb": IMDB_ARCHIVE, "reuters": REUTERS_ARCHIVE}
REUTERS_SGML_FILES = tuple(f"reut2-{i:03d}.sgm" for i in range(22))
IMDB_REVIEWS_PER_FOLDER = 12500  # in each of train/pos, train/neg, test/pos, test/neg
PARSER_VERSION = 3
FINGERPRINT_VERSION = 1
MISSING = "missing"  # the fingerprint of an archive that is not there
UNREADABLE = "unreadable"  # ... and of one that cannot be read


class DatasetError(RuntimeError):
    """A dataset cannot be read; the message tells the user what to do."""


@dataclass
class Split:
    texts: list[str]
    labels: np.ndarray  # int64 class index


@dataclass
class Dataset:
    name: str
    class_names: list[str]
    train: Split
    test: Split


def load(name: str, download: bool = True) -> Dataset:
    """Load ``"imdb"`` or ``"reuters"`` (parsed once per archive content, then from the cache)."""
    parsers = {"imdb": _parse_imdb, "reuters": _parse_reuters}
    source = locate(_archive_of(name), download=download)
    signature = _stat_signature(source)
    key = cache.make_key("dataset", name=name, fingerprint=_fingerprint_for(signature), v=PARSER_VERSION)

    def parse() -> Dataset:
        dataset = parsers[name](source)
        if _stat_signature(source) != signature:  # never keep one version's data under another's key
            raise DatasetError(
                f"{_what(source, ARCHIVES[name])} changed while it was being read; run the preparation again."
            )
        return dataset

    dataset, _ = cache.memoize(key, parse)
    return dataset


def _archive_of(name: str) -> str:
    if name not in ARCHIVES:
        raise DatasetError(f"Unknown dataset {name!r}; choose one of {sorted(ARCHIVES)}.")
    return ARCHIVES[name]


def _find(archive: str) -> Path | None:
    """The archive (or its extracted folder, or loose Reuters files) in the data directory, or None."""
    directory = config.data_dir()
    extracted = directory / ("aclImdb" if archive == IMDB_ARCHIVE else "reuters21578")
    if (directory / archive).is_file():
        return directory / archive
    if extracted.is_dir():
        return extracted
    if archive == REUTERS_ARCHIVE and any(directory.glob("reut2-*.sgm")):
        return directory
    return None


def locate(archive: str, download: bool = True) -> Path:
    """The archive (or its extracted folder) in the data directory, downloading it if allowed."""
    found = _find(archive)
    if found is not None:
        return found
    directory = config.data_dir()
    if download and not config.offline():
        try:
            return _download(archive, directory)
        except OSError as error:
            reason = f" (download failed: {error})"
    else:
        reason = ""
    raise DatasetError(
        f"Dataset archive {archive} not found in {directory}{reason}. "
        f"Download it from {DOWNLOAD_URLS[archive]} and put it at {directory / archive}, "
        "or set RNNX_DATA_DIR to the folder that holds it."
    )


def archive_status() -> dict[str, dict]:
    """Whether each built-in dataset's archive is in RNNX_DATA_DIR, without hashing or parsing it.

    ``{"imdb": {"present": True, "path": "aclImdb_v1.tar.gz", "bytes": n}, ...}``: names relative to
    the data directory only, never absolute paths. An extracted folder reports ``"aclImdb/"`` (or
    ``"reuters21578/"``, or ``"reut2-*.sgm"`` for loose files) with ``bytes`` None (not summed).
    """
    status: dict[str, dict] = {}
    for name, archive in ARCHIVES.items():
        try:
            source = _find(archive)
            size = source.stat().st_size if source is not None and source.is_file() else None
        except OSError:
            source, size = None, None
        if source is None:
            status[name] = {"present": False, "path": archive, "bytes": None}
        elif source.is_file():
            status[name] = {"present": True, "path": source.name, "bytes": size}
        else:
            loose = source == config.data_dir()
            status[name] = {
                "present": True,
                "path": "reut2-*.sgm" if loose else f"{source.name}/",
                "bytes": None,
            }
    return status


# ---------------------------------------------------------------- fingerprints

_DIRECTORY_SIGNATURE_SECONDS = 5.0  # how long a folder's file listing is trusted (stat of 50,000 files)
_directory_signatures: dict[str, tuple[float, tuple]] = {}
_signature_lock = threading.Lock()


def fingerprint(name: str) -> str:
    """A content fingerprint of dataset ``name``'s archive: the sha256 of the file, hex.

    Computed once per archive version (memoised in the cache under the resolved path, size, mtime,
    inode and ctime, and per process in front of it), so repeat calls cost one ``stat``. Never
    downloads: an absent archive gives ``"missing"``, an unreadable one ``"unreadable"``. An
    extracted folder's fingerprint hashes its dataset files' names and contents.
    """
    source = _find(_archive_of(name))
    if source is None:
        return MISSING
    try:
        return _fingerprint_of(source)
    except DatasetError:
        return UNREADABLE


def _fingerprint_of(source: Path) -> str:
    return _fingerprint_for(_stat_signature(source, recent_ok=True))


def _stat_signature(source: Path, recent_ok: bool = False) -> tuple:
    """What identifies one version of ``source`` without reading it (DatasetError when unreadable).

    A file: its resolved path, size, mtime, inode and ctime. A folder: a digest of its dataset files'
    names, sizes and mtimes, reused for a few seconds when ``recent_ok`` (web pages ask often).
    """
    try:
        return _signature(source, recent_ok)
    except OSError as error:
        raise _unreadable(source, error) from error


def _signature(source: Path, recent_ok: bool) -> tuple:
    resolved = source.resolve()
    if resolved.is_file():
        stat = resolved.stat()
        return (str(resolved), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
    now = time.monotonic()
    with _signature_lock:
        cached = _directory_signatures.get(str(resolved))
    if recent_ok and cached and now - cached[0] < _DIRECTORY_SIGNATURE_SECONDS:
        return cached[1]
    listing = hashlib.sha256()
    for path in _dataset_files(resolved):
        stat = path.stat()
        listing.update(
            f"{path.relative_to(resolved).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    signature = (str(resolved), "folder", listing.hexdigest())
    with _signature_lock:
        _directory_signatures[str(resolved)] = (now, signature)
    return signature


@lru_cache(maxsize=32)
def _fingerprint_for(signature: tuple) -> str:
    key = cache.make_key("dataset-fingerprint", signature=list(signature), v=FINGERPRINT_VERSION)
    value = cache.get(key)
    if isinstance(value, str):
        return value
    source = Path(signature[0])
    try:
        value = _hash_folder(source) if source.is_dir() else _hash_file(source)
    except OSError as error:
        raise _unreadable(source, error) from error
    if _stat_signature(source) == signature:  # not replaced while it was hashed
        with contextlib.suppress(OSError):  # CacheWriteError too: a fingerprint is cheap to recompute
            cache.put(key, value)
    return value


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_folder(folder: Path) -> str:
    digest = hashlib.sha256(b"folder\0")
    for path in _dataset_files(folder):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _dataset_files(folder: Path) -> list[Path]:
    """The files a dataset reads from an extracted folder, sorted."""
    if any(folder.glob("reut2-*.sgm")):
        return sorted(folder.glob("reut2-*.sgm"))
    reviews = (folder / split / polarity for split in ("train", "test") for polarity in ("pos", "neg"))
    return sorted(path for sub in reviews for path in sub.glob("*.txt"))


def _unreadable(source: Path, error: OSError) -> DatasetError:
    return DatasetError(
        f"{source.name} in RNNX_DATA_DIR cannot be read ({type(error).__name__}: {error.strerror or error}). "
        "Check its permissions, or place a readable copy in RNNX_DATA_DIR."
    )


def _download(archive: str, directory: Path) -> Path:
    from tqdm import tqdm

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / archive
    partial = target.with_suffix(".part")
    with urllib.request.urlopen(DOWNLOAD_URLS[archive], timeout=30) as response:
        total = int(response.headers.get("Content-Length", 0)) or None
        with open(partial, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=archive) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
    partial.rename(target)
    return target


def _corrupt(source: Path, error: Exception) -> DatasetError:
    return DatasetError(
        f"{source.name} in RNNX_DATA_DIR is corrupt or truncated ({type(error).__name__}: {error}). "
        f"Delete it and download it again from {DOWNLOAD_URLS.get(source.name, 'its public home')}."
    )


# ---------------------------------------------------------------- IMDB

_IMDB_PATH = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _imdb_files(source: Path) -> Iterator[tuple[str, bytes]]:
    if source.is_dir():
        for path in sorted(source.glob("*/*/*.txt")):
            name = f"aclImdb/{path.relative_to(source).as_posix()}"
            if _IMDB_PATH.search(name):
                yield name, path.read_bytes()
        return
    try:
        with tarfile.open(source, "r:gz") as tar:
            for member in tar:
                if member.isfile() and _IMDB_PATH.search(member.name):
                    yield member.name, tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _corrupt(source, error) from error


def clean_imdb_text(raw: str) -> str:
    """Strip the ``<br />`` tags IMDB reviews are full of."""
    return re.sub(r"<br\s*/?>", " ", raw).strip()


def _parse_imdb(source: Path) -> Dataset:
    rows: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    for name, data in _imdb_files(source):
        split, polarity, review_id, _rating = _IMDB_PATH.search(name).groups()
        text = clean_imdb_text(data.decode("utf-8", errors="replace"))
        rows[split].append((int(polarity == "pos"), int(review_id), text))
    _check_imdb_counts(source, rows)
    splits = {}
    for split, items in rows.items():
        items.sort()
        # A fixed shuffle (as Keras does) so "the first N" reviews mix both classes.
        order = np.random.default_rng(113).permutation(len(items))
        splits[split] = Split(
            texts=[items[i][2] for i in order], labels=np.array([items[i][0] for i in order], dtype=np.int64)
        )
    return Dataset("imdb", IMDB_CLASS_NAMES, splits["train"], splits["test"])


def _check_imdb_counts(source: Path, rows: dict[str, list[tuple[int, int, str]]]) -> None:
    """Refuse an IMDB archive unless train/pos, train/neg, test/pos and test/neg hold 12,500 reviews each."""
    wrong = []
    for split in ("train", "test"):
        for polarity, label in (("pos", 1), ("neg", 0)):
            count = sum(1 for item in rows[split] if item[0] == label)
            if count != IMDB_REVIEWS_PER_FOLDER:
                wrong.append(f"{split}/{polarity} has {count:,}")
    if wrong:
        raise DatasetError(
            f"{_what(source, IMDB_ARCHIVE)} has the wrong number of reviews: {', '.join(wrong)} "
            f"(train/pos, train/neg, test/pos and test/neg must hold {IMDB_REVIEWS_PER_FOLDER:,} each). "
            f"{_fix(IMDB_ARCHIVE)}"
        )


def _what(source: Path, archive: str) -> str:
    """How a message names ``source`` (its name in RNNX_DATA_DIR, never an absolute path)."""
    if source.is_file():
        return source.name
    if source == config.data_dir():
        return "The reut2-*.sgm files in RNNX_DATA_DIR"
    return f"The extracted {archive} folder {source.name}/"


def _fix(archive: str) -> str:
    return (
        f"Download {archive} again from {DOWNLOAD_URLS[archive]}, or place the right {archive} "
        "in RNNX_DATA_DIR (then run the preparation again)."
    )


# ---------------------------------------------------------------- Reuters

_DOC = re.compile(r"<REUTERS([^>]*)>(.*?)</REUTERS>", re.S)
_SPLIT = re.compile(r'LEWISSPLIT="([A-Z-]+)"')
_TOPICS = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.S)
_D = re.compile(r"<D>(.*?)</D>")
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _sgml_files(source: Path) -> Iterator[str]:
    if source.is_dir():
        files = sorted(source.glob("reut2-*.sgm"))
        _check_reuters_files(source, [path.name for path in files])
        for path in files:
            yield path.read_bytes().decode("latin-1")
        return
    try:
        with tarfile.open(source, "r:gz") as tar:
            members = sorted(
                (m for m in tar if m.isfile() and re.search(r"reut2-\d+\.sgm$", m.name)), key=lambda m: m.name
            )
            _check_reuters_files(source, [Path(m.name).name for m in members])
            for member in members:
                yield tar.extractfile(member).read().decode("latin-1")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _corrupt(source, error) from error


def _check_reuters_files(source: Path, names: list[str]) -> None:
    """Refuse a Reuters archive that lacks any of reut2-000.sgm … reut2-021.sgm."""
    missing = [name for name in REUTERS_SGML_FILES if name not in set(names)]
    if not missing:
        return
    what = _what(source, REUTERS_ARCHIVE)
    if len(missing) == len(REUTERS_SGML_FILES):
        problem = (
            f"{what} holds none of the 22 SGML files reut2-000.sgm … reut2-021.sgm; "
            "is it the Reuters-21578 archive?"
        )
    else:
        problem = (
            f"{what} is incomplete: {len(missing)} of the 22 SGML files reut2-000.sgm … reut2-021.sgm "
            f"are missing ({', '.join(missing)})."
        )
    raise DatasetError(f"{problem} {_fix(REUTERS_ARCHIVE)}")


def clean_reuters_text(raw: str) -> str:
    """Unescape entities and drop control characters such as ``&#3;``."""
    return " ".join(_CONTROL.sub(" ", html.unescape(raw)).split())


def parse_reuters_documents(sgml: str) -> Iterator[tuple[str, list[str], str]]:
    """Yield ``(lewis_split, topics, title + body)`` for each document in one SGML file."""
    for attributes, body in _DOC.findall(sgml):
        split = _SPLIT.search(attributes)
        topics_block = _TOPICS.search(body)
        topics = _D.findall(topics_block.group(1)) if topics_block else []
        title = _TITLE.search(body)
        text_body = _BODY.search(body)
        text = " ".join(part.group(1) for part in (title, text_body) if part)
        yield (split.group(1) if split else "NOT-USED"), topics, clean_reuters_text(text)


def five_topic_label(topics: list[str]) -> int | None:
    """The class of a document with exactly one of the five topics, else None."""
    matches = [t for t in topics if t in REUTERS_TOPICS]
    return REUTERS_TOPICS.index(matches[0]) if len(matches) == 1 else None


def _parse_reuters(source: Path) -> Dataset:
    rows: dict[str, tuple[list[str], list[int]]] = {"TRAIN": ([], []), "TEST": ([], [])}
    for sgml in _sgml_files(source):
        for split, topics, text in parse_reuters_documents(sgml):
            label = five_topic_label(topics)
            if split in rows and label is not None:
                rows[split][0].append(text)
                rows[split][1].append(label)
    if not rows["TRAIN"][0] or not rows["TEST"][0]:
        raise _corrupt(source, ValueError("no five-topic documents found"))
    train, test = (Split(texts, np.array(labels, dtype=np.int64)) for texts, labels in rows.values())
    return Dataset("reuters", REUTERS_CLASS_NAMES, train, test)
