#include "cli/commands/commands.hpp"

namespace pitool::cli {

std::span<const CommandSpec> all_commands()
{
    using namespace commands;
    static const CommandSpec k_commands[] = {
        {"init", "Create a new vault", setup_init},
        {"create", "Store a new credential", setup_create},
        {"rotate", "Store a rotated token (old one valid 7 days, or --now)", setup_rotate},
        {"cancel-rotation", "Make the old token current again and discard the new one", setup_cancel_rotation},
        {"expire-old", "End an open rotation window now", setup_expire_old},
        {"list", "List credentials (metadata and fingerprints only)", setup_list},
        {"show", "Show one credential (metadata and fingerprints only)", setup_show},
        {"get", "Print a token on stdout", setup_get},
        {"exec", "Run a command with a token in its environment", setup_exec},
        {"inject", "Fill {{ pitool://NAME }} references of a template on stdin with tokens", setup_inject},
        {"exchange-code", "Exchange an OAuth authorization code and store the result", setup_exchange_code},
        {"refresh", "Refresh an OAuth access token (spends the refresh token once)", setup_refresh},
        {"test-call", "Prove a token works with a real API call", setup_test_call},
        {"audit", "Judge every token's age and rotation state", setup_audit},
        {"history", "Show the vault's change history", setup_history},
        {"delete", "Remove a credential", setup_delete},
        {"passwd", "Change the vault passphrase and its data key", setup_passwd},
        {"import", "Add integrations with their tokens from JSON lines on stdin, in one write", setup_import},
        {"export", "Write every integration as JSON lines (tokens only with --yes-secrets)", setup_export},
        {"restore", "Write an older vault file (vault.bak, a copy) back as the newest generation", setup_restore},
        {"verify", "Check the vault's integrity, history chain, permissions and backup", setup_verify},
        {"unlock", "Keep the vault's key in a per-user agent so commands need no passphrase", setup_unlock},
        {"lock", "Make the agent forget all keys and exit", setup_lock},
        {"completion", "Print a shell completion script (bash, zsh or fish)", setup_completion},
        {"config", "Show every setting in force and where it came from", setup_config},
        {"__agent", "", setup_agent_serve},
        {"__complete", "", setup_complete},
    };
    return k_commands;
}

} // namespace pitool::cli
