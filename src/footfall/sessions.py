"""Session lifecycle (contract 004), as a pure state machine: lifecycle events in, state out.

A session is never a mutable row: it is whatever its `session_start`,
`session_pause`, `session_resume` and `session_end` events say, replayed in
order. The same functions validate a new transition before it is written and
replay the stored ones when a statistic needs them, so both always agree.

    start ──► active ──pause──► paused
                ▲  │              │
                └──┼───resume─────┘
                   └──end──► ended ◄──end── paused

Times are integers, microseconds since the Unix epoch (the event table's `ts`).
Active time is counted between start/resume and the next pause/end; a session
still active counts what it had at its last event (the contract's
`total_active_time` is cumulative, updated at each transition).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Action(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"

    @property
    def event_name(self) -> str:
        """The name of the event that records this action in the event table."""
        return f"session_{self.value}"


EVENT_NAMES: dict[str, Action] = {action.event_name: action for action in Action}

# Which state each action may leave from, and where it leads.
_TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.PAUSE: (frozenset({State.ACTIVE}), State.PAUSED),
    Action.RESUME: (frozenset({State.PAUSED}), State.ACTIVE),
    Action.END: (frozenset({State.ACTIVE, State.PAUSED}), State.ENDED),
}

_NEEDS = {
    Action.START: "a new session is started, never an existing one",
    Action.PAUSE: "only an active session can be paused",
    Action.RESUME: "only a paused session can be resumed",
    Action.END: "only an active or paused session can be ended",
}


class SessionError(Exception):
    """A transition that cannot be applied; the message says why."""


class IllegalTransition(SessionError):
    def __init__(self, session_id: str, action: Action, state: State) -> None:
        self.session_id = session_id
        self.action = action
        self.state = state
        super().__init__(
            f"cannot {action.value} session {session_id}: it is {state.value} ({_NEEDS[action]})"
        )


class TimeOutOfOrder(SessionError):
    def __init__(self, session_id: str, at: int, last_at: int) -> None:
        self.session_id = session_id
        self.at = at
        self.last_at = last_at
        super().__init__(
            f"time is earlier than the last event of session {session_id}; "
            "events of a session must come in time order"
        )


@dataclass(frozen=True, slots=True)
class Session:
    """A session as its events so far leave it. Immutable: transitions return a new one."""

    session_id: str
    user: str
    state: State
    started_at: int
    last_at: int
    active_us: int = 0  # active time up to `last_at`, pauses excluded
    ended_at: int | None = None

    @property
    def is_open(self) -> bool:
        return self.state is not State.ENDED

    @property
    def total_active_time(self) -> float:
        """Seconds spent active, pauses excluded (the contract's `total_active_time`)."""
        return self.active_us / 1_000_000

    @property
    def wall_us(self) -> int:
        """Microseconds from start to the last event."""
        return self.last_at - self.started_at


def start(session_id: str, user: str, at: int) -> Session:
    """A session begun at `at`."""
    return Session(session_id, user, State.ACTIVE, started_at=at, last_at=at)


def apply(session: Session, action: Action, at: int) -> Session:
    """The session after `action` at time `at`.

    Raises IllegalTransition when `action` is not allowed from the current
    state, TimeOutOfOrder when `at` is earlier than the session's last event.
    `session` itself never changes.
    """
    if action is Action.START:
        raise IllegalTransition(session.session_id, action, session.state)
    allowed_from, target = _TRANSITIONS[action]
    if session.state not in allowed_from:
        raise IllegalTransition(session.session_id, action, session.state)
    if at < session.last_at:
        raise TimeOutOfOrder(session.session_id, at, session.last_at)
    active_us = session.active_us
    if session.state is State.ACTIVE:
        active_us += at - session.last_at
    return replace(
        session,
        state=target,
        last_at=at,
        active_us=active_us,
        ended_at=at if target is State.ENDED else None,
    )


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One stored lifecycle event: which session, whose, what and when."""

    session_id: str
    user: str
    action: Action
    at: int


def replay(events: Iterable[LifecycleEvent], *, strict: bool = False) -> Session | None:
    """The session the events of one session (in stored order) describe.

    Events are validated when they are written, so a stored history is legal;
    one that is not (written by hand through the generic ingest API, say) is
    replayed leniently: an event that cannot apply is skipped, as it would
    have been refused. `strict=True` raises instead. None when there is no
    `start` to begin from.
    """
    session: Session | None = None
    for event in events:
        if session is None:
            if event.action is Action.START:
                session = start(event.session_id, event.user, event.at)
            elif strict:
                raise SessionError(f"session {event.session_id} has no start event")
            continue
        try:
            session = apply(session, event.action, event.at)
        except SessionError:
            if strict:
                raise
    return session


def replay_all(events: Iterable[LifecycleEvent]) -> list[Session]:
    """Every session among `events`, each replayed from its own events in the given order."""
    grouped: dict[str, list[LifecycleEvent]] = {}
    for event in events:
        grouped.setdefault(event.session_id, []).append(event)
    sessions = (replay(group) for group in grouped.values())
    return [session for session in sessions if session is not None]


def latest_open(sessions: Iterable[Session]) -> Session | None:
    """The most recently started session that has not ended (the later one on a tie)."""
    best: Session | None = None
    for session in sessions:
        if session.is_open and (best is None or session.started_at >= best.started_at):
            best = session
    return best
