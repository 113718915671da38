// The one translation unit that includes spdlog (header-only, with fmt
// header-only: FMT_HEADER_ONLY is set for this file by CMake). Debian's
// spdlog/tweakme.h forces SPDLOG_FMT_EXTERNAL, so fmt comes from libfmt-dev's
// headers, compiled in here rather than linked as libfmt.so.

#include "cli/log.hpp"

#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/ostream_sink.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <ostream>
#include <system_error>

namespace pitool::cli {
namespace {

spdlog::string_view_t view(std::string_view s)
{
    return {s.data(), s.size()};
}

/// One line on `ctx.err`, flushed. A logger per line keeps no state between
/// contexts (tests run many in one process) and costs nothing when nothing
/// is logged, which is every warm `get` without -v.
void write_line(const Context& ctx, spdlog::level::level_enum level, std::string_view message)
{
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(ctx.err, true);
    spdlog::logger logger("pitool", std::move(sink));
    logger.set_pattern("pitool: %l: %v", spdlog::pattern_time_type::utc);
    logger.set_level(spdlog::level::trace);
    logger.log(level, view(message));
}

/// Appends formatted lines to a file descriptor it owns, with one write(2)
/// each (O_APPEND), so lines never interleave mid-way.
class FdSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
    explicit FdSink(int fd) : m_fd(fd) {}
    ~FdSink() override { ::close(m_fd); }
    FdSink(const FdSink&) = delete;
    FdSink& operator=(const FdSink&) = delete;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        spdlog::memory_buf_t buf;
        formatter_->format(msg, buf);
        const char* p = buf.data();
        std::size_t left = buf.size();
        while (left > 0) {
            ssize_t n = ::write(m_fd, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return; // nowhere to report a failing log
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    void flush_() override {}

private:
    int m_fd;
};

constexpr off_t k_agent_log_max = 1024 * 1024;

} // namespace

void warn(const Context& ctx, std::string_view message)
{
    if (!ctx.opts.quiet) write_line(ctx, spdlog::level::warn, message);
}

bool debugging(const Context& ctx) noexcept
{
    return ctx.opts.verbose > 0 && !ctx.opts.quiet;
}

bool tracing(const Context& ctx) noexcept
{
    return ctx.opts.verbose > 1 && !ctx.opts.quiet;
}

void debug(const Context& ctx, std::string_view message)
{
    if (debugging(ctx)) write_line(ctx, spdlog::level::debug, message);
}

void trace(const Context& ctx, std::string_view message)
{
    if (tracing(ctx)) write_line(ctx, spdlog::level::trace, message);
}

LogSink http_debug_sink(const Context& ctx)
{
    if (!debugging(ctx)) return {};
    return [&ctx](std::string_view line) { write_line(ctx, spdlog::level::debug, line); };
}

LogSink http_trace_sink(const Context& ctx)
{
    if (!tracing(ctx)) return {};
    return [&ctx](std::string_view line) { write_line(ctx, spdlog::level::trace, line); };
}

LeveledSink open_agent_log(const std::filesystem::path& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec); // 0700 under the agent's umask 077
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > k_agent_log_max) {
        const std::string old = path.string() + ".1";
        (void)::rename(path.c_str(), old.c_str());
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
        ::close(fd);
        return {};
    }
    (void)::fchmod(fd, 0600);
    auto logger = std::make_shared<spdlog::logger>("agent", std::make_shared<FdSink>(fd));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ [%l] %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::info);
    return [logger](Level level, std::string_view line) {
        logger->log(level == Level::warning ? spdlog::level::warn : spdlog::level::info, view(line));
    };
}

} // namespace pitool::cli
