"""The ``qfzz`` command line: one group per user task (chain, track, ipfs, recommend, ...).

Sub-groups are imported only when used, so ``qfzz ipfs cat`` does not pay for web3's import.
A new group is one line in ``_SUBCOMMANDS``.
"""

from __future__ import annotations

import importlib
import sys

import click

from qfzz_chain.errors import QfzzError

# name -> ("module:attribute" of a click group, the one-line help `qfzz --help` shows)
_SUBCOMMANDS = {
    "chain": ("qfzz_chain.cli.chain:chain", "Run a local chain and deploy the contracts."),
    "track": ("qfzz_chain.cli.track:track", "Register tracks by IPFS CID; show and list them."),
    "ipfs": ("qfzz_chain.cli.ipfs:ipfs", "Add, read, pin, export and serve content (kubo-compatible)."),
    "recommend": ("qfzz_chain.cli.recommend:recommend", "Recommend music with explanations; evaluate models."),
    "p2p": ("qfzz_chain.cli.p2p:p2p", "Gossip recommendation between listener nodes: simulate, run a node, ask it."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_SUBCOMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _SUBCOMMANDS:
            module_name, attribute = _SUBCOMMANDS[name][0].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _SUBCOMMANDS[name][1]) for name in self.list_commands(ctx) if name in _SUBCOMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qfzz-chain", prog_name="qfzz")
def cli() -> None:
    """QFZZ chain: register tracks by IPFS CID, recommend music, and verify it all on-chain.

    \b
    Typical session:
      qfzz chain up                      start a local chain (state kept on disk)
      qfzz chain deploy                  deploy the contracts, write the deployment record
      qfzz track register song.wav --title "My song"
      qfzz track list --json

    Every command takes --json for scripts. Errors print one line and exit non-zero.
    """


def _node_error(exc: Exception) -> bool:
    """An error answered by a chain node or the network (only libraries already loaded can raise)."""
    kinds: list[type] = []
    if "web3" in sys.modules:
        from web3.exceptions import Web3Exception

        kinds.append(Web3Exception)
    if "requests" in sys.modules:
        import requests

        kinds.append(requests.exceptions.RequestException)
    return isinstance(exc, tuple(kinds))


def main() -> None:
    """Entry point: a project error is one line on stderr and exit status 1, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except QfzzError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        if not _node_error(exc):
            raise
        detail = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"error: the node answered with an error: {detail}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
