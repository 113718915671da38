// Batches on the multi interface: CurlClient::perform_all runs many requests
// at once, one easy handle per request in flight, each driven by the same
// state machine as `send` (curl_request.cpp). A wait is a "not before" time
// in the loop, never a sleep; a 429 pauses only its pool.

#include "http/curl_internal.hpp"

#include <cstdint>
#include <deque>

namespace pitool::http::curl {

class CurlClient::Batch {
public:
    Batch(CurlClient& client, const std::vector<Request>& requests, const BatchOptions& options)
        : m_client(client), m_options(options), m_total(requests.size()), m_results(requests.size()),
          m_slots(requests.size())
    {
        setup_pools();
        setup_slots(requests);
    }

    std::vector<Result<Response>> run()
    {
        while (m_finished < m_total) {
            start_ready();
            collect_done();
            if (m_finished >= m_total) break;
            curl_multi_poll(m_multi.get(), nullptr, 0, static_cast<int>(poll_timeout().count()), nullptr);
        }
        std::vector<Result<Response>> out;
        out.reserve(m_total);
        for (auto& r : m_results) out.push_back(std::move(*r));
        return out;
    }

private:
    struct PoolState {
        BatchPool limits;
        int in_flight = 0;
        SteadyClock::time_point paused_until{};
        SteadyClock::time_point next_start{};
    };
    struct Slot {
        Flight flight;
        std::size_t pool = 0;
        SteadyClock::time_point ready_at{};
        EasyHandle easy;
        std::unique_ptr<Transfer> transfer;
    };

    void settle(std::size_t i, Result<Response> r)
    {
        m_results[i] = std::move(r);
        ++m_finished;
        if (m_options.progress) m_options.progress(m_finished, m_total);
    }

    void setup_pools()
    {
        if (!m_client.m_setup_error) {
            m_multi.reset(curl_multi_init());
            if (!m_multi) m_client.m_setup_error = make_error(Errc::internal, "cannot create a libcurl multi handle");
        }
        for (const auto& p : m_options.pools) m_pools.push_back({p});
        if (m_pools.empty()) m_pools.push_back({BatchPool{m_options.max_in_flight, 0}});
        for (auto& p : m_pools) p.limits.max_in_flight = std::max(1, p.limits.max_in_flight);
        m_max_in_flight = std::clamp(m_options.max_in_flight, 1, 64);
    }

    void setup_slots(const std::vector<Request>& requests)
    {
        for (std::size_t i = 0; i < m_total; ++i) {
            if (m_client.m_setup_error) {
                settle(i, *m_client.m_setup_error);
                continue;
            }
            auto target = check_request(requests[i]);
            if (!target) {
                settle(i, std::move(target).error());
                continue;
            }
            std::size_t pool = i < m_options.pool_of.size() ? m_options.pool_of[i] : 0;
            if (pool >= m_pools.size()) pool = 0;
            m_slots[i] = std::make_unique<Slot>(Slot{Flight(requests[i], std::move(target).value()), pool, {}, {}, {}});
            m_waiting.push_back(i);
        }
        if (m_multi) curl_multi_setopt(m_multi.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(m_max_in_flight));
    }

    /// Starts what may start: in order, skipping requests whose pool is
    /// full, paused by a 429, or over its start rate.
    void start_ready()
    {
        const auto now = SteadyClock::now();
        for (auto it = m_waiting.begin(); it != m_waiting.end() && m_in_flight < m_max_in_flight;) {
            Slot& s = *m_slots[*it];
            PoolState& p = m_pools[s.pool];
            if (s.ready_at > now || p.paused_until > now || p.next_start > now ||
                p.in_flight >= p.limits.max_in_flight) {
                ++it;
                continue;
            }
            const std::size_t i = *it;
            it = m_waiting.erase(it);
            if (!start(i, s, now)) continue;
            ++m_in_flight;
            ++p.in_flight;
            if (p.limits.max_starts_per_second > 0)
                p.next_start = now + std::chrono::duration_cast<SteadyClock::duration>(
                                         std::chrono::microseconds(1'000'000 / p.limits.max_starts_per_second));
        }
    }

    /// Configures request i's next transfer and adds it to the multi
    /// handle; false (and i settled) if that fails.
    bool start(std::size_t i, Slot& s, SteadyClock::time_point now)
    {
        if (!s.easy) s.easy.reset(curl_easy_init());
        if (!s.easy) {
            settle(i, make_error(Errc::internal, "cannot create a libcurl handle"));
            return false;
        }
        if (s.flight.hops == 0) s.flight.attempt_started = now;
        s.transfer = std::make_unique<Transfer>(m_client.m_opts.max_response_bytes);
        if (auto st = m_client.configure(s.easy.get(), s.flight, *s.transfer); !st) {
            settle(i, st.error());
            s.transfer.reset();
            return false;
        }
        curl_easy_setopt(s.easy.get(), CURLOPT_PRIVATE, reinterpret_cast<char*>(i + 1));
        if (const CURLMcode mc = curl_multi_add_handle(m_multi.get(), s.easy.get()); mc != CURLM_OK) {
            curl_easy_reset(s.easy.get());
            s.transfer.reset();
            settle(i, make_error(Errc::internal, std::string("libcurl: ") + curl_multi_strerror(mc)));
            return false;
        }
        return true;
    }

    /// Runs the transfers and hands each finished one to the state machine.
    void collect_done()
    {
        int running = 0;
        curl_multi_perform(m_multi.get(), &running);
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(m_multi.get(), &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* h = msg->easy_handle;
            const CURLcode code = msg->data.result;
            char* priv = nullptr;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
            const std::size_t i = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(priv)) - 1;
            curl_multi_remove_handle(m_multi.get(), h);
            Slot& s = *m_slots[i];
            PoolState& p = m_pools[s.pool];
            --m_in_flight;
            --p.in_flight;
            auto ex = m_client.finish(h, code, s.flight, *s.transfer);
            s.transfer.reset();
            Step step = m_client.next_step(s.flight, std::move(ex));
            const auto now = SteadyClock::now();
            switch (step.kind) {
            case Step::Kind::done:
                s.easy.reset();
                settle(i, std::move(*step.result));
                break;
            case Step::Kind::redirect:
                s.ready_at = now;
                m_waiting.push_front(i);
                break;
            case Step::Kind::retry:
                s.ready_at = now + step.wait;
                if (step.pause_pool) p.paused_until = std::max(p.paused_until, s.ready_at);
                m_waiting.push_back(i);
                break;
            }
        }
    }

    /// How long to sleep: until a transfer needs us or the next waiting
    /// request may start.
    milliseconds poll_timeout() const
    {
        const auto now = SteadyClock::now();
        milliseconds timeout{1000};
        for (std::size_t i : m_waiting) {
            const Slot& s = *m_slots[i];
            const PoolState& p = m_pools[s.pool];
            if (p.in_flight >= p.limits.max_in_flight) continue; // woken by a completion
            const auto at = std::max({s.ready_at, p.paused_until, p.next_start});
            timeout = std::min(timeout, std::chrono::ceil<milliseconds>(std::max(at - now, SteadyClock::duration{})));
        }
        if (m_in_flight >= m_max_in_flight) timeout = milliseconds(1000);
        return timeout;
    }

    CurlClient& m_client;
    const BatchOptions& m_options;
    const std::size_t m_total;
    std::vector<std::optional<Result<Response>>> m_results;
    std::size_t m_finished = 0;
    MultiHandle m_multi;
    std::vector<PoolState> m_pools;
    int m_max_in_flight = 1;
    std::vector<std::unique_ptr<Slot>> m_slots;
    std::deque<std::size_t> m_waiting;
    int m_in_flight = 0;
};

std::vector<Result<Response>> CurlClient::perform_all(const std::vector<Request>& requests, const BatchOptions& options)
{
    const std::lock_guard lock(m_mutex);
    return Batch(*this, requests, options).run();
}

} // namespace pitool::http::curl
