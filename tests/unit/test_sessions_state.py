"""The pure session state machine of contract 004: examples, then properties over random runs."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.sessions import (
    EVENT_NAMES,
    Action,
    IllegalTransition,
    LifecycleEvent,
    Session,
    SessionError,
    State,
    TimeOutOfOrder,
    apply,
    latest_open,
    replay,
    replay_all,
    start,
)

S = 1_000_000  # one second in µs
T0 = 1_704_110_400 * S  # 2024-01-01T12:00:00Z


def test_the_readme_sequence_counts_active_time_without_the_pause() -> None:
    session = start("s1", "john_doe", T0)
    session = apply(session, Action.PAUSE, T0 + 30 * 60 * S)
    session = apply(session, Action.RESUME, T0 + 45 * 60 * S)
    session = apply(session, Action.END, T0 + 60 * 60 * S)
    assert session.state is State.ENDED
    assert session.total_active_time == 45 * 60
    assert session.ended_at == T0 + 60 * 60 * S
    assert session.wall_us == 60 * 60 * S


def test_ending_a_paused_session_adds_nothing_after_the_pause() -> None:
    session = apply(apply(start("s", "u", T0), Action.PAUSE, T0 + 10 * S), Action.END, T0 + 99 * S)
    assert session.total_active_time == 10


def test_an_active_session_counts_up_to_its_last_event() -> None:
    session = start("s", "u", T0)
    assert session.total_active_time == 0
    assert session.is_open


@pytest.mark.parametrize(
    ("steps", "action", "state"),
    [
        ([], Action.RESUME, State.ACTIVE),
        ([], Action.START, State.ACTIVE),
        ([Action.PAUSE], Action.PAUSE, State.PAUSED),
        ([Action.END], Action.PAUSE, State.ENDED),
        ([Action.END], Action.RESUME, State.ENDED),
        ([Action.END], Action.END, State.ENDED),
        ([Action.PAUSE, Action.END], Action.RESUME, State.ENDED),
    ],
)
def test_illegal_transitions_name_the_current_state(
    steps: list[Action], action: Action, state: State
) -> None:
    session = start("s1", "u", T0)
    for i, step in enumerate(steps):
        session = apply(session, step, T0 + (i + 1) * S)
    with pytest.raises(IllegalTransition) as caught:
        apply(session, action, T0 + 100 * S)
    assert caught.value.state is state
    assert caught.value.action is action
    assert f"it is {state.value}" in str(caught.value)
    assert "s1" in str(caught.value)


def test_a_time_before_the_last_event_is_refused() -> None:
    session = apply(start("s", "u", T0), Action.PAUSE, T0 + 10 * S)
    with pytest.raises(TimeOutOfOrder) as caught:
        apply(session, Action.RESUME, T0 + 9 * S)
    assert caught.value.last_at == T0 + 10 * S
    # The same time as the last event is fine.
    assert apply(session, Action.RESUME, T0 + 10 * S).state is State.ACTIVE


def test_the_state_is_checked_before_the_time() -> None:
    session = apply(start("s", "u", T0), Action.PAUSE, T0 + 10 * S)
    with pytest.raises(IllegalTransition):
        apply(session, Action.PAUSE, T0)


def test_event_names() -> None:
    assert {a.event_name for a in Action} == {
        "session_start",
        "session_pause",
        "session_resume",
        "session_end",
    }
    assert EVENT_NAMES["session_pause"] is Action.PAUSE


def test_replay_skips_what_would_have_been_refused_unless_strict() -> None:
    events = [
        LifecycleEvent("s", "u", Action.START, T0),
        LifecycleEvent("s", "u", Action.RESUME, T0 + S),  # illegal: active
        LifecycleEvent("s", "u", Action.PAUSE, T0 + 5 * S),
        LifecycleEvent("s", "u", Action.END, T0 + 2 * S),  # out of order
        LifecycleEvent("s", "u", Action.END, T0 + 9 * S),
    ]
    session = replay(events)
    assert session is not None
    assert session.state is State.ENDED
    assert session.total_active_time == 5
    with pytest.raises(SessionError):
        replay(events, strict=True)
    assert replay([LifecycleEvent("s", "u", Action.PAUSE, T0)]) is None


def test_replay_all_and_latest_open() -> None:
    events = [
        LifecycleEvent("a", "u", Action.START, T0),
        LifecycleEvent("b", "u", Action.START, T0 + 10 * S),
        LifecycleEvent("a", "u", Action.PAUSE, T0 + 20 * S),
        LifecycleEvent("c", "u", Action.START, T0 + 30 * S),
        LifecycleEvent("c", "u", Action.END, T0 + 40 * S),
    ]
    sessions = {s.session_id: s for s in replay_all(events)}
    assert {k: s.state for k, s in sessions.items()} == {
        "a": State.PAUSED,
        "b": State.ACTIVE,
        "c": State.ENDED,
    }
    latest = latest_open(sessions.values())
    assert latest is not None and latest.session_id == "b"
    assert latest_open([sessions["c"]]) is None
    # On a tie, the later one (stored later) wins.
    tie = [start("x", "u", T0), start("y", "u", T0)]
    assert latest_open(tie) == tie[1]


# --- properties -----------------------------------------------------------------

_LEGAL: dict[State, dict[Action, State]] = {
    State.ACTIVE: {Action.PAUSE: State.PAUSED, Action.END: State.ENDED},
    State.PAUSED: {Action.RESUME: State.ACTIVE, Action.END: State.ENDED},
    State.ENDED: {},
}

steps = st.lists(
    st.tuples(
        st.sampled_from(list(Action)),
        # Mostly forward in time, sometimes backward (out of order), sometimes equal.
        st.integers(min_value=-50 * S, max_value=3600 * S),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**50), steps)
def test_random_sequences_keep_every_invariant(t0: int, sequence: list[tuple[Action, int]]) -> None:
    session = start("s", "u", t0)
    at = t0
    active_since: int | None = t0  # the reference model: when the running active period began
    expected_active = 0
    applied: list[LifecycleEvent] = [LifecycleEvent("s", "u", Action.START, t0)]
    for action, delta in sequence:
        at = max(0, at + delta)
        before = session
        legal = _LEGAL[before.state].get(action)
        in_order = at >= before.last_at
        try:
            session = apply(before, action, at)
        except IllegalTransition as exc:
            assert legal is None
            assert exc.state is before.state
            assert session == before  # an illegal transition never changes the state
            continue
        except TimeOutOfOrder:
            assert legal is not None and not in_order
            assert session == before
            continue
        assert legal is not None and in_order
        assert session.state is legal
        if before.state is State.ACTIVE:
            assert active_since is not None
            expected_active += at - before.last_at
        active_since = at if legal is State.ACTIVE else None
        applied.append(LifecycleEvent("s", "u", action, at))
        # Active time never exceeds wall time, and never decreases or goes negative.
        assert 0 <= before.active_us <= session.active_us <= session.wall_us
        assert session.last_at == at
        assert session.started_at == t0
    assert session.active_us == expected_active
    assert session.total_active_time <= session.wall_us / S
    # Replaying the accepted events gives the same session, strictly.
    assert replay(applied, strict=True) == session


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**50), steps)
def test_lenient_replay_equals_applying_only_the_legal_events(
    t0: int, sequence: list[tuple[Action, int]]
) -> None:
    events = [LifecycleEvent("s", "u", Action.START, t0)]
    at = t0
    for action, delta in sequence:
        at = max(0, at + delta)
        events.append(LifecycleEvent("s", "u", action, at))
    session: Session = start("s", "u", t0)
    for event in events[1:]:
        with contextlib.suppress(SessionError):
            session = apply(session, event.action, event.at)
    assert replay(events) == session
    assert session.active_us <= session.wall_us
