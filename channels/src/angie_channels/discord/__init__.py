"""Discord: Angie as a Discord bot."""
