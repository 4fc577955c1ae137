"""Image -> world: read a photo's light, palette, horizon and regions, and lift it into a backdrop.

Offline and model-free: a photo is decoded safely (`load_image`: format, size, truncation,
colour mode, 16-bit, alpha and EXIF rotation each handled or refused with a clear message),
then `analyse_image` reads

- brightness, contrast and colour temperature (McCamy's CCT from the mean chromaticity) -> the
  hour and weather of the world;
- a palette (k-means on the pixels) and mean saturation -> `Palette`;
- the horizon (where each column's sky run from the top ends) and per-pixel regions (sky,
  ground, water, vegetation, upright) from colour and position cues -> biomes, water, and the
  labels the photo pop-up (`studio.backdrop.photo_popup`) places in 3D.

`image_to_spec` merges this with an optional prompt (what the text names explicitly wins) and
`image_backdrop` builds the pop-up at the world's spawn, with box colliders where its upright
layers stand (`studio.backdrop.popup_colliders`), so the player cannot walk through them. With a local depth model
(`pipelines.neural`), `depth_backdrop` lifts pixels to surfels instead, with the model's
relative depth aligned to the ground-plane depth by a least-squares scale and shift.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from studio.backdrop import (
    GROUND,
    SKY,
    UPRIGHT,
    VEGETATION,
    WATER,
    Backdrop,
    photo_popup,
    popup_colliders,
)
from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.spec import BiomeWeight, Palette, WeatherSpec, WorldSpec

log = logging.getLogger(__name__)

MIN_SIDE = 32
"""Pixels: images with a shorter side carry too little to read a scene from."""
MAX_PIXELS = 250_000_000
"""Images above this many pixels are refused before decoding (decompression bombs)."""
NOTICE_PIXELS = 24_000_000
"""Images above this many pixels are downscaled with a notice."""
ANALYSIS_SIDE = 256
"""Longest side (pixels) the analysis works at."""
POPUP_SIDE = 320
"""Longest side (pixels) the photo pop-up is built at (~60k Gaussians)."""
DEFAULT_VFOV = 60.0
"""Vertical field of view assumed for a photo without EXIF focal length (degrees)."""
EYE_HEIGHT = 1.7


class ImageError(ValueError):
    """An input image cannot be used; the message names the file and the fix."""


@dataclass
class LoadedImage:
    """A decoded image: rgb (H, W, 3) float32 sRGB in [0, 1]; valid (H, W) bool (False where
    fully transparent); the original size; notes for the user; vfov (degrees) if EXIF says."""

    rgb: np.ndarray
    valid: np.ndarray
    original_size: tuple[int, int]
    notes: list[str] = field(default_factory=list)
    vfov: float | None = None
    name: str = ""


def _vfov_from_exif(img: Image.Image, width: int, height: int) -> float | None:
    """Vertical FOV from EXIF FocalLengthIn35mmFilm (0xA405), if present and sane."""
    try:
        f35 = img.getexif().get_ifd(0x8769).get(0xA405)
    except (AttributeError, KeyError, ValueError, OSError):
        return None
    if not f35 or not 8 <= float(f35) <= 600:
        return None
    # 35 mm film is 36 x 24 mm; its diagonal maps onto the image diagonal.
    diag_px = float(np.hypot(width, height))
    f_px = float(f35) / np.hypot(36.0, 24.0) * diag_px
    return float(np.degrees(2 * np.arctan(0.5 * height / f_px)))


def load_image(source: str | Path | bytes, *, max_side: int = 1024) -> LoadedImage:
    """Decode an image safely to at most `max_side` pixels on its longer side.

    Refuses (ImageError): non-images, truncated or damaged files, images under MIN_SIDE
    pixels, and images over MAX_PIXELS (checked from the header, before decoding). Handles:
    EXIF orientation, CMYK and palette modes, 16-bit and float greyscale (scaled, not
    clipped), alpha (transparent pixels are left out), and big images (downscaled; JPEGs
    decode at reduced size directly, with a notice over NOTICE_PIXELS).
    """
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{name}: no such file; check the path")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except UnidentifiedImageError:
        raise ImageError(
            f"{name}: not an image Tidepool can read (use a PNG, JPEG, WebP, TIFF or BMP file)"
        ) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(f"{name}: the image is too large to decode safely") from None
    except OSError as e:
        raise ImageError(f"{name}: cannot be read ({e}); check the file") from None
    with img:
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise ImageError(
                f"{name}: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the "
                f"{MAX_PIXELS / 1e6:.0f} MP limit; downscale it (e.g. to 4000 pixels wide) first"
            )
        if min(w, h) < MIN_SIDE:
            raise ImageError(
                f"{name}: {w}x{h} pixels is too small to read a scene from; use an image at "
                f"least {MIN_SIDE} pixels on each side"
            )
        vfov = _vfov_from_exif(img, w, h)
        if w * h > NOTICE_PIXELS:
            notes.append(
                f"{Path(name).name} is {w}x{h} ({w * h / 1e6:.0f} MP); it was read downscaled "
                f"to at most {max_side} pixels per side"
            )
        scale = max(w, h) / max_side
        try:
            if scale > 1 and img.format == "JPEG":
                img.draft("RGB", (int(w / scale) + 1, int(h / scale) + 1))  # DCT-domain downscale
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img.load()
            img = ImageOps.exif_transpose(img)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as e:
            raise ImageError(
                f"{name}: the image data is truncated or damaged ({e}); re-export or re-download it"
            ) from None
        if max(img.size) > max_side:
            factor = int(max(img.size) // max_side)
            if factor >= 2 and img.mode not in ("I;16", "I;16B", "I;16L", "I", "F"):
                img = img.reduce(factor)  # cheap box reduction first
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        rgb, valid = _to_rgb(img, name, notes)
    if not valid.any():
        raise ImageError(f"{name}: every pixel is transparent; use an image with visible content")
    return LoadedImage(rgb, valid, (w, h), notes, vfov, Path(name).name)


def _to_rgb(img: Image.Image, name: str, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) float32 sRGB in [0, 1] and (H, W) validity from any PIL mode."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        if mode == "F":
            top = max(float(np.nanmax(a)), 1e-9)
        g = np.clip(np.nan_to_num(a) / top, 0.0, 1.0)
        return np.repeat(g[..., None], 3, axis=2).astype(np.float32), np.ones(g.shape, bool)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in img.info
    )
    if mode == "CMYK":
        notes.append(f"{Path(name).name} is CMYK; converted to RGB without a colour profile")
    if has_alpha:
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        valid = rgba[..., 3] > 0.5
        if not valid.all():
            notes.append(
                f"{Path(name).name}: {100 * (1 - valid.mean()):.0f}% of its pixels are transparent "
                "and were left out"
            )
        return np.ascontiguousarray(rgba[..., :3]), valid
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return rgb, np.ones(rgb.shape[:2], bool)


# --- analysis -------------------------------------------------------------------------------


@dataclass
class ImageAnalysis:
    """What a photo says about its world.

    labels (h, w) uint8 region codes (studio.backdrop SKY, GROUND, ...) at analysis size;
    horizon is the horizon row as a fraction of the image height (0 top, 1 bottom);
    fractions maps region names to their share of the valid pixels.
    """

    brightness: float
    contrast: float
    saturation: float
    warmth: float
    cct_kelvin: float
    palette: list[tuple[float, float, float]]
    horizon: float
    sky_visible: bool
    labels: np.ndarray
    fractions: dict[str, float]
    cover: dict[str, float]
    hour: float
    weather: str
    biomes: list[tuple[str, float]]
    water: bool
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for "understood: ..."."""
        bio = ", ".join(f"{b} {w:.0%}" for b, w in self.biomes)
        return (
            f"light {self.cct_kelvin:.0f} K, brightness {self.brightness:.2f} -> hour "
            f"{int(self.hour):02d}:{int(self.hour % 1 * 60):02d}, {self.weather}; horizon at "
            f"{self.horizon:.0%} of the height; {bio}{'; water' if self.water else ''}"
        )


def _resize(rgb: np.ndarray, valid: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = valid.shape
    s = side / max(h, w)
    if s >= 1:
        return rgb, valid
    size = (max(1, round(w * s)), max(1, round(h * s)))
    im = Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))
    out = np.asarray(im.resize(size, Image.Resampling.BOX), np.float32) / 255.0
    v = np.asarray(Image.fromarray(valid.astype(np.uint8) * 255).resize(size), np.uint8) > 127
    return out, v


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., 3) sRGB -> hue in degrees [0, 360), saturation, value."""
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    d = mx - mn
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(mx == r, (g - b) / d % 6, np.where(mx == g, (b - r) / d + 2, (r - g) / d + 4))
    h = np.nan_to_num(h) * 60.0
    s = np.where(mx > 1e-6, d / np.maximum(mx, 1e-6), 0.0)
    return h, s, mx


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def correlated_colour_temperature(rgb_mean: np.ndarray) -> float:
    """McCamy's approximation of the CCT (kelvin) of a mean sRGB colour."""
    lin = srgb_to_linear(rgb_mean)
    M = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )  # linear sRGB (D65) -> XYZ
    X, Y, Z = M @ lin
    s = X + Y + Z
    if s <= 1e-9:
        return 6500.0
    x, y = X / s, Y / s
    n = (x - 0.3320) / (0.1858 - y)
    return float(np.clip(449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33, 1000.0, 20000.0))


def _kmeans(
    px: np.ndarray, k: int, *, seed: int = 0, iters: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """(k, 3) centres sorted by share, and (k,) shares, of (N, 3) colours."""
    rng = np.random.default_rng(seed)
    k = min(k, len(px))
    centres = px[rng.choice(len(px), k, replace=False)]
    for _ in range(iters):
        d = ((px[:, None, :] - centres[None]) ** 2).sum(-1)
        a = d.argmin(1)
        for j in range(k):
            m = a == j
            if m.any():
                centres[j] = px[m].mean(0)
    counts = np.bincount(a, minlength=k).astype(float)
    order = np.argsort(-counts)
    return centres[order], counts[order] / counts.sum()


def _label(rgb: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """(labels (h, w), horizon fraction, sky visible) from colour and position cues."""
    h, w = valid.shape
    hue, sat, val = _hsv(rgb)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    gy, gx = np.gradient(val)
    texture = np.hypot(gx, gy)
    rows = np.arange(h)[:, None] / h
    blue_sky = (hue > 180) & (hue < 260) & (b > r) & (val > 0.35) & (sat > 0.12)
    grey_sky = (sat < 0.14) & (val > 0.55)
    warm_sky = (val > 0.45) & (hue < 60) & (texture < 0.04)  # sunset glow
    sky_like = (blue_sky | grey_sky | warm_sky) & (texture < 0.08) & valid
    # Each column's sky run from the top (allowing a few non-sky pixels: clouds, birds).
    in_run = np.cumsum(~sky_like, axis=0) <= max(2, h // 60)  # (h, w), True then False
    run = np.where(in_run & sky_like, np.arange(1, h + 1)[:, None], 0).max(axis=0)  # (w,)
    sky_cols = run > h * 0.05
    sky_visible = bool(sky_cols.mean() > 0.3)
    horizon = float(np.median(run[sky_cols]) / h) if sky_visible else 0.5
    # A straight edge across most of the width above that (sea against sky, which is as blue
    # as the sky) is the true horizon.
    step = np.zeros((h, w), bool)
    step[1:] = np.abs(np.diff(rgb, axis=0)).sum(-1) > 0.1
    straight = np.flatnonzero(step.mean(axis=1) > 0.6)
    straight = straight[(straight > 0.05 * h) & (straight < horizon * h - 1)]
    if sky_visible and len(straight):
        horizon = float(straight[0] / h)
        run = np.minimum(run, straight[0])
    horizon = float(np.clip(horizon, 0.08, 0.92))
    sky = (np.arange(h)[:, None] < run[None, :]) & sky_like
    exg = 2 * g - r - b
    green = (exg > 0.05) & (hue > 60) & (hue < 170)
    water = blue_sky & ~sky & (rows > horizon) | (
        (hue > 170) & (hue < 250) & (sat > 0.15) & (rows > horizon) & (texture < 0.06)
    )
    labels = np.full((h, w), GROUND, np.uint8)
    above = rows < horizon
    labels[above & ~sky] = UPRIGHT
    labels[above & ~sky & green] = VEGETATION
    labels[sky] = SKY
    labels[water & ~above] = WATER
    # Standing things continue below the horizon down to where their colour ends.
    hz = round(horizon * h)
    if 0 < hz < h:
        base = labels[hz - 1].copy()
        ref = rgb[hz - 1].copy()
        stand_col = (base == VEGETATION) | (base == UPRIGHT)
        for v in range(hz, min(h, hz + int(0.35 * h))):
            same = stand_col & (np.abs(rgb[v] - ref).sum(-1) < 0.18) & (labels[v] == GROUND)
            if not same.any():
                break
            labels[v, same] = base[same]
            stand_col &= same
    labels[~valid] = SKY  # transparent pixels are not placed
    return labels, horizon, sky_visible


def analyse_image(image: LoadedImage, *, seed: int = 0) -> ImageAnalysis:
    """Read light, palette, horizon and regions from a decoded image (see the module docstring)."""
    rgb, valid = _resize(image.rgb, image.valid, ANALYSIS_SIDE)
    px = rgb[valid]  # (N, 3)
    luma = px @ np.array([0.2126, 0.7152, 0.0722])
    hue, sat, val = _hsv(px)
    brightness = float(luma.mean())
    contrast = float(luma.std())
    saturation = float(sat.mean())
    mean = px.mean(0)
    warmth = float((mean[0] - mean[2]) / max(mean[0] + mean[2], 1e-6))
    cct = correlated_colour_temperature(mean)
    labels, horizon, sky_visible = _label(rgb, valid)
    lv = labels[valid]
    names = ("sky", "ground", "water", "vegetation", "upright")
    fractions = {n: float((lv == i).mean()) for i, n in enumerate(names)}
    centres, _shares = _kmeans(px[:: max(1, len(px) // 4000)].astype(np.float64), 5, seed=seed)
    palette = [tuple(float(c) for c in ctr) for ctr in np.clip(centres, 0, 1)]

    # Ground cover: what the non-sky pixels are made of.
    gm = lv != SKY
    gh, gs, gv = hue[gm], sat[gm], val[gm]
    n = max(int(gm.sum()), 1)
    cover = {
        "snow": float(((gs < 0.12) & (gv > 0.75)).sum() / n),
        "sand": float(((gh > 25) & (gh < 55) & (gs > 0.18) & (gs < 0.65) & (gv > 0.55)).sum() / n),
        "red_rock": float(((gh < 28) & (gs > 0.35) & (gv > 0.3)).sum() / n),
        "grey_rock": float(((gs < 0.15) & (gv > 0.25) & (gv <= 0.75)).sum() / n),
        "green": float(((gh > 60) & (gh < 170) & (gs > 0.15)).sum() / n),
        "dark_green": float(((gh > 60) & (gh < 170) & (gs > 0.15) & (gv < 0.35)).sum() / n),
        "water": float((lv == WATER).sum() / n),
    }
    scores = {
        "snow": cover["snow"] * 1.6,
        "desert": cover["sand"] * (1.0 - min(1.0, 4 * cover["water"])),
        "beach": cover["sand"] * min(1.0, 4 * cover["water"]) * 1.5 + 0.6 * cover["water"],
        "canyon": cover["red_rock"] * 1.2,
        "alpine": cover["grey_rock"] * 0.8,
        "conifer_forest": cover["dark_green"] * 1.4,
        "broadleaf_forest": max(0.0, cover["green"] - cover["dark_green"])
        * (fractions["vegetation"] > 0.12),
        "meadow": max(0.0, cover["green"] - cover["dark_green"]) * (fractions["vegetation"] <= 0.12)
        + 0.05,
    }
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    top = [(b, s) for b, s in ranked if s >= 0.5 * ranked[0][1] and s > 0.04][:2]
    total = sum(s for _, s in top)
    biomes = [(b, round(s / total, 3)) for b, s in top]

    # Light -> hour and weather.
    sky_px = rgb[(labels == SKY) & valid]
    sky_warm = float((sky_px[:, 0] - sky_px[:, 2]).mean()) if len(sky_px) > 20 else warmth * 0.5
    if brightness < 0.1:
        hour = 22.5
    elif sky_warm > 0.12 and brightness < 0.5:
        hour = 19.0  # sunset glow (or dawn: a photo cannot tell; evening is the common case)
    elif warmth > 0.12:
        hour = 17.5  # golden hour
    elif brightness > 0.5:
        hour = 12.5
    else:
        hour = 10.0
    sky_sat = float(_hsv(sky_px)[1].mean()) if len(sky_px) > 20 else 0.3
    if contrast < 0.07 and brightness > 0.45 and saturation < 0.15:
        weather = "fog"
    elif sky_visible and sky_sat < 0.1 and hour < 20:
        weather = "cloudy"
    else:
        weather = "clear"
    water = cover["water"] > 0.06
    return ImageAnalysis(
        brightness, contrast, saturation, warmth, cct, palette, horizon, sky_visible,
        labels, fractions, cover, hour, weather, biomes, water, list(image.notes),
    )  # fmt: skip


# --- spec and backdrop ------------------------------------------------------------------------


def _text_named(spec: WorldSpec, what: str) -> bool:
    """Whether the prompt named `what` ("biome", "hour", "weather") explicitly."""
    return any(
        u.via in ("lexicon", "embedding", "number") and u.became.startswith(what)
        for u in spec.understood
    )


def image_to_spec(
    analysis: ImageAnalysis, *, prompt: str = "", seed: int = 0, name: str = "image"
) -> WorldSpec:
    """A WorldSpec matching the photo; what a non-empty `prompt` names explicitly wins.

    Raises pipelines.text.PromptError for a bad prompt.
    """
    from pipelines.text import text_to_spec
    from studio.spec import Understood

    spec = text_to_spec(prompt, seed) if prompt.strip() else WorldSpec(seed=seed, prompt="")
    data = spec.model_dump()
    said: list[dict] = []
    if not _text_named(spec, "biome"):
        data["biomes"] = [
            BiomeWeight(biome=b, weight=max(w, 0.05)).model_dump() for b, w in analysis.biomes
        ]  # type: ignore[arg-type]
        said.append(
            {
                "phrase": name,
                "became": "biome " + ", ".join(b for b, _ in analysis.biomes),
                "via": "default",
            }
        )
        if analysis.water:
            beachy = any(b == "beach" for b, _ in analysis.biomes)
            data["terrain"]["ocean" if beachy else "lakes"] = True
    if not _text_named(spec, "hour"):
        data["hour"] = analysis.hour
        said.append(
            {
                "phrase": name,
                "became": f"hour {int(analysis.hour):02d}:{int(analysis.hour % 1 * 60):02d} (light {analysis.cct_kelvin:.0f} K)",
                "via": "default",
            }
        )
    if not _text_named(spec, "weather"):
        data["weather"] = WeatherSpec(
            kind=analysis.weather, fog_density=0.3 if analysis.weather == "fog" else 0.0
        ).model_dump()  # type: ignore[arg-type]
    warm, sat = analysis.warmth, analysis.saturation
    mood = (
        "dark" if analysis.brightness < 0.15
        else "golden" if warm > 0.15
        else "warm" if warm > 0.06
        else "cool" if warm < -0.08
        else "muted" if sat < 0.12
        else "vivid" if sat > 0.45
        else "neutral"
    )  # fmt: skip
    if spec.palette.mood == "neutral":
        mean = np.mean(np.asarray(analysis.palette[:3]), axis=0)
        data["palette"] = Palette(
            mood=mood,
            saturation=float(np.clip(sat / 0.3, 0.5, 1.6)),
            brightness=float(np.clip(analysis.brightness / 0.42, 0.6, 1.4)),
            tint=tuple(float(c) for c in np.clip(mean, 0, 1)),
            accent=analysis.palette[1] if len(analysis.palette) > 1 else None,
        ).model_dump()
    data["understood"] = [u.model_dump() for u in spec.understood] + [
        Understood(**s).model_dump() for s in said
    ]
    data["notes"] = list(spec.notes) + list(analysis.notes)
    if not data["prompt"]:
        data["prompt"] = f"(image {name})"
    return WorldSpec.from_dict(data)


def popup_camera(world, image: LoadedImage, analysis: ImageAnalysis, *, side: int = POPUP_SIDE):
    """The photo's camera at the world's spawn: spawn yaw, pitch from the horizon, EXIF vfov."""
    h, w = image.valid.shape
    s = min(1.0, side / max(h, w))
    W, H = max(1, round(w * s)), max(1, round(h * s))
    vfov = image.vfov or DEFAULT_VFOV
    spawn = world.spawn_camera(width=W, height=H, eye=EYE_HEIGHT)
    f = 0.5 * H / np.tan(np.radians(vfov) / 2)
    pitch = float(np.degrees(np.arctan((analysis.horizon - 0.5) * H / f)))
    return Camera(spawn.position, yaw=spawn.yaw, pitch=pitch, vfov=vfov, width=W, height=H)


def image_backdrop(
    world, image: LoadedImage, analysis: ImageAnalysis, *, side: int = POPUP_SIDE
) -> Backdrop:
    """The photo pop-up at `world`'s spawn, draped on its terrain (a `Backdrop`)."""
    cam = popup_camera(world, image, analysis, side=side)
    rgb, valid = _resize(image.rgb, image.valid, side)
    labels = np.asarray(
        Image.fromarray(analysis.labels).resize((cam.width, cam.height), Image.Resampling.NEAREST)
    )
    labels = np.where(valid, labels, SKY).astype(np.uint8)
    ground = float(cam.position[1] - EYE_HEIGHT)
    g = photo_popup(rgb, labels, cam, ground_height=ground, terrain_height=world.height_at)
    boxes = popup_colliders(labels, cam, ground_height=ground, terrain_height=world.height_at)
    return Backdrop(
        "photo", g, spawn=cam.position, look_at=cam.position + cam.forward, source=image.name,
        colliders=boxes,
    )  # fmt: skip


def depth_backdrop(
    world, image: LoadedImage, analysis: ImageAnalysis, depth: np.ndarray, *, side: int = POPUP_SIDE
) -> Backdrop:
    """Pixels lifted to surfels by a depth model's map (relative depth or disparity).

    depth (h, w): the model's output at any size. Its values are aligned to the ground-plane
    depth of the ground pixels by least squares (depth ≈ a * pred + b); an inverse (disparity)
    output is detected by a negative fit and inverted first.
    """
    cam = popup_camera(world, image, analysis, side=side)
    rgb, valid = _resize(image.rgb, image.valid, side)
    H, W = cam.height, cam.width
    pred = np.asarray(
        Image.fromarray(np.asarray(depth, np.float32)).resize((W, H), Image.Resampling.BILINEAR),
        np.float64,
    )
    labels = np.asarray(Image.fromarray(analysis.labels).resize((W, H), Image.Resampling.NEAREST))
    K = cam.K()
    f = K[0, 0]
    u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    body = np.stack([(u - K[0, 2]) / f, -(v - K[1, 2]) / f, -np.ones_like(u)], axis=-1)
    d = body @ cam.R_world_body.T  # (H, W, 3); the view-axis depth of a ray point is t
    with np.errstate(divide="ignore"):
        t_plane = np.where(d[..., 1] < -1e-3, EYE_HEIGHT / -d[..., 1], np.inf)
    ground = (labels == GROUND) & np.isfinite(t_plane) & (t_plane < 80) & valid
    if ground.sum() < 20:
        raise ValueError(
            "too few ground pixels to align the depth model's scale; use the default pop-up"
        )
    depth_m = fit_depth_scale(pred[ground], t_plane[ground], pred)
    keep = valid & (labels != SKY) & (depth_m > 0.1) & np.isfinite(depth_m)
    pts = cam.position + d[keep] * depth_m[keep][:, None]
    pix = depth_m[keep] / f
    from studio.assets.surfels import quats_z_to

    nrm = -d[keep] / np.linalg.norm(d[keep], axis=1, keepdims=True)
    q = quats_z_to(nrm, np.zeros(len(nrm)))
    sc = np.stack([0.7 * pix, 0.7 * pix, 0.05 * pix], axis=1)
    g = Gaussians(pts, q, sc, np.full(len(pts), 0.97), np.clip(rgb[keep], 0, 1))
    return Backdrop(
        "photo", g, spawn=cam.position, look_at=cam.position + cam.forward, source=image.name
    )


def photo_backdrop(
    world, image: LoadedImage, analysis: ImageAnalysis, *, depth: str = "off",
    side: int = POPUP_SIDE,
) -> Backdrop:  # fmt: skip
    """The photo lifted at `world`'s spawn: by a local depth model, or as the model-free pop-up.

    depth: ``"off"`` (the pop-up), ``"auto"`` (a local depth model if one is found) or the name
    or folder of a local depth model (as `tidepool models list` shows it). With ``"auto"`` and
    no depth model on disk (or too little ground in the photo to align the model's scale), the
    pop-up is used and a warning is logged. A named model that is missing raises `pipelines.neural.NeuralUnavailable`; one that cannot be aligned raises ImageError.
    """
    if depth == "off":
        return image_backdrop(world, image, analysis, side=side)
    from pipelines.neural import NeuralUnavailable, load_depth

    try:
        model = load_depth(None if depth == "auto" else depth)
    except NeuralUnavailable as e:
        if depth != "auto":
            raise
        log.info("no depth model (%s); using the pop-up", e)
        return image_backdrop(world, image, analysis, side=side)
    pred = model.predict(image.rgb)  # (h, w) at the model's resolution
    try:
        return depth_backdrop(world, image, analysis, pred, side=side)
    except ValueError as e:
        if depth != "auto":
            raise ImageError(f"{image.name}: {e} (or pass --depth off)") from None
        log.warning("%s: %s; using the pop-up", image.name, e)
        return image_backdrop(world, image, analysis, side=side)


KEYFRAME_SIZE = (768, 432)
"""Width, height (pixels; multiples of 8 for latent diffusion) of a `--neural-look` keyframe."""


def keyframe_image(
    prompt: str, *, seed: int, model: str | None = None, size: tuple[int, int] = KEYFRAME_SIZE
) -> Image.Image:
    """A keyframe painted from `prompt` by a local text-to-image model, for the photo path.

    Raises pipelines.neural.NeuralUnavailable (saying how to get a model) when none is on disk.
    """
    from pipelines.neural import load_text2image

    width, height = size
    if width % 8 or height % 8:
        raise ValueError(f"keyframe size {width}x{height} must be multiples of 8, e.g. 768x432")
    rgb = load_text2image(model).generate(prompt, seed=seed, width=width, height=height)
    return Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))


def fit_depth_scale(pred: np.ndarray, target: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Least-squares a, b with target ≈ a * pred + b on samples, applied to `full`.

    If the fit's slope is negative, `pred` is a disparity (larger = nearer): refit on 1/pred.
    """
    A = np.stack([pred, np.ones_like(pred)], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, target, rcond=None)
    if a > 0:
        return a * full + b
    inv = 1.0 / np.maximum(pred, 1e-6)
    A = np.stack([inv, np.ones_like(inv)], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, target, rcond=None)
    return a / np.maximum(full, 1e-6) + b
