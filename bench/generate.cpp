#include "generate.hpp"

#include "pitool/core/lifecycle.hpp"
#include "pitool/core/scopes.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>

namespace pitool::bench {
namespace {

/// splitmix64: tiny, fast, good enough to vary synthetic fields.
std::uint64_t mix(std::uint64_t x) noexcept
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct Rng {
    std::uint64_t state;
    std::uint64_t next() noexcept { return state = mix(state); }
    std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
};

constexpr std::array<const char*, 12> k_companies = {"acme",    "globex", "initech", "umbrella", "hooli", "vandelay",
                                                     "soylent", "tyrell", "wonka",   "stark",    "wayne", "cyberdyne"};
constexpr std::array<const char*, 8> k_what = {"Dental clinic", "Roofing leads", "Med spa",  "Law office",
                                               "Gym franchise", "Real estate",   "Car wash", "HVAC service"};
constexpr std::array<const char*, 8> k_where = {"Austin TX", "Denver CO", "Tampa FL", "Boise ID",
                                                "Salem OR",  "Provo UT",  "Reno NV",  "Mobile AL"};

std::string hex(Rng& r, std::size_t n)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(n);
    for (std::size_t k = 0; k < n; ++k) s.push_back(digits[r.below(16)]);
    return s;
}

std::string alnum(Rng& r, std::size_t n)
{
    static constexpr char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    s.reserve(n);
    for (std::size_t k = 0; k < n; ++k) s.push_back(chars[r.below(sizeof chars - 1)]);
    return s;
}

/// "pit-" + a UUID-shaped 36 characters: what a LeadConnector PIT looks like.
Secret pit_token(Rng& r)
{
    std::string t = "pit-" + hex(r, 8) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 12);
    Secret s = Secret::from(t);
    secure_wipe(t);
    return s;
}

Rng rng_for(std::size_t i, const GenOptions& o)
{
    return Rng{mix(o.seed * 0x100000001b3ULL + i)};
}

} // namespace

std::string integration_name(std::size_t i)
{
    char num[16];
    std::snprintf(num, sizeof num, "%06zu", i % 1000000);
    std::string company = k_companies[mix(i) % k_companies.size()];
    return company + "-location-" + num + (i >= 1000000 ? "-" + std::to_string(i / 1000000) : "");
}

core::Integration make_integration(std::size_t i, const GenOptions& o)
{
    Rng r = rng_for(i, o);
    core::Integration in;
    in.name = integration_name(i);
    in.provider = core::Provider::leadconnector;
    in.kind = core::Kind::pit;
    in.description = std::string(k_what[r.below(k_what.size())]) + ", " + k_where[r.below(k_where.size())] +
                     " - main sub-account #" + std::to_string(100 + r.below(900));
    const bool agency = r.below(10) == 0;
    in.level = agency ? core::Level::agency : core::Level::location;
    in.account_id = alnum(r, 20);
    auto catalogue = core::leadconnector_scopes();
    std::size_t nscopes = 3 + r.below(4);
    std::size_t start = r.below(catalogue.size());
    for (std::size_t k = 0; k < nscopes; ++k) in.scopes.emplace_back(catalogue[(start + k * 7) % catalogue.size()]);
    in.base_url = std::string(core::default_base_url(in.provider));

    const auto age = Days{static_cast<long>(r.below(121))};
    in.created_at = o.now - age - Days{static_cast<long>(r.below(30))};
    in.token = core::make_token(pit_token(r), o.now - age);

    if (static_cast<int>(r.below(100)) < o.rotating_percent) {
        core::RotationWindow w;
        w.old = core::make_token(pit_token(r), in.token.issued_at - Days{90});
        w.started_at = o.now - Days{static_cast<long>(r.below(7))};
        w.old_expires_at = w.started_at + core::k_rotation_window;
        in.rotation = std::move(w);
        in.token.issued_at = in.rotation->started_at;
    }
    if (static_cast<int>(r.below(100)) < o.checked_percent) {
        bool ok = r.below(20) != 0;
        in.last_check = core::LastCheck{o.now - Seconds{static_cast<long>(r.below(86400 * 30))}, ok ? 200 : 401, ok,
                                        ok ? "GET /locations/{id}: 200 OK" : "GET /locations/{id}: 401 Unauthorized"};
    }
    return in;
}

core::Payload make_payload(std::size_t n, const GenOptions& o, bool with_history)
{
    core::Payload p;
    p.integrations.reserve(n);
    if (with_history) p.history.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        p.integrations.push_back(make_integration(i, o));
        if (with_history) {
            const auto& in = p.integrations.back();
            p.record(core::Event{in.created_at, "create", in.name, in.token.fingerprint, "bench@localhost",
                                 "leadconnector pit", ""});
        }
    }
    return p;
}

std::string import_line(const core::Integration& in)
{
    using nlohmann::json;
    json j = json::object();
    j["name"] = in.name;
    j["provider"] = core::to_string(in.provider);
    j["kind"] = core::to_string(in.kind);
    j["description"] = in.description;
    j["level"] = in.level == core::Level::none ? json(nullptr) : json(core::to_string(in.level));
    j["account_id"] = in.account_id.empty() ? json(nullptr) : json(in.account_id);
    j["scopes"] = in.scopes;
    j["base_url"] = in.base_url;
    j["created_at"] = format_rfc3339(in.created_at);
    // Synthetic token: fine in a plain std::string (never a real secret).
    j["token"] = std::string(in.token.value.view());
    return j.dump();
}

} // namespace pitool::bench
