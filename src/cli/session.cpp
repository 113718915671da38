#include "cli/session.hpp"

#include "cli/agent_link.hpp"
#include "cli/common.hpp"
#include "cli/config.hpp"
#include "cli/generations.hpp"
#include "cli/input.hpp"
#include "cli/log.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/util/fs.hpp"

#include <algorithm>
#include <chrono>

namespace pitool::cli {

VaultInForce vault_in_force(const Context& ctx)
{
    if (!ctx.opts.vault.empty()) return {ctx.opts.vault, {Origin::Source::flag, "--vault"}};
    if (const char* v = ctx.env.get("PITOOL_VAULT"); v != nullptr && *v != '\0')
        return {v, {Origin::Source::environment, "PITOOL_VAULT"}};
    if (auto from_config = config_vault(ctx))
        return {*from_config,
                {Origin::Source::config_file,
                 config_of(ctx).path.string() + ":" + std::to_string(config_of(ctx).vault_line)}};
    if (const char* x = ctx.env.get("XDG_DATA_HOME"); x != nullptr && *x == '/')
        return {std::filesystem::path(x) / "pitool" / "vault", {Origin::Source::environment, "XDG_DATA_HOME"}};
    const char* home = ctx.env.get("HOME");
    return {std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / ".local" / "share" / "pitool" /
                "vault",
            {}};
}

std::filesystem::path resolve_vault_path(const Context& ctx)
{
    return vault_in_force(ctx).path;
}

namespace {

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

std::string vault_source(const Context& ctx)
{
    const Origin o = vault_in_force(ctx).origin;
    switch (o.source) {
    case Origin::Source::flag:
        return o.where;
    case Origin::Source::environment:
        return "$" + o.where;
    case Origin::Source::config_file:
        return "the config file, " + o.where;
    case Origin::Source::builtin:
        break;
    }
    return "the default location";
}

} // namespace

Result<vault::Vault> open_with_passphrase(const Context& ctx, vault::Storage& storage, const Secret& passphrase)
{
    const auto t0 = Clock::now();
    auto v = vault::Vault::open(storage, passphrase);
    if (!v || !debugging(ctx)) return v;
    std::string kdf = "Argon2id";
    if (!v->header().recipients.empty()) {
        const auto& p = v->header().recipients.front().params;
        const auto level = crypto::level_of(p);
        kdf += " " + (level ? std::string(crypto::to_string(*level)) : std::string("custom")) + " (ops " +
               std::to_string(p.opslimit) + ", memory " + std::to_string(p.memlimit >> 20) + " MiB)";
    }
    debug(ctx, "kdf: " + kdf + ": key derived and vault opened in " + std::to_string(ms_since(t0)) + " ms");
    return v;
}

std::chrono::milliseconds lock_timeout(const Context& ctx)
{
    return env_seconds(ctx, "PITOOL_LOCK_TIMEOUT", std::chrono::seconds(10), {.zero_allowed = true, .max = 3600});
}

Session::Session(Context& ctx) : m_ctx(ctx), m_storage(resolve_vault_path(ctx))
{
    m_storage.set_warning_sink([&ctx](const std::string& message) { warn(ctx, message); });
    if (debugging(ctx)) debug(ctx, "vault: " + m_storage.describe() + " (from " + vault_source(ctx) + ")");
}

Result<const Secret*> Session::passphrase()
{
    if (!m_passphrase) {
        PITOOL_TRY_ASSIGN(auto pass, read_passphrase(m_ctx, &m_passphrase_source));
        m_passphrase = std::move(pass);
    }
    return &*m_passphrase;
}

Result<vault::Vault> Session::open_with_passphrase_tries()
{
    PITOOL_TRY_ASSIGN(const Secret* pass, passphrase());
    auto v = open_with_passphrase(m_ctx, m_storage, *pass);
    for (int tries = 1; !v && v.error().code == Errc::wrong_passphrase && m_passphrase_source.typed && tries < 3;
         ++tries) {
        warn(m_ctx, "wrong passphrase: try again");
        m_passphrase.reset();
        PITOOL_TRY_ASSIGN(pass, passphrase());
        v = open_with_passphrase(m_ctx, m_storage, *pass);
    }
    if (!v && v.error().code == Errc::wrong_passphrase)
        return make_error(Errc::wrong_passphrase, v.error().message + " (from " + m_passphrase_source.what +
                                                      (m_passphrase_source.typed ? ", three tries)" : ")"));
    return v;
}

Result<vault::Vault*> Session::open()
{
    if (m_vault) return &*m_vault;
    // Writes refuse such a directory (FileStorage::lock); reads go on, warned.
    if (!m_writing)
        if (auto st = util::check_private_dir(m_storage.dir()); !st && st.error().code != Errc::not_found)
            warn(m_ctx, st.error().message);
    if (auto unlocked = open_with_agent(m_ctx, m_storage)) {
        PITOOL_TRY(check_generation_unlocked(m_ctx, *unlocked, m_storage, m_storage.path()));
        m_vault.emplace(std::move(*unlocked));
        m_by_agent = true;
        return &*m_vault;
    }
    PITOOL_TRY_ASSIGN(auto v, open_with_passphrase_tries());
    PITOOL_TRY(check_generation_unlocked(m_ctx, v, m_storage, m_storage.path()));
    m_vault.emplace(std::move(v));
    return &*m_vault;
}

Result<vault::Vault*> Session::open_all(bool secrets, bool history)
{
    auto opened = open();
    if (!opened) return opened;
    vault::Vault& v = *opened.value();
    PITOOL_TRY(v.load_all(secrets));
    if (history) PITOOL_TRY(v.load_history());
    // Loaded in index (name) order unless some were loaded before.
    auto& ints = v.payload().integrations;
    auto by_name = [](const core::Integration& a, const core::Integration& b) { return a.name < b.name; };
    if (!std::is_sorted(ints.begin(), ints.end(), by_name)) std::sort(ints.begin(), ints.end(), by_name);
    return opened;
}

Result<vault::Vault*> Session::mutate(const std::function<Status(vault::Vault&)>& change)
{
    return mutate_if([&](vault::Vault& v) -> Result<bool> {
        PITOOL_TRY(change(v));
        return true;
    });
}

Result<vault::Vault*> Session::mutate_if(const std::function<Result<bool>(vault::Vault&)>& change,
                                         std::chrono::milliseconds extra_wait)
{
    // Derive the key before taking the lock (open() caches it), so concurrent
    // writers hold the lock only for the short decrypt-change-encrypt-rename.
    m_writing = true;
    PITOOL_TRY_ASSIGN(auto before, open());
    const auto asked = Clock::now();
    PITOOL_TRY_ASSIGN(auto lock, m_storage.lock(lock_timeout(m_ctx) + extra_wait));
    debug(m_ctx, "lock: holding the vault's write lock after waiting " + std::to_string(ms_since(asked)) + " ms");
    // Opened with the agent's key (no passphrase read): reuse that key. If the
    // vault was replaced in between so that it no longer fits, ask after all.
    auto v = m_passphrase ? vault::Vault::open(m_storage, *m_passphrase, before)
                          : vault::Vault::open_with_key(m_storage, before->data_key());
    if (!v && !m_passphrase && v.error().code == Errc::wrong_passphrase) {
        // A passwd in between gave the vault a new data key, and the agent
        // the new key if it held the old one: ask it again first.
        if (auto again = open_with_agent(m_ctx, m_storage))
            v = std::move(*again);
        else
            v = open_with_passphrase_tries();
    }
    if (!v) return std::move(v).error();
    // Again under the lock (the file may have been replaced since), where no
    // writer can replace it meanwhile: a refusal is final.
    PITOOL_TRY(check_generation(m_ctx, v.value(), m_storage.path()));
    // Windows that have ended are purged at every write: bring those records in.
    PITOOL_TRY_ASSIGN(auto ended, v->windows_ended(m_ctx.clock.now()));
    for (const auto& name : ended) PITOOL_TRY(v->load(name));
    bool purged = !core::purge_expired(v->payload(), m_ctx.clock.now(), m_ctx.actor).empty();
    PITOOL_TRY_ASSIGN(auto changed, change(v.value()));
    if (changed || purged) {
        PITOOL_TRY(v->save());
        remember_generation(m_ctx, v.value());
    }
    m_vault.emplace(std::move(v).value());
    return &*m_vault;
}

} // namespace pitool::cli
