# Sourced by bench-get.sh and bench-scale.sh after they set $pitool: a
# throwaway directory ($work, removed on exit with the agent stopped), a
# per-run agent socket, the trivial-process floor ($work/floor), a
# passphrase file ($work/pass), and gen N, which prints N realistic
# integrations (LeadConnector location PITs, 4 scopes) as import lines.
command -v hyperfine >/dev/null || { echo "$(basename "$0"): needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

work=$(mktemp -d)
export PITOOL_AGENT_SOCKET="$work/agent.sock"
cleanup() { "$pitool" -q lock >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

printf 'int main(){return 0;}\n' > "$work/floor.c"
cc -O2 -o "$work/floor" "$work/floor.c"
printf '%s passphrase\n' "$(basename "$0" .sh)" > "$work/pass"

gen() {
  python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
scopes = ["contacts.readonly", "contacts.write", "locations.readonly", "opportunities.readonly"]
for i in range(n):
    print(json.dumps({
        "name": f"acme-location-{i:06d}", "provider": "leadconnector", "kind": "pit",
        "description": f"Acme sub-account {i} production sync", "level": "location",
        "account_id": f"ve9EPM428h8v{i:08d}", "scopes": scopes,
        "base_url": "https://services.leadconnectorhq.com",
        "created_at": "2026-09-01T00:00:00Z",
        "secrets": {"token": f"pit-{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}}, separators=(",", ":")))
PY
}
