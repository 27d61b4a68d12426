"""Bundles as files from outside: checking an uploaded .bpmn or .zip, and writing a version as a zip.

An upload is untrusted: names are checked before anything is read (no paths, only the suffixes a bundle
holds), sizes are bounded before and while reading (no zip bombs), and XML goes through the hardened parser.
"""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from pathlib import PurePosixPath

from engine.core.bundle import FORM_SUFFIXES, MAX_FILE_BYTES, MODEL_SUFFIXES, bundle_name, parse_xml
from engine.errors import InvalidInput, InvalidModel

SUFFIXES = MODEL_SUFFIXES + FORM_SUFFIXES
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_BUNDLE_BYTES = 20 * 1024 * 1024
MAX_FILES = 50
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")


def check_name(name: str) -> str:
    """A bundle file name: one plain name with an expected suffix, as the bundle names it (`x.bpmn20.xml` and
    `x.dmn11.xml`, the Camunda/Flowable/Activiti convention, become `x.bpmn` and `x.dmn`); raises `InvalidModel`."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidModel("file names may hold only letters, digits, spaces, '.', '_' and '-' (no folders)",
                           file=str(name)[:120])
    canonical = bundle_name(name)
    if canonical is None:
        raise InvalidModel(f"only {', '.join(SUFFIXES)} files belong in a process bundle (.bpmn20.xml and "
                           ".dmn11.xml count as .bpmn and .dmn)", file=name)
    return canonical


def check_files(files: dict[str, str]) -> dict[str, str]:
    """A bundle given as name -> text: safe names, bounded sizes, safe well-formed XML, JSON that parses."""
    if not isinstance(files, dict) or not files:
        raise InvalidInput("a bundle must be a non-empty mapping of file name to text")
    if len(files) > MAX_FILES:
        raise InvalidModel(f"a bundle holds at most {MAX_FILES} files")
    total = 0
    renamed: dict[str, str] = {}
    for given, text in files.items():
        name = check_name(given)
        if name in renamed:
            raise InvalidModel(f"two files of the bundle are both named {name} once their suffixes are read",
                               file=given)
        renamed[name] = text
        if not isinstance(text, str):
            raise InvalidModel("file content must be text", file=name)
        size = len(text.encode("utf-8"))
        if size > MAX_FILE_BYTES:
            raise InvalidModel(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", file=name)
        total += size
        if name.lower().endswith(MODEL_SUFFIXES):
            parse_xml(text, name)
        else:
            try:
                json.loads(text)
            except json.JSONDecodeError as err:
                raise InvalidModel(f"invalid JSON: {err.msg}", file=name, line=err.lineno) from err
    if total > MAX_BUNDLE_BYTES:
        raise InvalidModel(f"the bundle is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB")
    if not any(name.lower().endswith(".bpmn") for name in renamed):
        raise InvalidModel("the bundle holds no .bpmn file")
    return renamed


def read_upload(filename: str, data: bytes) -> dict[str, str]:
    """The bundle in an uploaded `.bpmn` file or `.zip` archive, checked (raises `InvalidModel`)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidModel(f"the upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", file=filename)
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    if name.lower().endswith(".zip"):
        return check_files(_read_zip(name, data))
    if name.lower().endswith((".bpmn", ".bpmn20.xml")):
        return check_files({check_name(name): _text(name, data)})
    raise InvalidModel("upload a .bpmn file or a .zip holding .bpmn, .dmn and .json files (.bpmn20.xml counts as "
                       ".bpmn)", file=name or None)


def _read_zip(archive: str, data: bytes) -> dict[str, str]:
    try:
        zipped = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise InvalidModel("not a valid zip archive", file=archive) from err
    with zipped:
        entries = [info for info in zipped.infolist() if not info.is_dir()]
        if len(entries) > MAX_FILES:
            raise InvalidModel(f"the archive holds more than {MAX_FILES} files", file=archive)
        names = [_entry_name(archive, info) for info in entries]
        folders = {PurePosixPath(info.filename).parent for info in entries}
        if len(folders) > 1:
            raise InvalidModel("put every file at the top of the archive (or in one folder)", file=archive)
        files, total = {}, 0
        for info, name in zip(entries, names, strict=True):
            if name in files:
                raise InvalidModel(f"the archive holds {name} twice", file=archive)
            total += info.file_size
            if info.file_size > MAX_FILE_BYTES or total > MAX_BUNDLE_BYTES:
                raise InvalidModel("the archive unpacks to more than the size limit", file=f"{archive}:{name}")
            with zipped.open(info) as stream:
                # Read no more than the limit, whatever the header claims (a forged size cannot balloon memory).
                content = stream.read(MAX_FILE_BYTES + 1)
            if len(content) > MAX_FILE_BYTES:
                raise InvalidModel("the archive unpacks to more than the size limit", file=f"{archive}:{name}")
            files[name] = _text(name, content)
    if not files:
        raise InvalidModel("the archive is empty", file=archive)
    return files


def _entry_name(archive: str, info: zipfile.ZipInfo) -> str:
    raw = info.filename
    path = PurePosixPath(raw)
    if raw.startswith(("/", "\\")) or "\\" in raw or ":" in raw or ".." in path.parts or len(path.parts) > 2:
        raise InvalidModel(f"unsafe path {raw!r} in the archive", file=archive)
    if info.flag_bits & 0x1:
        raise InvalidModel(f"{raw} is encrypted", file=archive)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InvalidModel(f"{raw} is a symbolic link", file=archive)
    return check_name(path.name)


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidModel("file is not UTF-8 text", file=name) from err


def to_zip(files: dict[str, str]) -> bytes:
    """A zip of a bundle (every file at the top), as `read_upload` takes it back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name in sorted(files):
            entry = PurePosixPath(name.replace("\\", "/")).name  # stored names are plain already; stay sure
            zipped.writestr(zipfile.ZipInfo(entry, date_time=(2000, 1, 1, 0, 0, 0)),
                            files[name].encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
