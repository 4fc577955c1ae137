"""Exports: takes to video, worlds to splats and meshes, camera moves to DCC tools."""
