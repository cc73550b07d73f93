"""What Angie's Google servers (Gmail, Google Calendar) share: the OAuth client's settings, the
signed-in account and its encrypted tokens, the installed-app sign-in, Google's errors as the
kit's, and a fake OAuth server for tests.

The modules that talk to Google need the ``google`` extra (``angie-mcp-core[google]``);
:mod:`~angie_mcp_core.google.settings` and :mod:`~angie_mcp_core.google.testing` do not.
"""
