"""Procedural assets: each kind yields a coloured mesh, surface Gaussians and colliders."""

from studio.assets.base import Asset, Collider

__all__ = ["Asset", "Collider"]
