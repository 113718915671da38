#include "cli/input.hpp"

#include "cli/log.hpp"
#include "pitool/util/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <istream>

namespace pitool::cli {
namespace {

void strip_newlines(Secret& s)
{
    std::size_t n = s.size();
    while (n > 0 && (s.data()[n - 1] == '\n' || s.data()[n - 1] == '\r')) --n;
    s.truncate(n);
}

Result<Secret> finish(Secret buf, std::size_t used, std::string_view what)
{
    buf.truncate(used);
    strip_newlines(buf);
    if (buf.empty()) return make_error(Errc::usage, std::string(what) + " is empty");
    return buf;
}

/// A passphrase file others can read gives them the passphrase: said once.
Result<Secret> read_passphrase_file(const Context& ctx, const std::string& path)
{
    auto pass = read_secret_file(path, "passphrase");
    struct stat st {};
    if (pass && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        warn(ctx, "passphrase file " + path + " is readable by group or others (run: chmod 600 " + path + ")");
    return pass;
}

} // namespace

Result<Secret> read_secret_stream(std::istream& in, std::string_view what)
{
    // Read straight into guarded memory, one chunk at a time.
    Secret buf(k_max_secret_input + 1);
    std::size_t used = 0;
    while (used < buf.size() && in) {
        in.read(reinterpret_cast<char*>(buf.data() + used), static_cast<std::streamsize>(buf.size() - used));
        used += static_cast<std::size_t>(in.gcount());
    }
    if (used > k_max_secret_input)
        return make_error(Errc::usage, std::string(what) + " on standard input is larger than 64 KiB");
    return finish(std::move(buf), used, what);
}

Result<Secret> read_secret_file(const std::string& path, std::string_view what)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        // A missing input file is a usage problem (exit 2); 3 is for vaults and integrations.
        return make_error(err == ENOENT ? Errc::usage : Errc::io,
                          "cannot open " + std::string(what) + " file " + path + ": " + util::errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(Errc::usage, std::string(what) + " file " + path + " is not a regular file");
    }
    Secret buf(k_max_secret_input + 1);
    std::size_t used = 0;
    while (used < buf.size()) {
        ssize_t n = ::read(fd, buf.data() + used, buf.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return make_error(Errc::io, "cannot read " + path + ": " + util::errno_text(err));
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (used > k_max_secret_input)
        return make_error(Errc::usage, std::string(what) + " file " + path + " is larger than 64 KiB");
    return finish(std::move(buf), used, what);
}

Result<Secret> read_token(Context& ctx, bool from_stdin, const std::string& file, std::string_view prompt_text)
{
    if (from_stdin && !file.empty())
        return make_error(Errc::usage, "give the token with --token-stdin or --token-file, not both");
    if (from_stdin) return read_secret_stream(ctx.in, "token");
    if (!file.empty()) return read_secret_file(file, "token");
    if (!ctx.prompt.available())
        return make_error(Errc::usage, "no token given: use --token-stdin or --token-file (no terminal to prompt on)");
    auto t = ctx.prompt.ask_secret(prompt_text);
    if (t && t->empty()) return make_error(Errc::usage, "token is empty");
    return t;
}

bool passphrase_given(const Context& ctx)
{
    auto set = [&](const char* name) {
        const char* v = ctx.env.get(name);
        return v != nullptr && *v != '\0';
    };
    return !ctx.opts.passphrase_file.empty() || set("PITOOL_PASSPHRASE_FILE") || set("PITOOL_PASSPHRASE");
}

Result<Secret> read_passphrase(Context& ctx, PassphraseSource* source, std::string_view question)
{
    PassphraseSource ignored;
    PassphraseSource& src = source != nullptr ? *source : ignored;
    std::string file = ctx.opts.passphrase_file;
    const char* from = "--passphrase-file";
    if (file.empty())
        if (const char* f = ctx.env.get("PITOOL_PASSPHRASE_FILE"); f != nullptr && *f != '\0') {
            file = f;
            from = "$PITOOL_PASSPHRASE_FILE";
        }
    if (!file.empty()) {
        src = {"the file " + file + " (" + from + ")", false};
        debug(ctx, "passphrase: read from " + src.what);
        return read_passphrase_file(ctx, file);
    }
    if (const char* p = ctx.env.get("PITOOL_PASSPHRASE"); p != nullptr && *p != '\0') {
        src = {"$PITOOL_PASSPHRASE", false};
        debug(ctx, "passphrase: taken from $PITOOL_PASSPHRASE");
        return Secret::from(std::string_view(p));
    }
    if (!ctx.prompt.available())
        return make_error(Errc::usage, "no passphrase: set PITOOL_PASSPHRASE_FILE or PITOOL_PASSPHRASE, "
                                       "or use --passphrase-file (no terminal to prompt on)");
    src = {"the terminal", true};
    debug(ctx, "passphrase: asked on the terminal");
    return ctx.prompt.ask_secret(question);
}

namespace {

/// Characters of UTF-8 text (bytes that do not continue a sequence).
std::size_t characters(const Secret& s)
{
    std::size_t n = 0;
    for (unsigned char c : s.view())
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

/// A new passphrase typed twice on the terminal: asked again (three rounds
/// in all) while the two entries differ or it is too short.
Result<Secret> ask_new_passphrase(Context& ctx, std::string_view question)
{
    if (!ctx.prompt.available()) return make_error(Errc::usage, "no new passphrase given and no terminal to prompt on");
    std::string problem;
    for (int round = 0; round < 3; ++round) {
        if (!problem.empty()) warn(ctx, problem + ": try again");
        PITOOL_TRY_ASSIGN(Secret first, ctx.prompt.ask_secret(question));
        if (characters(first) < k_min_passphrase_chars) {
            problem = "a passphrase needs at least " + std::to_string(k_min_passphrase_chars) + " characters";
            continue;
        }
        PITOOL_TRY_ASSIGN(const Secret second, ctx.prompt.ask_secret("Repeat the passphrase: "));
        if (!first.equals(second)) {
            problem = "the passphrases do not match";
            continue;
        }
        return first;
    }
    return make_error(Errc::usage, problem + " (three tries)");
}

} // namespace

Result<Secret> read_new_passphrase(Context& ctx, const std::string& file, const char* env_var, bool use_default_sources,
                                   std::string_view question)
{
    Result<Secret> pass = make_error(Errc::internal, "unset");
    if (!file.empty()) {
        pass = read_passphrase_file(ctx, file);
    } else if (const char* p = env_var ? ctx.env.get(env_var) : nullptr; p != nullptr && *p != '\0') {
        pass = Secret::from(std::string_view(p));
    } else if (use_default_sources &&
               (!ctx.opts.passphrase_file.empty() || ctx.env.get("PITOOL_PASSPHRASE_FILE") != nullptr ||
                ctx.env.get("PITOOL_PASSPHRASE") != nullptr)) {
        pass = read_passphrase(ctx);
    } else {
        return ask_new_passphrase(ctx, question);
    }
    if (pass && pass->empty()) return make_error(Errc::usage, "the passphrase is empty");
    if (pass && characters(*pass) < k_min_passphrase_chars)
        warn(ctx, "the new passphrase is shorter than " + std::to_string(k_min_passphrase_chars) +
                      " characters: an attacker with a copy of the vault can guess it faster");
    return pass;
}

} // namespace pitool::cli
