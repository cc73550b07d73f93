"""Workflows: ordered steps across agents and teams, each run as a child task."""
