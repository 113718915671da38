// pitool identity new: two fresh key pairs (X25519, Ed25519) written as an
// identity file, mode 0600 and atomically, sealed under a passphrase with
// Argon2id (or --unprotected); prints the recipient string. Never prints or
// logs a secret key; the passphrase comes from the vault passphrase sources.
#include "cli/commands/commands.hpp"
#include "cli/identity_source.hpp"
#include "cli/input.hpp"
#include "cli/log.hpp"
#include "cli/output.hpp"
#include "pitool/util/fs.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct IdentityNewOptions {
    bool unprotected = false;
    bool force = false;
    std::string out;
    std::string kdf = "moderate";
};

/// --out, else the file the identity sources name (--identity,
/// $PITOOL_IDENTITY_FILE), else the default file.
std::filesystem::path destination(const Context& ctx, const IdentityNewOptions& o)
{
    if (!o.out.empty()) return o.out;
    const IdentitySource src = identity_source(ctx);
    return src.from_variable ? default_identity_path(ctx) : src.path;
}

Status run_identity_new(Context& ctx, const IdentityNewOptions& o)
{
    PITOOL_TRY_ASSIGN(const auto level, crypto::parse_kdf_level(o.kdf));
    const std::filesystem::path path = destination(ctx, o);
    // Before asking for a passphrase twice.
    std::error_code ec;
    const auto status = std::filesystem::symlink_status(path, ec);
    if (!ec && std::filesystem::exists(status)) {
        if (std::filesystem::is_directory(status)) return make_error(Errc::io, path.string() + " is a directory");
        if (!o.force)
            return make_error(Errc::conflict, "an identity already exists at " + path.string() +
                                                  " (--force replaces it, and its keys are lost)");
    }
    if (path.has_parent_path()) PITOOL_TRY(util::ensure_private_dir(path.parent_path()));

    const identity::Identity id = identity::generate();
    Result<SecureBytes> file = make_error(Errc::internal, "unset");
    if (o.unprotected) {
        file = identity::make_file(id, nullptr, {});
    } else {
        PITOOL_TRY_ASSIGN(const Secret pass, read_new_passphrase(ctx, "", nullptr, true, "New identity passphrase: "));
        file = identity::make_file(id, &pass, crypto::params_for(level));
    }
    if (!file) return std::move(file).error();
    std::string warning;
    if (o.force) {
        PITOOL_TRY(util::atomic_replace(path, *file, nullptr, &warning));
    } else if (auto st = util::atomic_create(path, *file, &warning); !st) {
        // Another `identity new` got there between the check above and now.
        if (st.error().code == Errc::conflict)
            return make_error(Errc::conflict, "an identity already exists at " + path.string() +
                                                  " (--force replaces it, and its keys are lost)");
        return st;
    }
    if (!warning.empty()) warn(ctx, warning);
    if (o.unprotected)
        warn(ctx, "the identity's secret keys are in " + path.string() +
                      " without a passphrase: whoever reads the file is this identity (for a CI secret store)");

    const std::string recipient = identity::encode_recipient(id.recipient());
    if (ctx.opts.json) {
        print_json(ctx, {{"recipient", recipient},
                         {"path", shown(path.string())},
                         {"protected", !o.unprotected},
                         {"kdf", o.unprotected ? nlohmann::json(nullptr) : nlohmann::json(o.kdf)}});
        return {};
    }
    ctx.out << recipient << '\n';
    if (!ctx.opts.quiet)
        ctx.err << "Created identity " << shown(path.string()) << " ("
                << (o.unprotected ? std::string("unprotected") : "Argon2id " + o.kdf)
                << "); its recipient string is above\n";
    return {};
}

} // namespace

Handler setup_identity_new(CLI::App& sub)
{
    auto o = std::make_shared<IdentityNewOptions>();
    sub.add_flag("--unprotected", o->unprotected,
                 "Write the secret keys without a passphrase (for CI secret stores; still mode 0600)");
    sub.add_flag("--force", o->force, "Replace an existing identity file (its keys are lost)");
    sub.add_option("--out", o->out, "Write the identity here (default: the --identity file or the default path)");
    sub.add_option("--kdf", o->kdf, "Key derivation cost: interactive, moderate (default) or sensitive");
    return [o](Context& ctx) { return run_identity_new(ctx, *o); };
}

} // namespace pitool::cli::commands
