#!/usr/bin/env bash
# Quick start (1): install what is missing, build, and run pitool's main job
# end to end on a throwaway vault against the local sandbox of both APIs.
# No account and no internet: everything talks to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/deps.sh
build=${PITOOL_DEMO_BUILD:-$root/build/demo}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPITOOL_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target pitool pitool-sandbox >/dev/null

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The throwaway vault and its passphrase (in a file: never in argv).
export PITOOL_VAULT=$work/vault
umask 077
head -c 24 /dev/urandom | base64 > "$work/passphrase"
export PITOOL_PASSPHRASE_FILE=$work/passphrase

"$build/pitool-sandbox" --quiet > "$work/sandbox.out" &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$work/sandbox.out" ] && break; sleep 0.05; done
base=$(head -1 "$work/sandbox.out")
[ -n "$base" ] || { echo "demo: pitool-sandbox did not start" >&2; exit 1; }

pitool() { "$build/pitool" "$@"; }
admin() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$base/_sandbox/$1"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
expect_fail() { if "$@"; then echo "expected a failure" >&2; exit 1; fi; }

step "sandbox of LeadConnector and Hint at $base"
step "pitool init (throwaway vault, Argon2id interactive)"
pitool init --kdf interactive

step "create a location PIT in the provider's UI (sandbox) and store it"
admin locations '{"id":"loc-demo-1","name":"Demo Dental","company_id":"comp-demo"}' >/dev/null
admin pits '{"level":"location","location_id":"loc-demo-1","name":"CRM sync","scopes":["locations.readonly","contacts.write"]}' > "$work/pit.json"
pit_id=$(jq -r .id "$work/pit.json")
jq -r .token "$work/pit.json" | pitool create crm-sync --provider leadconnector --location loc-demo-1 \
  --scope locations.readonly --scope contacts.write --description "CRM sync for Demo Dental" \
  --base-url "$base" --token-stdin

step "pitool show crm-sync"
pitool show crm-sync

step "pitool test-call crm-sync (GET /locations/{id})"
pitool test-call crm-sync

step "the seed's write test: POST /contacts/"
pitool test-call crm-sync --method POST --path /contacts/ \
  --data '{"firstName":"John","lastName":"Doe","email":"john@example.com","locationId":"loc-demo-1"}'

step "rotate and expire later: both tokens work for 7 days"
admin "pits/$pit_id/rotate" '{"mode":"later"}' | jq -r .token | pitool rotate crm-sync --token-stdin
pitool test-call crm-sync
pitool test-call crm-sync --old
echo "get and get --old return different tokens: $( [ "$(pitool get crm-sync)" != "$(pitool get crm-sync --old)" ] && echo yes)"

step "cancel-rotation: the old token is current again"
admin "pits/$pit_id/cancel-rotation" '{}' >/dev/null
pitool cancel-rotation crm-sync
pitool test-call crm-sync

step "rotate again, then expire-old: the old token stops working"
admin "pits/$pit_id/rotate" '{"mode":"later"}' | jq -r .token | pitool rotate crm-sync --token-stdin
admin "pits/$pit_id/expire-now" '{}' >/dev/null
echo "expired in the provider's UI; the old token is now refused (exit 7 expected):"
expect_fail pitool test-call crm-sync --old
pitool expire-old crm-sync
pitool test-call crm-sync
echo "and pitool no longer hands it out (exit 4 expected):"
expect_fail pitool get crm-sync --old

step "LeadConnector OAuth: register an app, exchange a code, refresh"
admin oauth/apps '{"name":"Demo app","scopes":["locations.readonly","contacts.readonly"]}' > "$work/app.json"
client_id=$(jq -r .client_id "$work/app.json")
jq -r .client_secret "$work/app.json" | pitool create demo-app --provider leadconnector --kind oauth-app \
  --client-id "$client_id" --base-url "$base" --token-stdin
admin oauth/codes "{\"client_id\":\"$client_id\",\"user_type\":\"Location\",\"location_id\":\"loc-demo-1\"}" |
  jq -r .code | pitool exchange-code --provider leadconnector --app demo-app --name demo-oauth --code-stdin
pitool test-call demo-oauth
pitool refresh demo-oauth
pitool test-call demo-oauth

step "Hint InstantOn: register a partner, exchange a practice's code"
admin hint/partners '{"name":"Demo partner"}' > "$work/partner.json"
jq -r .partner_key "$work/partner.json" | pitool create hint-partner --provider hint --kind partner-key \
  --base-url "$base" --token-stdin
admin hint/codes "{\"partner_id\":\"$(jq -r .id "$work/partner.json")\",\"practice_name\":\"Joe's Practice\"}" |
  jq -r .code | pitool exchange-code --provider hint --partner hint-partner --name joes-practice --code-stdin
pitool test-call joes-practice
pitool test-call hint-partner

step "pitool list"
pitool list

step "pitool audit"
pitool audit

step "pitool history"
pitool history

echo
echo "demo finished: every step above ran against $base"
