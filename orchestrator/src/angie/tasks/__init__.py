"""Tasks: the units of work on Angie's queue, their lifecycle and the worker that runs them."""
