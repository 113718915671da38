#!/usr/bin/env bash
# Whole-process comparison: the cost of one lookup with pitool and with other
# credential stores on this machine, by number of stored credentials.
#
#   bench/bench-deps.sh                       # once, as root: hyperfine, pass, age, keepassxc, ...
#   cmake --preset release && cmake --build --preset release --target pitool pitool-bench-gen
#   bench/bench-peers.sh [-s "1 10 100 1000"] [-r RUNS] [-o OUTDIR]
#
# Everything lives in throwaway homes under a temp dir (removed at the end
# unless KEEP=1): a GNUPGHOME with a passphrase-less key, a pass store, an age
# identity, KeePass databases and a pitool vault. Nothing touches the user's
# real ~/.gnupg, ~/.password-store or pitool vault.
#
# For each size N one hyperfine invocation times every tool side by side
# (`hyperfine -N --warmup 5 --runs R`), with `trivial` (a compiled
# `int main(){}`) as the floor, so the ratios to the floor and to `pass show`
# compare runs made under the same machine load. Outputs in OUTDIR:
# hyperfine-N.json, results.csv (tool,size,median_ms,...) and results.md.
#
# Environment knobs:
#   PITOOL_BIN, PITOOL_GEN   binaries (default build/release/pitool, build/release/bench/pitool-bench-gen)
#   MAX_FILES=10000          largest N for one-file-per-entry stores (pass, gpg, age files)
#   MAX_KDBX=100000          largest N for the KeePass AES-KDF database (keepassxc-cli import)
#   MAX_KDBX_ARGON=10000     largest N for the Argon2 one (keepassxc-cli merge: ~7 min at 100k)
#   PITOOL_CREATE_MAX=1000   largest N built with a loop of `pitool create` when `pitool import` is missing
#   BUILD_KDF=interactive    Argon2id level used while filling the pitool vault (see below)
#   MEASURE_KDF=moderate     level the vault is re-wrapped to (`pitool passwd --kdf`) before timing
#   KEEP=1                   keep the temp dir
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
sizes="1 10 100 1000 10000 100000"
runs=10
outdir="$here/build/bench-peers"
while getopts "s:r:o:h" opt; do
  case $opt in
    s) sizes=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) outdir=$OPTARG ;;
    *) sed -n '2,30p' "$0"; exit 2 ;;
  esac
done

PITOOL_BIN=${PITOOL_BIN:-$here/build/release/pitool}
PITOOL_GEN=${PITOOL_GEN:-$here/build/release/bench/pitool-bench-gen}
MAX_FILES=${MAX_FILES:-10000}
MAX_KDBX=${MAX_KDBX:-100000}
MAX_KDBX_ARGON=${MAX_KDBX_ARGON:-10000}
PITOOL_CREATE_MAX=${PITOOL_CREATE_MAX:-1000}
BUILD_KDF=${BUILD_KDF:-interactive}
MEASURE_KDF=${MEASURE_KDF:-moderate}
SYS_PYTHON=/usr/bin/python3 # Debian's, which has pykeepass (a pyenv python may not)

for tool in hyperfine jq cc gpg pass age age-keygen keepassxc-cli "$PITOOL_BIN" "$PITOOL_GEN"; do
  command -v "$tool" >/dev/null || { echo "bench-peers: missing $tool (see bench/bench-deps.sh)" >&2; exit 2; }
done

mkdir -p "$outdir"
work=$(mktemp -d "${TMPDIR:-/tmp}/pitool-bench-peers.XXXXXX")
notes="$outdir/notes.txt"
: >"$notes"
note() { echo "bench-peers: $*" >&2; echo "$*" >>"$notes"; }
log() { echo "bench-peers: $*" >&2; }

export GNUPGHOME="$work/gnupg"
cleanup() {
  gpgconf --kill gpg-agent >/dev/null 2>&1 || true # only the agent of our GNUPGHOME
  if [ -n "${agent_started:-}" ]; then "$PITOOL_BIN" lock >/dev/null 2>&1 || true; fi
  if [ "${KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- the floor ----------------------------------------------------------------
echo 'int main(void){return 0;}' >"$work/trivial.c"
cc -O2 -o "$work/trivial" "$work/trivial.c"
trivial="$work/trivial"

# --- gpg / pass ---------------------------------------------------------------
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "pitool bench <bench@localhost>" default default never 2>/dev/null
keyid=$(gpg --batch --with-colons --list-keys bench@localhost 2>/dev/null | awk -F: '/^fpr/{print $10; exit}')
gpg_algo=$(gpg --batch --list-keys bench@localhost 2>/dev/null | awk '/^sub/{print $2; exit}')
log "gpg key $keyid (encryption subkey $gpg_algo: gpg's default)"

# --- age ----------------------------------------------------------------------
age-keygen -o "$work/age.key" 2>/dev/null
age_recipient=$(age-keygen -y "$work/age.key")

# --- pitool -------------------------------------------------------------------
passfile="$work/pitool.pass"
printf 'bench passphrase for pitool\n' >"$passfile"
chmod 600 "$passfile"
export PITOOL_PASSPHRASE_FILE="$passfile"
export PITOOL_NEW_PASSPHRASE_FILE="$passfile"
# `pitool X --help` exits 0 for any X (the top-level --help wins), so look
# for the subcommand in the help listing.
has_sub() { "$PITOOL_BIN" --help 2>/dev/null | grep -qE "^ +$1( |$)" && "$PITOOL_BIN" "$1" --help >/dev/null 2>&1; }
has_import=0
has_sub import && has_import=1
has_agent=0
has_sub unlock && has_agent=1
[ $has_import = 1 ] || note "pitool import: not in this binary; vaults built with a loop of 'pitool create' up to N=$PITOOL_CREATE_MAX"
[ $has_agent = 1 ] || note "pitool unlock: not in this binary; no 'pitool get (agent)' rows"

kdbx_pw="$work/kdbx.pass"
printf 'bench password for keepass\n' >"$kdbx_pw"
has_pykeepass=0
# keepassxc-cli 2.7 cannot choose a KDF (db-create/import always use AES-KDF),
# so an empty Argon2 database comes from pykeepass's template, made once.
if $SYS_PYTHON - "$work/argon-empty.kdbx" "$(cat "$kdbx_pw")" 2>/dev/null <<'EOF'
import sys
from pykeepass import create_database
create_database(sys.argv[1], password=sys.argv[2]).save()
EOF
then
  has_pykeepass=1
else
  note "keepassxc argon2: python3-pykeepass missing (needed to make an Argon2 .kdbx); skipped"
fi

csv="$outdir/results.csv"
echo "tool,size,median_ms,mean_ms,stddev_ms,min_ms,max_ms,runs,floor_median_ms,ratio_floor,ratio_pass,kdf,note" >"$csv"

# Builds the stores for size N in $work/N; sets the arrays of commands to time.
build_size() {
  local n=$1 d="$work/$n"
  mkdir -p "$d"
  "$PITOOL_GEN" "$n" | jq -r '[.name, .token] | @tsv' >"$d/entries.tsv"
  lookup=$(sed -n "$((n / 2 + 1))p" "$d/entries.tsv" | cut -f1)
  log "N=$n: looking up $lookup"

  # pass / gpg: one encrypted file per entry (pass's layout), encrypted in
  # one gpg process (--multifile) instead of N `pass insert` runs.
  if [ "$n" -le "$MAX_FILES" ]; then
    local t0=$SECONDS
    export PASSWORD_STORE_DIR="$d/pass"
    pass init "$keyid" >/dev/null
    mkdir -p "$d/plain"
    while IFS=$'\t' read -r name token; do printf '%s\n' "$token" >"$d/plain/$name"; done <"$d/entries.tsv"
    (cd "$d/plain" && find . -type f -printf '%f\0' |
      xargs -0 gpg --batch --quiet --yes --trust-model always -r "$keyid" --encrypt --multifile)
    mv "$d"/plain/*.gpg "$PASSWORD_STORE_DIR"/ 2>/dev/null || find "$d/plain" -name '*.gpg' -exec mv -t "$PASSWORD_STORE_DIR" {} +
    rm -rf "$d/plain"
    have_pass=1
    log "N=$n: pass store built in $((SECONDS - t0)) s"
  else
    have_pass=0
    note "N=$n: pass and gpg skipped (one file per entry; MAX_FILES=$MAX_FILES)"
  fi

  # age: one file per entry (like passage), and one file holding all N entries.
  if [ "$n" -le "$MAX_FILES" ]; then
    local t0=$SECONDS
    mkdir -p "$d/age"
    while IFS=$'\t' read -r name token; do
      printf '%s\n' "$token" | age -r "$age_recipient" -o "$d/age/$name.age"
    done <"$d/entries.tsv"
    have_age_files=1
    log "N=$n: age files built in $((SECONDS - t0)) s"
  else
    have_age_files=0
    note "N=$n: age one-file-per-entry skipped (MAX_FILES=$MAX_FILES)"
  fi
  age -r "$age_recipient" -o "$d/all.age" <"$d/entries.tsv"

  # KeePass: import an XML export of N entries (AES-KDF: keepassxc-cli's
  # default), then merge it into an empty Argon2 database made by pykeepass.
  have_kdbx=0
  have_kdbx_argon=0
  if [ "$n" -le "$MAX_KDBX" ]; then
    local t0=$SECONDS
    awk -F'\t' 'BEGIN { print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"; print "<KeePassFile><Root><Group><Name>Root</Name>" }
      { printf "<Entry><String><Key>Title</Key><Value>%s</Value></String><String><Key>UserName</Key><Value>bench</Value></String><String><Key>Password</Key><Value>%s</Value></String></Entry>\n", $1, $2 }
      END { print "</Group></Root></KeePassFile>" }' "$d/entries.tsv" >"$d/kdbx.xml"
    { cat "$kdbx_pw"; cat "$kdbx_pw"; } | keepassxc-cli import -q -p "$d/kdbx.xml" "$d/aes.kdbx" >/dev/null
    rm -f "$d/kdbx.xml"
    have_kdbx=1
    kdbx_aes_kdf=$(keepassxc-cli db-info -q "$d/aes.kdbx" <"$kdbx_pw" | sed -n 's/^KDF: //p')
    if [ $has_pykeepass = 1 ] && [ "$n" -gt "$MAX_KDBX_ARGON" ]; then
      note "N=$n: KeePass Argon2d skipped (filling it takes keepassxc-cli merge, about 7 minutes at 100k on this machine; MAX_KDBX_ARGON=$MAX_KDBX_ARGON)"
    elif [ $has_pykeepass = 1 ]; then
      cp "$work/argon-empty.kdbx" "$d/argon.kdbx"
      keepassxc-cli merge -q -s "$d/argon.kdbx" "$d/aes.kdbx" <"$kdbx_pw" >/dev/null
      kdbx_argon_kdf=$(keepassxc-cli db-info -q "$d/argon.kdbx" <"$kdbx_pw" | sed -n 's/^KDF: //p')
      have_kdbx_argon=1
    fi
    log "N=$n: KeePass databases built in $((SECONDS - t0)) s"
  else
    note "N=$n: KeePass skipped (MAX_KDBX=$MAX_KDBX)"
  fi

  # pitool: fill with a cheap KDF, then re-wrap the data key at the measured
  # level. `passwd` re-wraps 32 bytes and leaves the payload as it is, so the
  # timed vault is exactly what `init --kdf $MEASURE_KDF` would have made.
  have_pitool=0
  export PITOOL_VAULT="$d/pitool/vault"
  local t0=$SECONDS
  if [ $has_import = 1 ]; then
    "$PITOOL_BIN" -q init --kdf "$BUILD_KDF" >/dev/null
    "$PITOOL_GEN" "$n" | "$PITOOL_BIN" -q import
    have_pitool=1
  elif [ "$n" -le "$PITOOL_CREATE_MAX" ]; then
    "$PITOOL_BIN" -q init --kdf "$BUILD_KDF" >/dev/null
    # The generator's fields, through the CLI's own flags.
    "$PITOOL_GEN" "$n" | jq -r '[.name, .token, .account_id, .description, (.scopes | join(","))] | @tsv' |
      while IFS=$'\t' read -r name token loc desc scopes; do
        printf '%s\n' "$token" | "$PITOOL_BIN" -q create "$name" --provider leadconnector --kind pit \
          --location "$loc" --description "$desc" --scope "$scopes" --token-stdin >/dev/null
      done
    have_pitool=1
  else
    note "N=$n: pitool skipped (no 'pitool import'; a loop of 'pitool create' is capped at $PITOOL_CREATE_MAX)"
  fi
  if [ $have_pitool = 1 ]; then
    "$PITOOL_BIN" -q passwd --kdf "$MEASURE_KDF" >/dev/null
    pitool_kdf=$("$PITOOL_BIN" verify 2>/dev/null | grep -o 'Argon2id [a-z]*' | head -1 || true)
    log "N=$n: pitool vault built in $((SECONDS - t0)) s ($(stat -c %s "$PITOOL_VAULT") bytes), verify says: ${pitool_kdf:-?}"
  fi
}

# Appends one hyperfine JSON to the CSV with ratios to the floor and to pass.
collect() {
  local json=$1 n=$2
  jq -r --arg n "$n" --argjson kdf "$kdf_json" '
    (.results | map({(.command): .median}) | add) as $m
    | .results[]
    | [ .command, $n, (.median * 1000), (.mean * 1000), (.stddev * 1000), (.min * 1000), (.max * 1000),
        (.times | length), ($m["trivial (floor)"] * 1000),
        (.median / $m["trivial (floor)"]),
        (if $m["pass show"] then .median / $m["pass show"] else "" end),
        ($kdf[.command] // ""), "" ]
    | @csv' "$json" >>"$csv"
}

for n in $sizes; do
  build_size "$n"
  d="$work/$n"
  cmds=(-n "trivial (floor)" "$trivial")
  kdf_json='{}'
  addk() { kdf_json=$(jq -c --arg k "$1" --arg v "$2" '. + {($k): $v}' <<<"$kdf_json"); }
  if [ $have_pass = 1 ]; then
    cmds+=(-n "pass show" "pass show $lookup")
    cmds+=(-n "gpg -d" "gpg --quiet --batch -d $PASSWORD_STORE_DIR/$lookup.gpg")
    addk "pass show" "gpg $gpg_algo, passphrase-less key, gpg-agent warm"
    addk "gpg -d" "gpg $gpg_algo, passphrase-less key, gpg-agent warm"
  fi
  if [ $have_age_files = 1 ]; then
    cmds+=(-n "age -d (one file per entry)" "age -d -i $work/age.key $d/age/$lookup.age")
    addk "age -d (one file per entry)" "X25519, no KDF"
  fi
  cmds+=(-n "age -d (one file, all N)" "age -d -i $work/age.key $d/all.age")
  addk "age -d (one file, all N)" "X25519, no KDF"
  if [ $have_kdbx = 1 ]; then
    cmds+=(-n "sh -c trivial (shell floor)" "sh -c $trivial")
    cmds+=(-n "keepassxc-cli show (AES-KDF, via sh)" "sh -c 'keepassxc-cli show -q -s $d/aes.kdbx $lookup < $kdbx_pw'")
    addk "keepassxc-cli show (AES-KDF, via sh)" "$kdbx_aes_kdf"
  fi
  if [ $have_kdbx_argon = 1 ]; then
    cmds+=(-n "keepassxc-cli show (Argon2d, via sh)" "sh -c 'keepassxc-cli show -q -s $d/argon.kdbx $lookup < $kdbx_pw'")
    addk "keepassxc-cli show (Argon2d, via sh)" "$kdbx_argon_kdf"
  fi
  if [ $have_pitool = 1 ]; then
    cmds+=(-n "pitool get (KDF)" "$PITOOL_BIN get $lookup")
    cmds+=(-n "pitool list (KDF)" "$PITOOL_BIN list")
    cmds+=(-n "pitool audit (KDF)" "$PITOOL_BIN audit --max-age 3650")
    for c in "pitool get (KDF)" "pitool list (KDF)" "pitool audit (KDF)"; do addk "$c" "Argon2id $MEASURE_KDF"; done
  fi
  log "N=$n: timing ${#cmds[@]} args' worth of commands, $runs runs each"
  hyperfine -N --warmup 5 --runs "$runs" --style basic --export-json "$outdir/hyperfine-$n.json" "${cmds[@]}" >&2
  collect "$outdir/hyperfine-$n.json" "$n"

  # The agent path: its own invocation (the floor again, for its ratio),
  # after `pitool unlock`, so the cold rows above never see a warm agent.
  if [ $have_pitool = 1 ] && [ $has_agent = 1 ]; then
    "$PITOOL_BIN" -q unlock && agent_started=1
    kdf_json='{}'
    addk "pitool get (agent)" "none (agent holds the data key)"
    addk "pitool list (agent)" "none (agent holds the data key)"
    hyperfine -N --warmup 5 --runs "$runs" --style basic --export-json "$outdir/hyperfine-$n-agent.json" \
      -n "trivial (floor)" "$trivial" -n "pitool get (agent)" "$PITOOL_BIN get $lookup" \
      -n "pitool list (agent)" "$PITOOL_BIN list" >&2
    collect "$outdir/hyperfine-$n-agent.json" "$n"
    "$PITOOL_BIN" -q lock >/dev/null 2>&1 || true
    agent_started=
  fi
  unset PASSWORD_STORE_DIR PITOOL_VAULT
  rm -rf "$d" # keep the disk footprint to one size at a time
done

# --- report -------------------------------------------------------------------
{
  echo "Machine: $(nproc) cores, $(uname -r), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "hyperfine -N --warmup 5 --runs $runs; medians; ratios against the floor in the same invocation."
  echo
  echo "| tool | N | median ms | × floor | × pass show | KDF / notes |"
  echo "|---|---:|---:|---:|---:|---|"
  tail -n +2 "$csv" | $SYS_PYTHON -c '
import csv, sys
for r in csv.reader(sys.stdin):
    tool, n, med, ratio_floor, ratio_pass, kdf = r[0], r[1], float(r[2]), float(r[9]), r[10], r[11]
    rp = "%.2f" % float(ratio_pass) if ratio_pass else "–"
    print("| %s | %s | %.2f | %.1f | %s | %s |" % (tool, n, med, ratio_floor, rp, kdf))
'
  if [ -s "$notes" ]; then
    echo
    echo "Missing rows:"
    sed 's/^/- /' "$notes"
  fi
} >"$outdir/results.md"
cat "$outdir/results.md"
