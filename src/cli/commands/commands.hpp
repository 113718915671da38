#pragma once
// One setup function per subcommand (commands/<name>.cpp).

#include "cli/command.hpp"

namespace pitool::cli::commands {

Handler setup_init(CLI::App& sub);
Handler setup_create(CLI::App& sub);
Handler setup_import(CLI::App& sub);
Handler setup_export(CLI::App& sub);
Handler setup_rotate(CLI::App& sub);
Handler setup_cancel_rotation(CLI::App& sub);
Handler setup_expire_old(CLI::App& sub);
Handler setup_list(CLI::App& sub);
Handler setup_show(CLI::App& sub);
Handler setup_get(CLI::App& sub);
Handler setup_exec(CLI::App& sub);
Handler setup_inject(CLI::App& sub);
Handler setup_audit(CLI::App& sub);
Handler setup_history(CLI::App& sub);
Handler setup_delete(CLI::App& sub);
Handler setup_passwd(CLI::App& sub);
Handler setup_restore(CLI::App& sub);
Handler setup_exchange_code(CLI::App& sub);
Handler setup_refresh(CLI::App& sub);
Handler setup_test_call(CLI::App& sub);
Handler setup_verify(CLI::App& sub);
Handler setup_unlock(CLI::App& sub);
Handler setup_lock(CLI::App& sub);
Handler setup_config(CLI::App& sub);
/// `identity` declares `identity new` and `identity show` on `sub`.
Handler setup_identity(CLI::App& sub);
Handler setup_identity_new(CLI::App& sub);
Handler setup_identity_show(CLI::App& sub);
Handler setup_agent_serve(CLI::App& sub);
Handler setup_completion(CLI::App& sub);
Handler setup_complete(CLI::App& sub);
Handler setup_man_examples(CLI::App& sub);

} // namespace pitool::cli::commands
