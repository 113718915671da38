#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/config.hpp"
#include "cli/output.hpp"
#include "cli/session.hpp"
#include "pitool/core/lifecycle.hpp"

#include <CLI/CLI.hpp>

#include <ostream>
#include <sstream>

namespace pitool::cli::commands {
namespace {

enum class Format { table, json, csv, prometheus };

struct AuditOptions {
    int max_age_days = 0;
    int warn_days = 0;
    const CLI::Option* max_age_flag = nullptr;
    const CLI::Option* warn_flag = nullptr;
    std::string format;
    std::string provider;
    std::string kind;
};

/// --format and --json together: they must agree.
Result<Format> parse_format(const Context& ctx, const std::string& given)
{
    if (given.empty()) return ctx.opts.json ? Format::json : Format::table;
    Format f{};
    if (given == "table")
        f = Format::table;
    else if (given == "json")
        f = Format::json;
    else if (given == "csv")
        f = Format::csv;
    else if (given == "prometheus")
        f = Format::prometheus;
    else
        return make_error(Errc::usage, "--format must be table, json, csv or prometheus");
    if (ctx.opts.json && f != Format::json)
        return make_error(Errc::usage, "--json and --format " + given + " disagree: give one of them");
    return f;
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
std::string csv_field(std::string_view s)
{
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

/// A Prometheus label value: backslash, quote and newline escaped.
std::string label_value(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

/// The three gauges of the node-exporter textfile, each metric's samples
/// together as the text format requires.
class Prometheus {
public:
    void add(const core::Integration& in, const core::Finding& f, Timestamp now)
    {
        const std::string labels = "{name=\"" + label_value(shown(in.name)) + "\",provider=\"" +
                                   std::string(core::to_string(in.provider)) + "\",kind=\"" +
                                   std::string(core::to_string(in.kind)) + "\"} ";
        m_age << "pitool_token_age_days" << labels << f.age_days << '\n';
        if (f.due_at) m_due << "pitool_token_due_in_days" << labels << whole_days(now, *f.due_at) << '\n';
        if (in.last_check) m_check << "pitool_last_check_ok" << labels << (in.last_check->ok ? 1 : 0) << '\n';
    }

    void print(std::ostream& out) const
    {
        out << "# HELP pitool_token_age_days Whole days since the current token was issued (oauth: last refresh).\n"
               "# TYPE pitool_token_age_days gauge\n"
            << m_age.str()
            << "# HELP pitool_token_due_in_days Whole days until the token is due for rotation (negative: overdue).\n"
               "# TYPE pitool_token_due_in_days gauge\n"
            << m_due.str()
            << "# HELP pitool_last_check_ok 1 if the last test call of the current token succeeded, else 0.\n"
               "# TYPE pitool_last_check_ok gauge\n"
            << m_check.str();
    }

private:
    std::ostringstream m_age, m_due, m_check;
};

Status run_audit(Context& ctx, const AuditOptions& o)
{
    PolicyFlags flags;
    if (o.max_age_flag->count() > 0) flags.max_age_days = o.max_age_days;
    if (o.warn_flag->count() > 0) flags.warn_days = o.warn_days;
    // The flags over the config's [policy]; each record is judged by its
    // provider's and kind's policy under the same flags.
    const core::Policy base = base_policy_in_force(ctx, flags).policy;
    PITOOL_TRY(core::validate_policy(base));
    PITOOL_TRY_ASSIGN(const Format format, parse_format(ctx, o.format));
    if (format == Format::json) ctx.opts.json = true; // errors as JSON objects too
    PITOOL_TRY_ASSIGN(const auto filter, parse_filter(o.provider, o.kind));
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    const vault::Vault& v = *opened;
    auto now = ctx.clock.now();
    int failing = 0;
    // Records are assessed one at a time, in name order; JSON and CSV are
    // streamed (JSON's keys in the order nlohmann::json sorts them), a table
    // keeps its rows, Prometheus its three metrics' lines.
    Table rows;
    rows.add({"NAME", "VERDICT", "AGE", "REASON"});
    Prometheus metrics;
    const char* sep = "";
    if (format == Format::json)
        ctx.out << "{\"checked_at\":" << nlohmann::json(format_rfc3339(now)).dump() << ",\"findings\":[";
    if (format == Format::csv)
        ctx.out << "name,provider,kind,account_id,verdict,age_days,issued_at,due_at,fingerprint,reason\r\n";
    PITOOL_TRY(v.for_each_record(false, [&](const core::Integration& in) -> Status {
        if (!filter.matches(in)) return {};
        const core::Policy policy = policy_in_force(ctx, in.provider, in.kind, flags).policy;
        PITOOL_TRY(core::validate_policy(policy));
        auto f = core::assess(in, now, policy);
        if (f.verdict == core::Verdict::due || f.verdict == core::Verdict::expired) ++failing;
        switch (format) {
        case Format::json:
            ctx.out << sep << finding_json(in, f, now).dump();
            sep = ",";
            break;
        case Format::csv:
            ctx.out << csv_field(shown(in.name)) << ',' << core::to_string(in.provider) << ','
                    << core::to_string(in.kind) << ',' << csv_field(shown(in.account_id)) << ','
                    << core::to_string(f.verdict) << ',' << f.age_days << ',' << format_rfc3339(in.token.issued_at)
                    << ',' << (f.due_at ? format_rfc3339(*f.due_at) : "") << ',' << in.token.fingerprint << ','
                    << csv_field(shown(f.reason)) << "\r\n";
            break;
        case Format::prometheus:
            metrics.add(in, f, now);
            break;
        case Format::table:
            rows.add({f.name, core::to_string(f.verdict), days_text(f.age_days), human_reason(in, f)});
            break;
        }
        return {};
    }));
    if (format == Format::json) {
        nlohmann::json p = {{"max_age_days", base.max_age_days}, {"warn_days", base.warn_days}};
        ctx.out << "],\"policy\":" << p.dump() << ',' << schema_version_member() << "}\n";
        ctx.json_written = true;
    } else if (format == Format::prometheus) {
        metrics.print(ctx.out);
    } else if (format == Format::table) {
        rows.print(ctx.out);
    }
    if (failing > 0)
        return make_error(Errc::findings, std::to_string(failing) +
                                              (failing == 1 ? " integration needs" : " integrations need") +
                                              " attention (due or expired)");
    return {};
}

} // namespace

Handler setup_audit(CLI::App& sub)
{
    auto o = std::make_shared<AuditOptions>();
    o->max_age_flag = sub.add_option("--max-age", o->max_age_days,
                                     "Days after which a token is due for rotation (default: the config's policy, "
                                     "else 90)");
    o->warn_flag = sub.add_option("--warn-days", o->warn_days,
                                  "Warn this many days before a token is due (default: the config's policy, else 14)");
    sub.add_option("--format", o->format, "table (default), json (as --json), csv or prometheus (textfile)");
    sub.add_option("--provider", o->provider, "Only this provider");
    sub.add_option("--kind", o->kind, "Only this kind");
    return [o](Context& ctx) { return run_audit(ctx, *o); };
}

} // namespace pitool::cli::commands
