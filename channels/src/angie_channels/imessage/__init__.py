"""iMessage: Angie through a BlueBubbles server on a Mac."""
