"""The CPU (numba) and CUDA (gsplat) splat backends against the numpy reference and analytic values."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import numba
import numpy as np
import pytest

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.render import Cancel, Frame, RenderCancelled, RenderError, render, render_view
from studio.render.api import auto_backend, describe_auto
from studio.render.common import prepare_inputs
from studio.render.cuda import GSPLAT_ALPHA_MAX, cuda_available, cuda_problem
from studio.render.reference import render_reference

GARDEN = Path(__file__).parents[2] / "data" / "test_garden.npz"
BG = (0.2, 0.4, 0.6)  # x 255 is whole, so the expected uint8 background is exact


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when equal)."""
    mse = np.mean(((a.astype(np.float64) - b.astype(np.float64)) / 255.0) ** 2)
    return float("inf") if mse == 0 else float(-10 * np.log10(mse))


def differences(frame: Frame, ref: Frame) -> tuple[float, float, float]:
    """RGB PSNR (dB), the largest relative depth error where the reference's alpha > 0.5, and
    the largest alpha error: what the issue's bars are stated in."""
    solid = ref.alpha > 0.5
    depth = np.abs(frame.depth[solid] - ref.depth[solid]) / np.abs(ref.depth[solid])
    return (psnr(frame.rgb, ref.rgb), float(depth.max(initial=0.0)),
            float(np.abs(frame.alpha - ref.alpha).max()))  # fmt: skip


def assert_matches(frame: Frame, ref: Frame, *, min_psnr: float = 45.0) -> None:
    """The issue's bars: RGB PSNR >= 45 dB and depth within 1% where alpha > 0.5."""
    assert frame.rgb.shape == ref.rgb.shape and frame.rgb.dtype == np.uint8
    assert frame.depth.dtype == np.float32 and frame.alpha.dtype == np.float32
    rgb_psnr, depth_err, alpha_err = differences(frame, ref)
    assert rgb_psnr >= min_psnr
    assert depth_err <= 0.01
    assert alpha_err <= 0.01


def random_scene(n: int, *, seed: int, scale: tuple[float, float], anisotropy: float,
                 opacity: tuple[float, float], extent: float = 2.0) -> Gaussians:  # fmt: skip
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    base = rng.uniform(*scale, (n, 1))
    stretch = np.exp(
        rng.uniform(0, np.log(anisotropy), (n, 3))
    )  # per-axis factors in [1, anisotropy]
    return Gaussians(
        means=rng.uniform(-extent, extent, (n, 3)),
        quats=q / np.linalg.norm(q, axis=1, keepdims=True),
        scales=base * stretch / anisotropy**0.5,
        opacities=rng.uniform(*opacity, n),
        colors=rng.uniform(0, 1, (n, 3)),
    )


def front_camera(width: int = 160, height: int = 120, distance: float = 6.0) -> Camera:
    return Camera(position=np.array([0.3, 0.2, distance]), width=width, height=height).look_at(
        np.zeros(3)
    )


RANDOM_SCENES = pytest.mark.parametrize(
    ("n", "scale", "anisotropy", "opacity", "seed"),
    [
        (400, (0.05, 0.4), 1.0, (0.05, 1.0), 0),  # round, all opacities
        (1500, (0.02, 0.3), 30.0, (0.2, 1.0), 1),  # needles and discs
        (3000, (0.05, 0.2), 4.0, (0.9, 1.0), 2),  # dense and opaque: early termination
        (200, (0.001, 0.01), 1.0, (0.5, 1.0), 3),  # sub-pixel: the 0.3 px² low-pass dominates
    ],
)
"""The random scenes each backend is held to the reference on."""

needs_cuda = pytest.mark.skipif(
    not cuda_available(), reason=f"needs a CUDA GPU with gsplat: {cuda_problem()}"
)


@RANDOM_SCENES
def test_cpu_matches_reference_on_random_scenes(n, scale, anisotropy, opacity, seed):
    g = random_scene(n, seed=seed, scale=scale, anisotropy=anisotropy, opacity=opacity)
    cam = front_camera()
    ref = render(g, cam, background=BG, backend="reference")
    assert ref.alpha.max() > 0.5  # the scene is in view
    assert_matches(render(g, cam, background=BG, backend="cpu"), ref)


def garden_scene(n: int = 40_000) -> tuple[Gaussians, np.lib.npyio.NpzFile]:
    data = np.load(GARDEN)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(len(data["means3d"]), n, replace=False))
    g = Gaussians(
        means=data["means3d"][idx],
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        scales=np.full((n, 3), 0.02),
        opacities=np.full(n, 0.9),
        colors=data["colors"][idx] / 255.0,
    )
    return g, data


@pytest.mark.parametrize("cam_id", [0, 1, 2])
def test_cpu_matches_reference_on_the_garden(cam_id):
    g, data = garden_scene()
    factor = 3  # a third of the real resolution keeps the reference at about a second
    K = data["Ks"][cam_id].astype(np.float64)
    K[:2] /= factor
    W, H = int(data["width"]) // factor, int(data["height"]) // factor
    ref = render_view(g, data["viewmats"][cam_id], K, W, H, backend="reference")
    assert (ref.alpha > 0.5).mean() > 0.8  # the garden fills most of the frame
    assert_matches(render_view(g, data["viewmats"][cam_id], K, W, H, backend="cpu"), ref)


@pytest.mark.cuda
@needs_cuda
@RANDOM_SCENES
def test_cuda_matches_reference_on_random_scenes(n, scale, anisotropy, opacity, seed):
    g = random_scene(n, seed=seed, scale=scale, anisotropy=anisotropy, opacity=opacity)
    cam = front_camera()
    inp = prepare_inputs(g, cam.viewmat(), cam.K(), cam.width, cam.height, near=cam.near,
                         far=cam.far, background=BG)  # fmt: skip
    ref = render_reference(inp, alpha_max=GSPLAT_ALPHA_MAX)  # gsplat hard-codes 0.999
    assert ref.alpha.max() > 0.5
    assert_matches(render(g, cam, background=BG, backend="cuda"), ref)


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("cam_id", [0, 1, 2])
def test_cuda_matches_reference_on_the_garden(cam_id):
    g, data = garden_scene()
    K = data["Ks"][cam_id].astype(np.float64)
    K[:2] /= 3
    W, H = int(data["width"]) // 3, int(data["height"]) // 3
    inp = prepare_inputs(g, data["viewmats"][cam_id], K, W, H, near=0.01, far=1e10,
                         background=BG)  # fmt: skip
    ref = render_reference(inp, alpha_max=GSPLAT_ALPHA_MAX)
    assert (ref.alpha > 0.5).mean() > 0.8
    assert_matches(render_view(g, data["viewmats"][cam_id], K, W, H, background=BG,
                               backend="cuda"), ref)  # fmt: skip


def one_gaussian(pos, *, scale=0.1, opacity=0.8, color=(1.0, 0.5, 0.25)) -> Gaussians:
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), (3,))
    return Gaussians(
        np.array([pos], dtype=np.float64), np.array([[1.0, 0, 0, 0]]), s[None], [opacity], [color]
    )


def axis_camera(width=64, height=48) -> Camera:
    """At the origin looking down -Z (OpenCV z forward = world -Z), principal point at the centre."""
    return Camera(position=np.zeros(3), width=width, height=height, vfov=60.0)


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_single_gaussian_matches_the_closed_form(backend):
    # Odd sizes put the principal point (W/2, H/2) on the centre of pixel (32, 24).
    cam = axis_camera(65, 49)
    z, s, op = 5.0, 0.1, 0.8
    g = one_gaussian([0.0, 0.0, -z], scale=s, opacity=op)
    frame = render(g, cam, backend=backend)
    f = cam.K()[0, 0]
    var = (f * s / z) ** 2 + 0.3  # on the axis the Jacobian is diag(f/z); plus the low-pass
    for du, dv in [(0, 0), (1, 0), (0, 2), (-2, 1), (3, -3)]:
        expected = op * np.exp(-0.5 * (du * du + dv * dv) / var)
        expected = expected if expected >= 1 / 255 else 0.0  # fainter alphas are skipped
        assert frame.alpha[24 + dv, 32 + du] == pytest.approx(expected, rel=1e-3)
        assert frame.depth[24 + dv, 32 + du] == pytest.approx(z if expected else 0.0, rel=1e-5)
    assert frame.rgb[24, 32].tolist() == [round(op * 255), round(op * 127.5), round(op * 63.75)]


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_empty_and_transparent_scenes_show_the_background(backend):
    cam = axis_camera(33, 17)
    bg_u8 = np.round(np.array(BG) * 255).astype(np.uint8)
    for g in [Gaussians.empty(), one_gaussian([0, 0, -3.0], opacity=0.0)]:
        frame = render(g, cam, background=BG, backend=backend)
        assert (frame.rgb == bg_u8).all()
        assert (frame.alpha == 0).all() and (frame.depth == 0).all()


def test_background_is_honoured_where_alpha_is_zero():
    g = random_scene(100, seed=4, scale=(0.02, 0.1), anisotropy=1.0, opacity=(0.5, 1.0))
    frame = render(g, front_camera(), background=BG, backend="cpu")
    empty = frame.alpha == 0
    assert 0.1 < empty.mean() < 0.99
    assert (frame.rgb[empty] == np.round(np.array(BG) * 255).astype(np.uint8)).all()


def test_gaussians_behind_the_camera_are_not_drawn():
    cam = axis_camera()
    behind = one_gaussian([0.0, 0.0, 2.0], scale=0.5, opacity=1.0)  # world +Z is behind
    for backend in ("cpu", "reference"):
        assert (render(behind, cam, backend=backend).alpha == 0).all()


def test_straddling_the_near_plane_and_huge_gaussians_match_the_reference():
    cam = axis_camera(80, 60)
    straddle = one_gaussian([0.1, 0.0, -(cam.near + 0.02)], scale=(0.2, 0.05, 0.3), opacity=0.7)
    huge = one_gaussian([0.5, -0.3, -4.0], scale=100.0, opacity=0.6, color=(0.1, 0.9, 0.3))
    # Variance beyond SIGMA2_MAX px² (its eigenvalues are clamped), among ordinary splats.
    vast = one_gaussian(
        [0.2, 0.1, -8.0], scale=(3e4, 2e4, 1e-3), opacity=0.3, color=(0.9, 0.2, 0.2)
    )
    small = random_scene(300, seed=5, scale=(0.02, 0.1), anisotropy=3.0, opacity=(0.3, 1.0))
    small = small.transform(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, -6.0], [0, 0, 0, 1]]))
    mixed = Gaussians.concat(
        [small.subset(slice(0, 150)), vast, straddle, huge, small.subset(slice(150, None))]
    )
    for g in [straddle, huge, vast, mixed]:
        ref = render(g, cam, background=BG, backend="reference")
        assert ref.alpha.max() > 0.1
        assert_matches(render(g, cam, background=BG, backend="cpu"), ref)
    # A screen-covering Gaussian is flat: alpha equals its opacity everywhere.
    np.testing.assert_allclose(render(huge, cam, backend="cpu").alpha, 0.6, atol=1e-3)


def test_odd_sizes_match_the_reference_and_follow_the_camera():
    g = random_scene(300, seed=6, scale=(0.05, 0.3), anisotropy=5.0, opacity=(0.2, 1.0))
    cam = front_camera(160, 90)
    frame = render(g, cam, width=641, height=359, background=BG, backend="cpu")
    assert frame.rgb.shape == (359, 641, 3) and frame.depth.shape == (359, 641)
    ref = render(g, cam.with_size(641, 359), background=BG, backend="reference")
    assert_matches(frame, ref)


def test_float64_and_non_contiguous_inputs_are_converted():
    g = random_scene(500, seed=7, scale=(0.05, 0.3), anisotropy=5.0, opacity=(0.2, 1.0))
    cam = front_camera()
    expected = render(g, cam, backend="cpu")
    odd = Gaussians.empty()  # the constructor converts; assign afterwards to bypass it
    odd.means = np.asfortranarray(g.means.astype(np.float64))
    odd.quats = (g.quats.astype(np.float64) * 3.0)[:, ::1]  # unnormalised: normalised on use
    odd.scales = np.repeat(g.scales, 2, axis=0)[::2]  # a strided view
    odd.opacities = g.opacities.astype(np.float64)
    odd.colors = np.ascontiguousarray(g.colors.T).T  # transposed layout
    assert not odd.scales.flags.c_contiguous and not odd.colors.flags.c_contiguous
    frame = render(odd, cam, backend="cpu")
    assert psnr(frame.rgb, expected.rgb) >= 60
    np.testing.assert_allclose(frame.alpha, expected.alpha, atol=1e-5)


def test_non_finite_gaussians_never_draw():
    g = random_scene(300, seed=9, scale=(0.05, 0.3), anisotropy=3.0, opacity=(0.3, 1.0))
    cam = front_camera()
    clean = render(g, cam, background=BG, backend="cpu")
    broken = Gaussians.concat([g, g.subset(slice(0, 4))])
    broken.means[300, 0] = np.nan
    broken.colors[301, 1] = np.inf
    broken.scales[302, 2] = np.nan
    broken.quats[303] = 0.0
    for backend in ("cpu", "reference"):
        frame = render(broken, cam, background=BG, backend=backend)
        assert psnr(frame.rgb, clean.rgb) >= 45 and np.isfinite(frame.depth).all()


def test_bad_inputs_are_rejected_with_a_message_naming_them():
    cam = axis_camera()
    g = one_gaussian([0, 0, -3.0])
    bad = Gaussians.empty()
    bad.means, bad.quats, bad.scales = g.means, g.quats, np.zeros((2, 3))
    bad.opacities, bad.colors = g.opacities, g.colors
    with pytest.raises(RenderError, match="scales"):
        render(bad, cam, backend="cpu")
    with pytest.raises(RenderError, match="background"):
        render(g, cam, background=(0, 0, 2.0), backend="cpu")
    with pytest.raises(RenderError, match="backend"):
        render(g, cam, backend="vulkan")  # type: ignore[arg-type]


def test_result_does_not_depend_on_the_thread_count():
    g = random_scene(2000, seed=8, scale=(0.05, 0.3), anisotropy=10.0, opacity=(0.2, 1.0))
    cam = front_camera(200, 150)
    many = render(g, cam, backend="cpu")
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = render(g, cam, backend="cpu")
    finally:
        numba.set_num_threads(before)
    assert (one.rgb == many.rgb).all()
    np.testing.assert_array_equal(one.depth, many.depth)


def test_a_scaled_view_matrix_matches_the_reference():
    """The CPU backend culls early with a bound on each splat's extent that uses the view
    rotation's norm. Under a view matrix that also scales (not a rigid camera), splats centred
    just outside the image still reach into it, and must be drawn as the reference draws them."""
    cam = Camera(position=np.zeros(3), width=200, height=150)  # looks down -Z
    K = cam.K()
    rng = np.random.default_rng(9)
    n = 3000
    z = rng.uniform(4.0, 8.0, n)
    sigma = 0.15  # metres; about 4 px at 6 m before scaling
    # Centres up to 3.3 σ x 1.7 (in pixels) outside the image's left and right edges.
    reach = 3.3 * sigma * K[0, 0] / z * 1.7
    side = rng.choice([-1.0, 1.0], n)
    u = np.where(side < 0, -rng.uniform(0, 1, n) * reach, 200 + rng.uniform(0, 1, n) * reach)
    v = rng.uniform(0, 150, n)
    x_cam = (u - K[0, 2]) / K[0, 0] * z
    y_cam = (v - K[1, 2]) / K[1, 1] * z
    means = (cam.T_world_camera @ np.stack([x_cam, y_cam, z, np.ones(n)]))[:3].T / 1.7
    g = Gaussians(
        means=means,
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        scales=np.full((n, 3), sigma / 1.7),
        opacities=np.ones(n) * 0.9,
        colors=rng.uniform(0, 1, (n, 3)),
    )
    V = cam.viewmat().copy()
    V[:3, :] *= 1.7  # camera coordinates 1.7x larger: the splats land where planned above
    ref = render_view(g, V, K, 200, 150, background=BG, backend="reference")
    assert (ref.alpha > 0.1).mean() > 0.05  # the splats beyond the edges do reach in
    assert_matches(render_view(g, V, K, 200, 150, background=BG, backend="cpu"), ref)


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_a_cancelled_render_raises_and_leaves_nothing_behind(backend):
    g = random_scene(800, seed=10, scale=(0.05, 0.3), anisotropy=4.0, opacity=(0.2, 1.0))
    cam = front_camera(120, 90)
    cancel = Cancel()
    cancel.set()
    with pytest.raises(RenderCancelled):
        render(g, cam, background=BG, backend=backend, cancel=cancel)
    cancel.clear()
    again = render(g, cam, background=BG, backend=backend, cancel=cancel)
    fresh = render(g, cam, background=BG, backend=backend)
    np.testing.assert_array_equal(again.rgb, fresh.rgb)
    np.testing.assert_array_equal(again.depth, fresh.depth)


def test_a_render_is_cancelled_from_another_thread_while_it_runs():
    """What the live viewport does when a key arrives mid-frame: another thread sets the flag
    and the render stops with RenderCancelled instead of finishing a frame nobody wants."""
    g = random_scene(1_000_000, seed=11, scale=(0.01, 0.05), anisotropy=2.0, opacity=(0.5, 1.0),
                     extent=5.0)  # fmt: skip
    cam = front_camera(1280, 720, distance=12.0)
    cancel = Cancel()
    started = threading.Event()
    outcome: list[object] = []

    def run() -> None:
        started.set()
        try:
            outcome.append(render(g, cam, backend="cpu", cancel=cancel))
        except RenderCancelled as e:
            outcome.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    started.wait()
    cancel.set()
    worker.join(timeout=60)
    assert not worker.is_alive() and isinstance(outcome[0], RenderCancelled)


def test_cuda_where_it_cannot_render_says_why_and_the_fix():
    if cuda_available():
        pytest.skip("the CUDA backend renders on this machine")
    problem = cuda_problem()
    assert re.search(r"pip install|backend='cpu'|CUDA toolkit", problem)  # it names the fix
    with pytest.raises(RenderError, match=re.escape(problem)):
        render(one_gaussian([0, 0, -3.0]), axis_camera(), backend="cuda")


def test_auto_picks_cpu_without_cuda_and_logs_it(caplog):
    auto_backend.cache_clear()
    with caplog.at_level(logging.INFO, logger="studio.render.api"):
        chosen = auto_backend()
    assert chosen == ("cuda" if cuda_available() else "cpu")
    assert f"chose '{chosen}'" in caplog.text
    if chosen == "cpu":
        assert cuda_problem() in caplog.text  # and why not cuda
    g = one_gaussian([0, 0, -3.0])
    if chosen == "cpu":
        assert (render(g, axis_camera()).rgb == render(g, axis_camera(), backend="cpu").rgb).all()


def test_equal_depths_keep_their_order_like_the_reference():
    # Opaque splats all at one depth (a z-fight): only a stable depth order (memory order among
    # equals) gives the reference's picture, and it must not change with the thread count.
    rng = np.random.default_rng(11)
    n = 3000
    xy = rng.uniform(-1.0, 1.0, (n, 2))
    g = Gaussians(
        means=np.column_stack([xy, np.full(n, -4.0)]),
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        scales=np.tile([0.08, 0.08, 0.01], (n, 1)),
        opacities=np.full(n, 0.99),
        colors=rng.uniform(0, 1, (n, 3)),
    )
    cam = axis_camera(160, 120)
    ref = render(g, cam, background=BG, backend="reference")
    frame = render(g, cam, background=BG, backend="cpu")
    assert_matches(frame, ref)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = render(g, cam, background=BG, backend="cpu")
    finally:
        numba.set_num_threads(before)
    assert (one.rgb == frame.rgb).all()


def test_describe_auto_names_what_frames_render_with():
    import shutil

    line = describe_auto()
    if auto_backend() == "cuda":
        assert line.startswith("GPU (")
    else:
        assert line.startswith(f"CPU (numba, {numba.get_num_threads()} threads)")
        # the reason shows only where a user would expect the GPU
        assert (cuda_problem() in line) == bool(shutil.which("nvidia-smi"))
