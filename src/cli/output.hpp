#pragma once
// Rendering for humans and for --json. Nothing here ever prints a secret:
// the views are built from names, times and fingerprints only.

#include "cli/context.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/core/model.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <vector>
#include <initializer_list>
#include <string_view>

namespace pitool::cli {

/// `text` (from the vault or a provider) as it may be printed or put in
/// JSON: util::sanitize()d (valid UTF-8, terminal controls escaped), uncut.
[[nodiscard]] std::string shown(std::string_view text);

/// The public JSON shape of an integration (docs/cli.md); its strings shown().
[[nodiscard]] nlohmann::json integration_json(const core::Integration& in, Timestamp now);
[[nodiscard]] nlohmann::json event_json(const core::Event& e);
[[nodiscard]] nlohmann::json finding_json(const core::Integration& in, const core::Finding& f, Timestamp now);

/// The `show` text block; its due date is judged by `policy`.
void print_integration(std::ostream& out, const core::Integration& in, Timestamp now, const core::Policy& policy);

/// Rows of text cells printed as left-aligned columns (the last column is
/// not padded). Cells are kept in one buffer: a table of 100,000 rows costs
/// a few large allocations, not one per cell.
class Table {
public:
    void add(std::initializer_list<std::string_view> cells);
    void add(const std::vector<std::string>& cells);
    /// Rows added so far.
    [[nodiscard]] std::size_t size() const noexcept { return m_row_ends.size(); }
    void print(std::ostream& out) const;

private:
    void cell(std::string_view text);
    void end_row();
    std::string m_text;
    std::vector<std::size_t> m_cell_ends; ///< end offset of each cell in m_text
    std::vector<std::size_t> m_row_ends;  ///< end index of each row in m_cell_ends
    std::vector<std::size_t> m_widths;
};

/// Prints rows as a Table.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

/// The version of every JSON object document pitool prints (results, error
/// objects), as its `"schema_version"` member. Adding a member keeps it;
/// removing one or changing a member's meaning raises it (docs/cli.md,
/// docs/schema/). Bare arrays (`list --json`) and JSON lines carry none.
inline constexpr int k_schema_version = 1;

/// Prints the command's JSON result on one line and remembers that it did,
/// so an error after it does not add a second document. An object gets
/// `"schema_version": k_schema_version` here, so no command adds it itself.
void print_json(Context& ctx, nlohmann::json j);

/// `"schema_version":N`, for the few documents streamed piece by piece
/// instead of through print_json (`audit`'s findings, `get`'s token).
[[nodiscard]] std::string schema_version_member();

/// The `kind` of an error object: "usage", "not_found", ... (docs/cli.md).
[[nodiscard]] std::string_view errc_name(Errc e);

/// A time as people read it: local time with its offset,
/// "2026-12-06T05:15:00+01:00" (TZ honoured). --json, CSV and Prometheus
/// output, and text stored in the vault, use format_rfc3339 (UTC, "Z").
[[nodiscard]] std::string human_time(Timestamp t);

/// `f.reason` for people: a time in it in local time (human_time).
[[nodiscard]] std::string human_reason(const core::Integration& in, const core::Finding& f);

/// "3 days", "1 day", "in 6 days".
[[nodiscard]] std::string days_text(long long n);

} // namespace pitool::cli
