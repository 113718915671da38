#include "pitool/core/binding.hpp"

#include <string>

namespace pitool::core {

std::string_view credential_source(const Integration& record) noexcept
{
    if (record.kind == Kind::oauth && record.oauth) return record.oauth->app;
    if (record.kind == Kind::practice_key)
        for (const auto& [key, value] : record.extra)
            if (key == "partner") return value;
    return {};
}

Status check_credential_binding(const Integration& record, const Integration* source)
{
    const std::string_view name = credential_source(record);
    if (name.empty() && record.kind != Kind::oauth) return {};
    const bool oauth = record.kind == Kind::oauth;
    const Kind holder = oauth ? Kind::oauth_app : Kind::partner_key;
    const std::string what = "'" + record.name + "' came from " + (oauth ? "the OAuth app '" : "the partner key '") +
                             std::string(name) + "'";
    if (source == nullptr) {
        if (!oauth) return {};
        return make_error(Errc::usage, what + ", which is not in the vault: its client secret cannot be used");
    }
    if (source->name != name) return make_error(Errc::usage, what + ", not from '" + source->name + "'");
    if (source->kind != holder || source->provider != record.provider)
        return make_error(Errc::usage, what + ", which is not a " + std::string(to_string(record.provider)) + " " +
                                           std::string(to_string(holder)));
    if (source->base_url != record.base_url)
        return make_error(Errc::usage, what + ", whose base URL is not " + record.base_url + " (refusing to send " +
                                           (oauth ? "its client secret" : "its partner key") + " elsewhere)");
    return {};
}

} // namespace pitool::core
