"""Play scripts: JSONL files that drive a session headless (`tidepool play FILE --script S.jsonl`).

One JSON object per line, each with ``"at"`` (script seconds, non-decreasing) and one action::

    {"at": 0.0, "hold": ["w", "shift"], "for": 2.0}   hold keys for a duration
    {"at": 1.0, "press": "space"}                      press keys (a name or a list)
    {"at": 1.5, "look": [dyaw_deg, dpitch_deg]}        turn the view
    {"at": 3.0, "direct": "make it night"}             a directing command
    {"at": 4.0, "record": "start", "take": "shot1"}    start / stop recording a camera take
    {"at": 9.0, "record": "stop"}
    {"at": 10.0, "rewind": 5.0}                        go back 5 s on the current branch
    {"at": 10.0, "branch": "alt"}                      fork "alt" here (or switch to it if it exists)
    {"at": 11.0, "mode": "fly"}                        walk | fly | first | third

The script clock runs on while the session's tick moves (a rewind moves the session back, not
the script). Every line is checked, and the whole run planned (rewinds within the branch, takes
started and stopped), before anything is written: a bad script fails with its line number and
the reason and leaves the file untouched.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.conventions import seconds_to_tick
from studio.events import KEYS, InputEvent, ModeEvent
from studio.session import Session

ACTIONS = ("hold", "press", "look", "direct", "record", "rewind", "branch", "mode")
MODES = ("walk", "fly", "first", "third")
MAX_SECONDS = 24 * 3600
_KEY_HINT = f"key names ({' '.join(KEYS)})"


class ScriptError(ValueError):
    """A script line is invalid or cannot run; the message starts with 'FILE line N:'."""


@dataclass(frozen=True)
class Line:
    """One validated script line: `tick` is its script tick, `action` one of ACTIONS."""

    number: int
    tick: int
    action: str
    value: Any
    extra: dict[str, Any] = field(default_factory=dict)


def _fail(name: str, number: int, msg: str) -> ScriptError:
    return ScriptError(f"{name} line {number}: {msg}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_script(text: str, *, name: str = "script") -> list[Line]:
    """Validate every line; raise ScriptError naming the first bad line and the fix."""
    lines: list[Line] = []
    last_at = 0.0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise _fail(name, number, f"not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise _fail(
                name,
                number,
                f'must be a JSON object like {{"at": 0.0, ...}}; got {raw.strip()[:60]}',
            )
        at = obj.get("at")
        if not _number(at) or not 0 <= at <= MAX_SECONDS:
            raise _fail(
                name,
                number,
                f'"at" must be a number of seconds in [0, {MAX_SECONDS}]; got {json.dumps(at)}',
            )
        if at < last_at:
            raise _fail(
                name,
                number,
                f'"at" {at:g} is earlier than the line before ({last_at:g}); keep lines in time order',
            )
        last_at = at
        actions = [a for a in ACTIONS if a in obj]
        allowed = {"at", *actions, "for", "take"}
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise _fail(
                name,
                number,
                f'unknown field {unknown[0]!r}; a line has "at" and one of {", ".join(ACTIONS)}',
            )
        if len(actions) != 1:
            what = "no action" if not actions else f"{len(actions)} actions ({', '.join(actions)})"
            raise _fail(name, number, f"has {what}; give exactly one of {', '.join(ACTIONS)}")
        action = actions[0]
        value, extra = obj[action], {}
        if "for" in obj and action != "hold":
            raise _fail(name, number, f'"for" only goes with "hold", not with "{action}"')
        if "take" in obj and action != "record":
            raise _fail(name, number, f'"take" only goes with "record", not with "{action}"')
        if action == "hold":
            if not (isinstance(value, list) and value and all(k in KEYS for k in value)):
                raise _fail(
                    name, number, f'"hold" must be a list of {_KEY_HINT}; got {json.dumps(value)}'
                )
            dur = obj.get("for")
            if not _number(dur) or not 0 < dur <= MAX_SECONDS:
                raise _fail(
                    name,
                    number,
                    f'"hold" needs "for": a duration in seconds > 0; got {json.dumps(dur)}',
                )
            extra["ticks"] = max(1, seconds_to_tick(dur))
            value = tuple(value)
        elif action == "press":
            keys = [value] if isinstance(value, str) else value
            if not (
                isinstance(keys, list)
                and keys
                and all(isinstance(k, str) and k in KEYS for k in keys)
            ):
                raise _fail(
                    name,
                    number,
                    f'"press" must be one of the {_KEY_HINT} or a list of them; got {json.dumps(value)}',
                )
            value = tuple(keys)
        elif action == "look":
            if not (
                isinstance(value, list)
                and len(value) == 2
                and all(_number(v) and abs(v) <= 3600 for v in value)
            ):
                raise _fail(
                    name,
                    number,
                    f'"look" must be [dyaw_deg, dpitch_deg], two numbers within ±3600; got {json.dumps(value)}',
                )
            value = (float(value[0]), float(value[1]))
        elif action == "direct":
            if not isinstance(value, str) or not value.strip():
                raise _fail(
                    name,
                    number,
                    f'"direct" must be a command in words, e.g. "make it night"; got {json.dumps(value)}',
                )
            raise _fail(
                name,
                number,
                "directing commands are not implemented yet (they arrive with the directing issue); remove this line",
            )
        elif action == "record":
            if value not in ("start", "stop"):
                raise _fail(
                    name, number, f'"record" must be "start" or "stop"; got {json.dumps(value)}'
                )
            take = obj.get("take")
            if value == "start" and (not isinstance(take, str) or not take.strip()):
                raise _fail(
                    name,
                    number,
                    f'"record": "start" needs "take": a name, e.g. "shot1"; got {json.dumps(take)}',
                )
            if value == "stop" and take is not None:
                raise _fail(
                    name, number, '"record": "stop" takes no "take" (it stops the current one)'
                )
            extra["take"] = take
        elif action == "rewind":
            if not _number(value) or not 0 < value <= MAX_SECONDS:
                raise _fail(
                    name,
                    number,
                    f'"rewind" must be a number of seconds > 0; got {json.dumps(value)}',
                )
        elif action == "branch":
            if not isinstance(value, str) or not value.strip() or len(value) > 100:
                raise _fail(
                    name,
                    number,
                    f'"branch" must be a branch name (1-100 characters); got {json.dumps(value)}',
                )
        elif action == "mode" and value not in MODES:
            raise _fail(
                name, number, f'"mode" must be one of {", ".join(MODES)}; got {json.dumps(value)}'
            )
        lines.append(Line(number, seconds_to_tick(at), action, value, extra))
    return lines


def end_tick(lines: list[Line]) -> int:
    """The script tick after which nothing more happens."""
    return max([ln.tick + ln.extra.get("ticks", 0) for ln in lines], default=0)


def plan(lines: list[Line], session: Session, *, name: str = "script") -> None:
    """Dry-run the script's time travel against the file's branches; raise ScriptError early."""
    heads = {b.name: b.head_tick for b in session.timeline.branches.values()}
    takes = {t.name for t in session.store.takes()}
    branch, tick = session.branch.name, session.tick
    recording: Line | None = None
    at = 0
    for ln in lines:
        tick += ln.tick - at
        heads[branch] = max(heads[branch], tick)
        at = ln.tick
        if ln.action == "rewind":
            back = seconds_to_tick(ln.value)
            if back > tick:
                raise _fail(
                    name,
                    ln.number,
                    f"rewind {ln.value:g} s goes before the start of branch {branch!r}; rewind at most {tick / 30:.2f} s here",
                )
            if recording is not None:
                raise _fail(
                    name,
                    ln.number,
                    f"rewind while recording take {recording.extra['take']!r}; stop the take first",
                )
            tick -= back
        elif ln.action == "branch":
            if recording is not None:
                raise _fail(
                    name,
                    ln.number,
                    f"branch while recording take {recording.extra['take']!r}; stop the take first",
                )
            if ln.value in heads:
                branch, tick = ln.value, heads[ln.value]
            else:
                heads[ln.value] = tick
                branch = ln.value
        elif ln.action == "record" and ln.value == "start":
            if recording is not None:
                raise _fail(
                    name,
                    ln.number,
                    f"take {recording.extra['take']!r} (line {recording.number}) is still recording; stop it first",
                )
            if ln.extra["take"] in takes:
                raise _fail(
                    name,
                    ln.number,
                    f"take {ln.extra['take']!r} already exists in this file; pick another name",
                )
            takes.add(ln.extra["take"])
            recording = ln
        elif ln.action == "record":
            if recording is None:
                raise _fail(
                    name,
                    ln.number,
                    'nothing is recording; add a {"record": "start", "take": ...} line before it',
                )
            recording = None
    if recording is not None:
        raise _fail(
            name,
            recording.number,
            f'take {recording.extra["take"]!r} is never stopped; add a {{"record": "stop"}} line',
        )


def run_script(lines: list[Line], session: Session) -> int:
    """Drive `session` through the script as fast as the CPU allows; returns ticks stepped."""
    by_tick: dict[int, list[Line]] = {}
    holds: list[Line] = []
    for ln in lines:
        by_tick.setdefault(ln.tick, []).append(ln)
        if ln.action == "hold":
            holds.append(ln)
    stepped = 0
    last = end_tick(lines)
    for k in range(last + 1):
        presses: list[str] = []
        look = [0.0, 0.0]
        for ln in by_tick.get(k, ()):
            if ln.action == "press":
                presses.extend(ln.value)
            elif ln.action == "look":
                look[0] += ln.value[0]
                look[1] += ln.value[1]
            elif ln.action == "rewind":
                session.rewind(ln.value)
            elif ln.action == "branch":
                if any(b.name == ln.value for b in session.timeline.branches.values()):
                    session.switch(ln.value)
                else:
                    session.fork(ln.value)
            elif ln.action == "mode":
                ev = (
                    ModeEvent(tick=0, move=ln.value)
                    if ln.value in ("walk", "fly")
                    else ModeEvent(tick=0, view=ln.value)
                )
                session.apply(ev)
            elif ln.action == "record":
                session.record_start(
                    ln.extra["take"]
                ) if ln.value == "start" else session.record_stop()
        held = tuple(
            k2
            for k2 in KEYS
            if any(h.tick <= k < h.tick + h.extra["ticks"] and k2 in h.value for h in holds)
        )
        changed = held != session.state.player.held
        if changed or presses or look != [0.0, 0.0]:
            session.apply(
                InputEvent(
                    tick=0, held=held if changed else None, look=tuple(look), press=tuple(presses)
                )
            )
        if k == last:
            break
        session.advance(1)
        stepped += 1
    return stepped


def summary(session: Session, stepped: int) -> dict[str, Any]:
    """The JSON `tidepool play --json` prints."""
    p = session.state.player
    return {
        "file": str(session.store.path),
        "ticks": stepped,
        "tick": session.tick,
        "branch": session.branch.name,
        "branches": [b.name for b in session.timeline.branches.values()],
        "takes": [t.name for t in session.store.takes()],
        "player": {"pos": [p.x, p.y, p.z], "yaw": p.yaw, "pitch": p.pitch, "mode": p.move},
        "state_hash": session.state.state_hash(),
    }


def play_file(file: Path, script: Path) -> dict[str, Any]:
    """Validate `script`, then run it on the session stored in `file`; returns the summary."""
    try:
        text = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScriptError(
            f"{script}: cannot read the script ({e}); pass a UTF-8 .jsonl file"
        ) from None
    lines = parse_script(text, name=script.name)
    session = Session.open(file)
    try:
        plan(lines, session, name=script.name)
    except ScriptError:
        session.store.close()  # nothing was written; leave the file as it was
        raise
    try:
        stepped = run_script(lines, session)
        return summary(session, stepped)
    finally:
        session.close()
