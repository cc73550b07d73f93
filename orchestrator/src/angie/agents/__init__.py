"""Angie's agents: the models they think with, the tools they may use, their audit trail."""
