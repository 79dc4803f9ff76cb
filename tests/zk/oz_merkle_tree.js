// The reference: @openzeppelin/merkle-tree's StandardMerkleTree on the values Python sent.
// stdin: a list of cases {"leafEncoding": [...], "values": [[...]], "sortLeaves": bool,
// "dump": <Python's dump>, "pythonProofs": [[hex...]]} (one node start for all of them)
// stdout: per case, the JS tree (root, array, proofs by value index), whether each of Python's
// proofs verifies with StandardMerkleTree.verify, and whether Python's dump loads (load() validates).
"use strict";

const fs = require("fs");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

function reference(input) {
  const tree = StandardMerkleTree.of(input.values, input.leafEncoding, { sortLeaves: input.sortLeaves });
  const pythonRoot = input.dump.tree[0];
  const pythonProofsVerify = input.pythonProofs.map((proof, i) =>
    StandardMerkleTree.verify(pythonRoot, input.leafEncoding, input.values[i], proof),
  );
  let loadedRoot;
  try {
    loadedRoot = StandardMerkleTree.load(input.dump).root;
  } catch (err) {
    loadedRoot = `error: ${err.message}`;
  }
  return {
    root: tree.root,
    tree: tree.dump().tree,
    treeIndices: tree.dump().values.map((v) => v.treeIndex),
    proofs: input.values.map((_, i) => tree.getProof(i)),
    pythonProofsVerify,
    loadedRoot,
  };
}

fs.writeSync(1, JSON.stringify(JSON.parse(fs.readFileSync(0, "utf8")).map(reference)));
