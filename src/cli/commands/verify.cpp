// verify: is the vault intact, its history unbroken, its files private, and
// its backup usable? A report, and exit 6 when anything is damaged.
#include "cli/commands/commands.hpp"
#include "cli/input.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/util/fs.hpp"

#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <ostream>
#include <set>

namespace pitool::cli::commands {
namespace {

enum class Level { ok, warn, fail };

struct Check {
    std::string name;
    Level level = Level::ok;
    std::string detail;
};

std::string_view level_name(Level l)
{
    return l == Level::ok ? "ok" : l == Level::warn ? "warn" : "fail";
}

std::string plural(std::size_t n, const char* noun)
{
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string mode_text(mode_t m)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

Check check_private(const std::string& what, const std::filesystem::path& p)
{
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return {what, Level::fail, p.string() + ": " + util::errno_text(errno)};
    if (S_ISLNK(st.st_mode)) return {what, Level::fail, p.string() + " is a symbolic link"};
    if (!S_ISREG(st.st_mode)) return {what, Level::fail, p.string() + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return {what, Level::fail, p.string() + " is owned by another user"};
    if ((st.st_mode & 077) != 0)
        return {what, Level::fail,
                p.string() + " is accessible by group or others (mode " + mode_text(st.st_mode) + ")"};
    return {what, Level::ok, p.string() + " mode " + mode_text(st.st_mode)};
}

void check_payload(const core::Payload& p, std::vector<Check>& out)
{
    long broken = p.first_broken_event();
    if (broken >= 0)
        out.push_back({"history chain", Level::fail,
                       "event " + std::to_string(broken + 1) + " of " + std::to_string(p.history.size()) +
                           " does not chain to the one before it (edited, removed or reordered)"});
    else
        out.push_back({"history chain", Level::ok, plural(p.history.size(), "event") + ", chain intact"});

    std::set<std::string> names;
    std::vector<std::string> problems;
    for (const auto& in : p.integrations) {
        if (!core::validate_name(in.name)) problems.push_back("invalid name '" + in.name + "'");
        if (!names.insert(in.name).second) problems.push_back("duplicate name '" + in.name + "'");
        if (in.rotation && in.rotation->old_expires_at != in.rotation->started_at + core::k_rotation_window)
            problems.push_back(in.name + ": rotation window is not 7 days");
        if (in.kind == core::Kind::oauth && !in.oauth) problems.push_back(in.name + ": oauth without session data");
    }
    if (problems.empty())
        out.push_back({"integrations", Level::ok, plural(p.integrations.size(), "integration") + " consistent"});
    for (const auto& pr : problems) out.push_back({"integrations", Level::fail, pr});
}

/// Opens every record's secrets one at a time (so 100,000 of them never sit
/// in memory together) and checks each token against its fingerprint; the
/// problems found, and how many records authenticated.
std::size_t check_tokens(const vault::Vault& v, std::vector<std::string>& problems)
{
    std::size_t opened = 0;
    auto st = v.for_each_record(/*secrets=*/true, [&](const core::Integration& in) -> Status {
        if (core::fingerprint(in.token.value) != in.token.fingerprint)
            problems.push_back(in.name + ": token does not match its fingerprint");
        ++opened;
        return {};
    });
    if (!st) problems.push_back(st.error().message);
    return opened;
}

void check_secrets(const vault::Vault& v, std::vector<Check>& out)
{
    std::vector<std::string> problems;
    const std::size_t opened = check_tokens(v, problems);
    if (problems.empty())
        out.push_back({"tokens", Level::ok, "tokens of " + plural(opened, "integration") + " authenticated"});
    for (const auto& pr : problems) out.push_back({"tokens", Level::fail, pr});
}

/// The previous generation, opened like the vault: with the passphrase (the
/// key derivation skipped when its recipients are the vault's), or, when the
/// agent's key opened the vault and no passphrase was given, with that key.
Result<vault::Vault> open_backup(Session& s, vault::Storage& previous, const vault::Vault* current)
{
    if (current != nullptr && s.unlocked_by_agent() && !passphrase_given(s.ctx()))
        return vault::Vault::open_with_key(previous, current->data_key());
    PITOOL_TRY_ASSIGN(const Secret* pass, s.passphrase());
    return vault::Vault::open(previous, *pass, current);
}

/// Record by record, in bounded memory: 20,000 integrations' secrets never
/// sit in guarded memory together.
Check check_backup(vault::Vault& previous)
{
    std::vector<std::string> problems;
    const std::size_t opened = check_tokens(previous, problems);
    // An older generation than the backup should be (a copy put there): the
    // tokens later writes replaced were wiped, as they must be.
    if (problems.size() == 1 && vault::wiped_tokens(Error{Errc::damaged, problems.front()}))
        return {"backup contents", Level::warn,
                "an older generation: tokens that later writes replaced were wiped from it"};
    if (!problems.empty()) return {"backup contents", Level::fail, problems.front()};
    if (auto history = previous.load_history(); !history)
        return {"backup contents", Level::fail, history.error().message};
    return {"backup contents", Level::ok,
            "previous generation opens (" + plural(opened, "integration") + ", " +
                plural(previous.payload().history.size(), "event") + ")"};
}

/// Whether the backup is the generation before the vault's: anything else
/// is a copy put there, or left by `restore`, that going back to would roll
/// the vault back further than one write.
Check check_lineage(const vault::Vault& current, const vault::Vault& previous)
{
    const std::string name = "backup generation";
    if (!current.has_id()) return {name, Level::ok, "the vault has no generation yet (format v3 or older)"};
    const auto g = current.generation();
    if (!previous.has_id()) {
        if (g == 1)
            return {name, Level::ok,
                    "format v" + std::to_string(previous.file_version()) +
                        ", from before the vault had generations (the vault is generation 1)"};
        return {name, Level::warn,
                "format v" + std::to_string(previous.file_version()) + ": older than generation " +
                    std::to_string(g - 1) + ", the one before the vault's " + std::to_string(g) +
                    " (restoring it would roll the vault back)"};
    }
    const auto b = previous.generation();
    if (previous.id() != current.id())
        return {name, Level::fail, "the backup is another vault's (its vault id differs)"};
    if (b + 1 == g)
        return {name, Level::ok,
                "generation " + std::to_string(b) + ", the one before the vault's " + std::to_string(g)};
    if (b >= g)
        return {name, Level::fail,
                "generation " + std::to_string(b) + " is not older than the vault's " + std::to_string(g) +
                    " (the vault may have been rolled back)"};
    return {name, Level::warn,
            "generation " + std::to_string(b) + ", not " + std::to_string(g - 1) + " (the one before the vault's " +
                std::to_string(g) + "): an older copy; restoring it would roll back " + std::to_string(g - b) +
                " generations"};
}

Status run_verify(Context& ctx)
{
    Session s(ctx);
    const auto& path = s.storage().path();
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::error_code missing;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, missing)))
        return make_error(Errc::not_found, "no vault at " + path.string() + " (run: pitool init)");
    std::vector<Check> checks;
    // The rule writes enforce (vault::FileStorage refuses such a directory).
    if (auto st = util::check_private_dir(dir); !st)
        checks.push_back({"vault directory", Level::fail, st.error().message});
    else
        checks.push_back({"vault directory", Level::ok, dir.string() + " owned by you, not writable by others"});
    checks.push_back(check_private("vault file", path));
    if (std::filesystem::exists(s.storage().lock_path()))
        checks.push_back(check_private("lock file", s.storage().lock_path()));

    const vault::Vault* current = nullptr;
    if (checks[1].level == Level::ok) {
        auto v = s.open_all(/*secrets=*/false, /*history=*/true);
        // The agent's key opened it: a passphrase given must still be the right one.
        if (v && s.unlocked_by_agent() && passphrase_given(ctx)) {
            PITOOL_TRY_ASSIGN(const Secret* pass, s.passphrase());
            if (auto again = vault::Vault::open(s.storage(), *pass); !again) v = std::move(again).error();
        }
        if (!v) {
            if (v.error().code == Errc::wrong_passphrase || v.error().code == Errc::usage) return std::move(v).error();
            checks.push_back({"vault contents", Level::fail, v.error().message});
        } else {
            const auto& h = v.value()->header();
            auto level = crypto::level_of(h.recipients.front().params);
            checks.push_back({"vault contents", Level::ok,
                              "format v" + std::to_string(v.value()->file_version()) + ", Argon2id " +
                                  (level ? std::string(crypto::to_string(*level)) : std::string("custom")) +
                                  ", payload authenticated"});
            check_payload(v.value()->payload(), checks);
            check_secrets(*v.value(), checks);
            current = v.value();
        }
    }

    auto bak = s.storage().backup_path();
    if (std::filesystem::exists(std::filesystem::symlink_status(bak))) {
        auto c = check_private("backup file", bak);
        checks.push_back(c);
        if (c.level == Level::ok) {
            // vault.bak names its data file by the vault's name.
            vault::FileStorage previous(bak, path);
            auto opened = open_backup(s, previous, current);
            if (opened) {
                checks.push_back(check_backup(opened.value()));
                if (current != nullptr) checks.push_back(check_lineage(*current, opened.value()));
            } else if (opened.error().code == Errc::wrong_passphrase) {
                checks.push_back(
                    {"backup contents", Level::warn, "sealed with an earlier passphrase (the last change was passwd)"});
            } else if (opened.error().code == Errc::usage) {
                return std::move(opened).error();
            } else {
                checks.push_back({"backup contents", Level::fail, opened.error().message});
            }
        }
    } else {
        checks.push_back({"backup file", Level::warn, "no backup yet (made by the first write after init)"});
    }

    int strays = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().filename().string().rfind("." + path.filename().string() + ".tmp.", 0) == 0) ++strays;
    if (strays > 0)
        checks.push_back({"temporary files", Level::warn,
                          std::to_string(strays) + " leftover temporary file(s) from an interrupted write"});

    bool damaged = false;
    for (const auto& c : checks) damaged = damaged || c.level == Level::fail;
    if (ctx.opts.json) {
        auto arr = nlohmann::json::array();
        for (const auto& c : checks)
            arr.push_back({{"check", c.name}, {"status", level_name(c.level)}, {"detail", c.detail}});
        print_json(ctx, {{"vault", path.string()}, {"ok", !damaged}, {"checks", arr}});
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : checks) rows.push_back({std::string(level_name(c.level)), c.name, c.detail});
        print_table(ctx.out, rows);
    }
    if (damaged) return make_error(Errc::damaged, "the vault failed verification (see the report)");
    return {};
}

} // namespace

Handler setup_verify(CLI::App&)
{
    return [](Context& ctx) { return run_verify(ctx); };
}

} // namespace pitool::cli::commands
