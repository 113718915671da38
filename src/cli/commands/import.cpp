// pitool import: integrations with their secrets as JSON lines on stdin, in
// one locked write. The line format is `show --json` plus the secrets (see
// docs/cli.md), which is what `export --yes-secrets` writes.
#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/env_format.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "cli/validate.hpp"
#include "pitool/core/binding.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/core/secure_json.hpp"

#include <CLI/CLI.hpp>

#include <istream>
#include <map>
#include <optional>
#include <ostream>

namespace pitool::cli::commands {
namespace {

/// Largest import accepted on stdin.
constexpr std::size_t k_max_import_bytes = std::size_t{1} << 30;

struct ImportOptions {
    bool skip_existing = false;
    std::string format = "jsonl";
    // --format env: the metadata every line's integration gets (as create's flags).
    std::string provider;
    std::string kind;
    std::vector<std::string> scopes;
    std::string description;
    std::string location;
    std::string company;
    std::string practice;
    std::string base_url;
    std::vector<std::string> names;
};

struct LineError {
    Errc code;
    std::string what;
};

const SecureJson* member(const SecureJson& j, const char* key)
{
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string text(const SecureJson& j, const char* key, bool required = false)
{
    const SecureJson* v = member(j, key);
    if (v == nullptr) {
        if (required) throw LineError{Errc::usage, std::string("missing field '") + key + "'"};
        return {};
    }
    if (!v->is_string()) throw LineError{Errc::usage, std::string("field '") + key + "' is not a string"};
    const auto& s = v->get_ref<const SecureString&>();
    return std::string(s.begin(), s.end());
}

Secret secret(const SecureJson& j, const char* key, const char* what)
{
    const SecureJson* v = member(j, key);
    if (v == nullptr || !v->is_string()) throw LineError{Errc::usage, std::string("missing ") + what};
    const auto& s = v->get_ref<const SecureString&>();
    Secret out = Secret::from(std::string_view(s.data(), s.size()));
    if (!core::validate_token(out)) throw LineError{Errc::usage, std::string(what) + " is not a valid token"};
    return out;
}

Timestamp time_of(const SecureJson& j, const char* key, Timestamp fallback)
{
    std::string t = text(j, key);
    if (t.empty()) return fallback;
    auto parsed = parse_rfc3339(t);
    if (!parsed) throw LineError{Errc::usage, std::string("field '") + key + "' is not an RFC 3339 time"};
    return parsed.value();
}

void check(const Status& st)
{
    if (!st) throw LineError{st.error().code, st.error().message};
}

template <typename T> T value_of(Result<T> r)
{
    if (!r) throw LineError{r.error().code, r.error().message};
    return std::move(r).value();
}

/// A token with the fingerprint the line claims, if it claims one.
core::Token token_of(Secret value, Timestamp issued, const std::string& claimed, const char* what)
{
    core::Token t = core::make_token(std::move(value), issued);
    if (!claimed.empty() && claimed != t.fingerprint)
        throw LineError{Errc::usage, std::string(what) + " does not match its fingerprint"};
    return t;
}

core::Integration integration_of(const Context& ctx, const SecureJson& j, Timestamp now)
{
    if (!j.is_object()) throw LineError{Errc::usage, "not a JSON object"};
    core::Integration in;
    in.name = text(j, "name", true);
    check(core::validate_name(in.name));
    in.provider = value_of(core::parse_provider(text(j, "provider", true)));
    in.kind = value_of(core::parse_kind(text(j, "kind", true)));
    if (!core::kind_allowed(in.provider, in.kind))
        throw LineError{Errc::usage, "kind " + std::string(core::to_string(in.kind)) + " does not exist for " +
                                         std::string(core::to_string(in.provider))};
    in.description = text(j, "description");
    check(core::validate_text("description", in.description, 1024));
    std::string level = text(j, "level");
    in.level = level.empty() ? core::Level::none : value_of(core::parse_level(level));
    in.account_id = text(j, "account_id");
    if (!in.account_id.empty()) check(validate_identifier("account id", in.account_id));
    if (const SecureJson* sc = member(j, "scopes")) {
        if (!sc->is_array()) throw LineError{Errc::usage, "field 'scopes' is not an array"};
        std::vector<std::string> raw;
        for (const auto& s : *sc) {
            if (!s.is_string()) throw LineError{Errc::usage, "a scope is not a string"};
            const auto& v = s.get_ref<const SecureString&>();
            raw.emplace_back(v.begin(), v.end());
        }
        in.scopes = value_of(normalize_scopes(ctx, in.provider, raw, false));
    }
    in.base_url = value_of(resolve_base_url(in.provider, text(j, "base_url")));
    in.client_id = text(j, "client_id");
    if (in.kind == core::Kind::oauth_app) {
        if (in.client_id.empty()) throw LineError{Errc::usage, "an oauth-app needs client_id"};
        check(validate_identifier("client id", in.client_id));
    } else if (!in.client_id.empty()) {
        throw LineError{Errc::usage, "client_id applies to kind oauth-app only"};
    }
    in.created_at = time_of(j, "created_at", now);

    // Secrets: {"secrets": {"token", "old_token", "refresh_token"}}, or the
    // short form {"token": "<secret>"} for a plain list.
    const SecureJson* secrets = member(j, "secrets");
    const SecureJson* token = member(j, "token");
    if (secrets != nullptr && !secrets->is_object()) throw LineError{Errc::usage, "field 'secrets' is not an object"};
    Secret current;
    if (token != nullptr && token->is_string())
        current = secret(j, "token", "token");
    else if (secrets != nullptr)
        current = secret(*secrets, "token", "secrets.token");
    else
        throw LineError{Errc::usage, "missing the token (\"secrets\": {\"token\": ...} or \"token\": \"...\")"};
    bool token_object = token != nullptr && token->is_object();
    in.token = token_of(std::move(current), token_object ? time_of(*token, "issued_at", in.created_at) : in.created_at,
                        token_object ? text(*token, "fingerprint") : "", "secrets.token");

    if (const SecureJson* r = member(j, "rotation")) {
        if (!r->is_object()) throw LineError{Errc::usage, "field 'rotation' is not an object"};
        if (secrets == nullptr) throw LineError{Errc::usage, "a rotation needs secrets.old_token"};
        core::RotationWindow w;
        w.started_at = time_of(*r, "started_at", now);
        w.old_expires_at = w.started_at + core::k_rotation_window;
        w.old = token_of(secret(*secrets, "old_token", "secrets.old_token"), w.started_at, text(*r, "old_fingerprint"),
                         "secrets.old_token");
        // A window that has ended is purged at this write.
        in.rotation = std::move(w);
    }
    if (const SecureJson* o = member(j, "oauth")) {
        if (!o->is_object()) throw LineError{Errc::usage, "field 'oauth' is not an object"};
        if (in.kind != core::Kind::oauth) throw LineError{Errc::usage, "field 'oauth' applies to kind oauth only"};
        core::OAuthSession s;
        if (member(*o, "access_expires_at") != nullptr) s.access_expires_at = time_of(*o, "access_expires_at", now);
        s.user_type = text(*o, "user_type");
        s.user_id = text(*o, "user_id");
        s.app = text(*o, "app");
        for (const auto* t : {&s.user_type, &s.user_id, &s.app}) check(core::validate_text("oauth field", *t, 256));
        if (secrets != nullptr && member(*secrets, "refresh_token") != nullptr)
            s.refresh_token = secret(*secrets, "refresh_token", "secrets.refresh_token");
        in.oauth = std::move(s);
    } else if (in.kind == core::Kind::oauth) {
        throw LineError{Errc::usage, "kind oauth needs an 'oauth' object"};
    }
    if (const SecureJson* x = member(j, "extra")) {
        if (!x->is_object()) throw LineError{Errc::usage, "field 'extra' is not an object"};
        for (auto it = x->begin(); it != x->end(); ++it) {
            if (!it.value().is_string()) throw LineError{Errc::usage, "an extra value is not a string"};
            const auto& v = it.value().get_ref<const SecureString&>();
            in.extra.emplace_back(std::string(it.key().begin(), it.key().end()), std::string(v.begin(), v.end()));
            check(core::validate_text("extra", in.extra.back().first, 256));
            check(core::validate_text("extra", in.extra.back().second, 1024));
        }
    }
    return in;
}

/// The integration every env line becomes, without its name and token.
Result<core::Integration> env_template(const Context& ctx, const ImportOptions& o, Timestamp now)
{
    if (o.provider.empty()) return make_error(Errc::usage, "import --format env needs --provider");
    PITOOL_TRY_ASSIGN(const auto provider_kind, parse_provider_kind(o.provider, o.kind));
    const auto [provider, kind] = provider_kind;
    if (kind == core::Kind::oauth || kind == core::Kind::oauth_app)
        return make_error(Errc::usage, "import --format env stores tokens of kind pit, partner-key or practice-key");
    core::Integration in;
    in.provider = provider;
    in.kind = kind;
    PITOOL_TRY(core::validate_text("description", o.description, 1024));
    in.description = o.description;
    PITOOL_TRY_ASSIGN(auto account, resolve_account(provider, kind, o.location, o.company, o.practice));
    in.level = account.first;
    in.account_id = account.second;
    PITOOL_TRY_ASSIGN(auto scopes, normalize_scopes(ctx, provider, o.scopes, false));
    in.scopes = std::move(scopes);
    PITOOL_TRY_ASSIGN(auto base, resolve_base_url(provider, o.base_url));
    in.base_url = std::move(base);
    in.created_at = now;
    return in;
}

/// One `VAR=value` line (optionally `export VAR=value`, the value optionally
/// in matching single or double quotes) as an integration. Messages never
/// hold the value, nor the line when it is not VAR=... at all.
core::Integration env_integration_of(const core::Integration& base, std::string_view line,
                                     const std::map<std::string, std::string, std::less<>>& names)
{
    if (line.starts_with("export ")) line.remove_prefix(7);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) throw LineError{Errc::usage, "not a VAR=value line"};
    const std::string_view var = line.substr(0, eq);
    if (!valid_variable(var)) throw LineError{Errc::usage, "the variable name must match [A-Za-z_][A-Za-z0-9_]*"};
    std::string_view value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') && value.back() == value.front())
        value = value.substr(1, value.size() - 2);
    core::Integration in; // (move-only: the template's metadata copied)
    in.provider = base.provider;
    in.kind = base.kind;
    in.description = base.description;
    in.level = base.level;
    in.account_id = base.account_id;
    in.scopes = base.scopes;
    in.base_url = base.base_url;
    in.created_at = base.created_at;
    if (auto it = names.find(var); it != names.end())
        in.name = it->second;
    else
        in.name = name_of(var);
    if (!core::validate_name(in.name))
        throw LineError{Errc::usage,
                        std::string(var) + " maps to no valid name (give --name " + std::string(var) + "=NAME)"};
    Secret token = Secret::from(value);
    if (auto st = core::validate_token(token); !st)
        throw LineError{Errc::usage, "the value of " + std::string(var) + ": " + st.error().message};
    in.token = core::make_token(std::move(token), base.created_at);
    return in;
}

/// A record's metadata without its secrets: what the binding check reads.
core::Integration without_secrets(const core::Integration& in)
{
    core::Integration m;
    m.name = in.name;
    m.provider = in.provider;
    m.kind = in.kind;
    m.base_url = in.base_url;
    m.extra = in.extra;
    if (in.oauth) m.oauth.emplace().app = in.oauth->app;
    return m;
}

struct Imported {
    core::Integration meta; ///< without_secrets()
    std::string where;      ///< "line N: "
};

/// Every imported record against the record whose secret it depends on, in
/// the input (whatever the order of the lines) or else in the vault.
Status check_bindings(const vault::Vault& v, const std::map<std::string, Imported, std::less<>>& imported)
{
    for (const auto& [name, rec] : imported) {
        const std::string_view source_name = core::credential_source(rec.meta);
        const core::Integration* source = nullptr;
        std::optional<core::Integration> stored;
        if (auto it = imported.find(source_name); it != imported.end()) {
            source = &it->second.meta;
        } else if (!source_name.empty() && core::validate_name(source_name)) {
            auto r = v.read_record(source_name, /*secrets=*/false);
            if (!r && r.error().code != Errc::not_found) return std::move(r).error();
            if (r) source = &stored.emplace(std::move(r).value());
        }
        if (auto st = core::check_credential_binding(rec.meta, source); !st)
            return make_error(st.error().code, rec.where + st.error().message + " (nothing imported)");
    }
    return {};
}

Result<SecureString> read_all(std::istream& in)
{
    SecureString all;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        all.append(buf, static_cast<std::size_t>(in.gcount()));
        secure_wipe(buf, sizeof buf);
        if (all.size() > k_max_import_bytes) return make_error(Errc::usage, "import is larger than 1 GiB");
    }
    return all;
}

Status run_import(Context& ctx, const ImportOptions& o)
{
    if (o.format != "jsonl" && o.format != "env") return make_error(Errc::usage, "--format must be jsonl or env");
    if (o.format != "env" &&
        (!o.provider.empty() || !o.kind.empty() || !o.scopes.empty() || !o.description.empty() || !o.location.empty() ||
         !o.company.empty() || !o.practice.empty() || !o.base_url.empty() || !o.names.empty()))
        return make_error(Errc::usage, "--provider, --kind, --name and the other metadata flags apply to "
                                       "--format env only (JSON lines carry their own)");
    // Read everything before taking the lock: stdin may be slow.
    PITOOL_TRY_ASSIGN(const auto input, read_all(ctx.in));
    std::string_view all(input.data(), input.size());
    Session s(ctx);
    std::size_t imported = 0, skipped = 0;
    const bool env = o.format == "env";
    std::optional<core::Integration> env_base;
    std::map<std::string, std::string, std::less<>> env_names;
    if (env) {
        PITOOL_TRY_ASSIGN(auto base, env_template(ctx, o, ctx.clock.now()));
        env_base = std::move(base);
        PITOOL_TRY_ASSIGN(env_names, parse_name_overrides(o.names));
    }
    PITOOL_TRY(s.mutate([&](vault::Vault& v) -> Status {
        std::map<std::string, Imported, std::less<>> staged;
        auto now = ctx.clock.now();
        if (env_base) env_base->created_at = now;
        std::size_t line_no = 0;
        for (std::size_t at = 0; at < all.size();) {
            std::size_t end = all.find('\n', at);
            if (end == std::string_view::npos) end = all.size();
            std::string_view line = all.substr(at, end - at);
            at = end + 1;
            ++line_no;
            const auto first = line.find_first_not_of(" \t\r");
            if (first == std::string_view::npos) continue;
            if (env && line[first] == '#') continue; // a comment
            auto where = "line " + std::to_string(line_no) + ": ";
            try {
                core::Integration in;
                if (env) {
                    in = env_integration_of(*env_base, line, env_names);
                } else {
                    SecureJson j = SecureJson::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
                    if (j.is_discarded()) return make_error(Errc::usage, where + "not valid JSON (nothing imported)");
                    in = integration_of(ctx, j, now);
                }
                PITOOL_TRY_ASSIGN(const bool exists, v.contains(in.name));
                if (exists) {
                    if (!o.skip_existing)
                        return make_error(Errc::conflict,
                                          where + "an integration named '" + in.name +
                                              "' already exists (nothing imported; see --skip-existing)");
                    ++skipped;
                    continue;
                }
                PITOOL_TRY(v.stage(in));
                staged.emplace(in.name, Imported{without_secrets(in), where});
                record_event(ctx, v.payload(), "import", in.name, in.token.fingerprint);
                ++imported;
            } catch (const LineError& e) {
                return make_error(e.code, where + e.what + " (nothing imported)");
            } catch (const nlohmann::detail::exception&) {
                // nlohmann's messages may quote the input: never surface them.
                return make_error(Errc::usage, where + "unexpected JSON structure (nothing imported)");
            }
        }
        return check_bindings(v, staged);
    }));
    if (ctx.opts.json) {
        print_json(ctx, {{"imported", imported}, {"skipped", skipped}});
    } else if (!ctx.opts.quiet) {
        ctx.out << "Imported " << imported << (imported == 1 ? " integration" : " integrations");
        if (skipped > 0) ctx.out << " (" << skipped << " already present, skipped)";
        ctx.out << "\n";
    }
    return {};
}

} // namespace

Handler setup_import(CLI::App& sub)
{
    auto o = std::make_shared<ImportOptions>();
    sub.add_flag("--skip-existing", o->skip_existing, "Leave integrations whose name exists alone instead of failing");
    sub.add_option("--format", o->format, "jsonl (default: JSON lines) or env (VAR=token lines)");
    sub.add_option("--provider", o->provider, "env: leadconnector or hint, for every line");
    sub.add_option("--kind", o->kind, "env: pit (leadconnector's default), partner-key (hint's default), practice-key");
    sub.add_option("--scope", o->scopes, "env: a scope (repeat, or separate with spaces or commas)");
    sub.add_option("--description", o->description, "env: what the credentials are for");
    auto* loc = sub.add_option("--location", o->location, "env: sub-account (location) id");
    auto* comp = sub.add_option("--company", o->company, "env: agency (company) id");
    loc->excludes(comp);
    sub.add_option("--practice", o->practice, "env: Hint practice id (practice-key)");
    sub.add_option("--base-url", o->base_url, "env: API base URL (default: the provider's)");
    sub.add_option("--name", o->names,
                   "env: store variable VAR as integration NAME (VAR=NAME; repeat). Default: VAR lower-cased, _ as -");
    return [o](Context& ctx) { return run_import(ctx, *o); };
}

} // namespace pitool::cli::commands
