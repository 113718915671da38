// The config file. toml++ is compiled header-only into this one translation
// unit (TOML_HEADER_ONLY, set here and in CMakeLists.txt): Debian's CMake
// package would link libtomlplusplus.so, and no other file pays for its
// headers.
#include "cli/config.hpp"

#include "cli/common.hpp"

#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#endif
#include <toml++/toml.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace pitool::cli {

std::string_view to_string(Origin::Source s) noexcept
{
    switch (s) {
    case Origin::Source::builtin:
        return "default";
    case Origin::Source::config_file:
        return "config";
    case Origin::Source::environment:
        return "environment";
    case Origin::Source::flag:
        return "flag";
    }
    return "default";
}

namespace {

/// A config file is a few hundred bytes; anything this large is a mistake.
constexpr std::size_t k_max_config_bytes = 1 << 20;

constexpr std::array<core::Provider, 2> k_providers{core::Provider::leadconnector, core::Provider::hint};
constexpr std::array<core::Kind, 5> k_kinds{core::Kind::pit, core::Kind::oauth_app, core::Kind::oauth,
                                            core::Kind::partner_key, core::Kind::practice_key};

/// Thrown inside the parser, turned into Errc::usage by load_config.
struct ConfigError {
    int line;
    std::string what;
};

/// A key as it may appear in a message: short identifiers only. Anything
/// else (a pasted token used as a key) is not repeated.
std::string key_text(std::string_view key)
{
    const bool plain = !key.empty() && key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    return plain ? "'" + std::string(key) + "'" : std::string("a key (not repeated: it may be a secret)");
}

/// Keys that name a secret are refused outright: the config is not a vault.
bool looks_secret(std::string_view key)
{
    std::string lower(key);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view word : {"token", "secret", "passphrase", "password", "passwd", "credential", "pit-"})
        if (lower.find(word) != std::string::npos) return true;
    return lower == "key" || lower.ends_with("_key") || lower.ends_with("-key") || lower.ends_with("apikey");
}

int line_of(const toml::node& n)
{
    return static_cast<int>(n.source().begin.line);
}

class Parser {
public:
    explicit Parser(Config& c) : m_c(c) {}

    void top(const toml::table& t)
    {
        for (auto&& [k, v] : t) {
            const std::string_view key = k.str();
            if (key == "vault") {
                m_c.vault = vault_path(v);
                m_c.vault_line = line_of(v);
            } else if (key == "policy") {
                policy(table_of(v, "policy"), "");
            } else if (key == "http") {
                http(table_of(v, "http"));
            } else {
                refuse_secret(key, line_of(v));
                unknown(key, "", line_of(v));
            }
        }
    }

private:
    void refuse_secret(std::string_view key, int line) const
    {
        if (looks_secret(key))
            throw ConfigError{line, key_text(key) + " looks like a secret: the config file never holds secrets (tokens "
                                                    "belong in the vault, a passphrase in PITOOL_PASSPHRASE_FILE)"};
    }

    static void unknown(std::string_view key, std::string_view in, int line)
    {
        throw ConfigError{line, "unknown key " + key_text(key) + (in.empty() ? "" : " in [" + std::string(in) + "]") +
                                    " (see pitool config and docs/cli.md)"};
    }

    static const toml::table& table_of(const toml::node& v, std::string_view name)
    {
        if (!v.is_table()) throw ConfigError{line_of(v), "'" + std::string(name) + "' must be a table"};
        return *v.as_table();
    }

    static std::string vault_path(const toml::node& v)
    {
        if (!v.is_string()) throw ConfigError{line_of(v), "'vault' must be a string (a path)"};
        const std::string& s = v.as_string()->get();
        if (s.empty() || (s[0] != '/' && !s.starts_with("~/")))
            throw ConfigError{line_of(v), "'vault' must be an absolute path or start with ~/"};
        return s;
    }

    static int days(const toml::node& v, const std::string& key, int min)
    {
        if (!v.is_integer()) throw ConfigError{line_of(v), "'" + key + "' must be an integer (days)"};
        const auto n = v.as_integer()->get();
        if (n < min || n > 3650)
            throw ConfigError{line_of(v), "'" + key + "' must be between " + std::to_string(min) + " and 3650"};
        return static_cast<int>(n);
    }

    static double seconds(const toml::node& v, const std::string& key)
    {
        double s = 0;
        if (v.is_integer())
            s = static_cast<double>(v.as_integer()->get());
        else if (v.is_floating_point())
            s = v.as_floating_point()->get();
        else
            throw ConfigError{line_of(v), "'" + key + "' must be a number (seconds)"};
        if (!(s > 0 && s <= 600)) throw ConfigError{line_of(v), "'" + key + "' must be above 0 and at most 600"};
        return s;
    }

    /// [policy], [policy.PROVIDER] (prefix "leadconnector"), [policy.PROVIDER.KIND].
    void policy(const toml::table& t, const std::string& prefix)
    {
        PolicyRule& rule = m_c.policies[prefix];
        const std::string section = prefix.empty() ? "policy" : "policy." + prefix;
        const auto dots = std::count(prefix.begin(), prefix.end(), '.');
        for (auto&& [k, v] : t) {
            const std::string_view key = k.str();
            if (key == "max_age_days") {
                rule.max_age_days = days(v, section + ".max_age_days", 1);
                rule.max_age_line = line_of(v);
            } else if (key == "warn_days") {
                rule.warn_days = days(v, section + ".warn_days", 0);
                rule.warn_line = line_of(v);
            } else if (prefix.empty() && core::parse_provider(key)) {
                policy(table_of(v, section + "." + std::string(key)), std::string(key));
            } else if (dots == 0 && !prefix.empty() && core::parse_kind(key)) {
                const auto provider = core::parse_provider(prefix).value();
                if (!core::kind_allowed(provider, core::parse_kind(key).value()))
                    throw ConfigError{line_of(v), "kind '" + std::string(key) + "' does not exist for " + prefix};
                policy(table_of(v, section + "." + std::string(key)), prefix + "." + std::string(key));
            } else {
                refuse_secret(key, line_of(v));
                unknown(key, section, line_of(v));
            }
        }
    }

    void http(const toml::table& t)
    {
        for (auto&& [k, v] : t) {
            const std::string_view key = k.str();
            if (key == "timeout_seconds") {
                m_c.http_timeout_seconds = seconds(v, "http.timeout_seconds");
                m_c.http_timeout_line = line_of(v);
            } else if (key == "connect_timeout_seconds") {
                m_c.http_connect_timeout_seconds = seconds(v, "http.connect_timeout_seconds");
                m_c.http_connect_timeout_line = line_of(v);
            } else {
                refuse_secret(key, line_of(v));
                unknown(key, "http", line_of(v));
            }
        }
    }

    Config& m_c;
};

/// The most specific rule that sets a number, as {value, line}.
template <typename Get>
std::optional<std::pair<int, int>> inherited(const Config& c, core::Provider p, core::Kind k, Get get)
{
    const std::string provider(core::to_string(p));
    for (const std::string& key : {provider + "." + std::string(core::to_string(k)), provider, std::string()}) {
        auto it = c.policies.find(key);
        if (it == c.policies.end()) continue;
        if (auto v = get(it->second)) return v;
    }
    return std::nullopt;
}

/// Every provider and kind judged by the file alone must be a valid policy.
void check_policies(const Config& c)
{
    for (auto p : k_providers)
        for (auto k : k_kinds) {
            if (!core::kind_allowed(p, k)) continue;
            auto max_age = inherited(c, p, k, [](const PolicyRule& r) -> std::optional<std::pair<int, int>> {
                if (!r.max_age_days) return std::nullopt;
                return std::pair{*r.max_age_days, r.max_age_line};
            });
            auto warn = inherited(c, p, k, [](const PolicyRule& r) -> std::optional<std::pair<int, int>> {
                if (!r.warn_days) return std::nullopt;
                return std::pair{*r.warn_days, r.warn_line};
            });
            const int m = max_age ? max_age->first : core::Policy{}.max_age_days;
            const int w = warn ? warn->first : core::Policy{}.warn_days;
            if (w > m)
                throw ConfigError{warn ? warn->second : max_age->second,
                                  "warn_days (" + std::to_string(w) + ") exceeds max_age_days (" + std::to_string(m) +
                                      ") for " + std::string(core::to_string(p)) + " " +
                                      std::string(core::to_string(k))};
        }
}

/// The file's text after the vault's ownership and mode rule, checked on
/// the open file itself.
Result<std::string> read_config_text(const std::filesystem::path& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const int err = errno;
        return make_error(err == ENOENT ? Errc::not_found : Errc::io,
                          "cannot read config file " + path.string() + ": " + std::strerror(err));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return make_error(Errc::usage, "config file " + path.string() + " is not a regular file");
    if (st.st_uid != ::geteuid())
        return make_error(Errc::io, "config file " + path.string() + " is owned by uid " + std::to_string(st.st_uid) +
                                        ", not by you (run: chown " + std::to_string(::geteuid()) + " " +
                                        path.string() + ")");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(Errc::io, "config file " + path.string() + " is writable by group or others (mode " + mode +
                                        "; run: chmod go-w " + path.string() + ")");
    }
    if (static_cast<std::size_t>(st.st_size) > k_max_config_bytes)
        return make_error(Errc::usage, "config file " + path.string() + " is larger than 1 MiB");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return text;
}

/// A parse error's description up to its first quote: toml++ may quote the
/// text it stumbled on, which could be a pasted secret.
std::string parse_problem(std::string_view description)
{
    std::string_view d = description.substr(0, description.find_first_of("'\"`"));
    while (!d.empty() && (d.back() == ' ' || d.back() == ':' || d.back() == ',')) d.remove_suffix(1);
    return d.empty() ? std::string("not valid TOML") : "not valid TOML: " + std::string(d);
}

std::optional<std::chrono::milliseconds> env_seconds_of(const Context& ctx, const char* name)
{
    if (const char* v = ctx.env.get(name); v != nullptr && *v != '\0') {
        double secs = 0;
        auto [p, ec] = std::from_chars(v, v + std::strlen(v), secs);
        if (ec == std::errc{} && *p == '\0' && secs > 0 && secs <= 600)
            return std::chrono::milliseconds(static_cast<long long>(secs * 1000));
    }
    return std::nullopt;
}

Origin file_origin(const Config& c, int line)
{
    return {Origin::Source::config_file, c.path.string() + ":" + std::to_string(line)};
}

} // namespace

Result<std::shared_ptr<const Config>> load_config(const Context& ctx)
{
    auto c = std::make_shared<Config>();
    if (ctx.opts.no_config) return std::shared_ptr<const Config>(std::move(c));
    if (!ctx.opts.config.empty()) {
        c->path = ctx.opts.config;
        c->path_origin = {Origin::Source::flag, "--config"};
    } else if (const char* e = ctx.env.get("PITOOL_CONFIG"); e != nullptr && *e != '\0') {
        c->path = e;
        c->path_origin = {Origin::Source::environment, "PITOOL_CONFIG"};
    } else if (const char* x = ctx.env.get("XDG_CONFIG_HOME"); x != nullptr && *x == '/') {
        c->path = std::filesystem::path(x) / "pitool" / "config.toml";
    } else if (const char* home = ctx.env.get("HOME"); home != nullptr && *home == '/') {
        c->path = std::filesystem::path(home) / ".config" / "pitool" / "config.toml";
    } else {
        return std::shared_ptr<const Config>(std::move(c));
    }
    auto text = read_config_text(c->path);
    if (!text) {
        const bool named = c->path_origin.source != Origin::Source::builtin;
        if (text.error().code == Errc::not_found && !named) return std::shared_ptr<const Config>(std::move(c));
        if (text.error().code == Errc::not_found)
            return make_error(Errc::usage, text.error().message + " (named by " + c->path_origin.where + ")");
        return std::move(text).error();
    }
    try {
        toml::table t = toml::parse(*text, c->path.string());
        Parser(*c).top(t);
        check_policies(*c);
    } catch (const toml::parse_error& e) {
        return make_error(Errc::usage, c->path.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                           parse_problem(e.description()));
    } catch (const ConfigError& e) {
        return make_error(Errc::usage, c->path.string() + ":" + std::to_string(e.line) + ": " + e.what);
    }
    c->loaded = true;
    return std::shared_ptr<const Config>(std::move(c));
}

const Config& config_of(const Context& ctx) noexcept
{
    static const Config k_none;
    return ctx.config ? *ctx.config : k_none;
}

std::optional<std::filesystem::path> config_vault(const Context& ctx)
{
    const Config& c = config_of(ctx);
    if (!c.vault) return std::nullopt;
    if (c.vault->starts_with("~/")) {
        const char* home = ctx.env.get("HOME");
        return std::filesystem::path(home != nullptr && *home != '\0' ? home : ".") / c.vault->substr(2);
    }
    return std::filesystem::path(*c.vault);
}

namespace {

/// The policy of the rules for `keys` (most specific first) under `flags`.
PolicyInForce policy_of(const Context& ctx, const std::vector<std::string>& keys, const PolicyFlags& flags)
{
    const Config& c = config_of(ctx);
    PolicyInForce out;
    auto first = [&](auto get) -> std::optional<std::pair<int, int>> {
        for (const auto& key : keys)
            if (auto it = c.policies.find(key); it != c.policies.end())
                if (auto v = get(it->second)) return v;
        return std::nullopt;
    };
    if (flags.max_age_days) {
        out.policy.max_age_days = *flags.max_age_days;
        out.max_age = {Origin::Source::flag, "--max-age"};
    } else if (auto v = first([](const PolicyRule& r) -> std::optional<std::pair<int, int>> {
                   if (!r.max_age_days) return std::nullopt;
                   return std::pair{*r.max_age_days, r.max_age_line};
               })) {
        out.policy.max_age_days = v->first;
        out.max_age = file_origin(c, v->second);
    }
    if (flags.warn_days) {
        out.policy.warn_days = *flags.warn_days;
        out.warn = {Origin::Source::flag, "--warn-days"};
    } else if (auto v = first([](const PolicyRule& r) -> std::optional<std::pair<int, int>> {
                   if (!r.warn_days) return std::nullopt;
                   return std::pair{*r.warn_days, r.warn_line};
               })) {
        out.policy.warn_days = v->first;
        out.warn = file_origin(c, v->second);
    }
    return out;
}

} // namespace

PolicyInForce policy_in_force(const Context& ctx, core::Provider provider, core::Kind kind, const PolicyFlags& flags)
{
    const std::string p(core::to_string(provider));
    return policy_of(ctx, {p + "." + std::string(core::to_string(kind)), p, std::string()}, flags);
}

PolicyInForce base_policy_in_force(const Context& ctx, const PolicyFlags& flags)
{
    return policy_of(ctx, {std::string()}, flags);
}

core::Policy policy_for(const Context& ctx, const core::Integration& in)
{
    return policy_in_force(ctx, in.provider, in.kind).policy;
}

SecondsInForce http_timeout_in_force(const Context& ctx)
{
    if (auto e = env_seconds_of(ctx, "PITOOL_HTTP_TIMEOUT"))
        return {*e, {Origin::Source::environment, "PITOOL_HTTP_TIMEOUT"}};
    const Config& c = config_of(ctx);
    if (c.http_timeout_seconds)
        return {std::chrono::milliseconds(static_cast<long long>(*c.http_timeout_seconds * 1000)),
                file_origin(c, c.http_timeout_line)};
    return {std::chrono::seconds(30), {}};
}

SecondsInForce http_connect_timeout_in_force(const Context& ctx)
{
    SecondsInForce out{std::chrono::seconds(10), {}};
    const Config& c = config_of(ctx);
    if (auto e = env_seconds_of(ctx, "PITOOL_HTTP_CONNECT_TIMEOUT"))
        out = {*e, {Origin::Source::environment, "PITOOL_HTTP_CONNECT_TIMEOUT"}};
    else if (c.http_connect_timeout_seconds)
        out = {std::chrono::milliseconds(static_cast<long long>(*c.http_connect_timeout_seconds * 1000)),
               file_origin(c, c.http_connect_timeout_line)};
    out.value = std::min(out.value, http_timeout_in_force(ctx).value);
    return out;
}

} // namespace pitool::cli
