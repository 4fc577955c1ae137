"""Inputs to worlds and events: prompt / image / voice -> WorldSpec; directing text -> events."""
