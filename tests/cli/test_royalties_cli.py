"""`qfzz royalties` end to end: Brownie's anvil, the deploy script's record (the suite with
Royalties), real tracks registered by `qfzz track register`, one-line errors."""

import json

import brownie
import click
import pytest
from click.testing import CliRunner

from tests.cli.conftest import Result, assert_one_line_error, run_qfzz

ARTIST, WRITER, REMIXER, PRODUCER, PAYER = 1, 3, 2, 4, 9
ETH = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def home(tmp_path_factory, module_isolation, TrackRegistry, Royalties):
    import os

    from scripts import deploy

    path = tmp_path_factory.mktemp("qfzz-home")
    previous = os.environ.get("QFZZ_HOME")
    os.environ["QFZZ_HOME"] = str(path)
    try:
        deploy.main(replace=False)
    finally:
        if previous is None:
            os.environ.pop("QFZZ_HOME")
        else:
            os.environ["QFZZ_HOME"] = previous
    return path


@pytest.fixture(scope="module")
def qfzz(home):
    url = brownie.web3.provider.endpoint_uri

    def run(*args, **env):
        return run_qfzz(*args, home=home, rpc_url=url, **env)

    return run


@pytest.fixture(scope="module")
def qfzz_inline(home):
    """The same entry point in this process: for the many one-line refusals, without paying a
    Python start-up (and web3's import) per case."""
    import contextlib
    import io
    import os
    import sys

    from qfzz_chain.cli import main

    url = brownie.web3.provider.endpoint_uri

    def run(*args):
        saved_env, saved_argv = dict(os.environ), sys.argv
        for key in [k for k in os.environ if k.startswith("QFZZ_")]:
            del os.environ[key]
        os.environ.update(QFZZ_HOME=str(home), QFZZ_RPC_URL=url)
        sys.argv = ["qfzz", *args]
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    main()
                    code = 0
                except SystemExit as exit_:
                    code = exit_.code
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            sys.argv = saved_argv
        return Result(code, out.getvalue(), err.getvalue())

    return run


def ok(result):
    assert result.code == 0, result.stderr
    return result.json if result.stdout.lstrip().startswith(("{", "[")) else result.stdout


def addr(index):
    return brownie.accounts[index].address


def pass_finality():
    brownie.chain.sleep(86_401)
    brownie.chain.mine()


@pytest.fixture(scope="module")
def tracks(qfzz, audio):
    """An original by ARTIST and a remix of it by REMIXER, final."""
    original = ok(qfzz("track", "register", str(audio()), "--title", "Song", "--from", addr(ARTIST), "--json"))
    remix = ok(qfzz("track", "register", str(audio()), "--title", "Remix", "--parent",
                    original["track_id"] + ":remix", "--from", addr(REMIXER), "--json"))  # fmt: skip
    pass_finality()
    return original["track_id"], remix["track_id"], original["content_cid"]


def test_splits_payment_cascade_balance_withdrawal_and_flow(qfzz, qfzz_inline, tracks, tmp_path):
    original, remix, original_cid = tracks
    done = ok(qfzz("royalties", "split", original_cid, "--composition", f"{addr(ARTIST)}=60%,{addr(WRITER)}=4000",
                   "--master", f"{addr(ARTIST)}=100%", "--from", addr(ARTIST), "--json"))  # by CID  # fmt: skip
    assert done["splits"]["composition"]["version"] == 0 and done["track_id"] == original
    done = ok(qfzz("royalties", "split", remix, "--composition", f"parents=30%,{addr(REMIXER)}=50%,{addr(PRODUCER)}=20%",
                   "--master", f"parents=25%,{addr(REMIXER)}=75%", "--lock", "--from", addr(REMIXER), "--json"))  # fmt: skip
    assert done["splits"]["master"]["locked"]
    shown = ok(qfzz_inline("royalties", "show", remix, "--json"))
    assert shown["lineage"] == {"recorded": True, "depth": 1, "parents": [{"track_id": original, "relation": "remix"}]}
    assert shown["rights"]["composition"]["versions"][0]["upstream_bps"] == 3000

    paid = ok(qfzz("royalties", "pay", remix, "1", "--ratio", "40%", "--from", addr(PAYER), "--json"))
    assert (paid["composition"], paid["master"]) == (4 * 10**17, 6 * 10**17) and paid["gas_used"] <= 35_000
    # before the push the original's artist sees what waits in the cascade
    waiting = ok(qfzz_inline("royalties", "balance", addr(ARTIST), "--json"))["balances"]
    assert {(b["right"], b["withdrawable"], b["waiting_in_cascade"]) for b in waiting} == {
        ("composition", 0, 72 * 10**15), ("master", 0, 15 * 10**16)}
    pushed = ok(qfzz("royalties", "push", remix, "--from", addr(PAYER), "--json"))
    assert [(p["right"], p["to"][0]["amount"]) for p in pushed["pushes"]] == [
        ("composition", 12 * 10**16), ("master", 15 * 10**16)]
    assert_one_line_error(qfzz_inline("royalties", "push", remix, "--from", addr(PAYER)), "nothing is waiting to be pushed")

    text = ok(qfzz_inline("royalties", "balance", addr(ARTIST)))
    assert "0.072 ETH" in text and "0.15 ETH" in text
    before = brownie.web3.eth.get_balance(addr(WRITER))
    withdrawn = ok(qfzz("royalties", "withdraw", "--from", addr(WRITER), "--json"))
    assert withdrawn["paid"] == {ETH: 48 * 10**15} and withdrawn["gas_used"] <= 45_000
    receipt = brownie.web3.eth.get_transaction_receipt(withdrawn["transaction"])
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert brownie.web3.eth.get_balance(addr(WRITER)) == before + 48 * 10**15 - fee
    assert_one_line_error(qfzz_inline("royalties", "withdraw", "--from", addr(WRITER)), "nothing is owed")

    chart = tmp_path / "flow.png"
    flow = ok(qfzz("royalties", "flow", remix, "--chart", str(chart), "--json"))
    assert flow["totals"] == {ETH: {"in": 10**18, "out": 10**18}} and chart.stat().st_size > 10_000
    outs = {(f["to"], f["right"], f["state"]): f["amount"] for f in flow["flows"] if f["direction"] == "out"}
    assert outs[(f"parent {original[:8]}..{original[-4:]}", "composition", "pushed")] == 12 * 10**16
    text = ok(qfzz_inline("royalties", "flow", original))
    assert "derivative" in text and "withdrawn" in text and "balanced: 0.27 ETH in = 0.27 ETH out" in text


def test_refusals_are_one_line_and_name_the_problem(qfzz, qfzz_inline, audio):
    def inline_ok(*args):
        return ok(qfzz_inline(*args, "--json"))

    original = inline_ok("track", "register", str(audio()), "--title", "Mine", "--from", addr(ARTIST))["track_id"]
    remix = inline_ok("track", "register", str(audio()), "--title", "Yours", "--parent", original + ":remix",
                      "--from", addr(REMIXER))["track_id"]  # fmt: skip
    pass_finality()
    inline_ok("royalties", "split", original, "--composition", f"{addr(ARTIST)}=100%", "--master",
              f"{addr(ARTIST)}=100%", "--from", addr(ARTIST))  # fmt: skip
    inline_ok("royalties", "split", remix, "--master", f"parents=10%,{addr(REMIXER)}=90%", "--lock",
              "--from", addr(REMIXER))  # fmt: skip
    fresh = inline_ok("track", "register", str(audio()), "--title", "New", "--from", addr(PRODUCER))
    cases = [
        (("split", fresh["track_id"], "--master", f"{addr(PRODUCER)}=100%", "--from", addr(PRODUCER)), "is not final until"),
        (("split", original, "--master", f"{addr(PAYER)}=100%", "--from", addr(PAYER)), "controlled by"),
        (("split", original, "--composition", f"{addr(ARTIST)}=60%,{addr(WRITER)}=30%", "--from", addr(ARTIST)),
         "add up to 9000 bps"),
        (("split", original, "--composition", f"{addr(ARTIST)}=50%,{addr(ARTIST)}=50%", "--from", addr(ARTIST)),
         "listed twice"),
        (("split", original, "--composition", "parents=10%," + f"{addr(ARTIST)}=90%", "--from", addr(ARTIST)),
         "no parents"),
        (("split", remix, "--master", f"parents=5%,{addr(REMIXER)}=95%", "--from", addr(REMIXER)), "locked forever"),
        (("split", remix, "--composition", f"{addr(REMIXER)}=100%", "--from", addr(REMIXER)), "must route a share"),
        (("split", original, "--composition", "nobody=100%", "--from", addr(ARTIST)), "is not an address"),
        (("pay", original, "0", "--from", addr(PAYER)), "must be positive"),
        (("pay", original, "0.1234567890123456789", "--from", addr(PAYER)), "more than 18 decimals"),
        (("pay", "0x" + "11" * 32, "1", "--from", addr(PAYER)), "no track"),
        (("pay", original, "1", "--ratio", "120%", "--from", addr(PAYER)), "more than 100%"),
        (("pay", original, "1", "--token", "nope", "--from", addr(PAYER)), "is not an address"),
        (("push", "--from", addr(PAYER)), "give a TRACK or --all"),
        (("withdraw", "--from", addr(PAYER)), "nothing is owed"),
        (("pay", remix, "1", "--from", addr(PAYER)), "no composition split yet"),
    ]
    for args, fragment in cases:
        assert_one_line_error(qfzz_inline("royalties", *args), fragment)
    refused = qfzz("royalties", "pay", original, "0", "--from", addr(PAYER), "--json")  # and as a real process
    assert refused.code == 1 and json.loads(refused.stderr)["kind"] == "AmountError"


def test_a_stablecoin_payment_and_a_listening_epoch(qfzz, qfzz_inline, tracks, tmp_path, TestStablecoin):
    original, remix, _ = tracks
    coin = TestStablecoin.deploy({"from": brownie.accounts[0]})
    coin.mint(addr(PAYER), 10**12, {"from": brownie.accounts[0]})
    paid = ok(qfzz("royalties", "pay", original, "12.5", "--token", coin.address, "--right", "master",
                   "--from", addr(PAYER), "--json"))  # fmt: skip
    assert paid["master"] == 12_500_000 and paid["approval_transaction"]

    plays = tmp_path / "plays.csv"
    plays.write_text(f"listener,track,plays\nann,{original},900\nann,{remix},100\nbob,{remix},3\n")
    epoch_file = tmp_path / "epoch.json"
    built = ok(qfzz("royalties", "epoch", "build", str(plays), "--pool", "1000", "--token", coin.address,
                    "--scheme", "user-centric", "--composition", "25%", "--out", str(epoch_file), "--json"))  # fmt: skip
    assert built["leaves"] == 2 and built["pool"] == 1000 * 10**6
    data = json.loads(epoch_file.read_text())
    amounts = {v["value"][1]: int(v["value"][2]) + int(v["value"][3]) for v in data["tree"]["values"]}
    # ann's $500 shared 900:100, bob's $500 all to the remix
    assert amounts == {original: 450 * 10**6, remix: 550 * 10**6}

    tampered = tmp_path / "tampered.json"
    broken = json.loads(epoch_file.read_text())
    broken["tree"]["values"][0]["value"][2] = str(int(broken["tree"]["values"][0]["value"][2]) + 1)
    tampered.write_text(json.dumps(broken))
    assert_one_line_error(qfzz_inline("royalties", "epoch", "post", str(tampered), "--from", addr(PAYER)), "do not match")

    coin.mint(addr(PAYER), 10**12, {"from": brownie.accounts[0]})
    posted = ok(qfzz("royalties", "epoch", "post", str(epoch_file), "--from", addr(PAYER), "--json"))
    assert json.loads(epoch_file.read_text())["epoch_id"] == posted["epoch_id"]
    claimed = ok(qfzz("royalties", "epoch", "claim", str(epoch_file), "--from", addr(PAYER), "--json"))
    assert sorted(c["claimed"] for c in claimed) == ["now", "now"]
    assert all(c["gas_used"] <= 70_000 for c in claimed)
    assert ok(qfzz_inline("royalties", "epoch", "claim", str(epoch_file), "--from", addr(PAYER))).strip() == \
        "Nothing left to claim."  # fmt: skip
    assert_one_line_error(qfzz_inline("royalties", "epoch", "post", str(epoch_file), "--from", addr(PAYER)),
                          "posted already")  # fmt: skip

    balances = ok(qfzz_inline("royalties", "balance", addr(ARTIST), "--token", coin.address, "--json"))["balances"]
    assert sum(b["withdrawable"] for b in balances) == 12_500_000 + 450 * 10**6 * 60 // 100 * 25 // 100 + \
        450 * 10**6 * 75 // 100  # fmt: skip


def test_every_command_teaches_its_use_and_takes_json():
    from qfzz_chain.cli import cli

    def leaves(group, path):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from leaves(command, path + [name])
            else:
                yield path + [name]

    from qfzz_chain.cli.royalties import royalties

    commands = list(leaves(royalties, ["royalties"]))
    assert len(commands) >= 14
    for command in commands:
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "--json" in result.output, (command, result.output)
