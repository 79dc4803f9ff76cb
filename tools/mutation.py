"""Mutation testing (`make mutation`): slither-mutate on every contract, mutmut on the Python core.

Planted bugs passed the whole contract suite once (issue 8): an ERC-1271 branch removed, CIDv1
dag-pb refused, a deadline off by one. A mutation run plants hundreds of such bugs, one at a
time, and counts how many the tests catch ("kill"). It writes benchmarks/results/mutation.json:
`contracts_killed_share` (killed / non-equivalent mutants that compile), `python_killed_share`,
one `<module>_killed_share` per contract and Python module, and the counts behind them.

Both tools edit or copy sources, so everything runs in a scratch copy of the checkout (tracked
and untracked files, `.venv` linked, OpenZeppelin copied): the working tree is never touched.

Contracts: every contract and library under contracts/ (found by glob, contracts/test/ aside)
goes through slither-mutate with all its mutators (`--comprehensive`: minor mutants are tested
even on lines whose revert mutant survived). Each mutant is compiled once (slither-mutate's own
check: a targeted `forge build`; the `mutation` profile keeps build info, so `forge test` reuses
that compile), then only the tests that name the contract run: its Foundry tests
(`forge test --fail-fast --match-path`, fewer fuzz runs), or, for a contract without Foundry
tests, its Brownie tests in tests/contracts and tests/zk (about a minute a mutant). `--brownie`
adds the Brownie stage after forge for every contract. Survivors judged equivalent (they behave
exactly as the original) are listed in tools/mutation_equivalents.json, each with its reason,
and left out of the share's denominator; an entry whose source line changed no longer matches,
so the mutant counts as a survivor until it is judged again.

Python: mutmut 3 mutates the core modules, group by group as pyproject's
[tool.qfzz-mutation.python] lists them, each group with only its tests, in-process and without
Brownie's plugin (tests/chain start an anvil of their own); the groups run side by side. A
module's share is killed / (mutants checked - skipped); "no tests" mutants count as survivors,
timeouts as killed (the mutant hung the tests).

Every run keeps its results in build/mutation/ (contract-NAME.json, python.json, logs, the
survivors' diffs); `--combine` writes mutation.json from them, so contracts and groups can be run
apart. `--budget SECONDS` stops each campaign or group and counts what it tested (`_partial`).

    python tools/mutation.py            # both, all mutators (the figures in docs/mutation.md)
    python tools/mutation.py --quick    # RR/ROR/LOR/AOR, a fifth of two Python modules, 10 min a run
    python tools/mutation.py --only contracts --contracts TrackRegistry --mutators ROR,RR
    python tools/mutation.py --combine       # mutation.json from the kept results
    python tools/mutation.py --update-docs   # rewrite docs/mutation.md's equivalents table
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import write_results  # noqa: E402

EQUIVALENTS_PATH = ROOT / "tools" / "mutation_equivalents.json"
# logs and results of the runs, which --combine reads; a --quick run keeps its own (quick/)
KEPT = ROOT / "build" / "mutation"
DOC_PATH = ROOT / "docs" / "mutation.md"
QUICK_MUTATORS = ("RR", "ROR", "LOR", "AOR")
# the Python modules `--quick` mutates (a few hundred mutants: the CID and metrics cores)
QUICK_MODULES = ("qfzz_chain.ipfs.cid", "qfzz_chain.recommender.metrics")
QUICK_BUDGET_SECONDS = 600  # --quick stops each campaign (and mutmut group) after 10 minutes
SLITHER_ARGS = (
    "--compile-force-framework", "solc", "--solc-remaps", "@openzeppelin=node_modules/@openzeppelin",
    "--solc-args", "--allow-paths .,node_modules",
)  # fmt: skip
# one mutant's test command may run this long (forge ~3 s, the Brownie stage ~2 min on a busy machine)
FORGE_TIMEOUT_SECONDS = 300
BROWNIE_TIMEOUT_SECONDS = 900
# where the tests of a contract are found: Foundry tests (fast) first, then the Brownie ones
FORGE_TESTS = "tests/foundry"
BROWNIE_TEST_DIRS = ("tests/contracts", "tests/zk")
PYTEST_ARGS = ("pytest", "-x", "-q", "-p", "no:cacheprovider", "-W", "ignore::FutureWarning")
# set by Ctrl-C or SIGTERM: runs under way stop as at the budget, and what they tested is kept
STOP = threading.Event()
RUNNING: set[subprocess.Popen] = set()
UNTESTED: list[str] = []  # contracts no test names (set by run_contracts, reported in mutation.json)  # slither-mutate runs, stopped (with their children) on an interrupt
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MUTANT_LINE = re.compile(
    r"\[(?P<mutator>[A-Z]+)\] Line (?P<line>\d+): '(?P<old>.*?)' ==> '(?P<new>.*?)' --> "
    r"(?P<verdict>CAUGHT|UNCAUGHT|COMPILATION FAILURE)",
    re.S,
)


# ---- the scratch copy ------------------------------------------------------------------------


def scratch_copy(destination: Path) -> Path:
    """The checkout as it is now (tracked and untracked files, ignored ones aside) in ``destination``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(ROOT / "node_modules" / "@openzeppelin", destination / "node_modules" / "@openzeppelin")
    return destination


def tool_environment() -> dict[str, str]:
    env = dict(os.environ)
    bins = [ROOT / ".venv" / "qfzz-bin", ROOT / ".venv" / "bin", ROOT / "node_modules" / ".bin"]
    env["PATH"] = os.pathsep.join([*map(str, bins), env.get("PATH", "")])
    env["SOLCX_BINARY_PATH"] = str(ROOT / ".venv" / "solcx")
    env["VIRTUAL_ENV"] = str(ROOT / ".venv")
    env["FOUNDRY_PROFILE"] = "mutation"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# ---- contracts: slither-mutate -----------------------------------------------------------------


def contracts_to_mutate(root: Path) -> list[tuple[Path, str]]:
    """(file, contract) for every contract and library under contracts/, contracts/test/ aside."""
    found = []
    for path in sorted((root / "contracts").rglob("*.sol")):
        if "test" in path.relative_to(root / "contracts").parts[:-1]:
            continue
        text = path.read_text()
        for match in re.finditer(r"^\s*(?:abstract\s+)?(?:contract|library)\s+(\w+)", text, re.M):
            found.append((path.relative_to(root), match.group(1)))
    return found


def tests_for(root: Path, contract: str) -> tuple[list[str], list[str]]:
    """The tests that exercise ``contract``: (Foundry test files, Brownie test files), each a file
    naming the contract at the start of a word (TrackRegistryUnitTest, BLS12381Harness). Running only
    these keeps a mutant's run short: a TrackRegistry mutant never waits for the oracle's tests."""
    word = re.compile(rf"\b{re.escape(contract)}")  # TrackRegistryUnitTest, BLS12381Harness
    forge = [str(p.relative_to(root)) for p in sorted((root / FORGE_TESTS).glob("*.t.sol")) if word.search(p.read_text())]
    brownie = [str(p.relative_to(root)) for folder in BROWNIE_TEST_DIRS for p in sorted((root / folder).glob("test_*.py"))
               if word.search(p.read_text())]  # fmt: skip
    return forge, brownie


@dataclass
class Mutant:
    contract: str
    mutator: str
    line: int
    line_text: str
    old: str
    new: str
    verdict: str  # killed, survived, equivalent, uncompilable

    def key(self) -> tuple:
        return (self.contract, self.mutator, self.line, self.old, self.new)


@dataclass
class ContractResult:
    contract: str
    path: str
    mutants: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0
    mutators: str = "all"
    partial: bool = False  # stopped at --budget: the mutants tested by then, in slither-mutate's order

    def count(self, verdict: str) -> int:
        return sum(m.verdict == verdict for m in self.mutants)

    @property
    def compiled(self) -> int:
        return len(self.mutants) - self.count("uncompilable")


def load_equivalents() -> list[dict]:
    return json.loads(EQUIVALENTS_PATH.read_text()) if EQUIVALENTS_PATH.exists() else []


def _equivalent_keys(entries: list[dict], sources: dict[str, list[str]]) -> tuple[set, list[dict]]:
    """The keys of entries whose source line still reads as recorded, and the stale entries."""
    keys, stale = set(), []
    for entry in entries:
        lines = sources.get(entry["contract"])
        if lines is None:
            continue  # a contract this run left out
        line = entry["line"]
        if line > len(lines) or lines[line - 1].strip() != entry["line_text"]:
            stale.append(entry)
            continue
        keys.add((entry["contract"], entry["mutator"], line, entry["old"], entry["new"]))
    return keys, stale


def parse_campaign_log(log: str, contract: str, source_lines: list[str]) -> list[Mutant]:
    mutants = []
    for match in MUTANT_LINE.finditer(ANSI.sub("", log)):
        line = int(match["line"])
        verdict = {"CAUGHT": "killed", "UNCAUGHT": "survived", "COMPILATION FAILURE": "uncompilable"}[match["verdict"]]
        line_text = source_lines[line - 1].strip() if line <= len(source_lines) else ""
        mutants.append(Mutant(contract, match["mutator"], line, line_text, match["old"], match["new"], verdict))
    return mutants


# The order campaigns run in: conditions and reverts first (where planted bugs hide: boundaries,
# a removed check), the mutators that mostly fail to compile (ASOR, FHR) last.
MUTATOR_PRIORITY = ("ROR", "RR", "LOR", "AOR", "UOR", "BOR", "MIA", "MWA", "LIR", "MVIV", "MVIE", "SBR", "CR",
                    "ASOR", "FHR")  # fmt: skip


def all_mutators() -> list[str]:
    from slither.tools.mutator.mutators import all_mutators as module
    from slither.tools.mutator.mutators.abstract_mutator import AbstractMutator

    return sorted(getattr(module, name).NAME for name in dir(module)
                  if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), AbstractMutator)
                  and getattr(module, name) is not AbstractMutator)  # fmt: skip


def _campaign(scratch: Path, path: Path, contract: str, mutators: list[str], env: dict, budget: float | None
              ) -> tuple[str, float, bool]:
    """One slither-mutate run (one contract, some mutators) in ``scratch``, stopped after ``budget``
    seconds if given; returns (log, seconds, stopped at the budget)."""
    output = scratch / "build" / "mutation" / f"{contract}-{'-'.join(mutators)}"
    forge, brownie = tests_for(scratch, contract)
    env = dict(env, QFZZ_MUTATION_FORGE=json.dumps(forge), QFZZ_MUTATION_PYTEST=json.dumps(brownie))
    if env["QFZZ_MUTATION_BROWNIE"] != "1" and forge:
        env["QFZZ_MUTATION_PYTEST"] = "[]"  # Brownie's stage only where no Foundry test exists, or --brownie
    timeout = BROWNIE_TIMEOUT_SECONDS if json.loads(env["QFZZ_MUTATION_PYTEST"]) else FORGE_TIMEOUT_SECONDS
    test_cmd = f"{sys.executable} tools/mutation.py --test-contracts"
    command = ["slither-mutate", str(path), "--contract-names", contract, "--test-cmd", test_cmd, "--timeout",
               str(timeout), "--output-dir", str(output), "--comprehensive", "-v", "--mutators-to-run",
               ",".join(mutators), *SLITHER_ARGS]  # fmt: skip
    print(f"   tests: {' '.join(forge + json.loads(env['QFZZ_MUTATION_PYTEST']))}", flush=True)
    print(f"== slither-mutate {path} ({contract}) mutators {','.join(mutators)} in {scratch.name}", flush=True)
    started = time.monotonic()
    log_path = KEPT / f"{contract}-{'-'.join(mutators)}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as out:  # written as it goes: `tail -f` shows the progress
        process = subprocess.Popen(command, cwd=scratch, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        RUNNING.add(process)
        try:
            partial = _wait(process, budget, signal.SIGTERM)
        finally:
            RUNNING.discard(process)
    log = log_path.read_text()
    if "Test suite fails" in log or "Traceback" in log:
        raise RuntimeError(f"slither-mutate failed on {contract}; log in build/mutation/{contract}-*.log")
    seconds = time.monotonic() - started
    print(f"   {contract} {','.join(mutators)}: {len(MUTANT_LINE.findall(ANSI.sub('', log)))} mutants in {seconds:.0f} s",
          flush=True)  # fmt: skip
    return log, seconds, partial


def run_contracts(scratches: list[Path], args) -> list[ContractResult]:
    """slither-mutate on every contract, one campaign per mutator, over one worker per scratch copy."""

    env = tool_environment()
    env["QFZZ_MUTATION_BROWNIE"] = "1" if args.brownie else "0"
    # the unmutated build every mutant's compile starts from: built once here (build/ is output,
    # the sources are untouched) and copied, so each scratch copy compiles only its mutants
    print("== forge build (the mutation profile)", flush=True)
    subprocess.run(["forge", "build"], cwd=ROOT, env=env, check=True, capture_output=True)
    for scratch in scratches:
        for folder in ("forge", "forge-cache"):
            shutil.copytree(ROOT / "build" / folder, scratch / "build" / folder, dirs_exist_ok=True)
    mutators = args.mutators.split(",") if args.mutators else list(QUICK_MUTATORS) if args.quick else all_mutators()
    mutators.sort(key=lambda m: MUTATOR_PRIORITY.index(m) if m in MUTATOR_PRIORITY else len(MUTATOR_PRIORITY))
    targets = [(p, c) for p, c in contracts_to_mutate(scratches[0]) if not args.contracts or c in args.contracts]
    untested = [c for p, c in targets if tests_for(scratches[0], c) == ([], [])]
    for contract in untested:  # nothing could kill its mutants: named in the results, not mutated
        print(f"   {contract}: no test names it; not mutated (contracts_without_tests)", flush=True)
    targets = [(p, c) for p, c in targets if c not in untested]
    UNTESTED[:] = untested
    # one campaign per (mutator, contract), the telling mutators first, every contract's ROR
    # before anyone's RR: a run stopped at --budget has whole mutators done, in that order
    work = [(p, c, [m]) for m in mutators for p, c in targets]
    deadline = time.monotonic() + args.budget if args.budget else None
    free = list(scratches)

    def run(item):
        left = None if deadline is None else deadline - time.monotonic()
        if STOP.is_set() or (left is not None and left <= 0):
            return item, None  # past the budget: not started
        scratch = free.pop()
        try:
            return item, _campaign(scratch, item[0], item[1], item[2], env, left)
        finally:
            free.append(scratch)

    done = _map_until_stopped(run, work, len(scratches))
    results = {}
    for (path, contract, group), outcome in done:
        result = results.setdefault(contract, ContractResult(contract, str(path), mutators=""))
        if outcome is None:
            result.partial = True
            continue
        log, seconds, partial = outcome
        result.partial |= partial
        result.mutators = ",".join(filter(None, [result.mutators, *(f"{m}(part)" if partial else m for m in group)]))
        source_lines = (scratches[0] / path).read_text().splitlines()
        result.mutants += parse_campaign_log(log, contract, source_lines)
        result.seconds += seconds
    results = list(results.values())
    apply_equivalents(results, scratches[0])
    return results


def apply_equivalents(results: list[ContractResult], root: Path) -> None:
    """Mark the survivors judged equivalent (tools/mutation_equivalents.json, line still as recorded)."""
    sources = {r.contract: (root / r.path).read_text().splitlines() for r in results}
    keys, stale = _equivalent_keys(load_equivalents(), sources)
    for entry in stale:
        print(f"   stale equivalent (its line changed; judge it again): {entry['contract']} line {entry['line']} "
              f"{entry['mutator']} {entry['old']!r} -> {entry['new']!r}")  # fmt: skip
    for result in results:
        for mutant in result.mutants:
            if mutant.verdict == "equivalent":
                mutant.verdict = "survived"  # judged again against the list as it is now
            if mutant.verdict == "survived" and mutant.key() in keys:
                mutant.verdict = "equivalent"
        print(f"   {result.contract}: {result.compiled} mutants compiled ({result.count('uncompilable')} did not), "
              f"{result.count('killed')} killed, {result.count('equivalent')} equivalent", flush=True)  # fmt: skip


def _wait(process: subprocess.Popen, budget: float | None, stop_signal: int) -> bool:
    """Wait for ``process``; past ``budget`` seconds or on STOP, end its process group. Returns
    whether it was stopped (its results are then partial)."""
    deadline = None if budget is None else time.monotonic() + budget
    while process.poll() is None:
        if STOP.is_set() or (deadline is not None and time.monotonic() > deadline):
            os.killpg(process.pid, stop_signal)
            process.wait()
            return True
        time.sleep(1)
    return False


def _map_until_stopped(function, items: list, workers: int) -> list:
    """``function`` over ``items`` on ``workers`` threads; Ctrl-C (or SIGTERM) sets STOP, which
    stops the runs under way as the budget would, and their results are still returned."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers)
    futures = [pool.submit(function, item) for item in items]
    try:
        while not all(f.done() for f in futures):
            time.sleep(1)
    except KeyboardInterrupt:
        print("   stopping: the runs under way end now, what they tested is kept", flush=True)
        STOP.set()
    pool.shutdown(wait=True)
    return [f.result() for f in futures]


def _stop_running() -> None:
    """On an interrupt: stop each slither-mutate run and the forge/solc it started (one group each)."""
    for process in list(RUNNING):
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def test_contracts() -> int:
    """The test command slither-mutate runs per mutant (from the scratch copy's root): the Foundry
    tests of the contract (stopping at the first failure), then its Brownie tests if any are set
    (tests/conftest.py gives each session an anvil on a free port: workers never collide)."""
    forge = json.loads(os.environ.get("QFZZ_MUTATION_FORGE", "[]"))
    pytest_files = json.loads(os.environ.get("QFZZ_MUTATION_PYTEST", "[]"))
    if forge:
        pattern = forge[0] if len(forge) == 1 else "{" + ",".join(forge) + "}"
        done = subprocess.run(["forge", "test", "--fail-fast", "--match-path", pattern], capture_output=True)
        if done.returncode != 0 or not pytest_files:
            return done.returncode
    if not pytest_files:
        return 1
    return subprocess.run([*PYTEST_ARGS, *pytest_files], capture_output=True).returncode


# ---- Python: mutmut ------------------------------------------------------------------------------


@dataclass
class ModuleResult:
    module: str
    statuses: dict[str, str]  # mutant name -> mutmut status
    partial: bool = False  # stopped at --budget: the mutants checked by then

    def count(self, *statuses: str) -> int:
        return sum(s in statuses for s in self.statuses.values())

    @property
    def tested(self) -> int:
        return len(self.statuses) - self.count("skipped", "not checked")

    @property
    def killed(self) -> int:
        return self.count("killed", "timeout", "caught by type check")


def python_groups() -> dict[str, dict[str, list[str]]]:
    """pyproject's [tool.qfzz-mutation.python]: group -> {"mutate": files, "tests": test paths}."""
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["qfzz-mutation"]["python"]


def _toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, numbers and booleans read the same in TOML


def _configure_mutmut(scratch: Path, mutate: list[str], tests: list[str]) -> None:
    """The scratch copy's [tool.mutmut]: the shared settings plus one group's files and tests."""
    import tomllib

    path = scratch / "pyproject.toml"
    text = path.read_text()
    settings = dict(tomllib.loads(text)["tool"]["mutmut"], only_mutate=mutate,
                    pytest_add_cli_args_test_selection=tests)  # fmt: skip
    section = "[tool.mutmut]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in settings.items())
    head, _, rest = text.partition("[tool.mutmut]\n")
    following = re.search(r"^\[", rest, re.M)
    path.write_text(head + section + "\n" + (rest[following.start():] if following else ""))


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def run_python(scratches: list[Path], args) -> list[ModuleResult]:
    """mutmut on each group of pyproject's [tool.qfzz-mutation.python], side by side (one scratch
    copy each), each with its own tests; `--budget` stops a group with what it has checked."""
    from mutmut.stats import status_by_exit_code

    wanted = args.modules or (QUICK_MODULES if args.quick else [])
    groups = {}
    for name, group in python_groups().items():
        mutate = [f for f in group["mutate"] if not wanted or _module_name(f) in wanted]
        if mutate:
            groups[name] = dict(group, mutate=mutate)
    env = tool_environment()
    env.pop("FOUNDRY_PROFILE")
    out = KEPT
    out.mkdir(parents=True, exist_ok=True)
    free = list(scratches)

    def run(item):
        name, group = item
        scratch = free.pop()
        started = time.monotonic()
        _configure_mutmut(scratch, group["mutate"], group["tests"])
        if any(t.startswith("tests/chain") for t in group["tests"]):  # the artifacts tests/chain deploys
            subprocess.run(["brownie", "compile"], cwd=scratch, env=env, check=True, capture_output=True)
        print(f"== mutmut {name}: {' '.join(group['mutate'])} with {' '.join(group['tests'])}", flush=True)
        # --quick: the mutants numbered ...0 and ...5 of every function, a fifth of them
        names = [f"{_module_name(f)}.*{'[05]' if args.quick else ''}" for f in group["mutate"]]
        with open(out / f"mutmut-{name}.log", "w") as log:
            process = subprocess.Popen(["mutmut", "run", "--max-children", "1", *names], cwd=scratch, env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            RUNNING.add(process)
            try:  # mutmut's forked children are in its group
                partial = _wait(process, args.budget, signal.SIGKILL)
            finally:
                RUNNING.discard(process)
        if process.returncode != 0 and not partial:
            raise RuntimeError(f"mutmut failed on {name} (exit {process.returncode}); log in {log.name}")
        results = []
        for meta in sorted((scratch / "mutants").rglob("*.py.meta")):
            relative = meta.relative_to(scratch / "mutants").with_suffix("").with_suffix("")
            if str(relative) + ".py" not in group["mutate"]:
                continue
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            statuses = {key: status_by_exit_code[code] for key, code in codes.items()}
            results.append(ModuleResult(".".join(relative.parts), statuses, partial))
        seconds = time.monotonic() - started
        print(f"   mutmut {name}: {sum(r.tested for r in results)} mutants checked in {seconds:.0f} s"
              f"{' (stopped at the budget)' if partial else ''}", flush=True)  # fmt: skip
        _python_survivors(scratch, env, name)
        free.append(scratch)
        return name, results, seconds

    done = _map_until_stopped(run, list(groups.items()), len(scratches))
    kept = json.loads((out / "python.json").read_text()) if (out / "python.json").exists() else {"groups": {}}
    for name, results, seconds in done:
        kept.setdefault("groups", {})[name] = {"seconds": round(seconds), "modules": {
            r.module: {"partial": r.partial, "statuses": r.statuses} for r in results}}  # fmt: skip
    (out / "python.json").write_text(json.dumps(kept, indent=1) + "\n")
    return [r for _, results, _ in done for r in results]


def _python_survivors(scratch: Path, env: dict, name: str) -> None:
    """build/mutation/mutmut-survivors-GROUP.txt: the diff of every surviving mutant."""
    listed = subprocess.run(["mutmut", "results"], cwd=scratch, env=env, capture_output=True, text=True).stdout
    with open(KEPT / f"mutmut-survivors-{name}.txt", "w") as out:
        for mutant in (line.split(":")[0].strip() for line in listed.splitlines() if ": survived" in line):
            diff = subprocess.run(["mutmut", "show", mutant], cwd=scratch, env=env, capture_output=True, text=True)
            out.write(diff.stdout + "\n")


# ---- results -------------------------------------------------------------------------------------


def _share(killed: int, total: int) -> float:
    return round(killed / total, 4) if total else 1.0


def figures(contracts: list[ContractResult], modules: list[ModuleResult], mode: str, jobs: int, wall: dict) -> dict:
    out: dict[str, float | int | str | bool] = {"mode": mode}
    if contracts:
        totals = {"mutants": 0, "killed": 0, "survived": 0, "equivalent": 0, "uncompilable": 0}
        for result in contracts:
            counts = {
                "mutants": result.compiled, "killed": result.count("killed"), "survived": result.count("survived"),
                "equivalent": result.count("equivalent"), "uncompilable": result.count("uncompilable"),
            }  # fmt: skip
            for name, value in counts.items():
                out[f"{result.contract}_{name}"] = value
                totals[name] += value
            out[f"{result.contract}_killed_share"] = _share(counts["killed"], counts["mutants"] - counts["equivalent"])
            out[f"{result.contract}_worker_seconds"] = round(result.seconds)
            out[f"{result.contract}_mutators"] = result.mutators
            out[f"{result.contract}_partial"] = result.partial
        for name, value in totals.items():
            out[f"contracts_{name}"] = value
        out["contracts_killed_share"] = _share(totals["killed"], totals["mutants"] - totals["equivalent"])
        if UNTESTED:
            out["contracts_without_tests"] = ",".join(UNTESTED)
        out["contracts_killed_share_raw"] = _share(totals["killed"], totals["mutants"])
        tried = max(1, totals["mutants"] + totals["uncompilable"])
        out["contracts_jobs"] = jobs
        if "contracts" in wall:
            out["contracts_wall_seconds"] = round(wall["contracts"])
            out["contracts_seconds_per_mutant"] = round(wall["contracts"] / tried, 1)  # wall, all workers together
        out["contracts_worker_seconds"] = round(sum(r.seconds for r in contracts))
        out["contracts_worker_seconds_per_mutant"] = round(sum(r.seconds for r in contracts) / tried, 1)
    if modules:
        totals = {"mutants": 0, "killed": 0, "survived": 0, "no_tests": 0, "timeout": 0}
        unchecked = [r.module for r in modules if r.tested == 0]
        if unchecked:  # a budget ran out before any of their mutants: no share to give
            out["python_modules_not_checked"] = ",".join(unchecked)
        for result in (r for r in modules if r.tested):
            counts = {"mutants": result.tested, "killed": result.killed, "survived": result.count("survived"),
                      "no_tests": result.count("no tests"), "timeout": result.count("timeout")}  # fmt: skip
            for name, value in counts.items():
                out[f"{result.module}_{name}"] = value
                totals[name] += value
            out[f"{result.module}_killed_share"] = _share(result.killed, result.tested)
            out[f"{result.module}_partial"] = result.partial
        for name, value in totals.items():
            out[f"python_{name}"] = value
        out["python_killed_share"] = _share(totals["killed"], totals["mutants"])
        # mutmut's timeouts are wall-clock: on a busy machine some are slow tests, not hung mutants
        out["python_killed_share_without_timeouts"] = _share(totals["killed"] - totals["timeout"],
                                                             totals["mutants"] - totals["timeout"])  # fmt: skip
        if "python" in wall:
            out["python_wall_seconds"] = round(wall["python"])
    return out


def survivors_report(contracts: list[ContractResult]) -> None:
    """Print the survivors; keep each contract's mutants in build/mutation/contract-NAME.json
    (`--combine` builds mutation.json from these, so contracts can be run one at a time)."""
    for result in contracts:
        kept = {"contract": result.contract, "path": result.path, "seconds": round(result.seconds),
                "mutators": result.mutators, "partial": result.partial,
                "mutants": [m.__dict__ for m in result.mutants]}  # fmt: skip
        (KEPT / f"contract-{result.contract}.json").write_text(json.dumps(kept, indent=1) + "\n")
        for mutant in result.mutants:
            if mutant.verdict == "survived":
                print(f"   SURVIVED {mutant.contract}:{mutant.line} [{mutant.mutator}] {mutant.line_text[:60]!r}: "
                      f"{mutant.old[:80]!r} -> {mutant.new[:80]!r}")  # fmt: skip


def combine() -> dict:
    """mutation.json from the kept results of earlier runs (build/mutation/contract-*.json,
    python.json): contracts run one at a time, or with a budget, still give one file."""
    kept = KEPT
    contracts = []
    for path in sorted(kept.glob("contract-*.json")):
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            continue  # contract-mutants.json, an older layout
        mutants = [Mutant(**m) for m in data["mutants"]]
        contracts.append(ContractResult(data["contract"], data["path"], mutants, data["seconds"], data["mutators"],
                                        data["partial"]))  # fmt: skip
    apply_equivalents(contracts, ROOT)
    survivors_report(contracts)
    modules, wall = [], {}
    if (kept / "python.json").exists():
        groups = json.loads((kept / "python.json").read_text())["groups"].values()
        modules = [ModuleResult(name, module["statuses"], module["partial"])
                   for group in groups for name, module in group["modules"].items()]  # fmt: skip
        wall["python"] = max(group["seconds"] for group in groups)  # the groups run side by side
    full = all(c.mutators == "all" and not c.partial for c in contracts) and not any(m.partial for m in modules)
    return figures(contracts, modules, "full" if full else "partial", 2, wall)


def _replace_between(text: str, name: str, rows: list[str]) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    return head + begin + "\n" + "\n".join(rows) + "\n" + end + tail


def update_docs() -> None:
    """Rewrite docs/mutation.md's tables: the figures from benchmarks/results/mutation.json, the
    equivalents from tools/mutation_equivalents.json."""
    rows = ["| Contract | Line | Mutator | Original | Mutant | Why it is equivalent |", "|---|---|---|---|---|---|"]
    for entry in load_equivalents():
        cell = lambda text: "`" + " ".join(text.split()).replace("|", "\\|")[:90] + "`"  # noqa: E731
        rows.append(f"| {entry['contract']} | {entry['line']} | {entry['mutator']} | {cell(entry['old'])} | "
                    f"{cell(entry['new'])} | {entry['why']} |")  # fmt: skip
    text = _replace_between(DOC_PATH.read_text(), "equivalents", rows)
    results = ROOT / "benchmarks" / "results" / "mutation.json"
    if results.exists():
        figures = json.loads(results.read_text())
        table = [f"Measured {figures['measured_at']} ({figures['mode']} run) on 2 cores shared with other work.", "",
                 "| Contract | Mutants (compiled) | Killed | Equivalent | Survived | Killed share | Mutators run |",
                 "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
        contracts = sorted(k.removesuffix("_uncompilable") for k in figures
                           if k.endswith("_uncompilable") and k != "contracts_uncompilable")  # fmt: skip
        for name in contracts:
            table.append(f"| {name} | {figures[name + '_mutants']} | {figures[name + '_killed']} | "
                         f"{figures[name + '_equivalent']} | {figures[name + '_survived']} | "
                         f"{figures[name + '_killed_share']:.4f} | {figures[name + '_mutators'] or '(none finished)'} |")
        if contracts:
            table.append(f"| **all** | {figures['contracts_mutants']} | {figures['contracts_killed']} | "
                         f"{figures['contracts_equivalent']} | {figures['contracts_survived']} | "
                         f"**{figures['contracts_killed_share']:.4f}** | |")
        modules = sorted(k.removesuffix("_no_tests") for k in figures if k.endswith("_no_tests") and k != "python_no_tests")
        if modules:
            table += ["", "| Python module | Mutants checked | Killed | Survived | No tests | Killed share | Complete |",
                      "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
            for name in modules:
                table.append(f"| {name} | {figures[name + '_mutants']} | {figures[name + '_killed']} | "
                             f"{figures[name + '_survived']} | {figures[name + '_no_tests']} | "
                             f"{figures[name + '_killed_share']:.4f} | {'no (budget)' if figures[name + '_partial'] else 'yes'} |")
            table.append(f"| **all** | {figures['python_mutants']} | {figures['python_killed']} | "
                         f"{figures['python_survived']} | {figures['python_no_tests']} | "
                         f"**{figures['python_killed_share']:.4f}** | |")
        text = _replace_between(text, "figures", table)
    DOC_PATH.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"contract mutators {','.join(QUICK_MUTATORS)}, a fifth of the mutants of "
                             f"{', '.join(QUICK_MODULES)}, each run stopped after {QUICK_BUDGET_SECONDS} s")
    parser.add_argument("--only", choices=("contracts", "python"), help="run one half")
    parser.add_argument("--contracts", nargs="*", help="contract names (default: every contract)")
    parser.add_argument("--mutators", help="slither-mutate mutators, comma-separated (default: all)")
    parser.add_argument("--modules", nargs="*", help="Python modules for mutmut, dotted (default: every module of [tool.qfzz-mutation.python])")
    parser.add_argument("--brownie", action="store_true", help="Brownie contract tests after forge (slow)")
    parser.add_argument("--jobs", type=int, default=2, help="slither-mutate workers (one scratch copy each); mutmut runs one per group")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument("--test-contracts", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help="stop the run after this many seconds: campaigns and mutmut groups under way stop, queued ones are skipped; what was tested counts")
    parser.add_argument("--combine", action="store_true", help="mutation.json from the kept results of earlier runs")
    parser.add_argument("--update-docs", action="store_true", help="rewrite docs/mutation.md's equivalents table")
    args = parser.parse_args()
    if args.quick:
        global KEPT
        KEPT = KEPT / "quick"
        if args.budget is None:
            args.budget = QUICK_BUDGET_SECONDS
    KEPT.mkdir(parents=True, exist_ok=True)
    if args.test_contracts:
        sys.exit(test_contracts())
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops the run as Ctrl-C does
    if args.update_docs:
        update_docs()
        return
    if args.combine:
        result = combine()
        print(json.dumps(result, indent=2, sort_keys=True))
        print(f"wrote {write_results('mutation', result).relative_to(ROOT)}")
        return
    # one copy per slither-mutate worker, and per mutmut group (the groups run side by side)
    copies = max(1, args.jobs) if args.only in (None, "contracts") else 1
    if args.only in (None, "python"):
        copies = max(copies, len(python_groups()))
    scratches = [Path(tempfile.mkdtemp(prefix="qfzz-mutation-")) for _ in range(copies)]
    scratch = scratches[0]
    started, wall, contracts, modules = time.monotonic(), {}, [], []
    try:
        for copy in scratches:
            scratch_copy(copy)
        print(f"scratch copies: {' '.join(map(str, scratches))}", flush=True)
        if args.only in (None, "contracts"):
            began = time.monotonic()
            contracts = run_contracts(scratches, args)
            wall["contracts"] = time.monotonic() - began
            survivors_report(contracts)
        if args.only in (None, "python"):
            began = time.monotonic()
            modules = run_python(scratches, args)
            wall["python"] = time.monotonic() - began
    finally:
        _stop_running()
        if not args.keep:
            for copy in scratches:
                shutil.rmtree(copy, ignore_errors=True)
    result = figures(contracts, modules, "quick" if args.quick else "full", args.jobs, wall)
    result["wall_seconds"] = round(time.monotonic() - started)
    path = write_results("mutation", result)
    print(json.dumps(result, indent=2, sort_keys=True))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
