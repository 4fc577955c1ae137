"""The live viewport protocol: typed messages between the studio page and its session.

Server → browser frames are binary: a fixed little-endian header (`FRAME_HEADER`, 24 bytes)
followed by JPEG bytes. Frames are *latest-wins*: the page acknowledges each one (`Ack`), the
server keeps at most `MAX_UNACKED` unacknowledged and otherwise renders only the newest state.
Browser → server messages are small JSON objects, *reliable and ordered*, validated here
(`parse_client`); anything else is answered with an `error` and counted against the client.
Server → browser JSON (`welcome`, `status`, `error`, `notice`) is plain dicts built by
`ui.live`. Both sides check `PROTOCOL_VERSION` (`Hello.v`, the frame header's first byte).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from studio.events import Key

PROTOCOL_VERSION = 1
MAX_UNACKED = 2
"""Frames in flight per client; beyond this the server renders nothing for it."""
MAX_MESSAGE_BYTES = 4096
"""A client message larger than this is refused."""

FRAME_HEADER = struct.Struct("<BBHIIIfHH")
"""version u8, kind u8 (1 = JPEG frame), flags u16, seq u32, tick u32, last input id u32,
server render ms f32, width u16, height u16 — then the JPEG bytes."""
FRAME_KIND_JPEG = 1
FLAG_PLAYING = 1
FLAG_LOW_RES = 2
FLAG_RECORDING = 4
FLAG_TAKE_PLAYBACK = 8


@dataclass(frozen=True)
class FrameHeader:
    """What a frame says about itself (see `FRAME_HEADER`)."""

    seq: int
    tick: int
    last_input: int
    render_ms: float
    width: int
    height: int
    flags: int = 0
    version: int = PROTOCOL_VERSION


def pack_frame(header: FrameHeader, jpeg: bytes) -> bytes:
    """Header + JPEG bytes, as sent on the WebSocket."""
    return (
        FRAME_HEADER.pack(
            header.version,
            FRAME_KIND_JPEG,
            header.flags,
            header.seq,
            header.tick,
            header.last_input,
            header.render_ms,
            header.width,
            header.height,
        )
        + jpeg
    )


def unpack_frame(data: bytes) -> tuple[FrameHeader, bytes]:
    """Inverse of `pack_frame`; raises ValueError for a short or foreign message."""
    if len(data) < FRAME_HEADER.size:
        raise ValueError(
            f"frame of {len(data)} bytes is shorter than its {FRAME_HEADER.size}-byte header"
        )
    version, kind, flags, seq, tick, last, ms, w, h = FRAME_HEADER.unpack_from(data)
    if version != PROTOCOL_VERSION or kind != FRAME_KIND_JPEG:
        raise ValueError(
            f"frame version {version} kind {kind}; this client speaks version {PROTOCOL_VERSION} "
            "kind 1 — reload the page"
        )
    return FrameHeader(seq, tick, last, ms, w, h, flags, version), data[FRAME_HEADER.size :]


# --- browser → server -------------------------------------------------------------------


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hello(_Msg):
    """First message: protocol version, and the session / world to (re)join."""

    t: Literal["hello"]
    v: int
    session: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    world: str | None = Field(None, max_length=200)
    claim: Literal["url", "stored"] = "url"
    """Where the page found `session`: its URL (a reload: take it over) or browser storage
    (another tab may be using it: then this tab gets its own)."""
    width: int = Field(640, ge=64, le=1920)
    height: int = Field(360, ge=36, le=1080)
    adaptive: bool = True
    """Lower the resolution when the renderer cannot keep up (off for benchmarks)."""


class Input(_Msg):
    """Held keys (None: unchanged) and a look delta in degrees (yaw, pitch) since the last input."""

    t: Literal["input"]
    id: int = Field(ge=1, lt=2**32)
    held: tuple[Key, ...] | None = None
    look: tuple[float, float] = Field((0.0, 0.0))
    sent: float = 0.0
    """Client clock (ms) when sent; echoed back only through the client's own bookkeeping."""


class Ack(_Msg):
    t: Literal["ack"]
    seq: int = Field(ge=0, lt=2**32)


class Play(_Msg):
    t: Literal["play"]


class Pause(_Msg):
    t: Literal["pause"]


class Seek(_Msg):
    """Jump to a tick of a branch (default: the current one)."""

    t: Literal["seek"]
    tick: int = Field(ge=0)
    branch: str | None = Field(None, max_length=100)


class Fork(_Msg):
    """Branch here: a new branch from the current tick (a name is chosen when omitted)."""

    t: Literal["fork"]
    name: str | None = Field(None, min_length=1, max_length=60)


class Switch(_Msg):
    t: Literal["switch"]
    branch: str = Field(min_length=1, max_length=100)


class Record(_Msg):
    """Start (`on`) or stop recording a take."""

    t: Literal["record"]
    on: bool
    name: str | None = Field(None, min_length=1, max_length=60)


class PlayTake(_Msg):
    t: Literal["play_take"]
    name: str = Field(min_length=1, max_length=60)


class Mode(_Msg):
    """Walk/fly, first/third person (the keys F and V do the same)."""

    t: Literal["mode"]
    move: Literal["walk", "fly"] | None = None
    view: Literal["first", "third"] | None = None


class Direct(_Msg):
    """A directing command in words ("make it night")."""

    t: Literal["direct"]
    text: str = Field(min_length=1, max_length=500)


class Ping(_Msg):
    t: Literal["ping"]
    id: int = 0


ClientMessage = Annotated[
    Hello | Input | Ack | Play | Pause | Seek | Fork | Switch | Record | PlayTake | Mode | Direct
    | Ping,
    Field(discriminator="t"),
]  # fmt: skip
_CLIENT: TypeAdapter = TypeAdapter(ClientMessage)


class ProtocolError(ValueError):
    """A client message was not valid; the message names the problem."""


def parse_client(text: str | bytes) -> ClientMessage:
    """Validate one browser message; raise ProtocolError saying what was wrong."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            f"message of {len(text)} bytes exceeds {MAX_MESSAGE_BYTES}; send small JSON messages"
        )
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("message is not JSON; send a JSON object with a 't' field") from None
    if not isinstance(data, dict) or "t" not in data:
        raise ProtocolError("message must be a JSON object with a 't' field, e.g. {'t': 'ping'}")
    try:
        return _CLIENT.validate_python(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "message"
        raise ProtocolError(f"bad {data.get('t')!r} message: {where}: {err['msg']}") from None
