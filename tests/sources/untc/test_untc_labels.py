"""UNTC's entry-into-force label, read by its parser into the neutral `TreatyStatus.in_force`."""

from __future__ import annotations

import dataclasses

import pytest

from tracker.domain.models import TreatyStatus
from tracker.sources.untc.letters import label_in_force


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Entry into force", True),
        ("Entry into force:", True),
        ("ENTERED INTO FORCE", True),
        ("Not yet in force", False),
        ("not yet in force:", False),
        (None, None),
        ("Provisional application", None),  # other words: nothing is guessed
    ],
)
def test_the_label_says_in_force_not_yet_or_nothing(label, expected):
    assert label_in_force(label) is expected


def test_the_reading_is_left_out_of_the_content_hash_and_kept_in_the_stored_dict():
    """A page hashes as it did before the field existed (no spurious new snapshot after an
    upgrade), and the stored status keeps the reading (an old page reads as it did)."""
    base = TreatyStatus(treaty_id="XXVI-9", title="T", eif_label="Not yet in force")
    read = dataclasses.replace(base, in_force=False)
    assert read.content_hash() == base.content_hash()
    assert TreatyStatus.from_dict(read.to_dict()).in_force is False
    assert TreatyStatus.from_dict({"treaty_id": "X", "title": "T"}).in_force is None
