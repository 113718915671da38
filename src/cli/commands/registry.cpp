#include "cli/commands/commands.hpp"

namespace pitool::cli {

namespace {

// Two or three command lines per command, shown by its --help (a test
// parses each one with the real parser, so they cannot drift from the flags).
// Words from a shell redirection (<, >) on are the shell's, not pitool's.
constexpr CommandExample k_init_examples[] = {
    {"pitool init", "a vault at $PITOOL_VAULT or the default path; the passphrase is asked twice"},
    {"pitool --vault ./team.vault --passphrase-file pass.txt init --kdf sensitive",
     "a vault of its own, passphrase from a file, costlier key derivation"},
};
constexpr CommandExample k_create_examples[] = {
    {"pitool create acme-loc --provider leadconnector --location LOC1 --scope contacts.readonly --token-stdin < "
     "pit.txt",
     "a LeadConnector location PIT, the token on stdin"},
    {"pitool create acme-app --provider leadconnector --kind oauth-app --client-id 64f0c1-app --token-file secret.txt",
     "an OAuth app: its client secret from a file"},
    {"pitool create joes --provider hint --kind practice-key --practice pra-123 --verify --token-stdin < key.txt",
     "a Hint practice key, test-called before it is stored"},
};
constexpr CommandExample k_rotate_examples[] = {
    {"pitool rotate acme-loc --token-file new.txt", "the new token becomes current; the old one stays valid 7 days"},
    {"pitool rotate acme-loc --now --token-stdin < new.txt", "a leaked token: the old one ends at once"},
    {"pitool rotate acme-loc --verify --token-file new.txt", "refuse the new token if the provider rejects it"},
};
constexpr CommandExample k_cancel_rotation_examples[] = {
    {"pitool cancel-rotation acme-loc", "the old token is current again, the new one discarded"},
    {"pitool --json cancel-rotation acme-loc", "the same, printing the integration object"},
};
constexpr CommandExample k_expire_old_examples[] = {
    {"pitool expire-old acme-loc", "the old token is done with before its 7 days are up"},
    {"pitool -q expire-old acme-loc", "the same, printing nothing"},
};
constexpr CommandExample k_list_examples[] = {
    {"pitool list", "every credential: name, provider, kind, account, fingerprint, age"},
    {"pitool list --provider hint --kind practice-key", "only Hint practice keys"},
    {"pitool --json list", "a JSON array of integration objects"},
};
constexpr CommandExample k_show_examples[] = {
    {"pitool show acme-loc", "one credential's metadata, due date and rotation state (never the token)"},
    {"pitool show acme-loc --json", "the integration object"},
};
constexpr CommandExample k_get_examples[] = {
    {"pitool get acme-loc", "the current token on stdout"},
    {"pitool get acme-loc --old", "the previous token while its rotation window is open"},
    {"pitool get acme-loc --fail-if-due", "exit 9 instead of a token that is due for rotation"},
};
constexpr CommandExample k_exec_examples[] = {
    {"pitool exec acme-loc -- ./sync.sh", "./sync.sh with the token in $PITOOL_TOKEN"},
    {"pitool exec acme-loc --env GHL_TOKEN -- ./sync.sh", "the token in $GHL_TOKEN instead"},
    {"pitool exec --env GHL_TOKEN=acme-loc --env HINT_KEY=joes -- ./sync.sh", "two tokens in two variables"},
};
constexpr CommandExample k_inject_examples[] = {
    {"pitool inject < app.env.tpl", "the filled template on stdout"},
    {"pitool inject -o app.env < app.env.tpl", "the filled template in app.env, created 0600"},
};
constexpr CommandExample k_exchange_code_examples[] = {
    {"pitool exchange-code --provider leadconnector --app acme-app --name acme-oauth --code-stdin < code.txt",
     "an OAuth code from the redirect, exchanged with the app's client secret"},
    {"pitool exchange-code --provider hint --partner acme --name joes --code-file code.txt",
     "a Hint practice's code, exchanged for its practice key"},
};
constexpr CommandExample k_refresh_examples[] = {
    {"pitool refresh acme-oauth", "a new access token now (spends the refresh token)"},
    {"pitool refresh acme-oauth --if-needed", "only when the access token expires within 5 minutes"},
};
constexpr CommandExample k_test_call_examples[] = {
    {"pitool test-call acme-loc", "the default call: can this token read its location?"},
    {"pitool test-call acme-loc --method POST --path /contacts/ --data @contact.json",
     "a call of your own, the body from a file"},
    {"pitool --json test-call --all --provider hint --parallel 4",
     "every Hint token, four calls at a time, as one JSON document"},
};
constexpr CommandExample k_audit_examples[] = {
    {"pitool audit", "every token's verdict; exit 9 when one is due or expired"},
    {"pitool audit --max-age 60 --warn-days 10 --provider leadconnector", "a stricter policy for LeadConnector tokens"},
    {"pitool audit --format prometheus", "metrics for node-exporter's textfile collector"},
};
constexpr CommandExample k_history_examples[] = {
    {"pitool history", "every event, oldest first"},
    {"pitool history acme-loc --since 30d", "one credential's events of the last 30 days"},
    {"pitool --json history --action rotate-now", "every immediate rotation, as JSON"},
};
constexpr CommandExample k_delete_examples[] = {
    {"pitool delete acme-loc --yes", "remove a credential (its history stays)"},
    {"pitool --json delete acme-loc --yes", "the same, printing what was removed"},
};
constexpr CommandExample k_passwd_examples[] = {
    {"pitool passwd", "a new passphrase, asked twice on the terminal"},
    {"pitool passwd --new-passphrase-file new-pass.txt --kdf sensitive",
     "the new passphrase from a file, with a costlier key derivation"},
};
constexpr CommandExample k_import_examples[] = {
    {"pitool import < integrations.jsonl", "every line's integration in one write; a name already stored is an error"},
    {"pitool import --skip-existing < integrations.jsonl", "names already stored are skipped"},
    {"pitool import --format env --provider leadconnector --kind pit --location L1 < .env",
     "VAR=token lines, names from the variables"},
};
constexpr CommandExample k_export_examples[] = {
    {"pitool export > integrations.jsonl", "metadata only, one JSON line per integration"},
    {"pitool export --yes-secrets > backup.jsonl", "with the tokens: what import reads back"},
    {"pitool export --format env --yes-secrets -o .env", "VAR=token lines in a new 0600 file"},
};
constexpr CommandExample k_restore_examples[] = {
    {"pitool restore ~/.local/share/pitool/vault.bak", "the backup written back as the newest generation"},
    {"pitool --vault ./team.vault restore ./copy-of-team.vault", "an older copy of another vault"},
};
constexpr CommandExample k_verify_examples[] = {
    {"pitool verify", "integrity, history chain, permissions and backup of the vault"},
    {"pitool --json verify", "the checks as JSON"},
};
constexpr CommandExample k_unlock_examples[] = {
    {"pitool unlock", "no passphrase needed until the key goes unused for 15 minutes (at most 8 hours)"},
    {"pitool unlock --ttl 8h --idle 30m", "for a working day, locked after 30 minutes unused"},
    {"pitool unlock --status", "what the agent holds"},
};
constexpr CommandExample k_lock_examples[] = {
    {"pitool lock", "the agent forgets every key and exits"},
    {"pitool --json lock", "the same, saying how many keys were forgotten"},
};
constexpr CommandExample k_completion_examples[] = {
    {"pitool completion bash > ~/.local/share/bash-completion/completions/pitool", "bash completion for your user"},
    {"pitool completion fish > ~/.config/fish/completions/pitool.fish", "fish completion"},
};
constexpr CommandExample k_config_examples[] = {
    {"pitool config", "every setting in force and where it came from"},
    {"pitool --json config", "the same as JSON"},
    {"pitool --config ./ci.toml config", "what a given config file sets"},
};
constexpr CommandExample k_identity_examples[] = {
    {"pitool identity new", "an identity at the default path; the passphrase is asked twice; prints its recipient"},
    {"pitool identity new --unprotected --out ci.identity",
     "an identity for a CI secret store, no passphrase (PITOOL_IDENTITY takes its key line)"},
    {"pitool --identity ci.identity identity show", "the recipient string to give a vault's admin"},
};

} // namespace

std::span<const CommandSpec> all_commands()
{
    using namespace commands;
    static const CommandSpec k_commands[] = {
        {"init", "Create a new vault", setup_init, k_init_examples},
        {"create", "Store a new credential", setup_create, k_create_examples},
        {"rotate", "Store a rotated token (old one valid 7 days, or --now)", setup_rotate, k_rotate_examples},
        {"cancel-rotation", "Make the old token current again and discard the new one", setup_cancel_rotation,
         k_cancel_rotation_examples},
        {"expire-old", "End an open rotation window now", setup_expire_old, k_expire_old_examples},
        {"list", "List credentials (metadata and fingerprints only)", setup_list, k_list_examples},
        {"show", "Show one credential (metadata and fingerprints only)", setup_show, k_show_examples},
        {"get", "Print a token on stdout", setup_get, k_get_examples},
        {"exec", "Run a command with a token in its environment", setup_exec, k_exec_examples},
        {"inject", "Fill {{ pitool://NAME }} references of a template on stdin with tokens", setup_inject,
         k_inject_examples},
        {"exchange-code", "Exchange an OAuth authorization code and store the result", setup_exchange_code,
         k_exchange_code_examples},
        {"refresh", "Refresh an OAuth access token (spends the refresh token once)", setup_refresh, k_refresh_examples},
        {"test-call", "Prove a token works with a real API call", setup_test_call, k_test_call_examples},
        {"audit", "Judge every token's age and rotation state", setup_audit, k_audit_examples},
        {"history", "Show the vault's change history", setup_history, k_history_examples},
        {"delete", "Remove a credential", setup_delete, k_delete_examples},
        {"passwd", "Change the vault passphrase and its data key", setup_passwd, k_passwd_examples},
        {"import", "Add integrations with their tokens from JSON lines on stdin, in one write", setup_import,
         k_import_examples},
        {"export", "Write every integration as JSON lines (tokens only with --yes-secrets)", setup_export,
         k_export_examples},
        {"restore", "Write an older vault file (vault.bak, a copy) back as the newest generation", setup_restore,
         k_restore_examples},
        {"verify", "Check the vault's integrity, history chain, permissions and backup", setup_verify,
         k_verify_examples},
        {"unlock", "Keep the vault's key in a per-user agent so commands need no passphrase", setup_unlock,
         k_unlock_examples},
        {"lock", "Make the agent forget all keys and exit", setup_lock, k_lock_examples},
        {"completion", "Print a shell completion script (bash, zsh or fish)", setup_completion, k_completion_examples},
        {"config", "Show every setting in force and where it came from", setup_config, k_config_examples},
        {"identity", "Make an identity (new) or print its recipient string (show), for team vaults", setup_identity,
         k_identity_examples},
        {"__agent", "", setup_agent_serve, {}},
        {"__complete", "", setup_complete, {}},
        {"__man-examples", "", setup_man_examples, {}},
    };
    return k_commands;
}

} // namespace pitool::cli
