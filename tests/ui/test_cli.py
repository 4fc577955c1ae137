"""The `tidepool` CLI: commands of DESIGN.md exist, JSON output is one object, no fake output."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from studio.bench import Measurement, benchmark, run_all
from ui.cli import app

DESIGN_COMMANDS = ["studio", "new", "render", "play", "direct", "parse", "export", "bench"]


def test_help_lists_design_commands():
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in DESIGN_COMMANDS:
        assert f" {name} " in out, name


def test_bench_json_is_one_object_with_machine_info():
    result = CliRunner().invoke(app, ["bench", "--json", "--quick", "--only", "core:"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"machine", "results"}
    assert data["machine"]["cpu_count"] >= 1 and data["machine"]["torch"]
    m = data["results"]["core.gaussians_transform"]
    assert m["value"] > 0 and m["unit"] == "M Gaussians/s"
    assert set(m) == {"value", "unit", "target", "ok"}


@benchmark("selftest", fresh_process=True)
def _pid_of_the_process_that_ran_me(quick: bool) -> list[Measurement]:
    return [
        Measurement("selftest.pid", float(os.getpid()), "pid"),
        Measurement("selftest.quick", float(quick), "flag"),
    ]


def test_fresh_process_benchmarks_run_in_a_process_of_their_own():
    """`fresh_process=True` (cold starts, memory not shared with earlier benchmarks) runs the
    function in a child process; its measurements come back intact."""
    got = run_all(quick=True, only="selftest:")
    assert got["selftest.pid"].value != os.getpid() and got["selftest.pid"].unit == "pid"
    assert got["selftest.quick"].value == 1.0


@pytest.mark.parametrize("port", ["0", "70000"])
def test_studio_rejects_bad_port(port, tmp_path):
    result = CliRunner().invoke(app, ["studio", "--port", port, "--library", str(tmp_path)])
    assert result.exit_code == 1
    assert f"--port {port}" in result.stderr


def test_bench_only_that_matches_nothing_lists_the_keys():
    result = CliRunner().invoke(app, ["bench", "--json", "--only", "world.live"])
    assert result.exit_code == 1
    assert "--only 'world.live' matches no benchmark" in result.stderr
    assert "world:live_frames" in result.stderr  # the key the user meant, to copy


def test_the_precompile_world_has_what_live_frames_draw():
    """`make` compiles the kernels by drawing this world; if the lexicon stopped reading it as
    water, rain, animals, a character and a landmark, a first world would compile again."""
    from pipelines.text import text_to_spec
    from ui.precompile import PROMPT

    spec = text_to_spec(PROMPT, seed=1, embeddings_mode="off")
    assert spec.weather.kind == "rain" and spec.terrain.lakes
    assert {c.kind for c in spec.characters} >= {"deer", "humanoid"}
    assert spec.landmarks and spec.props
