#include "cli/output.hpp"

#include "pitool/util/sanitize.hpp"

#include <algorithm>
#include <ostream>

namespace pitool::cli {

namespace {

/// Printable ASCII, by far the common case, needs no sanitising.
bool printable_ascii(std::string_view text) noexcept
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

} // namespace

std::string shown(std::string_view text)
{
    return printable_ascii(text) ? std::string(text) : util::sanitize(text);
}

std::string days_text(long long n)
{
    return std::to_string(n) + (n == 1 || n == -1 ? " day" : " days");
}

std::string human_time(Timestamp t)
{
    return format_rfc3339_local(t);
}

std::string human_reason(const core::Integration& in, const core::Finding& f)
{
    if (f.verdict == core::Verdict::rotating && in.rotation)
        return core::rotating_reason(human_time(in.rotation->old_expires_at));
    return f.reason;
}

namespace {

/// The open rotation window, or null.
nlohmann::json rotation_json(const core::Integration& in, Timestamp now)
{
    if (!core::window_open(in, now)) return nullptr;
    return {{"started_at", format_rfc3339(in.rotation->started_at)},
            {"old_expires_at", format_rfc3339(in.rotation->old_expires_at)},
            {"old_fingerprint", in.rotation->old.fingerprint}};
}

/// The last test call of the current token, or null.
nlohmann::json last_check_json(const core::Integration& in)
{
    if (!in.last_check) return nullptr;
    return {{"at", format_rfc3339(in.last_check->at)},
            {"status", in.last_check->status},
            {"ok", in.last_check->ok},
            {"summary", shown(in.last_check->summary)}};
}

} // namespace

nlohmann::json integration_json(const core::Integration& in, Timestamp now)
{
    using nlohmann::json;
    json j = json::object();
    j["name"] = shown(in.name);
    j["provider"] = core::to_string(in.provider);
    j["kind"] = core::to_string(in.kind);
    j["description"] = shown(in.description);
    j["level"] = in.level == core::Level::none ? json(nullptr) : json(core::to_string(in.level));
    j["account_id"] = in.account_id.empty() ? json(nullptr) : json(shown(in.account_id));
    j["scopes"] = json::array();
    for (const auto& sc : in.scopes) j["scopes"].push_back(shown(sc));
    j["base_url"] = shown(in.base_url);
    j["created_at"] = format_rfc3339(in.created_at);
    j["token"] = {{"fingerprint", in.token.fingerprint},
                  {"issued_at", format_rfc3339(in.token.issued_at)},
                  {"age_days", whole_days(in.token.issued_at, now)}};
    j["rotation"] = rotation_json(in, now);
    if (in.kind == core::Kind::oauth_app) j["client_id"] = shown(in.client_id);
    if (in.oauth) {
        json o = json::object();
        o["access_expires_at"] =
            in.oauth->access_expires_at ? json(format_rfc3339(*in.oauth->access_expires_at)) : json(nullptr);
        o["has_refresh_token"] = in.oauth->refresh_token.has_value();
        o["user_type"] = shown(in.oauth->user_type);
        o["user_id"] = shown(in.oauth->user_id);
        o["app"] = shown(in.oauth->app);
        j["oauth"] = std::move(o);
    }
    j["last_check"] = last_check_json(in);
    if (!in.extra.empty()) {
        json x = json::object();
        for (const auto& [k, v] : in.extra) x[shown(k)] = shown(v);
        j["extra"] = std::move(x);
    }
    return j;
}

nlohmann::json event_json(const core::Event& e)
{
    return {{"at", format_rfc3339(e.at)}, {"action", shown(e.action)},
            {"name", shown(e.name)},      {"fingerprint", shown(e.fingerprint)},
            {"actor", shown(e.actor)},    {"detail", shown(e.detail)},
            {"hash", shown(e.hash)}};
}

nlohmann::json finding_json(const core::Integration& in, const core::Finding& f, Timestamp now)
{
    using nlohmann::json;
    return {{"name", shown(f.name)},
            {"verdict", core::to_string(f.verdict)},
            {"age_days", f.age_days},
            {"reason", shown(f.reason)},
            {"provider", core::to_string(in.provider)},
            {"kind", core::to_string(in.kind)},
            {"account_id", in.account_id.empty() ? json(nullptr) : json(shown(in.account_id))},
            {"fingerprint", in.token.fingerprint},
            {"issued_at", format_rfc3339(in.token.issued_at)},
            {"due_at", f.due_at ? json(format_rfc3339(*f.due_at)) : json(nullptr)},
            {"rotation", rotation_json(in, now)},
            {"last_check", last_check_json(in)}};
}

void print_integration(std::ostream& out, const core::Integration& in, Timestamp now, const core::Policy& policy)
{
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"name:", in.name});
    rows.push_back({"provider:", std::string(core::to_string(in.provider))});
    rows.push_back({"kind:", std::string(core::to_string(in.kind))});
    if (!in.description.empty()) rows.push_back({"description:", in.description});
    if (in.level != core::Level::none)
        rows.push_back({"level:", std::string(core::to_string(in.level)) + " " + in.account_id});
    else if (!in.account_id.empty())
        rows.push_back({"account:", in.account_id});
    if (!in.client_id.empty()) rows.push_back({"client id:", in.client_id});
    if (!in.scopes.empty()) {
        std::string s;
        for (const auto& sc : in.scopes) s += (s.empty() ? "" : " ") + sc;
        rows.push_back({"scopes:", s});
    }
    rows.push_back({"base url:", in.base_url});
    rows.push_back({"created:", human_time(in.created_at)});
    rows.push_back({"token:", in.token.fingerprint + ", issued " + human_time(in.token.issued_at) + " (" +
                                  days_text(whole_days(in.token.issued_at, now)) + " old)"});
    if (const auto f = core::assess(in, now, policy); f.due_at) {
        const long long left = whole_days(now, *f.due_at);
        rows.push_back({"due:", human_time(*f.due_at) + " (" +
                                    (left >= 0 ? "in " + days_text(left) : days_text(-left) + " ago") + "; " +
                                    std::string(core::to_string(f.verdict)) + ")"});
    }
    if (core::window_open(in, now)) {
        auto left = in.rotation->old_expires_at - now;
        rows.push_back({"rotation:", "open since " + human_time(in.rotation->started_at) + "; old token " +
                                         in.rotation->old.fingerprint + " expires " +
                                         human_time(in.rotation->old_expires_at) + " (in " +
                                         std::to_string(left.count() / 3600) + " h)"});
    } else {
        rows.push_back({"rotation:", "none"});
    }
    if (in.oauth) {
        std::string s = in.oauth->access_expires_at ? "access token expires " + human_time(*in.oauth->access_expires_at)
                                                    : std::string("access token expiry unknown");
        s += in.oauth->refresh_token ? "; refresh token stored" : "; no refresh token";
        rows.push_back({"oauth:", s});
    }
    if (in.last_check)
        rows.push_back({"last check:", human_time(in.last_check->at) + " " + (in.last_check->ok ? "ok" : "FAILED") +
                                           " (" + in.last_check->summary + ")"});
    for (const auto& [k, v] : in.extra) rows.push_back({k + ":", v});
    print_table(out, rows);
}

void Table::cell(std::string_view text)
{
    // Every cell, whoever wrote it, is printed without terminal controls.
    std::string cleaned;
    if (!printable_ascii(text)) text = cleaned = util::sanitize(text);
    const std::size_t column = m_cell_ends.size() - (m_row_ends.empty() ? 0 : m_row_ends.back());
    if (m_widths.size() <= column) m_widths.push_back(0);
    m_widths[column] = std::max(m_widths[column], text.size());
    m_text.append(text);
    m_cell_ends.push_back(m_text.size());
}

void Table::end_row()
{
    m_row_ends.push_back(m_cell_ends.size());
}

void Table::add(std::initializer_list<std::string_view> cells)
{
    for (auto c : cells) cell(c);
    end_row();
}

void Table::add(const std::vector<std::string>& cells)
{
    for (const auto& c : cells) cell(c);
    end_row();
}

void Table::print(std::ostream& out) const
{
    std::string line;
    std::size_t cell_at = 0;
    std::size_t text_at = 0;
    for (std::size_t row_end : m_row_ends) {
        line.clear();
        for (std::size_t column = 0; cell_at < row_end; ++cell_at, ++column) {
            const std::size_t len = m_cell_ends[cell_at] - text_at;
            line.append(m_text, text_at, len);
            text_at = m_cell_ends[cell_at];
            if (cell_at + 1 < row_end) line.append(m_widths[column] - len + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        line += '\n';
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows)
{
    Table t;
    for (const auto& r : rows) t.add(r);
    t.print(out);
}

std::string_view errc_name(Errc e)
{
    switch (e) {
    case Errc::internal:
        return "internal";
    case Errc::usage:
        return "usage";
    case Errc::not_found:
        return "not_found";
    case Errc::conflict:
        return "conflict";
    case Errc::wrong_passphrase:
        return "wrong_passphrase";
    case Errc::damaged:
        return "damaged";
    case Errc::rejected:
        return "rejected";
    case Errc::unavailable:
        return "unavailable";
    case Errc::findings:
        return "findings";
    case Errc::io:
        return "io";
    }
    return "internal";
}

void print_json(Context& ctx, nlohmann::json j)
{
    if (j.is_object()) j["schema_version"] = k_schema_version;
    // Strings are built with shown(); a stray invalid byte is replaced, never thrown on.
    ctx.out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    ctx.json_written = true;
}

std::string schema_version_member()
{
    return "\"schema_version\":" + std::to_string(k_schema_version);
}

} // namespace pitool::cli
