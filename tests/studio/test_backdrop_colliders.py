"""A photo pop-up's upright layers block the player: their box colliders cover what is drawn,
and walking at one stops at its face (studio.sim, through PhotoWorld.colliders_near)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.backdrop import (
    GROUND,
    SKY,
    UPRIGHT,
    Backdrop,
    PhotoWorld,
    photo_popup,
    popup_colliders,
)
from studio.camera import Camera
from studio.events import InputEvent
from studio.sim import initial_state, step
from studio.sim.player import RADIUS, WALK_SPEED
from studio.spec import Terrain, WorldSpec
from studio.world import World

W, H = 80, 60
RED = (0.7, 0.1, 0.1)


def scene(world_spawn: Camera):
    """A level photo: sky above the middle row, ground below, a red block standing on it."""
    cam = Camera(world_spawn.position.copy(), yaw=world_spawn.yaw, pitch=0.0, vfov=60.0,
                 width=W, height=H)  # fmt: skip
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[:] = (0.3, 0.6, 0.2)
    labels = np.full((H, W), GROUND, np.uint8)
    labels[: H // 2] = SKY
    labels[15:40, 30:50] = UPRIGHT
    rgb[15:40, 30:50] = RED
    labels[10:30, 5:12] = UPRIGHT  # stands above the horizon: a far layer, no collider
    return cam, rgb, labels


def inside_boxes(pts: np.ndarray, boxes: np.ndarray, pad: float = 1e-6) -> np.ndarray:
    """(N,) True where a point lies in at least one (K, 7) box."""
    d = pts[:, None, :] - boxes[None, :, :3]  # (N, K, 3)
    a = np.radians(boxes[:, 6])
    lx = np.cos(a) * d[..., 0] - np.sin(a) * d[..., 2]
    lz = np.sin(a) * d[..., 0] + np.cos(a) * d[..., 2]
    ok = (np.abs(lx) <= boxes[:, 3] + pad) & (np.abs(lz) <= boxes[:, 5] + pad)
    return (ok & (np.abs(d[..., 1]) <= boxes[:, 4] + pad)).any(axis=1)


@pytest.fixture(scope="module")
def photo_world():
    spec = WorldSpec(seed=2, terrain=Terrain(height_scale=0.0))
    plain = World(spec, background=False)
    cam, rgb, labels = scene(plain.spawn_camera(width=W, height=H))
    plain.close()
    ground = float(cam.position[1] - 1.7)
    g = photo_popup(rgb, labels, cam, ground_height=ground)
    boxes = popup_colliders(labels, cam, ground_height=ground)
    back = Backdrop("photo", g, spawn=cam.position, look_at=cam.position + cam.forward,
                    colliders=boxes)  # fmt: skip
    worlds = [
        PhotoWorld(spec, Backdrop.from_bytes(back.to_bytes()), background=False),
        PhotoWorld(spec, Backdrop("photo", g, spawn=back.spawn, look_at=back.look_at),
                   background=False),
    ]  # fmt: skip
    yield cam, g, boxes, worlds
    for w in worlds:
        w.close()


def test_the_layer_boxes_cover_the_drawn_block_and_only_near_layers(photo_world):
    cam, g, boxes, worlds = photo_world
    red = np.all(np.abs(g.colors - RED) < 1e-6, axis=1)
    assert red.sum() == 20 * 25
    assert inside_boxes(g.means[red], boxes).all()
    # The ground and the far layer standing above the horizon (left of the image) get none.
    others = g.means[~red]
    assert not inside_boxes(others[others[:, 1] > cam.position[1] - 1.6], boxes).any()
    assert inside_boxes(others, boxes).mean() < 0.01  # ground only at the block's foot
    assert len(boxes) <= 3  # one straight layer: a box or two, not one per column
    assert np.array_equal(worlds[0].backdrop.colliders, boxes)  # stored with the world


def test_walking_into_an_upright_layer_stops_at_its_face(photo_world):
    cam, g, _, (with_boxes, without) = photo_world
    red = np.all(np.abs(g.colors - RED) < 1e-6, axis=1)
    fwd = cam.forward.copy()
    fwd[1] = 0.0
    fwd /= np.linalg.norm(fwd)
    layer = float(((g.means[red] - cam.position) @ fwd).min())  # nearest drawn point of the block
    assert 6.0 < layer < 12.0

    def walk(world, seconds: float) -> float:
        s = initial_state(world)
        start = s.player.pos.copy()
        s = step(world, s, [InputEvent(tick=0, held=("w",), look=(cam.yaw - s.player.yaw, 0.0))])
        for _ in range(round(seconds * 30)):
            s = step(world, s)
        return float((s.player.pos - start) @ fwd)

    free = walk(without, 4.0)
    assert free == pytest.approx(4.0 * WALK_SPEED, rel=0.02)  # no colliders: walks through
    blocked = walk(with_boxes, 4.0)
    # Stopped by the layer: the body's front within a few centimetres of the block's face.
    assert layer - 0.35 - RADIUS < blocked <= layer - RADIUS + 0.02
