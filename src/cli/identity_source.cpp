#include "cli/identity_source.hpp"

#include "cli/input.hpp"
#include "cli/log.hpp"
#include "pitool/util/fs.hpp"

#include <sys/stat.h>

namespace pitool::cli {
namespace {

const char* set_variable(const Context& ctx, const char* name)
{
    const char* v = ctx.env.get(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
}

/// The file's bytes, wiped when they go (an unprotected file holds the key).
struct IdentityFileBytes {
    std::vector<std::uint8_t> bytes;
    IdentityFileBytes() = default;
    IdentityFileBytes(const IdentityFileBytes&) = delete;
    IdentityFileBytes& operator=(const IdentityFileBytes&) = delete;
    ~IdentityFileBytes() { secure_wipe(bytes.data(), bytes.size()); }
};

Status read_identity_file(const IdentitySource& src, IdentityFileBytes& out)
{
    struct stat st {};
    if (::stat(src.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return make_error(Errc::io, src.describe() + " is a directory");
    auto bytes = util::read_private_file(src.path, identity::k_max_file_size);
    if (!bytes) {
        if (bytes.error().code == Errc::not_found)
            return make_error(Errc::not_found,
                              "no identity at " + src.path.string() + " (" + src.origin +
                                  "): make one with `pitool identity new`, or name one with --identity, "
                                  "PITOOL_IDENTITY_FILE or PITOOL_IDENTITY");
        if (bytes.error().code == Errc::damaged)
            return make_error(Errc::damaged, src.describe() + " is too large to be an identity file");
        return make_error(bytes.error().code, "identity: " + bytes.error().message);
    }
    out.bytes = std::move(bytes).value();
    return {};
}

Error in_source(const IdentitySource& src, const Error& e)
{
    return make_error(e.code, src.describe() + ": " + e.message);
}

} // namespace

std::string IdentitySource::describe() const
{
    if (from_variable) return "$PITOOL_IDENTITY";
    return "the identity file " + path.string() + (origin == "default" ? std::string() : " (" + origin + ")");
}

std::filesystem::path default_identity_path(const Context& ctx)
{
    if (const char* x = ctx.env.get("XDG_DATA_HOME"); x != nullptr && *x == '/')
        return std::filesystem::path(x) / "pitool" / "identity";
    const char* home = ctx.env.get("HOME");
    return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".local" / "share" / "pitool" /
           "identity";
}

IdentitySource identity_source(const Context& ctx)
{
    if (!ctx.opts.identity_file.empty()) return {false, ctx.opts.identity_file, "--identity"};
    if (const char* f = set_variable(ctx, "PITOOL_IDENTITY_FILE")) return {false, f, "PITOOL_IDENTITY_FILE"};
    if (set_variable(ctx, "PITOOL_IDENTITY") != nullptr) return {true, {}, "PITOOL_IDENTITY"};
    return {false, default_identity_path(ctx), "default"};
}

Result<IdentityInfo> identity_info(const Context& ctx)
{
    IdentityInfo info{identity_source(ctx), {}, false};
    debug(ctx, "identity: " + info.source.describe());
    if (info.source.from_variable) {
        auto id = identity::parse_identity_key(set_variable(ctx, "PITOOL_IDENTITY"));
        if (!id) return in_source(info.source, id.error());
        info.recipient = id->recipient();
        return info;
    }
    IdentityFileBytes file;
    PITOOL_TRY(read_identity_file(info.source, file));
    auto clear = identity::read_file_info(file.bytes);
    if (!clear) return in_source(info.source, clear.error());
    info.recipient = clear->recipient;
    info.protected_file = clear->kdf.has_value();
    return info;
}

Result<identity::Identity> load_identity(Context& ctx, IdentitySource* source)
{
    const IdentitySource src = identity_source(ctx);
    if (source != nullptr) *source = src;
    debug(ctx, "identity: " + src.describe());
    if (src.from_variable) {
        auto id = identity::parse_identity_key(set_variable(ctx, "PITOOL_IDENTITY"));
        if (!id) return in_source(src, id.error());
        return id;
    }
    IdentityFileBytes file;
    PITOOL_TRY(read_identity_file(src, file));
    auto clear = identity::read_file_info(file.bytes);
    if (!clear) return in_source(src, clear.error());
    if (!clear->kdf) {
        auto id = identity::open_file(file.bytes, nullptr);
        if (!id) return in_source(src, id.error());
        return id;
    }
    // A typed passphrase gets three tries, as a vault's does.
    for (int attempt = 1;; ++attempt) {
        PassphraseSource from;
        PITOOL_TRY_ASSIGN(const Secret pass, read_passphrase(ctx, &from, "Identity passphrase: "));
        auto id = identity::open_file(file.bytes, &pass);
        if (id) return id;
        if (id.error().code != Errc::wrong_passphrase) return in_source(src, id.error());
        if (!from.typed || attempt == 3)
            return make_error(Errc::wrong_passphrase, "wrong passphrase for " + src.describe() + " (passphrase from " +
                                                          from.what + (from.typed ? ", three tries" : "") + ")");
        warn(ctx, "wrong passphrase: try again");
    }
}

} // namespace pitool::cli
