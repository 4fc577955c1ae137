"""The live channel over a real WebSocket (Starlette's TestClient runs the ASGI app in-process):
frames decode as JPEG of the size their header states, inputs move the player at the sim's
walking speed, sessions persist across an app restart, misbehaving clients are dropped,
and `--auth` protects pages and the WebSocket alike."""

from __future__ import annotations

import base64
import io
import json
import time

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ui import protocol as P
from ui.app import create_app
from ui.worlds import create_world

SIZE = {"width": 160, "height": 90}  # small frames keep the CPU free


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    lib = tmp_path_factory.mktemp("library")
    create_world("a grassy meadow", seed=7, library=lib)
    return lib


@pytest.fixture(scope="module")
def client(library):
    with TestClient(create_app(library, linger_s=0.0)) as c:
        yield c


def hello(**kw) -> str:
    return json.dumps(
        {"t": "hello", "v": P.PROTOCOL_VERSION, "world": "a-grassy-meadow", **SIZE, **kw}
    )


def read_until(ws, pred, *, limit: int = 400):
    """Receive messages (acking frames) until pred(msg) is true; return that message."""
    for _ in range(limit):
        m = ws.receive()
        if m.get("bytes") is not None:
            header, jpeg = P.unpack_frame(m["bytes"])
            ws.send_text(json.dumps({"t": "ack", "seq": header.seq}))
            if pred((header, jpeg)):
                return header, jpeg
        elif m.get("text") is not None:
            msg = json.loads(m["text"])
            if pred(msg):
                return msg
        else:
            raise WebSocketDisconnect(m.get("code", 1000))
    raise AssertionError("condition not reached")


def is_(kind):
    return lambda m: isinstance(m, dict) and m.get("t") == kind


def is_frame(m):
    return isinstance(m, tuple)


def test_frame_header_round_trip():
    h = P.FrameHeader(
        seq=7, tick=123456, last_input=42, render_ms=12.5, width=640, height=360, flags=3
    )
    got, jpeg = P.unpack_frame(P.pack_frame(h, b"\xff\xd8jpeg"))
    assert got == h and jpeg == b"\xff\xd8jpeg"
    assert P.FRAME_HEADER.size == 24
    with pytest.raises(ValueError, match="reload"):
        P.unpack_frame(bytes([P.PROTOCOL_VERSION + 1]) + P.pack_frame(h, b"")[1:])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "'t' field"),
        ('{"t": "teleport"}', "teleport"),
        ('{"t": "input", "id": 1, "held": ["x"]}', "held"),
        ('{"t": "input", "id": 1, "look": [0, 0], "extra": 1}', "extra"),
        ('{"t": "ping", "pad": "' + "x" * 5000 + '"}', "exceeds"),
    ],
)
def test_bad_messages_are_named(text, needle):
    with pytest.raises(P.ProtocolError, match=needle):
        P.parse_client(text)


def test_welcome_status_and_frames(client):
    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        welcome = read_until(ws, is_("welcome"))
        assert welcome["world"] == "a-grassy-meadow" and welcome["understood"].startswith(
            "understood:"
        )
        header, jpeg = read_until(ws, is_frame)
        img = Image.open(io.BytesIO(jpeg))
        assert img.format == "JPEG" and img.size == (header.width, header.height) == (160, 90)
        ws.send_text('{"t": "ping"}')  # asks for the timeline again
        timeline = read_until(ws, is_("timeline"))
        assert [b["name"] for b in timeline["branches"]] == ["main"]


def test_holding_w_walks_at_walking_speed(client, library):
    """W held through the live channel moves the player at 4 m/s (the sim's walk speed) for
    exactly the ticks it was held (read back from the events the session recorded), and
    frames report the id of the input they reflect."""
    from studio.storage import ProjectFile

    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        read_until(ws, is_("welcome"))
        ws.send_text('{"t": "play"}')
        start = read_until(ws, lambda m: is_("status")(m) and m["playing"])
        sent = time.monotonic()
        ws.send_text(json.dumps({"t": "input", "id": 1, "held": ["w"]}))
        t0 = read_until(ws, lambda m: is_frame(m) and m[0].last_input == 1)[0].tick
        seen_ms = (time.monotonic() - sent) * 1000.0
        # the server's own input -> frame-ready time for it is within what the client saw
        server = client.get(f"/api/sessions/{start['session']}").json()["input_to_frame_ms"]
        assert server["n"] == 1 and 0.0 < server["p50"] <= seen_ms
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            header = read_until(ws, is_frame)[0]
            if header.tick >= t0 + 30:
                break
        ws.send_text(json.dumps({"t": "input", "id": 2, "held": []}))
        ws.send_text('{"t": "pause"}')
        end = read_until(ws, lambda m: is_("status")(m) and not m["playing"])
    with ProjectFile.open(library / "a-grassy-meadow.tidepool", readonly=True) as store:
        branch = next(b for b in store.branches() if b.name == end["branch"])
        held = [
            (e.tick, json.loads(e.body).get("held"))
            for e in store.events(branch.id)
            if e.kind == "input" and e.tick >= start["tick"]
        ]
    down = next(t for t, h in held if h == ["w"])
    # The release arrives with the pause: W stops with the release or the pause, whichever is first.
    up = min([t for t, h in held if h == [] and t > down] + [end["tick"]])
    a, b = start["player"], end["player"]
    walked = ((b["x"] - a["x"]) ** 2 + (b["z"] - a["z"]) ** 2) ** 0.5
    assert (up - down) / 30 >= 1.0
    assert walked == pytest.approx(4.0 * (up - down) / 30, abs=0.15)


def test_keys_that_stop_frames_in_flight_are_never_lost(client, library):
    """A key that arrives while a frame renders stops that frame (it could not show the key),
    and the loop renders again with the key stepped in. Rapid W presses at 640×360 stop
    frames, yet every key is reflected by a frame, recorded as an event, and walked: the
    player moves 4 m/s for exactly the recorded ticks W was down."""
    from studio.storage import ProjectFile

    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello(width=640, height=360))
        read_until(ws, is_("welcome"))
        ws.send_text('{"t": "play"}')
        # Release whatever an earlier test left held, and start from a status after that.
        ws.send_text(json.dumps({"t": "input", "id": 1, "held": []}))
        released = read_until(ws, lambda m: is_frame(m) and m[0].last_input == 1)[0].tick
        start = read_until(ws, lambda m: is_("status")(m) and m["tick"] >= released)
        n = 41
        for i in range(2, n + 1):
            ws.send_text(json.dumps({"t": "input", "id": i, "held": [] if i % 2 else ["w"]}))
            time.sleep(0.02)
        read_until(ws, lambda m: is_frame(m) and m[0].last_input == n, limit=2000)
        ws.send_text('{"t": "pause"}')
        end = read_until(ws, lambda m: is_("status")(m) and not m["playing"], limit=2000)
        stats = client.get(f"/api/sessions/{start['session']}").json()
    assert stats["frames_cancelled"] >= 1
    with ProjectFile.open(library / "a-grassy-meadow.tidepool", readonly=True) as store:
        branch = next(b for b in store.branches() if b.name == end["branch"])
        changes = [
            (e.tick, json.loads(e.body).get("held"))
            for e in store.events(branch.id)
            if e.kind == "input" and start["tick"] <= e.tick and "held" in json.loads(e.body)
        ]
    held_ticks, down_at = 0, None
    for tick, held in changes:
        if held == ["w"] and down_at is None:
            down_at = tick
        elif held == [] and down_at is not None:
            held_ticks, down_at = held_ticks + tick - down_at, None
    assert down_at is None  # the last key (an odd id) released W
    a, b = start["player"], end["player"]
    walked = ((b["x"] - a["x"]) ** 2 + (b["z"] - a["z"]) ** 2) ** 0.5
    assert held_ticks > 0
    assert walked == pytest.approx(4.0 * held_ticks / 30, abs=0.05)


def test_session_resumes_after_restart(library):
    """Branch, tick and player come back in a new app (a server restart) with the session id."""
    with TestClient(create_app(library, linger_s=0.0)) as c, c.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        sid = read_until(ws, is_("welcome"))["session"]
        ws.send_text('{"t": "play"}')
        ws.send_text(json.dumps({"t": "input", "id": 1, "held": ["d"], "look": [30.0, 0.0]}))
        read_until(ws, lambda m: is_("status")(m) and m["tick"] > 20)
        ws.send_text(json.dumps({"t": "input", "id": 2, "held": []}))
        ws.send_text('{"t": "fork", "name": "detour"}')
        ws.send_text('{"t": "pause"}')
        before = read_until(
            ws, lambda m: is_("status")(m) and not m["playing"] and m["branch"] == "detour"
        )
    with TestClient(create_app(library, linger_s=0.0)) as c, c.websocket_connect("/ws/live") as ws:
        ws.send_text(hello(session=sid))
        assert read_until(ws, is_("welcome"))["session"] == sid
        after = read_until(ws, is_("status"))
        for key in ("branch", "tick", "player"):
            assert after[key] == before[key]


def test_rewind_and_branch_here(client):
    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        read_until(ws, is_("welcome"))
        ws.send_text('{"t": "play"}')
        ws.send_text(json.dumps({"t": "input", "id": 1, "held": ["w"]}))
        s = read_until(ws, lambda m: is_("status")(m) and m["tick"] > 15)
        ws.send_text('{"t": "pause"}')
        ws.send_text(json.dumps({"t": "seek", "tick": 5}))
        rewound = read_until(ws, lambda m: is_("status")(m) and m["tick"] == 5)
        assert rewound["head_tick"] >= s["tick"] and rewound["player"] != s["player"]
        ws.send_text('{"t": "fork"}')
        forked = read_until(ws, lambda m: is_("status")(m) and m["branch"] != s["branch"])
        tl = read_until(ws, is_("timeline"))
        new = next(b for b in tl["branches"] if b["name"] == forked["branch"])
        assert (new["parent"], new["fork_tick"]) == (s["branch"], 5)


def test_record_a_take_and_play_it_back(client):
    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        read_until(ws, is_("welcome"))
        ws.send_text('{"t": "record", "on": true, "name": "shot1"}')
        first = read_until(ws, lambda m: is_("status")(m) and m["recording"] == "shot1")
        read_until(ws, lambda m: is_("status")(m) and m["tick"] >= first["tick"] + 10)
        ws.send_text('{"t": "record", "on": false}')
        tl = read_until(ws, lambda m: is_("timeline")(m) and m["takes"])
        take = next(t for t in tl["takes"] if t["name"] == "shot1")
        assert take["end_tick"] - take["start_tick"] >= 10
        thumb = Image.open(io.BytesIO(base64.b64decode(take["thumb"].split(",", 1)[1])))
        assert thumb.format == "JPEG"
        ws.send_text('{"t": "play_take", "name": "shot1"}')
        playing = read_until(ws, lambda m: is_("status")(m) and m["take_playback"] == "shot1")
        assert take["start_tick"] <= playing["tick"] <= take["end_tick"]
        # at its end the take holds its last frame, paused, until the user moves on
        done = read_until(ws, lambda m: is_("status")(m) and not m["playing"])
        assert done["take_playback"] == "shot1" and done["tick"] == take["end_tick"]
        ws.send_text('{"t": "play"}')
        read_until(ws, lambda m: is_("status")(m) and m["playing"] and not m["take_playback"])


def test_garbage_gets_errors_then_a_drop_and_others_keep_frames(client):
    with client.websocket_connect("/ws/live") as good:
        good.send_text(hello())
        read_until(good, is_("welcome"))
        with client.websocket_connect("/ws/live") as bad:
            bad.send_text(hello())
            read_until(bad, is_("welcome"))
            bad.send_text("{{garbage")
            err = read_until(bad, is_("error"))
            assert "not JSON" in err["message"]
            for _ in range(30):
                bad.send_text('{"t": "nope"}')
            with pytest.raises(WebSocketDisconnect):
                read_until(bad, lambda m: False)
        good.send_text('{"t": "play"}')
        frames = 0
        deadline = time.monotonic() + 30  # a generous bound: this checks frames keep coming
        while frames < 5 and time.monotonic() < deadline:
            read_until(good, is_frame)
            frames += 1
        assert frames == 5


def test_a_client_that_never_acks_gets_at_most_two_frames(client):
    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        ws.send_text('{"t": "play"}')
        got = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            ws.send_text('{"t": "ping"}')  # every ping forces a status; frames must still stop
            m = ws.receive()
            got += m.get("bytes") is not None
        assert got == P.MAX_UNACKED


def test_disconnect_frees_the_session(client):
    hub = client.app.state.hub
    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        sid = read_until(ws, is_("welcome"))["session"]
        live = hub.sessions[sid]
    deadline = time.monotonic() + 10
    while live.alive and time.monotonic() < deadline:
        hub.reap()
        time.sleep(0.05)
    assert not live.alive and sid not in hub.sessions


def test_auth_protects_pages_and_websocket(library):
    app = create_app(library, auth=("ana", "s3cret"))
    good = {"Authorization": "Basic " + base64.b64encode(b"ana:s3cret").decode()}
    with TestClient(app) as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/worlds").status_code == 401
        assert c.get("/api/worlds", headers={"Authorization": "Basic YTpi"}).status_code == 401
        with pytest.raises(WebSocketDisconnect), c.websocket_connect("/ws/live") as ws:
            ws.send_text(hello())
            ws.receive()
        r = c.get("/api/worlds", headers=good)
        assert r.status_code == 200 and r.json()[0]["name"] == "a-grassy-meadow"
        # the cookie the page got with its credentials opens the WebSocket (browsers send it)
        with c.websocket_connect("/ws/live") as ws:
            ws.send_text(hello())
            assert read_until(ws, is_("welcome"))["world"] == "a-grassy-meadow"


def test_directing_from_the_studio_changes_the_world_and_offers_suggestions(client):
    """A typed command becomes events on the session (night falls, its frame darkens);
    nonsense applies nothing and comes back with clickable suggestions."""
    with client.websocket_connect("/ws/live") as ws:
        ws.send_text(hello())
        read_until(ws, is_("welcome"))
        _, day = read_until(ws, is_frame)
        ws.send_text('{"t": "play"}')
        ws.send_text(json.dumps({"t": "direct", "text": "make it night and start raining"}))
        directed = read_until(ws, is_("directed"))
        assert {e["kind"] for e in directed["events"]} == {"time_of_day", "weather"}
        status = read_until(
            ws, lambda m: is_("status")(m) and m["hour"] != 12.0 and m["weather"] == "rain"
        )
        assert status["hour"] >= 20 or status["hour"] < 5
        _, night = read_until(ws, is_frame)
        mean = lambda jpeg: np.asarray(Image.open(io.BytesIO(jpeg)).convert("L")).mean()  # noqa: E731
        assert mean(night) < 0.7 * mean(day)

        ws.send_text(json.dumps({"t": "direct", "text": "blorp the zanzibar"}))
        nonsense = read_until(ws, is_("directed"))
        assert nonsense["events"] == [] and nonsense["understood"] == "not understood"
        assert nonsense["alternatives"]
        ws.send_text('{"t": "pause"}')


def test_a_slow_renderer_steps_down_pixels_then_detail_and_back_up_when_fast():
    """The adaptive ladder on its own (no world, no thread): a renderer slower than 24 fps for
    over a second drops one level (480x270, then fewer Gaussians, then 320x180) and says so;
    one fast enough for the level above for over 3 s climbs back."""
    import threading
    from collections import deque

    from ui.live import LEVELS, TARGET_FPS, LiveSession

    live = LiveSession.__new__(LiveSession)  # only the controller's state, no session
    live.adaptive, live.fixed_size, live.playing, live.client = True, None, True, None
    live.size_level, live.render_ema, live.slow_since, live.fast_since = 0, 0.0, None, None
    live._lock, live._messages = threading.Lock(), deque()
    slow, t = 2.0 * 1000.0 / TARGET_FPS, 0.0
    seen = [(live.size, live.budget)]
    while live.size_level < len(LEVELS) - 1 and t < 60:
        t += 0.05
        live._adapt(slow, t)
        if (live.size, live.budget) != seen[-1]:
            seen.append((live.size, live.budget))
    assert seen == [((w, h), n) for w, h, n in LEVELS]
    notices = [m["message"] for m in live._messages]
    assert notices[0].endswith("showing 480×270") and notices[1].endswith("less far detail")
    for _ in range(200):  # 10 s of frames far under budget: back to the best level
        t += 0.05
        live._adapt(5.0, t)
    assert live.size_level == 0 and live._messages[-1]["message"] == "back to showing 640×360"
