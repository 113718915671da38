#include "cli/generations.hpp"

#include "cli/common.hpp"
#include "cli/log.hpp"
#include "pitool/util/fs.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>

namespace pitool::cli {
namespace {

/// Far more than any machine's vaults (a line is about 50 bytes).
constexpr std::uintmax_t k_max_state_bytes = 1U << 20;
/// The state lock is held for one small read and write: not the vault
/// lock's PITOOL_LOCK_TIMEOUT (which may be 0), a bound of its own.
constexpr std::chrono::seconds k_state_lock_wait{5};

std::string hex_of(const vault::VaultId& id)
{
    char hex[sizeof(vault::VaultId) * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, id.data(), id.size());
    return std::string(hex, sizeof hex - 1);
}

using Seen = std::map<std::string, std::uint64_t>;

/// The lines `<32 hex digits> <generation>`; a line of any other shape (a
/// comment, damage) is skipped.
Seen parse_state(std::span<const std::uint8_t> bytes)
{
    Seen seen;
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.size() < 34 || line[32] != ' ') continue;
        const std::string_view id = line.substr(0, 32);
        if (id.find_first_not_of("0123456789abcdef") != std::string_view::npos) continue;
        std::uint64_t g = 0;
        const auto digits = line.substr(33);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), g);
        if (ec != std::errc{} || end != digits.data() + digits.size()) continue;
        auto& slot = seen[std::string(id)];
        slot = std::max(slot, g);
    }
    return seen;
}

std::string format_state(const Seen& seen)
{
    std::string out = "# pitool: the highest generation of each vault seen on this machine (vault id, generation)\n";
    for (const auto& [id, g] : seen) out += id + " " + std::to_string(g) + "\n";
    return out;
}

Result<Seen> read_state(const std::filesystem::path& path)
{
    auto bytes = util::read_private_file(path, k_max_state_bytes);
    if (!bytes && bytes.error().code == Errc::not_found) return Seen{};
    if (!bytes) return std::move(bytes).error();
    return parse_state(bytes.value());
}

/// Raises the recorded generation of `id` to `generation`, under the lock,
/// re-reading the file first: never lowers it.
Status raise_seen(const std::filesystem::path& path, const vault::VaultId& id, std::uint64_t generation)
{
    const auto dir = path.parent_path();
    PITOOL_TRY(util::ensure_private_dir(dir));
    PITOOL_TRY(util::check_private_dir(dir));
    PITOOL_TRY_ASSIGN(auto lock, util::FileLock::acquire(dir / (path.filename().string() + ".lock"),
                                                         std::chrono::milliseconds(k_state_lock_wait)));
    PITOOL_TRY_ASSIGN(auto seen, read_state(path));
    auto& slot = seen[hex_of(id)];
    if (slot >= generation) return {};
    slot = generation;
    const std::string text = format_state(seen);
    return util::atomic_replace(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

} // namespace

std::optional<std::filesystem::path> generations_path(const Context& ctx)
{
    if (auto dir = state_dir(ctx)) return *dir / "generations";
    return std::nullopt;
}

Result<std::uint64_t> seen_generation(const Context& ctx, const vault::VaultId& id)
{
    const auto path = generations_path(ctx);
    if (!path) return std::uint64_t{0};
    PITOOL_TRY_ASSIGN(auto seen, read_state(*path));
    const auto it = seen.find(hex_of(id));
    return it == seen.end() ? std::uint64_t{0} : it->second;
}

std::string restore_command(const Context& ctx, const std::filesystem::path& vault_path)
{
    if (!ctx.opts.vault.empty()) return "pitool --vault " + vault_path.string() + " restore " + vault_path.string();
    return "pitool restore " + vault_path.string();
}

Status check_generation(const Context& ctx, const vault::Vault& v, const std::filesystem::path& vault_path)
{
    if (!v.has_id()) {
        debug(ctx, "generation: a format v" + std::to_string(v.file_version()) +
                       " vault has no generation yet (its next write gives it one)");
        return {};
    }
    const auto path = generations_path(ctx);
    if (!path) {
        debug(ctx, "generation: not checked (neither XDG_STATE_HOME nor HOME is set)");
        return {};
    }
    auto seen = seen_generation(ctx, v.id());
    if (!seen) {
        warn(ctx, "cannot check the vault against rollback: " + seen.error().message);
        return {};
    }
    debug(ctx, "generation: the vault is generation " + std::to_string(v.generation()) + "; " +
                   (seen.value() == 0 ? std::string("none seen on this machine before")
                                      : "generation " + std::to_string(seen.value()) + " seen on this machine") +
                   " (" + path->string() + ")");
    if (v.generation() < seen.value())
        return make_error(Errc::damaged, "vault " + vault_path.string() + " is generation " +
                                             std::to_string(v.generation()) + " but generation " +
                                             std::to_string(seen.value()) +
                                             " was seen on this machine: it may have been rolled back; to go back to "
                                             "it deliberately run: " +
                                             restore_command(ctx, vault_path));
    if (v.generation() > seen.value()) remember_generation(ctx, v);
    return {};
}

Status check_generation_unlocked(const Context& ctx, vault::Vault& v, vault::Storage& storage,
                                 const std::filesystem::path& vault_path)
{
    for (int attempt = 0;; ++attempt) {
        auto st = check_generation(ctx, v, vault_path);
        if (st || attempt == 3) return st;
        auto now = vault::Vault::open_with_key(storage, v.data_key());
        if (!now || !now->has_id() || now->id() != v.id() || now->generation() <= v.generation()) return st;
        debug(ctx, "generation: the vault was replaced by generation " + std::to_string(now->generation()) +
                       " while it was read; checking that one");
        v = std::move(now).value();
    }
}

void remember_generation(const Context& ctx, const vault::Vault& v)
{
    if (!v.has_id()) return;
    const auto path = generations_path(ctx);
    if (!path) return;
    if (auto st = raise_seen(*path, v.id(), v.generation()); !st)
        warn(ctx, "cannot record the vault's generation for the rollback check: " + st.error().message);
}

} // namespace pitool::cli
