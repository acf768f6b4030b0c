"""`counting.first_day` answers as the plain walk it replaced: every deposit day in order, the
instruments counting on it re-counted (issue 15's fast path for instruments that never end
must find the same day, for distinct States and for a group's members alike; instruments with
an ending still take the full walk)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.counting import first_day
from tracker.domain.endings import Ending
from tracker.domain.instruments import Instrument

KEYS = ("AUT", "BRA", "CHL", "DZA", "EGY")
DAY0 = date(2017, 9, 20)


def _reference(instruments, needed, *, sure=True, members=None):
    for day in sorted({i.date for i in instruments}):
        counting = [i for i in instruments if i.counts_on(day, sure=sure)]
        if members is None:
            have = len({i.participant for i in counting})
        else:
            have = len({m for i in counting for m in i.members if m in members})
        if have >= needed:
            return day
    return None


def _ending(key: str, offset: int | None) -> Ending:
    effective = DAY0 + timedelta(days=offset) if offset is not None else None
    return Ending(key, "withdrawal", None, effective, "footnote", not_before=DAY0)


@st.composite
def instruments(draw, ended: bool):
    found = []
    for _ in range(draw(st.integers(0, 12))):
        key = draw(st.sampled_from(KEYS))
        day = DAY0 + timedelta(days=draw(st.integers(0, 30)))
        via = draw(st.booleans())
        ending = None
        if ended and draw(st.booleans()):
            ending = _ending(key, draw(st.one_of(st.none(), st.integers(0, 40))))
        found.append(
            Instrument(
                "predecessor:" + key if via else key,
                key,
                None if via else key,
                "ratification",
                day,
                via="successors" if via else None,
                successors=tuple(draw(st.lists(st.sampled_from(KEYS), max_size=3))) if via else (),
                ending=ending,
            )
        )
    return found


@settings(max_examples=400, deadline=None)
@given(
    found=st.one_of(instruments(ended=False), instruments(ended=True)),
    needed=st.integers(0, 6),
    sure=st.booleans(),
    members=st.one_of(st.none(), st.lists(st.sampled_from(KEYS), max_size=4).map(tuple)),
)
def test_first_day_is_the_plain_walks_day(found, needed, sure, members):
    assert first_day(found, needed, sure=sure, members=members) == _reference(
        found, needed, sure=sure, members=members
    )


def test_a_state_counts_once_and_a_group_counts_its_members():
    def deposit(key: str, offset: int, **kw) -> Instrument:
        return Instrument(key, key, key, "ratification", DAY0 + timedelta(days=offset), **kw)

    twice = [deposit("AUT", 0), deposit("AUT", 1), deposit("BRA", 5)]
    assert first_day(twice, 2) == DAY0 + timedelta(days=5)
    assert first_day(twice, 3) is None
    assert first_day(twice, 1, members=("BRA",)) == DAY0 + timedelta(days=5)
    gone = [deposit("AUT", 0, ending=_ending("AUT", 2)), deposit("BRA", 5)]
    assert first_day(gone, 2) is None  # Austria's withdrawal took effect before Brazil's deposit
