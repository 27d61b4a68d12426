"""Studio uploads accept the Camunda/Flowable/Activiti file names (`.bpmn20.xml`, `.dmn11.xml`) like a deploy does."""

from __future__ import annotations

import io
import zipfile

import pytest

from engine.core.archive import check_files, read_upload
from engine.errors import InvalidModel
from tests.support import FIXTURES

ORDER = (FIXTURES / "order" / "order.bpmn").read_text()


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_bpmn20_xml_upload_is_read_as_a_bpmn_file():
    assert list(read_upload("Order.bpmn20.xml", ORDER.encode())) == ["Order.bpmn"]


def test_a_zip_of_bpmn20_and_dmn11_files_keeps_them_under_bundle_names():
    dmn = ('<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" '
           'name="d" namespace="n"/>')
    files = read_upload("bundle.zip", _zip({"order.bpmn20.xml": ORDER, "rates.dmn11.xml": dmn}))
    assert sorted(files) == ["order.bpmn", "rates.dmn"]


def test_two_files_that_become_one_name_are_refused():
    with pytest.raises(InvalidModel, match="both named order.bpmn"):
        check_files({"order.bpmn": ORDER, "order.bpmn20.xml": ORDER})


def test_other_xml_files_are_still_refused():
    with pytest.raises(InvalidModel, match="belong in a process bundle"):
        check_files({"order.bpmn": ORDER, "notes.xml": "<notes/>"})
