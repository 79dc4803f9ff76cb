"""Every command of the `qfzz` CLI, walked from the top group: each has --help that says what it
does, and --json for scripts (issue 8: "--json on every command")."""

import click
import pytest
from click.testing import CliRunner

from qfzz_chain.cli import cli


def _commands(group: click.Group, ctx: click.Context, path=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, click.Context(command, parent=ctx, info_name=name), path + (name,))
        else:
            yield path + (name,), command


COMMANDS = list(_commands(cli, click.Context(cli, info_name="qfzz")))


def test_the_walk_finds_every_group():
    groups = {path[0] for path, _ in COMMANDS}
    assert {"chain", "track", "ipfs", "recommend", "oracle", "verify", "p2p", "curate", "reputation"} <= groups


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_json_and_a_help(path, command):
    assert "--json" in {opt for param in command.params for opt in getattr(param, "opts", ())}, " ".join(path)
    shown = CliRunner().invoke(cli, [*path, "--help"])
    opening = " ".join((command.help or "").split()[:6])
    assert shown.exit_code == 0 and opening and opening in " ".join(shown.output.split())
