#!/usr/bin/env bash
# The main job, as a user runs it: start a local chain, deploy the suite, register tracks by
# IPFS CID (directly, as a remix, and relayed for an artist without gas), read them back,
# show a bad input being refused, anchor explained recommendations, pay the tracks' royalty
# splits (a remix's cascade to its original, a listening epoch), and prove the chain's state
# survives a restart.
# Runs in its own QFZZ_HOME (.demo/), fresh each time, so it is repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
export QFZZ_HOME="$PWD/.demo"
export PATH="$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH"
unset QFZZ_RPC_URL QFZZ_IPFS_API QFZZ_PRIVATE_KEY
# free loopback ports (another demo or a test may hold the usual ones): the chain's, then four in a row for the committee
free_ports() { python - "$1" "$2" <<'PY'
import socket, sys
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port)); return True
        except OSError:
            return False
start, count = int(sys.argv[1]), int(sys.argv[2])
print(next(p for p in range(start, 65000 - count) if all(free(p + k) for k in range(count))))
PY
}
PORT=${QFZZ_DEMO_PORT:-$(free_ports 8646 1)}
BASE=$(free_ports 7760 4)

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

step "2. Four short tracks (real audio files) and a re-encoded copy of the first"
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
NODE1=127.0.0.1:$((BASE + 1))   # member 1: the node that serves our listeners
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
show qfzz oracle committee init --size 4 --dir "$QFZZ_HOME/committee" --base-port "$BASE" --attempt 20
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

step "13. A new track with tags joins the catalogue; model version 2 (the fixed-λ hybrid); a node is killed mid-epoch"
# no one has listened to it yet: it is served through the content model, by its tags (nothing refitted)
show qfzz track register "$AUDIO/slow-tide.wav" --title "Slow Tide" --artist-name "Ada" \
  --metadata '{"genre": "trip-hop", "tags": ["chillout", "downtempo", "electronic", "electronica"]}' --from "$ARTIST"
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
show qfzz oracle status --node "127.0.0.1:$((BASE + 2))"

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
echo "# lastfm:2 (trip-hop, chillout, electronic listening) got the new track, attributed to its artist on-chain:"
qfzz oracle receipts lastfm:2 --node "$NODE1" --out "$QFZZ_HOME/receipts-2" >/dev/null
NEW_TRACK=$(grep -l '"kind": "track"' "$QFZZ_HOME"/receipts-2/epoch"$EPOCH2"-*.json | head -1)
[ -n "$NEW_TRACK" ] || { echo "lastfm:2 was not recommended the new track" >&2; exit 1; }
show qfzz verify "$NEW_TRACK"
show qfzz oracle committee stop --committee "$COMMITTEE"

WRITER=0x90F79bf6EB2c4f870365E785982E1f101E93b906     # anvil's account 3: co-wrote the original
LABEL=0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65      # anvil's account 4: the original's label
PRODUCER=0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc   # anvil's account 5: co-produced the remix
FAN=0x976EA74026E726554dB657fA54763abd0C3a0aa9        # anvil's account 6: pays the remix

step "15. Royalties: splits on the original and the remix, a payment, its cascade, balances and a withdrawal"
echo "# splits are set on final registrations (a day after registering): a local chain moves its clock on"
show python tools/advance_time.py 86401
REMIX=$(qfzz track list --json --no-verify | python -c 'import json,sys; print(next(t["content_cid"] for t in json.load(sys.stdin) if "remix" in t["metadata"]["title"]))')
show qfzz royalties split "$ORIGINAL" --composition "$ARTIST=60%,$WRITER=40%" --master "$ARTIST=70%,$LABEL=30%" --from "$ARTIST"
echo "# the remix routes 30% of each right to the original (a remix pays both of its rights upstream):"
show qfzz royalties split "$REMIX" --composition "parents=30%,$REMIXER=70%" \
  --master "parents=30%,$REMIXER=45%,$PRODUCER=25%" --from "$REMIXER"
show qfzz royalties show "$REMIX"
show qfzz royalties pay "$REMIX" 1 --right both --ratio 50% --from "$FAN"
echo "# the original's co-writer sees what is waiting in the remix's cascade before anyone pushes it:"
show qfzz royalties balance "$WRITER"
echo "# anyone pushes the cascade up the tree (here the fan):"
show qfzz royalties push "$REMIX" --from "$FAN"
for who in "$ARTIST" "$LABEL" "$REMIXER" "$PRODUCER"; do show qfzz royalties balance "$who"; done
show qfzz royalties withdraw --from "$WRITER"
show qfzz royalties balance "$WRITER"
echo "# a listening epoch: a pool shared among what each listener played (user-centric), claimed by proof"
printf 'listener,track,plays\nlastfm:2,%s,30\nlastfm:2,%s,10\nlastfm:3,%s,1\n' "$ORIGINAL" "$REMIX" "$REMIX" > "$QFZZ_HOME/plays.csv"
show qfzz royalties epoch build "$QFZZ_HOME/plays.csv" --pool 0.5 --scheme user-centric --out "$QFZZ_HOME/epoch.json"
show qfzz royalties epoch post "$QFZZ_HOME/epoch.json"
show qfzz royalties epoch claim "$QFZZ_HOME/epoch.json"
show qfzz royalties push "$REMIX" --from "$FAN"
echo "# where every wei the remix earned went (and a chart of it):"
show qfzz royalties flow "$REMIX" --chart "$QFZZ_HOME/remix-flow.png"

step "16. Curation: curators with attested identities vote, commit-reveal, on an emerging artist"
OWNER=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266      # anvil's account 0: deployer, attester, updater
NEWCOMER=0x90F79bf6EB2c4f870365E785982E1f101E93b906   # anvil's account 3 (the co-writer above), now with a track of their own
C1=0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65; C2=0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc
C3=0x976EA74026E726554dB657fA54763abd0C3a0aa9; C4=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
C5=0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f         # anvil's accounts 4-8: curators (some played royalty roles above)
advance() { show python tools/advance_time.py "$1"; }  # a local chain moves its clock on
# The models serve the Last.fm catalogue, so the newcomer's metadata names the catalogue item its
# music stands for (`lastfm_id`): here listener 2's 5th organic pick, just outside a top 3.
CANDIDATE=$(qfzz recommend for 2 -n 5 --json | python -c 'import json,sys; print(json.load(sys.stdin)["recommendations"][4]["item"])')
python -c 'import sys; from qfzz_chain.audio import synthesize_distinct_track; synthesize_distinct_track(sys.argv[1], 71, seconds=12.0)' \
  "$AUDIO/first-light.wav"
show qfzz track register "$AUDIO/first-light.wav" --title "First Light" --artist-name "Noor" \
  --metadata "{\"genre\": \"rock\", \"lastfm_id\": $CANDIDATE}" --from "$NEWCOMER"
show qfzz reputation admin --attester "$OWNER" --updater "$OWNER" \
  --add-segment genre:rock --add-segment region:europe --add-segment region:americas
python - "$QFZZ_HOME/attestations.json" "$NEWCOMER" "$C1" "$C2" "$C3" "$C4" "$C5" <<'PY'
import json, sys
people = sys.argv[2:]
json.dump([{"account": a, "namespace": "demo-personhood", "reference": f"person-{i}"} for i, a in enumerate(people)],
          open(sys.argv[1], "w"), indent=1)
PY
show qfzz reputation attest "$QFZZ_HOME/attestations.json"      # the personhood provider's Merkle root
for curator in "$NEWCOMER" "$C1" "$C2" "$C3" "$C4" "$C5"; do qfzz reputation bind --from "$curator" >/dev/null; done
echo "(6 accounts bound their identities; each weighs 0.2236: the prior 0.2, unstaked)"
show qfzz reputation assign "$C1=genre:rock" "$C2=region:europe" "$C3=region:americas" "$C4=genre:rock" "$C5=region:europe"
show qfzz reputation stake 1 --from "$C1"
show qfzz reputation show 0x000000000000000000000000000000000000dEaD   # a fresh address: no identity, no weight
advance 86401   # the newcomer's registration is final a day after it
echo "# the artist cannot propose (nor vote on) themself:"
show qfzz curate propose "$NEWCOMER" --segment genre:rock --from "$NEWCOMER" || true
show qfzz curate propose "$NEWCOMER" --segment genre:rock --segment region:europe --segment region:americas --from "$C1"
show qfzz curate vote 1 strongly-agree --from "$C1"
show qfzz curate vote 1 agree --from "$C2"
show qfzz curate vote 1 agree --from "$C3"
show qfzz curate vote 1 neutral --from "$C4"
show qfzz curate vote 1 disagree --from "$C5"      # this curator will never reveal
show qfzz curate vote 1 agree --from "$NEWCOMER" || true
show qfzz curate status 1                          # only commitments: nobody sees the trend
advance 86400
for curator in "$C1" "$C2" "$C3" "$C4"; do show qfzz curate reveal 1 --from "$curator"; done
echo "# a reveal that is not what was committed is refused:"
show qfzz curate reveal 1 --vote agree --from "$C5" || true
advance 86400
show qfzz curate finalize 1                        # reports the non-reveal, settles, lists the artist
show qfzz reputation show "$C5"                    # the non-revealer lost 0.05 of reputation
show qfzz curate index

step "17. The winner in a listener's recommendations: boosted, and the boost explained, on-chain too"
show qfzz recommend for 2 -n 3
show qfzz curate recommend 2 -n 3 --boost 0.1
echo "# the committee's next epoch lifts the listed artist in the anchored lists too, and the receipt says so:"
show qfzz oracle committee start --committee "$COMMITTEE"
EPOCH3=$(qfzz oracle epoch --json | python -c 'import json,sys; print(json.load(sys.stdin)["current_epoch"])')
qfzz oracle request lastfm:2 --node "$NODE1" -n 10 >/dev/null
sleep 2
show qfzz oracle epoch --advance
wait_anchored "$EPOCH3"
qfzz oracle receipts lastfm:2 --node "$NODE1" --out "$QFZZ_HOME/receipts-3" >/dev/null
LIFTED=$(grep -l "\"lastfm_id\": $CANDIDATE\b" "$QFZZ_HOME"/receipts-3/epoch"$EPOCH3"-*.json | head -1)
[ -n "$LIFTED" ] || { echo "lastfm:2 was not recommended the curated artist in epoch $EPOCH3" >&2; exit 1; }
show qfzz verify "$LIFTED"
show qfzz oracle committee stop --committee "$COMMITTEE"
show qfzz reputation score                         # the updater's factors and targets for the next post

step "18. The chain's state survives a restart"
show qfzz chain down
show qfzz chain up --port "$PORT"
show qfzz track list --artist "$ARTIST" --no-verify
show qfzz royalties balance "$ARTIST"
show qfzz chain down
trap - EXIT

printf '\nDone. The demo state is in %s; `QFZZ_HOME=%s qfzz chain up` brings its chain back.\n' "$QFZZ_HOME" "$QFZZ_HOME"
