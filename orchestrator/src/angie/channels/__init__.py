"""Angie's side of the chat channels: who a sender is (identities and pairing), the delivery
ledger, and the hub that runs each person's channel adapters (``angie_channels``)."""
