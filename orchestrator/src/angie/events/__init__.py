"""Events: everything that happens to Angie, and the router that turns them into tasks."""
