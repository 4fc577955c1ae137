"""Gaussians: validation messages, set operations and transforms against independent math."""

import numpy as np
import pytest

from studio.bench_core import random_gaussians
from studio.gaussians import Gaussians, GaussiansError
from studio.transforms import matrix_to_quat, quat_to_matrix, rot_x, rot_y, rot_z


def covariances(g: Gaussians) -> np.ndarray:
    R = quat_to_matrix(g.quats)
    S = g.scales.astype(np.float64)[:, None, :] ** 2
    return (R * S) @ np.transpose(R, (0, 2, 1))


def test_len_concat_subset():
    a, b = random_gaussians(5, seed=1), random_gaussians(7, seed=2)
    c = Gaussians.concat([a, b])
    assert len(c) == 12
    np.testing.assert_array_equal(c.subset(slice(5, 12)).means, b.means)
    mask = np.zeros(12, bool)
    mask[[0, 11]] = True
    np.testing.assert_array_equal(c.subset(mask).colors, np.stack([a.colors[0], b.colors[-1]]))
    assert len(Gaussians.concat([])) == 0


def test_gather_takes_masked_rows_like_subset_then_concat():
    rng = np.random.default_rng(3)
    parts = [random_gaussians(n, seed=n) for n in (6, 0, 9, 4)]
    parts[2].sh = rng.random((9, 3, 3)).astype(np.float32)  # sh only on one part: dropped
    masks = [rng.random(6) < 0.5, None, rng.random(9) < 0.5, np.zeros(4, bool)]
    got = Gaussians.gather(list(zip(parts, masks, strict=True)))
    want = Gaussians.concat(
        [p if m is None else p.subset(m) for p, m in zip(parts, masks, strict=True)]
    )
    for f in ("means", "quats", "scales", "opacities", "colors"):
        np.testing.assert_array_equal(getattr(got, f), getattr(want, f))
    assert got.sh is None and len(got) == sum(
        len(p) if m is None else int(m.sum()) for p, m in zip(parts, masks, strict=True)
    )
    with_sh = Gaussians.gather([(parts[2], masks[2]), (parts[2], None)])
    np.testing.assert_array_equal(with_sh.sh, np.concatenate([parts[2].sh[masks[2]], parts[2].sh]))
    assert len(Gaussians.gather([(parts[3], masks[3])])) == 0


def test_inputs_become_contiguous_float32():
    g = random_gaussians(4)
    h = Gaussians(
        g.means.astype(np.float64)[::1],
        g.quats[:, :],
        np.asfortranarray(g.scales),
        g.opacities,
        g.colors,
    )
    assert h.means.dtype == np.float32 and h.scales.flags.c_contiguous
    h.validate()


def test_transform_matches_covariance_math():
    g = random_gaussians(50, seed=3)
    R = rot_y(40) @ rot_x(-25) @ rot_z(10)
    s = 2.5
    T = np.eye(4)
    T[:3, :3] = s * R
    T[:3, 3] = (1, -2, 3)
    h = g.transform(T)
    np.testing.assert_allclose(h.means, g.means @ (s * R).T + T[:3, 3], rtol=1e-5, atol=1e-4)
    # Σ' = (sR) Σ (sR)ᵀ is the independent truth for a Gaussian under a similarity transform.
    expected = (s * R) @ covariances(g) @ (s * R).T
    np.testing.assert_allclose(covariances(h), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(h.quats, axis=1), 1, atol=1e-6)


def test_transform_rejects_shear():
    T = np.eye(4)
    T[0, 1] = 0.5
    with pytest.raises(GaussiansError, match="shear"):
        random_gaussians(3).transform(T)


def test_quaternion_matrix_round_trip():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(200, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q *= np.sign(q[:, :1])
    np.testing.assert_allclose(matrix_to_quat(quat_to_matrix(q)), q, atol=1e-9)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("means", np.zeros((4, 2)), "means has shape"),
        ("colors", np.zeros((3, 3)), r"colors has shape \(3, 3\); expected \(4, 3\)"),
        ("scales", -np.ones((4, 3)), "negative"),
        ("opacities", np.full(4, 1.5), r"opacities must lie in \[0, 1\]"),
        ("quats", np.ones((4, 4)), "unit wxyz"),
        ("means", np.full((4, 3), np.nan), "NaN/inf"),
    ],
)
def test_validate_names_field_and_fix(field, value, needle):
    g = random_gaussians(4)
    setattr(g, field, value.astype(np.float32))
    with pytest.raises(GaussiansError, match=needle):
        g.validate()


def test_valid_sets_pass():
    random_gaussians(10).validate()
    Gaussians.empty().validate()
