#!/usr/bin/env node
// A `solc` command line for py-solc-x, Brownie and slither, backed by the npm `solc` package
// (the official soljson build): no native compiler can be downloaded on our machines.
//
// Speaks what those callers send: `--version`, `--standard-json` (JSON on stdin) and
// `--combined-json LIST FILE...`, with `--allow-paths`, `--base-path`, `--include-path` and
// remappings (`prefix=target`). Imports are read from disk relative to the base path.
"use strict";

const fs = require("fs");
const path = require("path");

// Answered without loading soljson: Brownie asks ~18 times per compile and loading costs ~1 s.
// The commit must match the npm package pinned in package.json (a test compares it with soljson).
const NATIVE_VERSION = "0.8.28+commit.7893614a";
const VERSION_TEXT =
  "solc, the solidity compiler commandline interface\n" + `Version: ${NATIVE_VERSION}.Linux.g++\n`;

function writeAll(fd, text) {
  // process.stdout.write is cut at 64 KiB when the process exits right after; write synchronously.
  const buffer = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
    }
  }
}

function parseArgs(argv) {
  const options = { basePath: process.cwd(), includePaths: [], remappings: [], files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i];
    if (arg === "--version") options.version = true;
    else if (arg === "--standard-json") options.standardJson = true;
    else if (arg === "--combined-json") options.combinedJson = value();
    else if (arg === "--allow-paths") value(); // soljson reads through our callback, below
    else if (arg === "--base-path") options.basePath = path.resolve(value());
    else if (arg === "--include-path") options.includePaths.push(path.resolve(value()));
    else if (arg === "--optimize") options.optimize = true;
    else if (arg === "--optimize-runs") options.optimizeRuns = Number(value());
    else if (arg === "--evm-version") options.evmVersion = value();
    else if (arg.startsWith("--")) {
      // flags with no effect on output here (e.g. --no-color, --pretty-json)
    } else if (arg.includes("=")) options.remappings.push(arg);
    else options.files.push(arg);
  }
  return options;
}

function importReader(options) {
  const roots = [options.basePath, ...options.includePaths];
  return (importPath) => {
    for (const root of roots) {
      const candidate = path.resolve(root, importPath);
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
  };
}

function compileStandard(solc, inputText, options) {
  return solc.compile(inputText, { import: importReader(options) });
}

// slither's direct route: emulate the native --combined-json output from a standard-json run.
function compileCombined(solc, options) {
  const wanted = options.combinedJson.split(",");
  const sources = {};
  for (const file of options.files) sources[file] = { content: fs.readFileSync(file, "utf8") };
  const input = {
    language: "Solidity",
    sources,
    settings: {
      remappings: options.remappings,
      optimizer: { enabled: !!options.optimize, runs: options.optimizeRuns || 200 },
      outputSelection: {
        "*": {
          "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers", "userdoc", "devdoc"],
          "": ["ast"],
        },
      },
    },
  };
  if (options.evmVersion) input.settings.evmVersion = options.evmVersion;
  const output = JSON.parse(compileStandard(solc, JSON.stringify(input), options));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) {
    writeAll(2, errors.map((e) => e.formattedMessage).join("\n"));
    process.exit(1);
  }
  const contracts = {};
  for (const [file, byName] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(byName)) {
      const entry = {};
      if (wanted.includes("abi")) entry.abi = c.abi;
      if (wanted.includes("bin")) entry.bin = c.evm.bytecode.object;
      if (wanted.includes("bin-runtime")) entry["bin-runtime"] = c.evm.deployedBytecode.object;
      if (wanted.includes("srcmap")) entry.srcmap = c.evm.bytecode.sourceMap;
      if (wanted.includes("srcmap-runtime")) entry["srcmap-runtime"] = c.evm.deployedBytecode.sourceMap;
      if (wanted.includes("userdoc")) entry.userdoc = c.userdoc;
      if (wanted.includes("devdoc")) entry.devdoc = c.devdoc;
      if (wanted.includes("hashes")) entry.hashes = c.evm.methodIdentifiers;
      contracts[`${file}:${name}`] = entry;
    }
  }
  const sourceList = Object.keys(output.sources || {});
  const combinedSources = {};
  for (const file of sourceList) {
    combinedSources[file] = wanted.includes("ast") ? { AST: output.sources[file].ast } : {};
  }
  return JSON.stringify({ contracts, sourceList, sources: combinedSources, version: solc.version() });
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.version) {
    writeAll(1, VERSION_TEXT);
    return;
  }
  if (!options.standardJson && !options.combinedJson) {
    writeAll(2, "usage: solc --version | --standard-json < input.json | --combined-json LIST FILE...\n");
    process.exit(2);
  }
  const solc = require("solc");
  if (options.standardJson) {
    writeAll(1, compileStandard(solc, fs.readFileSync(0, "utf8"), options));
  } else {
    writeAll(1, compileCombined(solc, options));
  }
}

main();
