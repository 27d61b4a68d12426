"""The subject access page: every element id is unique (two fields shared `id="q"` and `id="reason"`)."""

import re
from collections import Counter


def test_ids_on_the_subject_access_page_are_unique(signed_in, jane):
    page = signed_in("officer").post("/privacy/subjects", data={"q": jane.email}).get_data(as_text=True)
    assert "Request erasure" in page and "Download export" in page
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert {name: n for name, n in ids.items() if n > 1} == {}
    for target in re.findall(r'\bfor="([^"]+)"', page):
        assert ids[target] == 1, target  # every label still names its field
