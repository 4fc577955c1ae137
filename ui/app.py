"""The studio web app: FastAPI serving the live WebSocket, a small JSON API and the Gradio Blocks.

Routes other than Gradio's are declared before `gr.mount_gradio_app` (DESIGN.md). The Gradio
Blocks hold the "new world" panel (prompt, image, seed, examples) and the library; the live
viewport, HUD, timeline, branches, takes and export panel are one `gr.HTML` driven by
`ui/static/studio.js` over the WebSocket (`ui.live`). With `auth`, one ASGI middleware checks
HTTP Basic credentials (or the cookie it sets after them) on every page, API call **and** the
WebSocket, which Gradio's own `auth` would not cover.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from ui.library import ensure_library
from ui.live import LINGER_S, LiveHub, serve_socket

if TYPE_CHECKING:
    from ui.worlds import CreatedWorld

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STATIC_URL = "/studio-static"
"""Where `STATIC` is served (the page's CSS and scripts)."""
EXAMPLES = [
    "a misty pine forest by a lake at dawn",
    "a sunny desert canyon with a ruined temple",
    "snowy mountains with a wooden cabin at dusk",
    "a tropical island beach with palm trees",
]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


class BasicAuth:
    """ASGI middleware: HTTP Basic credentials (or the cookie set after them) on HTTP and WebSocket."""

    COOKIE = "tidepool_auth"

    def __init__(self, app: ASGIApp, *, user: str, password: str) -> None:
        self.app = app
        self._expected = base64.b64encode(f"{user}:{password}".encode()).decode()
        key = secrets.token_bytes(32)
        self._token = hmac.new(key, self._expected.encode(), hashlib.sha256).hexdigest()

    def _check(self, scope: Scope) -> tuple[bool, bool]:
        """(allowed, came with Basic credentials)."""
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.startswith("Basic ") and hmac.compare_digest(auth[6:].strip(), self._expected):
            return True, True
        for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.COOKIE and hmac.compare_digest(value, self._token):
                return True, False
        return False, False

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        allowed, basic = self._check(scope)
        if not allowed:
            if scope["type"] == "websocket":
                await send(
                    {"type": "websocket.close", "code": 1008, "reason": "credentials required"}
                )
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"www-authenticate", b'Basic realm="Tidepool studio"'),
                        (b"content-type", b"text/plain"),
                    ],
                }
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": b"Tidepool studio: log in with --auth's user:pass",
                }
            )
            return
        if not basic or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = f"{self.COOKIE}={self._token}; Path=/; HttpOnly; SameSite=Strict".encode()

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", cookie)],
                }
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- exports ---------------------------------------------------------------------------

EXPORT_SUFFIX = {
    "mp4": ".mp4", "ply": ".ply", "spz": ".spz", "splat": ".splat", "gltf-splat": ".gltf",
    "glb": ".glb", "usd": ".usda", "gltf-camera": ".gltf", "usd-camera": ".usda",
    "chan": ".chan", "json": ".json",
}  # fmt: skip


class ExportJobs:
    """Exports started from the studio: each runs in a thread, reports progress, then a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(self, project: Path, take: str, fmt: str) -> str:
        """Start exporting `take` ("" for the world around its spawn: world formats only)."""
        from exporters import ExportRequest, check_format, export

        check_format(fmt, take or None)  # an ExportError (a ValueError) names the problem
        self.folder.mkdir(parents=True, exist_ok=True)
        from ui.worlds import slugify, unused_path

        name = f"{project.stem}-{slugify(take or 'world')}-{fmt}"
        out = unused_path(self.folder, name, EXPORT_SUFFIX[fmt])
        request = ExportRequest(project, take or None, output=out)
        job_id = secrets.token_urlsafe(8)
        job: dict[str, Any] = {"id": job_id, "format": fmt, "take": take, "progress": 0.0,
                               "done": False, "error": None, "file": None}  # fmt: skip
        with self._lock:
            self.jobs[job_id] = job

        def run() -> None:
            from exporters import ExportCancelled, ExportError

            def progress(f: float) -> None:
                job["progress"] = float(f)

            try:
                result = export(fmt, request, progress=progress, cancel=threading.Event())
                job["file"] = str(result if isinstance(result, Path) else out)
                job["progress"] = 1.0
            except (ExportError, ExportCancelled, OSError, ValueError) as e:
                job["error"] = str(e)
            except Exception as e:  # the page must learn why, not wait forever
                log.exception("export %s of %s failed", fmt, take)
                job["error"] = f"export failed: {e}"
            finally:
                job["done"] = True

        threading.Thread(target=run, name=f"export-{job_id}", daemon=True).start()
        return job_id

    def get(self, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            raise KeyError(f"no export {job_id!r}")
        out = {k: v for k, v in job.items() if k != "file"}
        if job["file"]:
            out["url"] = f"/api/exports/{job_id}/download"
            out["name"] = Path(job["file"]).name
        return out


# --- the library and the new-world panel ---------------------------------------------------


def world_cards(library: Path) -> str:
    """The library as HTML cards (thumbnail, prompt, seed); a click opens the world live."""
    from studio.storage import ProjectFile, ProjectFileError

    files = sorted(library.glob("*.tidepool"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not files:
        return '<div class="tp-empty">No worlds yet — describe one above.</div>'
    cards = []
    for f in files:
        try:
            with ProjectFile.open(f, readonly=True) as pf:
                spec = pf.spec
        except ProjectFileError as e:
            cards.append(
                f'<div class="tp-card tp-bad" title="{html.escape(str(e))}">{html.escape(f.stem)} (unreadable)</div>'
            )
            continue
        name = html.escape(f.stem)
        title = html.escape(spec.prompt or f.stem)
        cards.append(
            f'<button class="tp-card" data-world="{name}" title="{title}">'
            f'<img src="/api/worlds/{name}/thumbnail.png" alt="" loading="lazy">'
            f'<span class="tp-card-title">{title}</span>'
            f'<span class="tp-card-meta">seed {spec.seed}</span></button>'
        )
    return '<div class="tp-library">' + "".join(cards) + "</div>"


VIEWPORT = (STATIC / "viewport.html").read_text


MODELS_PANEL = (
    '<h3 class="tp-h">Models</h3><div id="tp-models" class="tp-models">'
    '<div class="tp-empty">Looking for local models…</div></div>'
)
"""The settings panel; ui/static/settings.js fills it from GET /api/settings."""


def settings_state(path: Path) -> dict[str, Any]:
    """What the Models panel shows: the settings file and, per role, the choice and what is found.

    Raises pipelines.neural.settings.SettingsError for a malformed file.
    """
    from pipelines.neural import ROLES, discover
    from pipelines.neural.settings import load_settings, overview

    roles = overview(load_settings(path), discover())
    return {"file": str(path), "roles": [{"role": r, **roles[r]} for r in ROLES]}


def create_with_settings(
    prompt: str,
    *,
    library: Path,
    settings: Path,
    image: Path | None = None,
    seed: int | None = None,
    lock: threading.Lock | None = None,
) -> CreatedWorld:
    """The studio's "Create world": a world from a prompt and/or photo with the backends the
    settings choose (depth lifts the photo; text-to-image paints a keyframe for a bare prompt).

    The world is returned open (`.world`) for the live session. Raises what `create_world`
    raises, SettingsError for a malformed settings file and NeuralUnavailable for a chosen model
    that is missing.
    """
    import secrets

    from pipelines.neural.settings import load_settings
    from ui.worlds import create_world, paint_keyframe

    chosen = load_settings(settings)
    if image is None and chosen.text2image != "off":  # the neural look of a prompt
        seed = secrets.randbelow(2**31) if seed is None else seed
        look = None if chosen.text2image == "auto" else chosen.text2image
        image = paint_keyframe(prompt, seed=seed, model=look)
    with lock if lock is not None else contextlib.nullcontext():
        return create_world(
            prompt, seed=seed, library=library, image=image, keep_world=True, depth=chosen.depth
        )


def build_blocks(
    library: Path, *, create_lock: threading.Lock, hub: LiveHub, settings: Path
) -> gr.Blocks:
    """The studio's Gradio UI: new-world panel, models panel and library around the viewport."""

    def create(prompt: str, image: str | None, seed: str | int | None) -> tuple[str, str, str]:
        from pipelines.image import ImageError
        from pipelines.neural import NeuralUnavailable
        from pipelines.neural.settings import SettingsError
        from pipelines.text import PromptError, describe_understood
        from studio.storage import ProjectFileError

        if not (prompt or "").strip() and not image:
            raise gr.Error(
                "describe the world first (e.g. 'a misty pine forest by a lake'), or add an image"
            )
        text = "" if seed is None else str(seed).strip()
        if text and not (text.isdigit() and int(text) < 2**63):
            raise gr.Error(f"seed {text!r} must be a whole number >= 0, or empty for a random one")
        try:
            made = create_with_settings(
                prompt or "", library=library, settings=settings,
                image=Path(image) if image else None, seed=int(text) if text else None,
                lock=create_lock,
            )  # fmt: skip
        except NeuralUnavailable as e:
            raise gr.Error(f"{e} (change it in the Models panel)") from None
        except (PromptError, ImageError, ProjectFileError, SettingsError, OSError) as e:
            raise gr.Error(str(e)) from None
        hub.adopt(made.path, made.world)
        understood = describe_understood(made.spec)
        return made.path.stem, understood, world_cards(library)

    with gr.Blocks(title="Tidepool studio") as blocks:
        with gr.Row(elem_id="tp-shell", equal_height=False):
            with gr.Column(scale=1, min_width=300, elem_id="tp-side"):
                gr.HTML(
                    '<div class="tp-brand"><span class="tp-logo"></span>Tidepool</div>',
                    js_on_load=None,
                )
                with gr.Group(elem_id="tp-new"):
                    gr.HTML('<h3 class="tp-h">New world</h3>', js_on_load=None)
                    prompt = gr.Textbox(
                        label="Describe a world",
                        placeholder="a misty pine forest by a lake at dawn",
                        lines=2,
                        elem_id="tp-prompt",
                    )
                    with gr.Row():
                        seed = gr.Number(
                            label="Seed", value=None, precision=0, minimum=-1, elem_id="tp-seed"
                        )
                        image = gr.Image(
                            label="Image (optional)", type="filepath", height=90, elem_id="tp-image"
                        )
                    gr.Examples(EXAMPLES, inputs=[prompt], label="Try")
                    go = gr.Button("Create world", variant="primary", elem_id="tp-create")
                    understood = gr.Markdown(elem_id="tp-understood-md", visible=False)
                gr.HTML(MODELS_PANEL, elem_id="tp-models-panel", js_on_load=None)
                gr.HTML('<h3 class="tp-h">Library</h3>', js_on_load=None)
                cards = gr.HTML(world_cards(library), elem_id="tp-library", js_on_load=None)
                refresh = gr.Button("Refresh library", size="sm", variant="secondary")
            with gr.Column(scale=4, elem_id="tp-main"):
                gr.HTML(VIEWPORT(), elem_id="tp-studio", js_on_load=None)
        world_name = gr.Textbox(visible=False, elem_id="tp-world-name")
        go.click(
            create, [prompt, image, seed], [world_name, understood, cards], concurrency_limit=2
        ).then(
            None,
            [world_name, understood],
            None,
            js="(name, u) => { window.tidepool && window.tidepool.open(name, u); }",
        )
        refresh.click(lambda: world_cards(library), None, cards)
        blocks.load(lambda: world_cards(library), None, cards)
    return blocks


def create_app(
    library: Path,
    *,
    auth: tuple[str, str] | None = None,
    linger_s: float = LINGER_S,
    settings: Path | None = None,
) -> FastAPI:
    """The FastAPI app: `/ws/live`, `/api/...`, `/studio-static/...`, and the Gradio studio at `/`.

    `settings` is the neural-backend settings file (default: the one the CLI uses,
    `ui.library.settings_file`); the Models panel edits it and world creation reads it.
    """
    from studio.storage import ProjectFile, ProjectFileError
    from ui.library import settings_file

    library = ensure_library(library)
    settings = settings_file() if settings is None else Path(settings)
    hub = LiveHub(library, linger_s=linger_s)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(hub.close)  # sessions write their moment before the server exits

    app = FastAPI(title="Tidepool studio", lifespan=lifespan)
    app.state.hub = hub

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True, "library": str(library)}

    @app.get("/api/worlds")
    def worlds() -> list[dict]:
        out = []
        for f in sorted(library.glob("*.tidepool")):
            try:
                with ProjectFile.open(f, readonly=True) as pf:
                    out.append({"name": f.stem, "prompt": pf.spec.prompt, "seed": pf.spec.seed})
            except ProjectFileError:
                continue
        return out

    @app.get("/api/worlds/{name}/thumbnail.png")
    def thumbnail(name: str) -> Response:
        try:
            path = hub.world_path(name)
            with ProjectFile.open(path, readonly=True) as pf:
                png = pf.thumbnail()
        except (FileNotFoundError, ProjectFileError) as e:
            raise HTTPException(404, str(e)) from None
        if png is None:
            raise HTTPException(404, f"world {name!r} has no thumbnail")
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})

    @app.get("/api/sessions/{sid}")
    def session_state(sid: str) -> dict:
        live = hub.sessions.get(sid)
        if live is None:
            raise HTTPException(404, f"no live session {sid!r}; open the world in the studio")
        return live.snapshot()

    exports = ExportJobs(library / "exports")

    @app.post("/api/sessions/{sid}/exports")
    def start_export(sid: str, body: dict) -> dict:
        live = hub.sessions.get(sid)
        if live is None:
            raise HTTPException(404, f"no live session {sid!r}; open the world in the studio")
        try:
            return {
                "id": exports.start(
                    live.path, str(body.get("take", "")), str(body.get("format", ""))
                )
            }
        except (ValueError, ImportError) as e:
            raise HTTPException(400, str(e)) from None

    @app.get("/api/exports/{job_id}")
    def export_status(job_id: str) -> dict:
        try:
            return exports.get(job_id)
        except KeyError as e:
            raise HTTPException(404, str(e)) from None

    @app.get("/api/exports/{job_id}/download")
    def export_download(job_id: str) -> FileResponse:
        job = exports.jobs.get(job_id)
        if job is None or not job["file"]:
            raise HTTPException(404, f"export {job_id!r} has no file (yet)")
        return FileResponse(job["file"], filename=Path(job["file"]).name)

    @app.get("/api/settings")
    def get_settings() -> dict:
        """The Models panel: the settings file and, per role, the choice and the models found."""
        from pipelines.neural.settings import SettingsError

        try:
            return settings_state(settings)
        except SettingsError as e:
            raise HTTPException(409, str(e)) from None

    @app.put("/api/settings")
    def put_settings(body: dict) -> dict:
        """{"role", "model"} -> the role uses that model ("off", "auto" or a local model's name);
        400 names what is found when the model is not; 409 for a malformed settings file."""
        from pipelines.neural.settings import SettingsError, choose, load_settings

        try:
            load_settings(settings)  # a malformed file is reported, never overwritten
        except SettingsError as e:
            raise HTTPException(409, str(e)) from None
        try:
            choose(settings, str(body.get("role", "")), str(body.get("model", "")))
            return settings_state(settings)
        except SettingsError as e:
            raise HTTPException(400, str(e)) from None

    from pipelines.voice import SpeechModel

    speech: dict[str | None, SpeechModel] = {}

    @app.post("/api/voice")
    async def voice(request: Request, target: str = "prompt") -> dict:
        """A recorded clip (MediaRecorder WebM/Ogg, or WAV) -> {"text", "target"} for the page to
        put in the prompt box or send as a directing command; 503 says how to get a model."""
        from pipelines.neural import NeuralUnavailable
        from pipelines.neural.settings import SettingsError, load_settings, model_name
        from pipelines.voice import VoiceError

        if target not in ("prompt", "direct"):
            raise HTTPException(400, f"target {target!r} is not 'prompt' or 'direct'")
        data = await request.body()
        try:
            name = model_name("asr", load_settings(settings).asr, path=settings)
            model = speech.setdefault(name, SpeechModel(name))
            text = await asyncio.to_thread(model.transcribe, data)
        except NeuralUnavailable as e:
            raise HTTPException(503, f"no speech model: {e}") from None
        except SettingsError as e:
            raise HTTPException(409, str(e)) from None
        except VoiceError as e:
            raise HTTPException(400, str(e)) from None
        return {"text": text, "target": target}

    @app.websocket("/ws/live")
    async def live_socket(ws: WebSocket) -> None:
        await serve_socket(ws, hub)

    # Not /static: Gradio serves its own fonts and scripts there.
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="studio-static")
    if auth is not None:
        app.add_middleware(BasicAuth, user=auth[0], password=auth[1])
    blocks = build_blocks(library, create_lock=threading.Lock(), hub=hub, settings=settings)
    head = (
        f'<link rel="stylesheet" href="{STATIC_URL}/studio.css">'
        f'<script src="{STATIC_URL}/studio.js" defer></script>'
        f'<script src="{STATIC_URL}/voice.js" defer></script>'
        f'<script src="{STATIC_URL}/settings.js" defer></script>'
    )
    return gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        theme=gr.themes.Base(
            primary_hue="cyan", neutral_hue="slate", font=["Inter", "system-ui", "sans-serif"]
        ),
        head=head,
        footer_links=[],
    )
