"""The `tidepool` command line (DESIGN.md, "The command line").

`--json` prints exactly one JSON object on stdout. Errors go to stderr with a non-zero exit
code and a message that names the bad value and the fix. A command whose capability has not
landed exits with code 2 and says so; it never prints fake output.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ui.library import default_library

app = typer.Typer(
    name="tidepool",
    help="Tidepool: create worlds from a sentence, walk them live, direct, rewind, branch, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

log = logging.getLogger("tidepool")


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print an error to stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def not_implemented(capability: str) -> NoReturn:
    """Exit 2 for a command whose capability has not landed yet."""
    typer.echo(f"not implemented yet: {capability}", err=True)
    raise typer.Exit(2)


MAX_IMAGE_SIDE = 8192


def parse_size(text: str) -> tuple[int, int]:
    """ "1280x720" -> (1280, 720); a clear error for anything else."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        fail(f"--size {text!r} is not WIDTHxHEIGHT; use e.g. --size 1280x720.")
    if not (1 <= width <= MAX_IMAGE_SIDE and 1 <= height <= MAX_IMAGE_SIDE):
        fail(f"--size {text!r} is out of range; each side must be 1..{MAX_IMAGE_SIDE} pixels.")
    return width, height


def parse_camera(text: str) -> tuple[tuple[float, float, float], float, float]:
    """ "x,y,z,yaw,pitch" (metres, degrees) -> ((x, y, z), yaw, pitch)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 5 or not all(math.isfinite(v) for v in values):
        fail(f"--camera {text!r} is not x,y,z,yaw,pitch; use e.g. --camera 0,2,10,0,-5.")
    if not -90 <= values[4] <= 90:
        fail(f"--camera pitch {values[4]} is outside [-90, 90] degrees.")
    x, y, z, yaw, pitch = values
    return (x, y, z), yaw, pitch


def emit_json(obj: dict) -> None:
    """The one JSON object a `--json` command prints on stdout."""
    sys.stdout.write(json.dumps(obj) + "\n")


def _settings():
    """(the neural-backend settings, their file); a malformed file ends the command."""
    from pipelines.neural.settings import SettingsError, load_settings
    from ui.library import settings_file

    path = settings_file()
    try:
        return load_settings(path), path
    except SettingsError as e:
        fail(str(e))


def _transcribe(audio: Path) -> str:
    """Text spoken in a WAV clip, by the speech model the settings choose."""
    from pipelines.neural import NeuralUnavailable, load_asr
    from pipelines.neural.settings import model_name
    from pipelines.voice import VoiceError, transcribe_file

    settings, path = _settings()
    try:
        asr = load_asr(model_name("asr", settings.asr, path=path))
        return transcribe_file(audio, asr=asr)
    except (VoiceError, NeuralUnavailable) as e:
        fail(str(e))


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def studio(
    host: Annotated[
        str, typer.Option(help="Address to bind; 0.0.0.0 exposes the studio to your network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 7860,
    library: Annotated[
        Path | None,
        typer.Option(
            help="Folder of .tidepool worlds [default: $TIDEPOOL_HOME or ~/.local/share/tidepool]."
        ),
    ] = None,
    auth: Annotated[
        str | None,
        typer.Option(help="user:pass required for the pages and the live WebSocket."),
    ] = None,
) -> None:
    """Start the studio in the browser (http://HOST:PORT)."""
    import uvicorn

    from pipelines.embeddings import warm_up_in_background
    from ui.app import create_app

    if not 0 < port < 65536:
        fail(f"--port {port} is not a TCP port; pick one in 1..65535, e.g. 7860.")
    if host == "0.0.0.0":
        typer.echo(
            "warning: --host 0.0.0.0 makes the studio reachable from other machines on your network.",
            err=True,
        )
    credentials = None
    if auth is not None:
        user, sep, password = auth.partition(":")
        if not (sep and user and password):
            fail(f"--auth {auth!r} is not user:pass; use e.g. --auth ana:s3cret")
        credentials = (user, password)
    try:
        web = create_app(library or default_library(), auth=credentials)
        warm_up_in_background()
    except OSError as e:
        fail(str(e))
    typer.echo(f"Tidepool studio on http://{host}:{port}", err=True)
    _announce_renderer()
    uvicorn.run(web, host=host, port=port, log_level="warning")


def _announce_renderer() -> None:
    """Print which renderer frames use, from a daemon thread: probing gsplat imports torch and
    loads its kernels (seconds on a GPU machine), which the server need not wait for."""
    import threading

    from studio.render.api import describe_auto

    def run() -> None:
        try:
            typer.echo(f"renderer: {describe_auto()}", err=True)
        except Exception as e:  # the first frame reports a real failure; this is a courtesy
            log.warning("could not tell which renderer frames will use: %s", e)

    threading.Thread(target=run, name="renderer-probe", daemon=True).start()


@app.command()
def new(
    prompt: Annotated[str, typer.Argument(help="What the world should be, in a sentence.")] = "",
    image: Annotated[Path | None, typer.Option(help="An image to build the world from.")] = None,
    from_splat: Annotated[
        Path | None,
        typer.Option("--from-splat", help="A 3DGS capture (.ply/.spz/.splat) to make the world."),
    ] = None,
    audio: Annotated[
        Path | None, typer.Option(help="A spoken prompt (WAV), transcribed by a local Whisper.")
    ] = None,
    depth: Annotated[
        str | None,
        typer.Option(
            help="--image: lift the photo with a local depth model: off | auto | MODEL "
            "(names as `tidepool models list` shows them) [default: the depth setting, "
            "`tidepool models use depth ...`]."
        ),
    ] = None,
    neural_look: Annotated[
        bool | None,
        typer.Option(
            "--neural-look/--no-neural-look",
            help="Paint a keyframe from the prompt with a local text-to-image model, then build "
            "the world from it as from --image [default: on when the text2image setting "
            "chooses a model].",
        ),
    ] = None,
    max_splats: Annotated[
        int, typer.Option(help="--from-splat: splats kept (more are decimated).")
    ] = 1_000_000,
    up: Annotated[str, typer.Option(help="--from-splat: up axis auto|+y|-y|+z|-z.")] = "auto",
    scale: Annotated[float, typer.Option(help="--from-splat: capture units to metres.")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="World seed (random if omitted).")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The .tidepool file to write.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite -o FILE if it exists.")] = False,
) -> None:
    """Create a world from a prompt (or an image) and save it as a .tidepool file."""
    from pipelines.image import ImageError
    from pipelines.neural import NeuralUnavailable
    from pipelines.splat_import import SplatImportError
    from pipelines.text import PromptError
    from studio.storage import ProjectFileError
    from ui.library import ensure_library
    from ui.worlds import create_world

    if image is not None and from_splat is not None:
        fail("--image and --from-splat each make a whole world; pass one of them.")
    if up not in ("auto", "+y", "-y", "+z", "-z"):
        fail(f"--up {up!r} is not one of auto, +y, -y, +z, -z.")
    settings, settings_at = _settings()
    if audio is not None:
        heard = _transcribe(audio)
        typer.echo(f"heard: {heard!r}", err=True)
        prompt = f"{prompt} {heard}".strip()
    if not prompt.strip() and image is None and from_splat is None:
        fail(
            'the prompt is empty; describe the world, e.g. tidepool new "a quiet meadow at dawn", '
            "or pass --image, --from-splat or --audio."
        )
    if seed is not None and not 0 <= seed < 2**63:
        fail(f"--seed {seed} must be a whole number in 0..2^63-1.")
    if neural_look and (image is not None or from_splat is not None):
        fail("--neural-look paints its own image; drop --image/--from-splat, or --neural-look.")
    look = settings.text2image
    if neural_look is None:  # the setting decides, for plain prompts only
        neural_look = look != "off" and image is None and from_splat is None
    elif neural_look and look == "off":
        look = "auto"  # the flag asks for a look the settings leave off: any local model
    if neural_look:
        import secrets

        from ui.worlds import paint_keyframe

        seed = secrets.randbelow(2**31) if seed is None else seed
        try:
            image = paint_keyframe(prompt, seed=seed, model=None if look == "auto" else look)
        except NeuralUnavailable as e:
            fail(
                f"{e}. `tidepool models list` shows the local models (settings: {settings_at}); "
                "pass --no-neural-look to use the procedural look."
            )
        typer.echo(f"painted a keyframe with a local text-to-image model: {image}", err=True)
    if depth is not None and depth != "off" and image is None:
        fail(
            f"--depth {depth} lifts a photo; pass --image PHOTO (or --neural-look), or drop --depth."
        )
    depth_flag = depth
    depth = settings.resolve("depth", depth)
    if output is not None and output.suffix != ".tidepool":
        fail(
            f"-o {output}: world files end in .tidepool; use e.g. -o {output.with_suffix('.tidepool').name}"
        )
    try:
        library = ensure_library(default_library()) if output is None else output.parent
        made = create_world(
            prompt, seed=seed, output=output, library=library, overwrite=force,
            image=image, capture=from_splat, max_splats=max_splats, up=up, scale=scale,
            depth=depth,
        )  # fmt: skip
    except NeuralUnavailable as e:
        source = "--depth" if depth_flag is not None else f"the depth setting ({settings_at})"
        fail(
            f"{source} {depth}: {e}. `tidepool models list` shows the local models; "
            "`tidepool models use depth MODEL|auto|off` changes the setting."
        )
    except (PromptError, ProjectFileError, ImageError, SplatImportError, OSError) as e:
        fail(str(e))
    if as_json:
        emit_json(
            {
                "file": str(made.path),
                "seed": made.spec.seed,
                "spec": json.loads(made.spec.to_json()),
                "seconds": round(made.seconds, 4),
                "gaussians_in_view": made.gaussians_in_view,
            }
        )
    else:
        from pipelines.text import describe_understood

        typer.echo(f"understood: {describe_understood(made.spec)}")
        for note in made.spec.notes:
            typer.echo(f"note: {note}", err=True)
        typer.echo(
            f"wrote {made.path} (seed {made.spec.seed}, first frame in {made.seconds:.2f} s)"
        )


models_app = typer.Typer(
    help="Optional neural models: what is found on disk, which one each role uses, fetching one."
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the local models found for each role and the one chosen (nothing is downloaded)."""
    from pipelines.neural import ROLES, discover
    from pipelines.neural.settings import overview

    settings, path = _settings()
    found = discover()
    roles = overview(settings, found)
    if as_json:
        emit_json(
            {
                "settings": str(path),
                "roles": roles,
                "models": [
                    {**m.as_dict(), "chosen": roles[m.role]["active"] == m.name} for m in found
                ],
            }
        )
        return
    typer.echo(f"settings: {path}{'' if path.exists() else ' (not written yet: defaults)'}")
    for role in ROLES:
        r = roles[role]
        active = f" -> {r['active']}" if r["chosen"] == "auto" and r["active"] else ""
        missing = (
            "  (NOT FOUND: pick another with `tidepool models use`)"
            if r["chosen"] not in ("off", "auto") and r["active"] is None
            else ""
        )
        typer.echo(f"{role:10s} chosen: {r['chosen']}{active}{missing}")
        models = [m for m in found if m.role == role]
        for m in models:
            mark = "*" if r["active"] == m.name else " "
            typer.echo(f"  {mark} {m.name:40s} {m.path}")
        if not models:
            typer.echo("    (none found)")
    if not found:
        typer.echo(
            "no local models found; the offline defaults are used (see: tidepool models pull)"
        )


@models_app.command("use")
def models_use(
    role: Annotated[str, typer.Argument(help="depth | text2image | inpaint | asr | llm.")],
    model: Annotated[
        str, typer.Argument(help="A model name from `tidepool models list`, or auto, or off.")
    ],
) -> None:
    """Choose the model a role uses (saved in the settings file the studio reads too)."""
    from pipelines.neural.settings import SettingsError, choose
    from ui.library import settings_file

    path = settings_file()
    try:
        choose(path, role, model)
    except SettingsError as e:
        fail(str(e))
    typer.echo(f"{role} now uses {model} (saved in {path})")


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="A known model name, e.g. whisper-tiny.")],
) -> None:
    """Download a model into the Hugging Face cache (only on this explicit request)."""
    from pipelines.neural import NeuralUnavailable, pull

    try:
        path = pull(name)
    except NeuralUnavailable as e:
        fail(str(e))
    typer.echo(f"downloaded {name} to {path}")


@app.command()
def render(
    file: Annotated[Path, typer.Argument(help="A .tidepool world.")],
    branch: Annotated[str | None, typer.Option(help="Branch to render.")] = None,
    at: Annotated[float | None, typer.Option(help="Time in seconds on the branch.")] = None,
    camera: Annotated[str | None, typer.Option(help="x,y,z,yaw,pitch (metres, degrees).")] = None,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT in pixels.")] = "1280x720",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="PNG to write.")] = None,
    backend: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
) -> None:
    """Render one frame of a world to PNG."""
    from studio.render import RenderError
    from studio.storage import ProjectFileError
    from ui.worlds import RenderRequestError, png_bytes, render_world_file

    if backend not in ("auto", "cpu", "cuda"):
        fail(f"--backend {backend!r} is not one of auto, cpu, cuda.")
    if at is not None and not (math.isfinite(at) and at >= 0):
        fail(f"--at {at} must be a time in seconds from the start of the branch, e.g. --at 2.5.")
    width, height = parse_size(size)
    cam = parse_camera(camera) if camera is not None else None
    out = output if output is not None else file.with_suffix(".png")
    if out.suffix.lower() != ".png":
        fail(f"-o {out}: render writes PNG images; use a .png file name.")
    try:
        frame = render_world_file(
            file, size=(width, height), camera=cam, branch=branch, at=at, backend=backend
        )
        out.write_bytes(png_bytes(frame.rgb))
    except (ProjectFileError, RenderError, RenderRequestError, OSError) as e:
        fail(str(e))
    typer.echo(f"wrote {out} ({width}x{height})", err=True)


@app.command()
def play(
    file: Annotated[Path, typer.Argument(help="A .tidepool world.")],
    script: Annotated[Path, typer.Option(help="A JSONL script of inputs and commands.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Drive a session headless from a script (as fast as the CPU allows)."""
    from studio.storage import ProjectFileError
    from studio.timeline import TimelineError
    from ui.script import ScriptError, play_file

    try:
        result = play_file(file, script)
    except (ScriptError, ProjectFileError, TimelineError) as e:
        fail(str(e))
    if as_json:
        emit_json(result)
        return
    p = result["player"]
    typer.echo(
        f"{result['file']}: {result['ticks']} ticks on branch {result['branch']!r} "
        f"(now at {result['tick'] / 30:.2f} s); player at "
        f"({p['pos'][0]:.2f}, {p['pos'][1]:.2f}, {p['pos'][2]:.2f}) {p['mode']}; "
        f"branches: {', '.join(result['branches'])}; takes: {', '.join(result['takes']) or 'none'}"
    )


@app.command()
def direct(
    file: Annotated[Path, typer.Argument(help="A .tidepool world.")],
    command: Annotated[str, typer.Argument(help='A directing command, e.g. "make it night".')] = "",
    at: Annotated[float | None, typer.Option(help="Time in seconds to apply it at.")] = None,
    audio: Annotated[
        Path | None, typer.Option(help="A spoken command (WAV), transcribed by a local Whisper.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Apply one directing command to a session."""
    if audio is not None:
        command = f"{command} {_transcribe(audio)}".strip()
        typer.echo(f"heard: {command!r}", err=True)
    if not command.strip():
        fail(
            'give a command, e.g. tidepool direct world.tidepool "make it night", or --audio CLIP.wav'
        )
    from pipelines.directing import direct as direct_command
    from studio.conventions import seconds_to_tick
    from studio.session import Session
    from studio.storage import ProjectFileError
    from studio.timeline import TimelineError

    if at is not None and not (math.isfinite(at) and at >= 0):
        fail(f"--at {at} must be a time in seconds from the start of the branch, e.g. --at 2.5.")
    try:
        with Session.open(file) as session:
            if at is not None:
                tick = seconds_to_tick(at)
                if tick > session.branch.head_tick:
                    session.seek(session.branch.head_tick)
                    session.advance(tick - session.tick)
                else:
                    session.seek(tick)
            result = direct_command(session, command)
    except (ProjectFileError, TimelineError, OSError) as e:
        fail(str(e))
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"understood: {result['understood']}")
        if result.get("message"):
            typer.echo(result["message"], err=True)
        for alt in result["alternatives"]:
            typer.echo(f"  or: {alt['understood']}", err=True)
    if not result["events"]:
        raise typer.Exit(1)


@app.command()
def parse(
    command: Annotated[str, typer.Argument(help='A directing command, e.g. "make it night".')],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show the structured events a directing command becomes."""
    from pipelines.directing import parse as parse_command

    result = parse_command(command)
    if as_json:
        emit_json(result.to_json())
    else:
        typer.echo(f"understood: {result.understood} (confidence {result.confidence:.2f})")
        for a in result.actions:
            typer.echo(f"  {json.dumps(a.model_dump(mode='json'))}")
        if result.message:
            typer.echo(result.message, err=True)
        for alt in result.alternatives:
            typer.echo(f"  or: {alt.understood}", err=True)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="A .tidepool world.")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="mp4 | ply | spz | splat | gltf-splat | glb | usd | gltf-camera | usd-camera | chan | json",
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    take: Annotated[
        str | None,
        typer.Option(
            help="Name of the take to export; without one, splats and meshes of the world "
            "around its spawn point."
        ),
    ] = None,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT for video.")] = "1280x720",
    fps: Annotated[int, typer.Option(help="Frames per second for video: 24, 30 or 60.")] = 30,
    radius: Annotated[
        float, typer.Option(help="Metres around the take's camera path for splats and meshes.")
    ] = 48.0,
    all_area: Annotated[
        bool, typer.Option("--all", help="Export everything the take's cameras can see.")
    ] = False,
    axes: Annotated[
        str, typer.Option(help="ply/splat orientation: inria (SuperSplat, web viewers) or y-up.")
    ] = "inria",
    spz_version: Annotated[int, typer.Option(help="SPZ version: 2 (Unity), 3 or 4.")] = 2,
    backend: Annotated[str, typer.Option(help="Renderer for video: auto | cpu | cuda.")] = "auto",
) -> None:
    """Export a take (video, splats, meshes or the camera move) or, without --take, the world
    around its spawn point (splats, meshes). Ctrl-C cancels cleanly."""
    import threading

    from rich.progress import Progress

    from exporters import EXPORTERS, ExportCancelled, ExportError, ExportRequest, export
    from studio.storage import ProjectFileError

    if format not in EXPORTERS:
        fail(f"--format {format!r} is not one of: {', '.join(EXPORTERS)}.")
    width, height = parse_size(size)
    try:
        request = ExportRequest(
            file, take, output=output, width=width, height=height, fps=fps,
            radius=None if all_area else radius, axes=axes, spz_version=spz_version,
            backend=backend,
        )  # fmt: skip
    except ExportError as e:
        fail(str(e))
    cancel = threading.Event()
    outcome: dict[str, BaseException | None] = {"error": None}
    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(f"{format} -> {output.name}", total=1.0)

        def work() -> None:
            try:
                export(
                    format, request, progress=lambda f: bar.update(task, completed=f), cancel=cancel
                )
            except BaseException as e:  # handed to the main thread below
                outcome["error"] = e

        worker = threading.Thread(target=work, name="export")
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:
            cancel.set()
            worker.join()
            fail(f"export cancelled; nothing was written to {output}.", code=130)
    error = outcome["error"]
    if isinstance(error, ExportCancelled):
        fail(f"export cancelled; nothing was written to {output}.", code=130)
    if isinstance(error, (ExportError, ProjectFileError, OSError)):
        fail(str(error))
    if error is not None:
        raise error
    typer.echo(f"wrote {output}", err=True)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@app.command()
def bench(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer repetitions and smaller inputs.")
    ] = False,
    only: Annotated[
        str | None, typer.Option(help="Run only benchmarks whose key contains this.")
    ] = None,
) -> None:
    """Measure performance against DESIGN.md's budgets and print a table (or JSON)."""
    from studio import bench as bench_lib
    from ui.bench_suite import load_all

    load_all()
    keys = list(bench_lib.registered())
    if only and not any(only in key for key in keys):
        fail(
            f"--only {only!r} matches no benchmark. Keys are group:function (--only matches "
            f"any part of one), not the measurement names in the table: {', '.join(keys)}."
        )
    results = bench_lib.run_all(quick=quick, only=only)
    machine = bench_lib.machine_info()
    if as_json:
        emit_json(bench_lib.as_json(results, machine))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]machine[/]: {machine['cpu_count']} CPUs, torch {machine['torch']}, "
        f"numba {machine['numba']}, gsplat {machine['gsplat']}, CUDA {machine['cuda_device']}"
    )
    table = Table("benchmark", "value", "unit", "target", "ok")
    for name, m in results.items():
        target = "" if m.target is None else f"{'≥' if m.better == 'higher' else '≤'} {m.target:g}"
        ok = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}[m.ok]
        table.add_row(name, f"{m.value:.4g}", m.unit, target, ok)
    console.print(table)


def main() -> None:
    """Console-script entry point."""
    # Idle OpenMP threads (numba's parallel kernels, torch) yield the core instead of spinning:
    # on a 2-core machine spinning workers steal time from the other parallel stage and the
    # server. Must be set before the first parallel call; a user's own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app()


if __name__ == "__main__":
    main()
