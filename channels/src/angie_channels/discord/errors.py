"""discord.py's errors as :class:`ChannelError`: permanent or worth retrying, in words a person
can act on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aiohttp
import discord

from angie_channels.base import ChannelError

__all__ = ("translated",)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """discord.py's errors as :class:`ChannelError` saying what to do."""
    try:
        yield
    except discord.LoginFailure as err:
        raise ChannelError(f"Discord refused the bot token: {err}", permanent=True) from err
    except discord.RateLimited as err:
        raise ChannelError(
            f"Discord is rate limiting Angie: retry in {err.retry_after:.0f} s.",
            retry_after=err.retry_after,
        ) from err
    except discord.DiscordServerError as err:
        raise ChannelError(f"Discord is having trouble (HTTP {err.status}); try again.") from err
    except discord.Forbidden as err:
        raise ChannelError(
            f"Discord does not let the bot do this here (check its permissions): {err.text}",
            permanent=True,
        ) from err
    except discord.NotFound as err:
        raise ChannelError(
            f"That Discord channel or message is gone: {err.text}", permanent=True
        ) from err
    except discord.HTTPException as err:
        if err.status == 429:  # refused before discord.py could wait (no Retry-After)
            raise ChannelError(f"Discord is rate limiting Angie: {err.text}") from err
        if err.status == 401:
            raise ChannelError(
                f"Discord refused the bot token: {err.text}", permanent=True
            ) from err
        raise ChannelError(f"Discord refused the message: {err.text}", permanent=True) from err
    except (aiohttp.ClientError, OSError, TimeoutError) as err:
        raise ChannelError(f"Could not reach Discord: {err}") from err
