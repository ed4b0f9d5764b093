"""The real datasets: IMDB reviews and the Reuters-21578 five-topic subset.

Archives are read from ``RNNX_DATA_DIR`` (either the ``.tar.gz`` or its
extracted files). A missing archive is downloaded from its public home with a
progress bar; when that fails, :class:`DatasetError` says which file to put
where. Parsed datasets are cached, keyed by the archive's size and mtime.
"""

from __future__ import annotations

import html
import os
import re
import tarfile
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
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
PARSER_VERSION = 2


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
    """Load ``"imdb"`` or ``"reuters"`` (parsed once, then from the cache)."""
    loaders = {"imdb": (IMDB_ARCHIVE, _parse_imdb), "reuters": (REUTERS_ARCHIVE, _parse_reuters)}
    if name not in loaders:
        raise DatasetError(f"Unknown dataset {name!r}; choose one of {sorted(loaders)}.")
    archive, parse = loaders[name]
    source = locate(archive, download=download)
    stat = source.stat()
    key = cache.make_key(
        "dataset", name=name, source=str(source), size=stat.st_size, mtime=stat.st_mtime, v=PARSER_VERSION
    )
    dataset, _ = cache.memoize(key, lambda: parse(source))
    return dataset


def locate(archive: str, download: bool = True) -> Path:
    """The archive (or its extracted folder) in the data directory, downloading it if allowed."""
    directory = config.data_dir()
    extracted = directory / ("aclImdb" if archive == IMDB_ARCHIVE else "reuters21578")
    if (directory / archive).is_file():
        return directory / archive
    if extracted.is_dir():
        return extracted
    if archive == REUTERS_ARCHIVE and sorted(directory.glob("reut2-*.sgm")):
        return directory
    if download and os.environ.get("RNNX_OFFLINE", "").lower() not in {"1", "true", "yes"}:
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
        f"{source} is corrupt or truncated ({type(error).__name__}: {error}). "
        f"Delete it and download it again from {DOWNLOAD_URLS.get(source.name, 'its public home')}."
    )


# ---------------------------------------------------------------- IMDB

_IMDB_PATH = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _imdb_files(source: Path) -> Iterator[tuple[str, bytes]]:
    if source.is_dir():
        for path in sorted(source.glob("*/*/*.txt")):
            yield f"aclImdb/{path.relative_to(source).as_posix()}", path.read_bytes()
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
    splits = {}
    for split, items in rows.items():
        if len(items) != 25000:
            raise _corrupt(source, ValueError(f"{split} has {len(items)} reviews, expected 25000"))
        items.sort()
        # A fixed shuffle (as Keras does) so "the first N" reviews mix both classes.
        order = np.random.default_rng(113).permutation(len(items))
        splits[split] = Split(
            texts=[items[i][2] for i in order], labels=np.array([items[i][0] for i in order], dtype=np.int64)
        )
    return Dataset("imdb", IMDB_CLASS_NAMES, splits["train"], splits["test"])


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
        if not files:
            raise DatasetError(f"No reut2-*.sgm files in {source}.")
        for path in files:
            yield path.read_bytes().decode("latin-1")
        return
    try:
        with tarfile.open(source, "r:gz") as tar:
            members = sorted((m for m in tar if re.search(r"reut2-\d+\.sgm$", m.name)), key=lambda m: m.name)
            if not members:
                raise DatasetError(f"{source} holds no reut2-*.sgm files; is it the Reuters-21578 archive?")
            for member in members:
                yield tar.extractfile(member).read().decode("latin-1")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _corrupt(source, error) from error


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
