#include "robust_support.hpp"

#include "oracle/vault_reader.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace pitool::robust {
namespace {

int memfd_with(const std::string& name, const std::string& data)
{
    int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t w = ::write(fd, data.data() + off, data.size() - off);
        if (w <= 0) throw std::system_error(errno, std::generic_category(), "write memfd");
        off += static_cast<std::size_t>(w);
    }
    ::lseek(fd, 0, SEEK_SET);
    return fd;
}

std::string read_fd(int fd)
{
    ::lseek(fd, 0, SEEK_SET);
    std::string s;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        s.append(buf, static_cast<std::size_t>(n));
    }
    return s;
}

std::uint64_t le(const std::string& b, std::size_t at, int n)
{
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)])) << (8 * i);
    return v;
}

const unsigned char* u8(const std::string& s, std::size_t at)
{
    return reinterpret_cast<const unsigned char*>(s.data() + at);
}

} // namespace

Proc spawn(const Spawn& s)
{
    int in = memfd_with("stdin", s.stdin_data);
    int out = memfd_with("stdout", {});
    int err = memfd_with("stderr", {});
    // The one test environment (HOME, XDG_*, TMPDIR, agent socket in the
    // binary's own temporary root), plus TZ=UTC and the spec's variables.
    pitool::test::Child::Spec cs;
    cs.argv = s.argv;
    cs.env = pitool::test::child_env({}, {{"TZ", "UTC"}});
    for (const auto& [k, v] : s.env) cs.env[k] = v;
    cs.stdio = {in, out, err};
    cs.cwd = pitool::test::test_root() / "scratch"; // made by child_env
    const auto fsize_limit = s.fsize_limit;
    const auto& user_hook = s.in_child;
    cs.in_child = [&fsize_limit, &user_hook] {
        if (fsize_limit) {
            rlimit rl{*fsize_limit, *fsize_limit};
            ::setrlimit(RLIMIT_FSIZE, &rl);
        }
        if (user_hook) user_hook();
    };

    auto start = std::chrono::steady_clock::now();
    // Owns the child's process group: killed and reaped on every path.
    pitool::test::Child child = pitool::test::Child::start(cs);
    ::close(in);
    int ino = -1;
    if (s.watch_dir) {
        ino = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        ::inotify_add_watch(ino, s.watch_dir->c_str(), IN_CREATE);
    }
    Proc p;
    auto hard = start + std::chrono::microseconds(static_cast<long long>(s.timeout_s * 1e6));
    auto kill_at = s.kill_after.count() >= 0 ? start + s.kill_after : hard;
    int status = 0;
    for (;;) {
        if (auto st = child.wait_for(std::chrono::milliseconds(0))) {
            status = *st;
            break;
        }
        auto now = std::chrono::steady_clock::now();
        if (ino >= 0) {
            alignas(inotify_event) char buf[4096];
            ssize_t got = ::read(ino, buf, sizeof buf);
            for (ssize_t off = 0; got > 0 && off < got;) {
                const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
                if (ev->len > 0 && std::strncmp(ev->name, ".vault.tmp.", 11) == 0) {
                    kill_at = std::min(kill_at, now + s.kill_after_create);
                    ::close(ino);
                    ino = -1;
                    break;
                }
                off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            }
        }
        if (now >= kill_at || now >= hard) {
            child.signal(SIGKILL); // the process itself, at this precise moment...
            p.killed = true;
            status = child.wait(); // ...then what is left of its group, reaped
            break;
        }
        auto left = std::min(kill_at, hard) - now;
        auto nap = std::min<std::chrono::nanoseconds>(left, std::chrono::microseconds(200));
        timespec ts{0, static_cast<long>(nap.count())};
        ::nanosleep(&ts, nullptr);
    }
    if (ino >= 0) ::close(ino);
    p.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (WIFEXITED(status)) {
        p.exit_code = WEXITSTATUS(status);
        p.killed = false; // it finished before our signal landed
    } else if (WIFSIGNALED(status)) {
        p.exit_code = 128 + WTERMSIG(status);
    }
    p.out = read_fd(out);
    p.err = read_fd(err);
    ::close(out);
    ::close(err);
    return p;
}

std::string describe(const Proc& p)
{
    return "exit " + std::to_string(p.exit_code) + (p.killed ? " (killed)" : "") + "\n--- stdout ---\n" +
           p.out.substr(0, 2000) + "\n--- stderr ---\n" + p.err.substr(0, 2000);
}

bool one_line(const std::string& s)
{
    return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

std::optional<std::string> slurp(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<json> decrypt_vault(const std::string& b, const std::string& pass, const std::filesystem::path& vault,
                                  std::string* why)
{
    // The oracle (tests/oracle) reads every version from docs/vault-format.md
    // alone: nothing of pitool's vault code decides what the harness sees.
    auto contents = pitool::oracle::read_vault(b, pass, vault, why);
    if (!contents) return std::nullopt;
    return std::move(contents->payload);
}

std::string cheapen_vault(const std::string& b, const std::string& pass)
{
    // Recover the data key with the decoder's logic, then rebuild the header.
    constexpr std::size_t k_rec = 112;
    if (b.size() < 16 || static_cast<unsigned char>(b[12]) != 1)
        throw std::runtime_error("cheapen: one recipient only");
    // v3: the data file's id; v4: that, the vault's id and the generation.
    const auto version = le(b, 8, 2);
    const std::size_t id_bytes = version == 3 ? 8 : version == 4 ? 8 + 16 + 8 : 0;
    const std::size_t nonce_at = 16 + k_rec + id_bytes;
    const std::size_t hsize = nonce_at + 24 + 8 + 16;
    std::uint64_t ops = le(b, 24, 8), mem = le(b, 32, 8);
    std::array<unsigned char, 32> kek{}, data_key{};
    if (crypto_pwhash(kek.data(), kek.size(), pass.data(), pass.size(), u8(b, 40), ops, static_cast<std::size_t>(mem),
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("cheapen: pwhash");
    // A recipient's associated data carries version 1 in every format version.
    const std::string ad_version("\x01\x00", 2);
    std::string ad = b.substr(0, 8) + ad_version + b.substr(16, 64);
    unsigned long long dlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(data_key.data(), &dlen, nullptr, u8(b, 80), 48, u8(ad, 0), ad.size(),
                                                   u8(b, 56), kek.data()) != 0)
        throw std::runtime_error("cheapen: wrong passphrase");
    const std::uint64_t len = le(b, nonce_at + 24, 8);
    std::string plain(static_cast<std::size_t>(len), '\0');
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()), &plen, nullptr,
                                                   u8(b, hsize), len, u8(b, 0), hsize, u8(b, nonce_at),
                                                   data_key.data()) != 0)
        throw std::runtime_error("cheapen: payload");
    plain.resize(static_cast<std::size_t>(plen));

    std::string h = b.substr(0, nonce_at + 24 + 8); // prefix, recipient, (data id,) nonce, length
    auto put64 = [&](std::size_t at, std::uint64_t v) {
        for (int i = 0; i < 8; ++i) h[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
    };
    put64(24, crypto_pwhash_OPSLIMIT_MIN);
    put64(32, crypto_pwhash_MEMLIMIT_MIN);
    randombytes_buf(h.data() + 40, 16 + 24); // new salt and wrap nonce
    if (crypto_pwhash(kek.data(), kek.size(), pass.data(), pass.size(), u8(h, 40), crypto_pwhash_OPSLIMIT_MIN,
                      crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("cheapen: pwhash min");
    std::string ad2 = h.substr(0, 8) + ad_version + h.substr(16, 64);
    unsigned long long wlen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(h.data() + 80), &wlen, data_key.data(),
                                               32, u8(ad2, 0), ad2.size(), nullptr, u8(h, 56), kek.data());
    randombytes_buf(h.data() + nonce_at, 24); // index nonce
    unsigned char sum[16];
    crypto_generichash(sum, sizeof sum, u8(h, 0), h.size(), nullptr, 0);
    h.append(reinterpret_cast<const char*>(sum), sizeof sum);
    std::string ct(plain.size() + 16, '\0');
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(ct.data()), &clen, u8(plain, 0),
                                               plain.size(), u8(h, 0), h.size(), nullptr, u8(h, nonce_at),
                                               data_key.data());
    // Version 2 keeps its record boxes after the index, version 3 in its data
    // file: they are sealed under the data key, which has not changed.
    return h + ct + b.substr(hsize + static_cast<std::size_t>(len));
}

Sandbox::Sandbox()
{
    m_bg = std::make_unique<pitool::test::Background>(
        std::vector<std::string>{PITOOL_SANDBOX_BIN, "--port", "0", "--quiet"});
}

json Sandbox::admin(const std::string& method, const std::string& path, const json& body) const
{
    httplib::Client c(url());
    c.set_connection_timeout(5);
    c.set_read_timeout(15);
    const std::string full = "/_sandbox" + path;
    const std::string payload = body.dump();
    auto r = method == "GET"      ? c.Get(full)
             : method == "DELETE" ? c.Delete(full, payload, "application/json")
             : method == "PATCH"  ? c.Patch(full, payload, "application/json")
                                  : c.Post(full, payload, "application/json");
    if (!r) throw std::runtime_error("admin " + method + " " + full + ": " + httplib::to_string(r.error()));
    if (r->status >= 300) throw std::runtime_error("admin " + method + " " + full + " -> " + r->body);
    return json::parse(r->body);
}

json Sandbox::new_app() const
{
    return admin("POST", "/oauth/apps", {{"scopes", {"locations.readonly", "contacts.write"}}});
}

std::string Sandbox::new_pit(const std::string& location) const
{
    return admin("POST", "/pits",
                 {{"level", "location"}, {"location_id", location}, {"scopes", {"locations.readonly"}}})["token"];
}

std::string Sandbox::new_code(const std::string& client_id, const std::string& location) const
{
    return admin("POST", "/oauth/codes", {{"client_id", client_id}, {"location_id", location}})["code"];
}

json Sandbox::inspect(const std::string& token) const
{
    return admin("POST", "/tokens/inspect", {{"token", token}});
}

Spawn Pitool::spec(const std::vector<std::string>& args, const std::string& in) const
{
    Spawn s;
    s.argv = {PITOOL_BIN, "--vault", vault.string()};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.env = {{"PITOOL_PASSPHRASE", passphrase}, {"PITOOL_LOCK_TIMEOUT", "30"}, {"PITOOL_HTTP_TIMEOUT", "5"}};
    for (const auto& [k, v] : env) s.env[k] = v;
    s.stdin_data = in;
    return s;
}

Proc Pitool::run(const std::vector<std::string>& args, const std::string& in,
                 const std::map<std::string, std::string>& extra_env) const
{
    auto s = spec(args, in);
    for (const auto& [k, v] : extra_env) s.env[k] = v;
    return spawn(s);
}

Proc Pitool::ok(const std::vector<std::string>& args, const std::string& in,
                const std::map<std::string, std::string>& extra_env) const
{
    auto p = run(args, in, extra_env);
    if (p.exit_code != 0) {
        std::string cmd;
        for (const auto& a : args) cmd += " " + a;
        throw std::runtime_error("pitool" + cmd + ": " + describe(p));
    }
    return p;
}

void Pitool::init_cheap() const
{
    ok({"init", "--kdf", "interactive"});
    pitool::test::write_file(vault, cheapen_vault(*slurp(vault), passphrase));
}

std::string random_pit(std::mt19937_64& rng)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string s = "pit-";
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
        s.push_back(hex[rng() % 16]);
    }
    return s;
}

struct RawServer::Impl {
    int listen_fd = -1;
    std::string reply;
    bool close_after = true;
    std::atomic<bool> stop{false};
    std::atomic<int> accepted{0};
    std::vector<int> held;
    std::thread thread;
};

RawServer::RawServer(std::string reply, bool close_after_reply) : m_impl(std::make_unique<Impl>())
{
    m_impl->reply = std::move(reply);
    m_impl->close_after = close_after_reply;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0)
        throw std::system_error(errno, std::generic_category(), "raw server");
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &alen);
    m_port = ntohs(a.sin_port);
    m_impl->listen_fd = fd;
    Impl* im = m_impl.get();
    m_impl->thread = std::thread([im] {
        while (!im->stop) {
            pollfd p{im->listen_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept4(im->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            ++im->accepted;
            if (im->reply.empty()) { // accept, read, never answer
                im->held.push_back(c);
                continue;
            }
            // Read the request head (best effort), then answer.
            char buf[65536];
            pollfd q{c, POLLIN, 0};
            if (::poll(&q, 1, 2000) > 0) (void)::recv(c, buf, sizeof buf, 0);
            std::size_t off = 0;
            while (off < im->reply.size()) {
                ssize_t w = ::send(c, im->reply.data() + off, im->reply.size() - off, MSG_NOSIGNAL);
                if (w <= 0) break;
                off += static_cast<std::size_t>(w);
            }
            if (im->close_after)
                ::close(c);
            else
                im->held.push_back(c);
        }
    });
}

RawServer::~RawServer()
{
    m_impl->stop = true;
    if (m_impl->thread.joinable()) m_impl->thread.join();
    for (int c : m_impl->held) ::close(c);
    ::close(m_impl->listen_fd);
}

int RawServer::accepted() const
{
    return m_impl->accepted;
}

bool wait_until_served(int port, std::chrono::seconds guard)
{
    // States (include/net/tcp_states.h): 01 ESTABLISHED, 03 SYN_RECV, 08 CLOSE_WAIT.
    auto busy = [port] {
        for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
            std::ifstream in(table);
            std::string line;
            std::getline(in, line); // header
            while (std::getline(in, line)) {
                std::istringstream f(line);
                std::string sl, local, remote, state;
                f >> sl >> local >> remote >> state;
                const auto colon = local.rfind(':');
                if (colon == std::string::npos) continue;
                if (std::stoi(local.substr(colon + 1), nullptr, 16) != port) continue;
                if (state == "01" || state == "03" || state == "08") return true;
            }
        }
        return false;
    };
    const auto until = std::chrono::steady_clock::now() + guard;
    while (busy()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2)); // a poll interval, not a guess at a duration
    }
    return true;
}

bool can_unshare_mounts()
{
    if (::geteuid() != 0) return false;
    Spawn s;
    s.argv = {"/usr/bin/unshare",
              "-m",
              "--propagation",
              "private",
              "/bin/sh",
              "-c",
              "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\" && rmdir \"$d\""};
    s.timeout_s = 10;
    return spawn(s).exit_code == 0;
}

int stray_temp_files(const std::filesystem::path& dir)
{
    int n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        auto name = e.path().filename().string();
        if (name.starts_with(".vault.tmp.") || name.ends_with(".bak.new")) ++n;
    }
    return n;
}

} // namespace pitool::robust
