"""Settings for the one pytest session every test runs in."""

import socket

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Brownie's throwaway anvil on a port of this session's own.

    Brownie's `development` entry is global (~/.brownie) with one fixed port, and Brownie attaches
    to whatever already listens there: two checkouts testing at once would share one chain and
    revert each other's snapshots. The entry is changed in memory only, before Brownie connects.
    """
    try:
        from brownie._config import CONFIG
    except ImportError:
        return
    development = CONFIG.networks.get("development")
    if development is not None:
        development.setdefault("cmd_settings", {})["port"] = _free_port()
