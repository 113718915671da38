// Dead secrets are gone (issue 12): a token that `delete`, `rotate --now`,
// `expire-old`, a window's end, `cancel-rotation` or `refresh` replaced is,
// after one more write, not readable from any file in the vault directory
// with the passphrase, by a reader that goes through the data file box by box.
//
// The reader here is the strongest one the format allows: the independent
// oracle (tests/oracle) reads every generation the test went through, right
// after it was written, and remembers where each of its secrets boxes lies and
// the key that opens it. At the end, every remembered box is looked for again
// in the files now in the directory and opened with its own associated data.
// Right after the command that replaced a token it still opens (vault.bak
// names it, so the check can see a token); one write later it must not.
#include "e2e/e2e_support.hpp"
#include "oracle/vault_reader.hpp"

#include <sodium.h>

#include <fstream>
#include <iterator>
#include <set>

namespace pitool::e2e {
namespace {

namespace fs = std::filesystem;

/// Role byte of a secrets box in its associated data ("pitool/v2/box\0" ‖ role ‖ name).
constexpr std::size_t k_role_at = 14;
constexpr char k_secrets_role = 2;

std::string slurp_bytes(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string data_name(std::uint64_t id)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
    return std::string(".data-") + buf;
}

std::string fresh_pit()
{
    return "pit-" + random_hex(8) + "-dead-4000-8000-" + random_hex(12);
}

class DeadSecrets : public E2E {
protected:
    /// Reads the vault as it is now through the oracle and remembers its boxes.
    void remember()
    {
        std::string why;
        auto c = oracle::read_vault_file(vault(), passphrase(), &why);
        ASSERT_TRUE(c.has_value()) << "the oracle refuses the vault: " << why;
        m_seen.push_back(std::move(*c));
        expect_only_named_data_files();
    }

    /// Runs a write through pitool and remembers the generation it wrote.
    void write(const std::vector<std::string>& args, const How& how = {})
    {
        pit_expect(0, args, how);
        remember();
    }

    void create(const std::string& name, const std::string& token, const How& at = {})
    {
        How how = at;
        how.in = plant(token) + "\n";
        write({"create", name, "--provider", "leadconnector", "--location", "L-" + name, "--token-stdin"}, how);
    }

    /// Every plaintext a remembered secrets box still opens to, read from the
    /// data files now in the directory.
    [[nodiscard]] std::vector<std::string> readable_secrets() const
    {
        std::vector<std::string> out;
        for (const auto& c : m_seen) {
            const fs::path data = vault().string() + data_name(c.data_id);
            if (c.version < 3 || !fs::exists(data)) continue;
            const std::string bytes = slurp_bytes(data);
            for (const auto& b : c.boxes) {
                if (b.ad.size() <= k_role_at || b.ad[k_role_at] != k_secrets_role || b.len < 40 ||
                    b.off + b.len > bytes.size())
                    continue;
                const auto* box = reinterpret_cast<const unsigned char*>(bytes.data() + b.off);
                std::string plain(b.len - 40, '\0');
                unsigned long long n = 0;
                if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                        reinterpret_cast<unsigned char*>(plain.data()), &n, nullptr, box + 24, b.len - 24,
                        reinterpret_cast<const unsigned char*>(b.ad.data()), b.ad.size(), box,
                        reinterpret_cast<const unsigned char*>(c.data_key.data())) == 0)
                    out.push_back(plain);
            }
        }
        return out;
    }

    [[nodiscard]] bool readable(const std::string& token) const
    {
        for (const auto& p : readable_secrets())
            if (p.find(token) != std::string::npos) return true;
        // No file holds it in the clear either (it never should).
        for (const auto& e : fs::directory_iterator(vault().parent_path()))
            if (e.is_regular_file() && slurp_bytes(e.path()).find(token) != std::string::npos) return true;
        return false;
    }

    /// The data files in the directory are those `vault` and `vault.bak` name.
    void expect_only_named_data_files() const
    {
        std::set<std::string> named;
        for (const auto* f : {"vault", "vault.bak"}) {
            const fs::path p = vault().parent_path() / f;
            if (!fs::exists(p)) continue;
            // vault.bak right after a passwd opens with the passphrase before.
            auto c = oracle::read_vault(slurp_bytes(p), passphrase(), vault());
            for (const auto& pass : m_old_passphrases)
                if (!c) c = oracle::read_vault(slurp_bytes(p), pass, vault());
            ASSERT_TRUE(c.has_value()) << f << " no longer reads whole";
            if (c->version >= 3) named.insert("vault" + data_name(c->data_id));
        }
        for (const auto& e : fs::directory_iterator(vault().parent_path())) {
            const auto n = e.path().filename().string();
            if (n.rfind("vault.data-", 0) == 0) {
                EXPECT_TRUE(named.contains(n)) << n << " is named by neither vault nor vault.bak";
            }
        }
    }

    /// The token `dead` was just replaced: it is readable now (vault.bak
    /// names its box), and not after one more write, while every token in
    /// `live` still reads back through pitool.
    void expect_gone_after_one_more_write(const std::string& dead,
                                          const std::vector<std::pair<std::string, std::string>>& live,
                                          const How& at = {})
    {
        EXPECT_TRUE(readable(dead)) << "the check cannot see a token vault.bak still names";
        create("one-more-" + std::to_string(m_seen.size()), "pit-0ne0more-0000-4000-8000-" + random_hex(12), at);
        EXPECT_FALSE(readable(dead)) << "a replaced token is still readable one write later";
        for (const auto& [name, token] : live) EXPECT_EQ(get_token(name), token) << name;
        pit_expect(0, {"verify"});
    }

    /// `a` created with a fresh token, then rotated to another (`--now`: the
    /// first dies at once; else a window opens). Returns {first, second}.
    std::pair<std::string, std::string> create_and_rotate(bool now)
    {
        std::pair<std::string, std::string> t{fresh_pit(), fresh_pit()};
        create("a", t.first);
        How how;
        how.in = plant(t.second) + "\n";
        std::vector<std::string> args{"rotate", "a", "--token-stdin"};
        if (now) args.emplace_back("--now");
        write(args, how);
        return t;
    }

    std::vector<oracle::Contents> m_seen;
    std::vector<std::string> m_old_passphrases; ///< before a passwd
};

TEST_F(DeadSecrets, Delete)
{
    const auto t1 = fresh_pit();
    const auto kept = fresh_pit();
    create("a", t1);
    create("b", kept);
    write({"delete", "a", "--yes"});
    expect_gone_after_one_more_write(t1, {{"b", kept}});
}

TEST_F(DeadSecrets, RotateNow)
{
    const auto [t1, t2] = create_and_rotate(/*now=*/true);
    expect_gone_after_one_more_write(t1, {{"a", t2}});
}

TEST_F(DeadSecrets, ExpireOld)
{
    const auto [t1, t2] = create_and_rotate(/*now=*/false);
    write({"expire-old", "a"});
    expect_gone_after_one_more_write(t1, {{"a", t2}});
}

TEST_F(DeadSecrets, WindowEnd)
{
    const auto [t1, t2] = create_and_rotate(/*now=*/false);
    // Eight days on, the next write purges the ended window: it replaces t1.
    How later;
    later.prefix = {k_faketime, "-f", "+8d"};
    create("b", fresh_pit(), later);
    for (const auto& i : m_seen.back().payload["integrations"])
        if (i["name"] == "a") {
            EXPECT_FALSE(i.contains("rotation")) << "the window was not purged";
        }
    expect_gone_after_one_more_write(t1, {{"a", t2}}, later);
}

TEST_F(DeadSecrets, CancelRotation)
{
    const auto [t1, t2] = create_and_rotate(/*now=*/false);
    write({"cancel-rotation", "a"});
    expect_gone_after_one_more_write(t2, {{"a", t1}});
}

TEST_F(DeadSecrets, Refresh)
{
    oauth_token("crm", "LOC1");
    remember();
    const auto& before = m_seen.back().payload;
    std::string access;
    std::string refresh;
    for (const auto& i : before["integrations"])
        if (i["name"] == "crm") {
            access = plant(i["token"]["secret"].get<std::string>());
            refresh = plant(i["oauth"]["refresh_token"].get<std::string>());
        }
    ASSERT_FALSE(access.empty());
    ASSERT_FALSE(refresh.empty());
    write({"refresh", "crm"});
    EXPECT_TRUE(readable(refresh));
    const auto now = get_token("crm");
    EXPECT_NE(now, access);
    expect_gone_after_one_more_write(access, {{"crm", now}});
    EXPECT_FALSE(readable(refresh)) << "the spent refresh token is still readable one write later";
}

TEST_F(DeadSecrets, PasswdIsTheWriteAfterAndLeavesNoOldDataFile)
{
    // passwd writes a new data file under a new key. As the write after a
    // rotate --now it wipes the replaced token from the old file, which
    // vault.bak still names; the write after it removes that file (every
    // secret of the vault under the old key), which remember() checks.
    const auto [t1, t2] = create_and_rotate(/*now=*/true);
    EXPECT_TRUE(readable(t1));
    How pw;
    pw.env["PITOOL_NEW_PASSPHRASE"] = "pp-new-" + random_hex(24);
    pit_expect(0, {"passwd"}, pw);
    m_old_passphrases.push_back(passphrase());
    set_passphrase(pw.env["PITOOL_NEW_PASSPHRASE"]);
    remember();
    EXPECT_FALSE(readable(t1)) << "passwd left the replaced token in the old data file";
    const auto old_files = m_seen.size();
    create("b", fresh_pit());
    EXPECT_GT(m_seen.size(), old_files);
    EXPECT_EQ(get_token("a"), t2);
}

} // namespace
} // namespace pitool::e2e
