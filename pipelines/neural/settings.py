"""Which local model each neural role uses: a small JSON settings file the CLI and studio share.

The file (``settings.json`` in the Tidepool home, ``$TIDEPOOL_HOME``, default
``~/.local/share/tidepool``; ``$TIDEPOOL_SETTINGS`` names another file) holds one choice per
role::

    {"version": 1, "depth": "tiny-depth", "text2image": "off", "inpaint": "off",
     "asr": "auto", "llm": "off"}

A choice is ``"off"`` (the offline default), ``"auto"`` (the first local model found for the
role) or a model name as `tidepool models list` shows it. A missing file means the defaults
(speech ``auto``, everything else ``off``). A malformed file raises `SettingsError` naming the
file and the fix; it is never rewritten until it parses again. Command-line flags override
these choices (`Choice.resolve`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from pipelines.neural import ROLES, LocalModel, NeuralUnavailable, Role, discover

SETTINGS_VERSION = 1
FILE_NAME = "settings.json"


class SettingsError(ValueError):
    """The settings file cannot be read or a choice is not allowed; the message says the fix."""


class NeuralSettings(BaseModel):
    """The chosen backend per role: "off", "auto" or a local model's name."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    version: Literal[1] = SETTINGS_VERSION
    depth: str = "off"
    text2image: str = "off"
    inpaint: str = "off"
    asr: str = "auto"
    llm: str = "off"

    def chosen(self, role: Role) -> str:
        return str(getattr(self, role))

    def resolve(self, role: Role, flag: str | None = None) -> str:
        """The choice in effect: a command-line `flag` when given, else the setting."""
        return self.chosen(role) if flag is None else flag


def settings_path(home: Path) -> Path:
    """The settings file: ``$TIDEPOOL_SETTINGS`` if set, else ``home/settings.json``."""
    env = os.environ.get("TIDEPOOL_SETTINGS")
    return Path(env).expanduser() if env else Path(home) / FILE_NAME


def load_settings(path: Path) -> NeuralSettings:
    """The settings in `path` (defaults when it does not exist); SettingsError if malformed."""
    path = Path(path)
    if not path.exists():
        return NeuralSettings()
    fix = (
        f"fix it by hand, or delete {path} to go back to the defaults "
        "(then choose models with `tidepool models use ROLE MODEL`)"
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"settings file {path} cannot be read ({e}); {fix}") from None
    except ValueError as e:
        raise SettingsError(f"settings file {path} is not valid JSON ({e}); {fix}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path} must hold a JSON object; {fix}")
    version = data.get("version", SETTINGS_VERSION)
    if isinstance(version, int) and version > SETTINGS_VERSION:
        raise SettingsError(
            f"settings file {path} has version {version}, newer than this Tidepool "
            f"({SETTINGS_VERSION}); upgrade Tidepool, or {fix}"
        )
    try:
        return NeuralSettings.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'file'}: "
            + ("unrecognized attribute" if err["type"] == "extra_forbidden" else err["msg"])
            for err in e.errors()
        )
        raise SettingsError(
            f"settings file {path} is invalid ({problems}); roles are {', '.join(ROLES)}; {fix}"
        ) from None


def save_settings(path: Path, settings: NeuralSettings) -> None:
    """Write `settings` to `path` atomically (a crash leaves the old file or the new one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings.model_dump(), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise SettingsError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def choose(
    path: Path, role: str, model: str, *, found: list[LocalModel] | None = None
) -> NeuralSettings:
    """Set `role` to `model` ("off", "auto" or a model found locally) in the file at `path`.

    Refuses (SettingsError, file untouched) a model that is not on disk, listing what is, and
    a malformed existing file.
    """
    role_ = check_role(role)
    settings = load_settings(path)
    if model not in ("off", "auto"):
        models = [m for m in (discover() if found is None else found) if m.role == role_]
        names = [m.name for m in models]
        if model not in names:
            have = ", ".join(names) if names else "none"
            raise SettingsError(
                f"no local {role_} model named {model!r}; found for {role_}: {have}. "
                f"Use one of those, `off` or `auto` (`tidepool models list` shows every role)"
            )
    setattr(settings, role_, model)
    save_settings(path, settings)
    return settings


def model_name(role: Role, choice: str, *, path: Path | None = None) -> str | None:
    """The name to load for a choice: None for "auto" (the first found); NeuralUnavailable for
    "off", saying how to turn the role on."""
    if choice == "off":
        where = f" in {path}" if path is not None else ""
        raise NeuralUnavailable(
            f"the {role} backend is off{where}; choose a local model with "
            f"`tidepool models use {role} MODEL` (or `auto`), or in the studio's Models panel"
        )
    return None if choice == "auto" else choice


def overview(settings: NeuralSettings, found: list[LocalModel]) -> dict[str, dict]:
    """Per role: the choice, the model it resolves to (or None) and the names found."""
    out: dict[str, dict] = {}
    for role in ROLES:
        names = [m.name for m in found if m.role == role]
        choice = settings.chosen(role)  # type: ignore[arg-type]
        if choice == "off":
            active = None
        elif choice == "auto":
            active = names[0] if names else None
        else:
            active = choice if choice in names else None
        out[role] = {"chosen": choice, "active": active, "found": names}
    return out
