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
trap 'qfzz chain down >/dev/null 2>&1 || true' EXIT

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

step "10. The chain's state survives a restart"
show qfzz chain down
show qfzz chain up --port "$PORT"
show qfzz track list --artist "$ARTIST" --no-verify
show qfzz chain down
trap - EXIT

printf '\nDone. The demo state is in %s; `QFZZ_HOME=%s qfzz chain up` brings its chain back.\n' "$QFZZ_HOME" "$QFZZ_HOME"
