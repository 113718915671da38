#include "cli/log.hpp"

#include <ostream>

namespace pitool::cli {
namespace {

void write_line(const Context& ctx, std::string_view level, std::string_view message)
{
    ctx.err << "pitool: " << level << ": " << message << '\n';
    ctx.err.flush();
}

} // namespace

void warn(const Context& ctx, std::string_view message)
{
    if (!ctx.opts.quiet) write_line(ctx, "warning", message);
}

bool debugging(const Context& ctx) noexcept
{
    return ctx.opts.verbose > 0 && !ctx.opts.quiet;
}

void debug(const Context& ctx, std::string_view message)
{
    if (debugging(ctx)) write_line(ctx, "debug", message);
}

std::function<void(std::string_view)> http_debug_sink(const Context& ctx)
{
    if (!debugging(ctx)) return {};
    return [&ctx](std::string_view line) { write_line(ctx, "debug", line); };
}

} // namespace pitool::cli
