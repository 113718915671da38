// Handle setup for the libcurl client: libcurl's global state, the
// options of one transfer (configure), the buffers it writes into, and the
// TLS context with the extra CA certificates of --cacert.

#include "http/curl_internal.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <charconv>
#include <thread>

namespace pitool::http::curl {
namespace {

int no_passphrase(char*, int, int, void*)
{
    return 0;
}

template <typename T> void set(CURLcode& rc, CURL* h, CURLoption option, T value)
{
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
}

} // namespace

Status global_init()
{
    static std::once_flag once;
    static CURLcode rc = CURLE_OK;
    std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (rc != CURLE_OK) {
        return make_error(Errc::internal, std::string("cannot initialise libcurl: ") + curl_easy_strerror(rc));
    }
    return {};
}

size_t on_body(char* data, size_t size, size_t count, void* user)
{
    auto* st = static_cast<TransferState*>(user);
    const std::size_t n = size * count;
    try {
        if (!st->sink.append(data, n)) {
            st->too_large = true;
            return 0; // aborts the transfer with CURLE_WRITE_ERROR
        }
    } catch (...) {
        return 0;
    }
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user)
{
    auto* st = static_cast<TransferState*>(user);
    const std::size_t n = size * count;
    try {
        const std::string_view line = trim(std::string_view(data, n));
        if (line.rfind("HTTP/", 0) == 0) {
            st->headers.clear(); // a new response (after 1xx or a proxy CONNECT)
            return n;
        }
        if (line.empty()) return n;
        if ((data[0] == ' ' || data[0] == '\t') && !st->headers.empty()) {
            st->headers.back().value += ' ';
            st->headers.back().value += line; // obsolete line folding
            return n;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return n;
        Header h{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))};
        if (iequals(h.name, "content-length")) {
            std::size_t length = 0;
            const auto [end, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), length);
            if (ec == std::errc::result_out_of_range || (ec == std::errc{} && length > st->cap)) {
                st->too_large = true;
                return 0; // refuse before reading the body
            }
            if (ec == std::errc{}) st->sink.reserve(length);
        }
        st->headers.push_back(std::move(h));
    } catch (...) {
        return 0;
    }
    return n;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user)
{
    const auto* certs = static_cast<const std::vector<X509Ptr>*>(user);
    X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
    if (store == nullptr) return CURLE_SSL_CACERT_BADFILE;
    for (const auto& cert : *certs) {
        if (X509_STORE_add_cert(store, cert.get()) != 1) {
            ERR_clear_error(); // a duplicate is fine; anything else shows up as a verify failure
        }
    }
    return CURLE_OK;
}

Result<std::vector<X509Ptr>> load_ca_bundle(const std::string& path)
{
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    if (info == nullptr || info->ssl_version == nullptr ||
        std::string_view(info->ssl_version).rfind("OpenSSL", 0) != 0) {
        return make_error(Errc::internal, "an extra CA bundle needs libcurl built with OpenSSL");
    }
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        ERR_clear_error();
        return make_error(Errc::io, "cannot read CA bundle " + path);
    }
    std::vector<X509Ptr> certs;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
        certs.emplace_back(cert);
    }
    ERR_clear_error(); // the end of the file reads as a "no start line" error
    if (certs.empty()) {
        return make_error(Errc::usage, "CA bundle " + path + " holds no PEM certificate");
    }
    return certs;
}

CurlClient::CurlClient(const ClientOptions& options, detail::CurlClientHooks hooks)
    : m_opts(options), m_sleep(std::move(hooks.sleep)), m_rng(std::random_device{}())
{
    if (!m_sleep) m_sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
    if (auto init = global_init(); !init) {
        m_setup_error = init.error();
        return;
    }
    m_easy.reset(curl_easy_init());
    if (!m_easy) {
        m_setup_error = make_error(Errc::internal, "cannot create a libcurl handle");
        return;
    }
    if (!m_opts.ca_bundle.empty()) {
        auto certs = load_ca_bundle(m_opts.ca_bundle);
        if (!certs) {
            m_setup_error = certs.error();
            return;
        }
        m_ca_certs = std::move(certs).value();
    }
}

/// Sets every option of the transfer `f` is at on `h` (reset first).
/// `t` must outlive the transfer: the handle points into it.
Status CurlClient::configure(CURL* h, const Flight& f, Transfer& t)
{
    const Request& req = *f.req;
    curl_easy_reset(h);
    CURLcode rc = CURLE_OK;
    t.url = f.target.base + f.path;

    set(rc, h, CURLOPT_ERRORBUFFER, t.errbuf);
    set(rc, h, CURLOPT_URL, t.url.c_str());
    set(rc, h, CURLOPT_PROTOCOLS_STR, "http,https");
    set(rc, h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(rc, h, CURLOPT_FOLLOWLOCATION, 0L);
    set(rc, h, CURLOPT_NOSIGNAL, 1L);
    set(rc, h, CURLOPT_TCP_KEEPALIVE, 1L);
    set(rc, h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(rc, h, CURLOPT_SSL_VERIFYHOST, 2L);
    set(rc, h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_opts.connect_timeout.count()));
    set(rc, h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_opts.total_timeout.count()));
    set(rc, h, CURLOPT_USERAGENT, m_opts.user_agent.c_str());
    set(rc, h, CURLOPT_WRITEFUNCTION, on_body);
    set(rc, h, CURLOPT_WRITEDATA, static_cast<void*>(&t.state));
    set(rc, h, CURLOPT_HEADERFUNCTION, on_header);
    set(rc, h, CURLOPT_HEADERDATA, static_cast<void*>(&t.state));
    if (!m_ca_certs.empty()) {
        set(rc, h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        set(rc, h, CURLOPT_SSL_CTX_DATA, static_cast<void*>(&m_ca_certs));
    }

    auto add_header = [&](const std::string& line) {
        curl_slist* head = curl_slist_append(t.headers.get(), line.c_str());
        if (head == nullptr) throw std::bad_alloc();
        (void)t.headers.release();
        t.headers.reset(head);
    };
    for (const auto& hdr : req.headers) {
        // "Name;" is libcurl's syntax for a header with an empty value.
        add_header(hdr.value.empty() ? hdr.name + ';' : hdr.name + ": " + hdr.value);
    }
    add_header("Expect:"); // no 100-continue round trip
    set(rc, h, CURLOPT_HTTPHEADER, t.headers.get());

    if (req.bearer) {
        t.token = Secret(req.bearer->size() + 1); // NUL-terminated copy in guarded memory
        std::memcpy(t.token.data(), req.bearer->data(), req.bearer->size());
        set(rc, h, CURLOPT_HTTPAUTH, static_cast<unsigned long>(CURLAUTH_BEARER));
        set(rc, h, CURLOPT_XOAUTH2_BEARER, reinterpret_cast<const char*>(t.token.data()));
    }

    const Method method = f.method;
    t.sends_body = f.with_body && method != Method::get;
    const char* body_ptr = (t.sends_body && !req.body.empty()) ? reinterpret_cast<const char*>(req.body.data()) : "";
    const auto body_size = static_cast<curl_off_t>(t.sends_body ? req.body.size() : 0);
    switch (method) {
    case Method::get:
        set(rc, h, CURLOPT_HTTPGET, 1L);
        break;
    case Method::del:
        if (body_size == 0) {
            set(rc, h, CURLOPT_HTTPGET, 1L);
            set(rc, h, CURLOPT_CUSTOMREQUEST, "DELETE");
            break;
        }
        [[fallthrough]];
    case Method::post:
    case Method::put:
    case Method::patch:
        // POSTFIELDS points at the caller's guarded memory: libcurl does not copy it.
        set(rc, h, CURLOPT_POST, 1L);
        set(rc, h, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
        set(rc, h, CURLOPT_POSTFIELDS, body_ptr);
        if (method != Method::post) set(rc, h, CURLOPT_CUSTOMREQUEST, method_name(method).data());
        break;
    }
    if (rc != CURLE_OK) {
        curl_easy_reset(h);
        return make_error(Errc::internal, std::string("cannot configure libcurl: ") + curl_easy_strerror(rc));
    }
    if (tracing()) log_request(req, t.url, method, t.sends_body);
    t.started = SteadyClock::now();
    return {};
}

void CurlClient::log_request(const Request& req, const std::string& url, Method method, bool sends_body) const
{
    trace("http: > " + std::string(method_name(method)) + " " + url);
    trace("http: > User-Agent: " + m_opts.user_agent);
    for (const auto& hdr : req.headers) {
        trace("http: > " + hdr.name + ": " + (is_sensitive_header(hdr.name) ? "[redacted]" : hdr.value));
    }
    if (req.bearer) trace("http: > Authorization: Bearer [redacted]");
    if (sends_body) {
        if (req.body_loggable) {
            trace("http: > body: " + std::string(req.body.view()));
        } else {
            trace("http: > body: <" + std::to_string(req.body.size()) + " bytes>");
        }
    }
}

} // namespace pitool::http::curl
