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
    "oracle": ("qfzz_chain.cli.oracle:oracle", "Committee nodes anchor recommendation batches; listeners get receipts."),
    "verify": ("qfzz_chain.cli.verify:verify", "Check a recommendation receipt against the chain, link by link."),
    "p2p": ("qfzz_chain.cli.p2p:p2p", "Gossip recommendation between listener nodes: simulate, run a node, ask it."),
    "curate": ("qfzz_chain.cli.curate:curate", "Propose emerging artists; commit-reveal, reputation-weighted votes; the index."),
    "reputation": ("qfzz_chain.cli.reputation:reputation", "Identities, stakes and scores of curators and oracle members; slashing."),
    "royalties": ("qfzz_chain.cli.royalties:royalties", "Split, pay and withdraw track royalties; cascades, epochs."),
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


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv


def _fail(message: str, kind: str, as_json: bool, code: int = 1, **details) -> None:
    """One line on stderr, or under --json one JSON object ``{"error", "kind", ...}``; then exit."""
    if as_json:
        import json

        click.echo(json.dumps({"error": message, "kind": kind, **details}, sort_keys=True, default=str), err=True)
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


def main() -> None:
    """Entry point: a project error is one line on stderr and exit status 1, never a traceback."""
    as_json = _wants_json(sys.argv[1:])
    try:
        code = cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        if as_json:
            _fail("aborted", "Aborted", True, 130)
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        if not as_json:
            exc.show()
            sys.exit(exc.exit_code)
        _fail(exc.format_message(), type(exc).__name__, True, exc.exit_code)
    except QfzzError as exc:
        details = {}
        if getattr(exc, "error", None):  # a contract's custom error, kept structured
            details["revert"] = {"error": exc.error, "arguments": {k: _jsonable(v) for k, v in exc.arguments.items()}}
        if getattr(exc, "link", None):  # the broken link of a receipt's chain of custody
            details["link"] = exc.link
        _fail(str(exc), type(exc).__name__, as_json, **details)
    except Exception as exc:
        if not _node_error(exc):
            raise
        detail = " ".join(str(exc).split()) or type(exc).__name__
        _fail(f"the node answered with an error: {detail}", "NodeError", as_json)
    sys.exit(code if isinstance(code, int) else 0)


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
