#include "cli/identity_source.hpp"

#include "cli/input.hpp"
#include "cli/log.hpp"
#include "pitool/util/fs.hpp"

#include <sys/stat.h>

#include <optional>

namespace pitool::cli {
namespace {

const char* set_variable(const Context& ctx, const char* name)
{
    const char* v = ctx.env.get(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
}

/// The file whole, in guarded memory (an unprotected file holds the key).
Result<SecureBytes> read_identity_file(const IdentitySource& src)
{
    struct stat st {};
    if (::stat(src.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return make_error(Errc::io, src.describe() + " is a directory");
    auto file = util::PrivateFile::open(src.path, identity::k_max_file_size);
    if (!file) {
        if (file.error().code == Errc::not_found)
            return make_error(Errc::not_found,
                              "no identity at " + src.path.string() + " (" + src.origin +
                                  "): make one with `pitool identity new`, or name one with --identity, "
                                  "PITOOL_IDENTITY_FILE or PITOOL_IDENTITY");
        if (file.error().code == Errc::damaged)
            return make_error(Errc::damaged, src.describe() + " is too large to be an identity file");
        return make_error(file.error().code, "identity: " + file.error().message);
    }
    SecureBytes bytes(static_cast<std::size_t>(file->size()));
    if (auto read = file->read_at(0, bytes); !read)
        return make_error(read.error().code, "identity: " + read.error().message);
    return bytes;
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

namespace {

/// The identity in force, read once: what it says in clear, and its file's
/// bytes or the identity $PITOOL_IDENTITY holds.
struct OpenedSource {
    IdentityInfo info;
    SecureBytes file;                      ///< empty for $PITOOL_IDENTITY
    std::optional<identity::Identity> key; ///< $PITOOL_IDENTITY's identity
};

Result<OpenedSource> open_source(const Context& ctx)
{
    OpenedSource out{{identity_source(ctx), {}, false}, {}, std::nullopt};
    const IdentitySource& src = out.info.source;
    debug(ctx, "identity: " + src.describe());
    if (src.from_variable) {
        auto id = identity::parse_identity_key(set_variable(ctx, "PITOOL_IDENTITY"));
        if (!id) return in_source(src, id.error());
        out.info.recipient = id->recipient();
        out.key = std::move(id).value();
        return out;
    }
    PITOOL_TRY_ASSIGN(out.file, read_identity_file(src));
    auto clear = identity::read_file_info(out.file);
    if (!clear) return in_source(src, clear.error());
    out.info.recipient = clear->recipient;
    out.info.protected_file = clear->kdf.has_value();
    return out;
}

} // namespace

Result<IdentityInfo> identity_info(const Context& ctx)
{
    PITOOL_TRY_ASSIGN(OpenedSource opened, open_source(ctx));
    return std::move(opened.info);
}

Result<identity::Identity> load_identity(Context& ctx, IdentityInfo* info)
{
    PITOOL_TRY_ASSIGN(OpenedSource opened, open_source(ctx));
    if (info != nullptr) *info = opened.info;
    const IdentitySource& src = opened.info.source;
    if (opened.key) return std::move(*opened.key);
    if (!opened.info.protected_file) {
        auto id = identity::open_file(opened.file, nullptr);
        if (!id) return in_source(src, id.error());
        return id;
    }
    // A typed passphrase gets three tries, as a vault's does.
    for (int attempt = 1;; ++attempt) {
        PassphraseSource from;
        PITOOL_TRY_ASSIGN(const Secret pass, read_passphrase(ctx, &from, "Identity passphrase: "));
        auto id = identity::open_file(opened.file, &pass);
        if (id) return id;
        if (id.error().code != Errc::wrong_passphrase) return in_source(src, id.error());
        if (!from.typed || attempt == 3)
            return make_error(Errc::wrong_passphrase, "wrong passphrase for " + src.describe() + " (passphrase from " +
                                                          from.what + (from.typed ? ", three tries" : "") + ")");
        warn(ctx, "wrong passphrase: try again");
    }
}

} // namespace pitool::cli
