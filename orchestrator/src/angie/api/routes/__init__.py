"""One router per resource, all mounted under ``/api`` by the app factory."""
