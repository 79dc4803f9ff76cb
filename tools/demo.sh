#!/usr/bin/env bash
# The main job, as a user runs it: start a local chain, deploy the suite, register tracks by
# IPFS CID (directly, as a remix, and relayed for an artist without gas), read them back,
# show a bad input being refused, and prove the chain's state survives a restart.
# Runs in its own QFZZ_HOME (.demo/), fresh each time, so it is repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
export QFZZ_HOME="$PWD/.demo"
export PATH="$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH"
unset QFZZ_RPC_URL QFZZ_IPFS_API QFZZ_PRIVATE_KEY
PORT=8646

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }

qfzz chain down >/dev/null 2>&1 || true
# start afresh, but keep fitted recommendation models (keyed by data, model and code version)
find "$QFZZ_HOME" -mindepth 1 -maxdepth 1 ! -name models -exec rm -rf {} + 2>/dev/null || true
trap 'qfzz oracle committee stop --committee "$QFZZ_HOME/committee/committee.json" >/dev/null 2>&1 || true; qfzz chain down >/dev/null 2>&1 || true' EXIT

ARTIST=0x70997970C51812dc3A010C7d01b50e0d17dc79C8     # anvil's account 1
REMIXER=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC    # anvil's account 2
RELAYER=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720    # anvil's account 9

step "1. A local chain, and the contract suite deployed to it"
show qfzz chain up --port "$PORT"
show qfzz chain deploy

step "2. Three short tracks (real audio files) and a re-encoded copy of the first"
python tools/demo_audio.py "$QFZZ_HOME/audio"
AUDIO="$QFZZ_HOME/audio"

step "3. An artist registers a track: audio and metadata go to IPFS, the CID on-chain"
show qfzz track register "$AUDIO/night-drive.flac" --title "Night Drive" --artist-name "Ada" \
  --isrc USRC17607839 --metadata '{"genre": "synthwave", "tags": ["night", "analog"]}' --from "$ARTIST"
ORIGINAL=$(qfzz ipfs add "$AUDIO/night-drive.flac" --only-hash --json | python -c 'import json,sys; print(json.load(sys.stdin)["cid"])')

step "4. Another artist registers a remix of it: the attribution graph royalties will follow"
show qfzz track register "$AUDIO/night-drive-remix.wav" --title "Night Drive (Lido remix)" \
  --artist-name "Lido" --parent "$ORIGINAL:remix" --cid-version 1 --from "$REMIXER"

step "5. A new artist with no ether signs a cover (EIP-712); a relayer pays for it"
ARTIST_KEY=0x$(python -c 'import secrets; print(secrets.token_hex(32))')
echo '$ QFZZ_PRIVATE_KEY=<the new artist'"'"'s key> qfzz track sign cover.ogg --title ... --parent ...:cover --out cover-request.json'
QFZZ_PRIVATE_KEY=$ARTIST_KEY qfzz track sign "$AUDIO/cover.ogg" --title "Night Drive (piano cover)" \
  --parent "$ORIGINAL:cover" --out "$QFZZ_HOME/cover-request.json"
show qfzz track relay "$QFZZ_HOME/cover-request.json" --from "$RELAYER"

step "6. Anyone reads the tracks back; the content is checked against its CID"
show qfzz track list
show qfzz track show "$ORIGINAL"
show qfzz track show "$(qfzz track list --json --no-verify | python -c 'import json,sys; print(json.load(sys.stdin)[1]["content_cid"])')"

step "7. The audio lives on IPFS: a CAR file moves it to any kubo node or pinning service"
show qfzz ipfs export "$ORIGINAL" "$QFZZ_HOME/night-drive.car"
show env QFZZ_HOME="$QFZZ_HOME/elsewhere" qfzz ipfs import "$QFZZ_HOME/night-drive.car"
show env QFZZ_HOME="$QFZZ_HOME/elsewhere" qfzz ipfs verify "$ORIGINAL"

step "8. A listener's recommendations (real Last.fm data), each explained and hashed for anchoring"
show qfzz recommend for 2 -n 3

step "9. Bad input is refused with one line, and nothing is lost"
show qfzz track register "$AUDIO/night-drive.flac" --title "Stolen" --from "$REMIXER" || true
echo "# the same music in other bytes (an OGG re-encode) is caught by its acoustic fingerprint:"
show qfzz track register "$AUDIO/night-drive-copy.ogg" --title "Stolen again" --from "$REMIXER" || true
show qfzz track show QmNotACid || true

COMMITTEE="$QFZZ_HOME/committee/committee.json"
NODE1=127.0.0.1:7761   # member 1: the node that serves our listeners
SPONSOR=0x000000000000000000000000000000000000C0DE

wait_anchored() {  # wait_anchored EPOCH: until every member applied the anchored epoch
  for _ in $(seq 1 600); do
    if python - "$1" "$COMMITTEE" <<'PY'
import json, sys
from pathlib import Path
epoch, committee = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
states = [json.loads(p.read_text()).get("state") if (p := Path(m["home"]) / "epochs" / f"{epoch}.json").exists() else None
          for m in committee["members"]]
sys.exit(0 if all(state == "applied" for state in states) else 1)
PY
    then return 0; fi
    sleep 0.5
  done
  echo "epoch $1 was not anchored in time; node logs are in $QFZZ_HOME/committee/member-*/node.log" >&2
  return 1
}

step "10. An oracle committee: four node processes with BLS keys, joined on-chain with proofs of possession"
show qfzz oracle committee init --size 4 --dir "$QFZZ_HOME/committee" --base-port 7760 --attempt 20
show qfzz oracle committee join --committee "$COMMITTEE"
show qfzz oracle model publish --activate-next     # model version 1: the hybrid, its manifest on IPFS
show qfzz oracle epoch --advance                   # (a local chain: time moves on to the next epoch)
show qfzz oracle committee start --committee "$COMMITTEE"

step "11. Listeners ask for recommendations and report their listens; a label pays for a placement"
EPOCH1=$(qfzz oracle epoch --json | python -c 'import json,sys; print(json.load(sys.stdin)["current_epoch"])')
for listener in lastfm:2 lastfm:3 lastfm:4 lastfm:5; do
  qfzz oracle request "$listener" --node "$NODE1" --listen 89:3 -n 5 --json >/dev/null || { sleep 2; qfzz oracle request "$listener" --node "$NODE1" --listen 89:3 -n 5 >/dev/null; }
done
echo "(4 listeners asked node $NODE1; each keeps its salt, the chain will see only commitments)"
show qfzz oracle sponsor --item 1001 --listener lastfm:3 --rank 2 --sponsor "$SPONSOR" --node "$NODE1"
sleep 2

step "12. The epoch closes: every member recomputes the batch, signs its Merkle root, the leader anchors"
show qfzz oracle epoch --advance
wait_anchored "$EPOCH1"
show qfzz oracle epoch --last 2

step "13. Model version 2 (the fixed-λ hybrid) from the next epoch; a node is killed mid-epoch"
show qfzz oracle model publish --model hybrid_fixed --activate-next
show qfzz oracle epoch --advance
EPOCH2=$(qfzz oracle epoch --json | python -c 'import json,sys; print(json.load(sys.stdin)["current_epoch"])')
for listener in lastfm:2 lastfm:6 lastfm:7; do qfzz oracle request "$listener" --node "$NODE1" -n 5 >/dev/null; done
sleep 2
show qfzz oracle committee stop --committee "$COMMITTEE" --member 2 --kill   # a crash: no shutdown
show qfzz oracle epoch --advance
sleep 3
show qfzz oracle committee start --committee "$COMMITTEE" --member 2          # it resumes from its journal
wait_anchored "$EPOCH2"
show qfzz oracle epoch --last 3
show qfzz oracle status --node 127.0.0.1:7762

step "14. A listener fetches their receipts and verifies one against the chain, link by link"
show qfzz oracle receipts lastfm:3 --node "$NODE1" --out "$QFZZ_HOME/receipts"
FIRST=$(ls "$QFZZ_HOME"/receipts/epoch"$EPOCH1"-rank01-*.json)
SPONSORED=$(ls "$QFZZ_HOME"/receipts/epoch"$EPOCH1"-rank02-*.json)
show qfzz verify "$FIRST"
echo "# the sponsored placement is shown as such:"
show qfzz verify "$SPONSORED"
echo "# a tampered receipt (its rank changed) fails, naming the broken link:"
python -c 'import json,sys; d=json.load(open(sys.argv[1])); d["receipt"]["rank"]=1; open(sys.argv[2],"w").write(json.dumps(d))' \
  "$SPONSORED" "$QFZZ_HOME/tampered.json"
show qfzz verify "$QFZZ_HOME/tampered.json" || true
show qfzz oracle committee stop --committee "$COMMITTEE"

step "15. The chain's state survives a restart"
show qfzz chain down
show qfzz chain up --port "$PORT"
show qfzz track list --artist "$ARTIST" --no-verify
show qfzz chain down
trap - EXIT

printf '\nDone. The demo state is in %s; `QFZZ_HOME=%s qfzz chain up` brings its chain back.\n' "$QFZZ_HOME" "$QFZZ_HOME"
