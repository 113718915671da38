#include "pitool/identity/identity.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace pitool::identity {
namespace {

constexpr std::string_view k_alphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t k_key_material = 2 * crypto::k_public_key_bytes; // either 64-byte payload
constexpr std::size_t k_check_bytes = 4;
constexpr std::size_t k_payload_bytes = k_key_material + k_check_bytes;
static_assert((k_payload_bytes * 8 + 4) / 5 == k_encoded_chars);
static_assert(crypto::k_box_secret_key_bytes + crypto::k_sign_seed_bytes == k_key_material);

constexpr std::string_view k_magic = "pitool-identity-file ";
constexpr std::size_t k_file_checksum_bytes = 32;

std::span<const std::uint8_t> id_bytes_of(std::string_view s)
{
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// The 4-byte checksum of an encoding: BLAKE2b-128 of prefix || key bytes, cut.
std::array<std::uint8_t, k_check_bytes> checksum_of(std::string_view prefix, std::span<const std::uint8_t> keys)
{
    SecureBytes input(prefix.begin(), prefix.end());
    input.insert(input.end(), keys.begin(), keys.end());
    std::array<std::uint8_t, 16> full{};
    crypto::hash(input, full);
    std::array<std::uint8_t, k_check_bytes> out{};
    std::copy_n(full.begin(), k_check_bytes, out.begin());
    return out;
}

/// prefix || base32(keys || checksum), lowercase, no padding.
SecureString encode_keys(std::string_view prefix, std::span<const std::uint8_t> keys)
{
    SecureBytes payload(keys.begin(), keys.end());
    const auto check = checksum_of(prefix, keys);
    payload.insert(payload.end(), check.begin(), check.end());
    SecureString out(prefix);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::uint8_t b : payload) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(k_alphabet[(buffer >> (bits - 5)) & 31u]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(k_alphabet[(buffer << (5 - bits)) & 31u]);
    buffer = 0;
    return out;
}

/// Why an encoding did not decode; `position` is 1-based in the whole text.
struct DecodeProblem {
    std::string what;
    std::size_t position = 0;
};

/// The key bytes of prefix || base32(keys || checksum), into `keys`
/// (k_key_material bytes), or what is wrong. `noun` names the text.
std::optional<DecodeProblem> decode_keys(std::string_view text, std::string_view prefix, const std::string& noun,
                                         SecureBytes& keys)
{
    if (!text.starts_with(prefix)) return DecodeProblem{noun + " does not start with " + std::string(prefix)};
    const std::string_view body = text.substr(prefix.size());
    if (body.size() != k_encoded_chars)
        return DecodeProblem{noun + " has " + std::to_string(body.size()) + " characters after " + std::string(prefix) +
                             ", expected " + std::to_string(k_encoded_chars) +
                             (body.size() < k_encoded_chars ? " (characters are missing)" : " (characters are extra)")};
    SecureBytes payload;
    payload.reserve(k_payload_bytes);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const std::size_t v = k_alphabet.find(c);
        if (v == std::string_view::npos)
            return DecodeProblem{noun + ": character " + std::to_string(prefix.size() + i + 1) +
                                     " is not one of a-z and 2-7",
                                 prefix.size() + i + 1};
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            payload.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    // The last character carries one bit of padding: it must be zero, else
    // two spellings would decode alike and a typo there would go unseen.
    const bool padding_clear = (buffer & ((1u << bits) - 1u)) == 0;
    buffer = 0;
    const std::span<const std::uint8_t> all(payload);
    const auto check = checksum_of(prefix, all.first(k_key_material));
    if (!padding_clear || payload.size() != k_payload_bytes ||
        !std::equal(check.begin(), check.end(), all.begin() + k_key_material))
        return DecodeProblem{noun + std::string(": the checksum does not match (a character is mistyped)")};
    keys.assign(all.begin(), all.begin() + k_key_material);
    return std::nullopt;
}

std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

Result<Identity> identity_from_material(std::span<const std::uint8_t> material)
{
    Secret box_secret(crypto::k_box_secret_key_bytes);
    std::memcpy(box_secret.data(), material.data(), box_secret.size());
    Secret seed(crypto::k_sign_seed_bytes);
    std::memcpy(seed.data(), material.data() + crypto::k_box_secret_key_bytes, seed.size());
    PITOOL_TRY_ASSIGN(auto box, crypto::box_key_pair_from(std::move(box_secret)));
    PITOOL_TRY_ASSIGN(auto sign, crypto::sign_key_pair_from_seed(seed));
    return Identity{std::move(box), std::move(sign)};
}

/// X25519 secret key || Ed25519 seed (secret).
Secret material_of(const Identity& id)
{
    Secret out(k_key_material);
    std::memcpy(out.data(), id.box.secret_key.data(), crypto::k_box_secret_key_bytes);
    const Secret seed = crypto::sign_seed_of(id.sign);
    std::memcpy(out.data() + crypto::k_box_secret_key_bytes, seed.data(), seed.size());
    return out;
}

// ---- the identity file ----

std::string hex_of(std::span<const std::uint8_t> bytes)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(k_digits[b >> 4]);
        out.push_back(k_digits[b & 15]);
    }
    return out;
}

bool hex_into(std::string_view hex, std::span<std::uint8_t> out)
{
    if (hex.size() != out.size() * 2) return false;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

std::optional<std::uint64_t> decimal(std::string_view s)
{
    if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

Error damaged(std::string what)
{
    return make_error(Errc::damaged, "the identity file is damaged: " + what);
}

/// An identity file split into its parts; views into the file's bytes.
struct ParsedFile {
    FileInfo info;
    std::array<std::uint8_t, crypto::k_salt_bytes> salt{};
    std::string_view sealed_hex; ///< protected: the box, in hex
    std::string_view key_line;   ///< unprotected: the identity key (secret)
    std::size_t clear_end = 0;   ///< bytes [0, clear_end) are the sealed box's associated data
};

Result<ParsedFile> parse_file(std::span<const std::uint8_t> file)
{
    const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
    if (!text.starts_with(k_magic)) return make_error(Errc::damaged, "not a pitool identity file");
    if (file.size() > k_max_file_size) return damaged("larger than " + std::to_string(k_max_file_size) + " bytes");
    std::vector<std::string_view> lines;
    std::vector<std::size_t> starts;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t nl = text.find('\n', at);
        if (nl == std::string_view::npos) return damaged("its last line is cut short");
        starts.push_back(at);
        lines.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    const std::string_view version = lines[0].substr(k_magic.size());
    if (version != std::to_string(k_file_version))
        return make_error(Errc::damaged, "unsupported identity file version '" + std::string(version.substr(0, 8)) +
                                             "' (this pitool reads version " + std::to_string(k_file_version) + ")");
    // The checksum first: a damaged file gets one clear message, not a syntax error.
    const std::string_view last = lines.back();
    std::array<std::uint8_t, k_file_checksum_bytes> stated{}, actual{};
    if (lines.size() < 2 || !last.starts_with("checksum ") || !hex_into(last.substr(9), stated))
        return damaged("no checksum line at its end");
    crypto::hash(file.first(starts.back()), actual);
    if (stated != actual) return damaged("its checksum does not match (the file was altered or cut)");

    ParsedFile p;
    std::size_t i = 1;
    auto next = [&](std::string_view key) -> std::optional<std::string_view> {
        if (i + 1 >= lines.size() || !lines[i].starts_with(key) || lines[i].size() <= key.size() ||
            lines[i][key.size()] != ' ')
            return std::nullopt;
        return lines[i++].substr(key.size() + 1);
    };
    const auto recipient = next("recipient");
    if (!recipient) return damaged("line 2 is not its recipient line");
    auto r = parse_recipient(*recipient);
    if (!r) return damaged("its recipient line: " + r.error().message);
    p.info.recipient = *r;
    const auto kdf = next("kdf");
    if (!kdf) return damaged("line 3 is not its kdf line");
    if (*kdf == "none") {
        const auto key = next("key");
        if (!key) return damaged("an unprotected identity file needs a key line after kdf none");
        p.key_line = *key;
    } else {
        // "argon2id OPSLIMIT MEMLIMIT"
        const std::string_view k_alg = "argon2id ";
        if (!kdf->starts_with(k_alg)) return damaged("unknown key derivation (expected argon2id or none)");
        const std::string_view nums = kdf->substr(k_alg.size());
        const std::size_t sp = nums.find(' ');
        const auto ops = decimal(nums.substr(0, sp));
        const auto mem = sp == std::string_view::npos ? std::nullopt : decimal(nums.substr(sp + 1));
        if (!ops || !mem) return damaged("its kdf line is not 'argon2id OPSLIMIT MEMLIMIT'");
        const crypto::KdfParams params{*ops, *mem};
        if (!crypto::check_params(params))
            return damaged("its Argon2id parameters are outside the accepted range (opslimit at most " +
                           std::to_string(crypto::k_max_opslimit) + ", memlimit at most 1 GiB)");
        p.info.kdf = params;
        const auto salt = next("salt");
        if (!salt || !hex_into(*salt, p.salt)) return damaged("no valid salt line");
        p.clear_end = starts[i];
        const auto sealed = next("sealed");
        if (!sealed || sealed->size() != 2 * (k_key_material + crypto::k_box_overhead))
            return damaged("no valid sealed line");
        p.sealed_hex = *sealed;
    }
    if (i + 1 != lines.size()) return damaged("unexpected line " + std::to_string(i + 1));
    return p;
}

} // namespace

Recipient Identity::recipient() const
{
    return {box.public_key, sign.public_key};
}

Identity generate()
{
    return {crypto::make_box_key_pair(), crypto::make_sign_key_pair()};
}

std::string encode_recipient(const Recipient& r)
{
    std::array<std::uint8_t, k_key_material> keys{};
    std::copy(r.box_key.begin(), r.box_key.end(), keys.begin());
    std::copy(r.sign_key.begin(), r.sign_key.end(), keys.begin() + crypto::k_public_key_bytes);
    const SecureString s = encode_keys(k_recipient_prefix, keys);
    return std::string(s.begin(), s.end());
}

Result<Recipient> parse_recipient(std::string_view text)
{
    text = trimmed(text);
    if (text.starts_with(k_identity_key_prefix))
        return make_error(Errc::usage, "that is an identity's secret key, not a recipient string (keep it secret; "
                                       "`pitool identity show` prints the recipient string)");
    SecureBytes keys;
    if (auto problem = decode_keys(text, k_recipient_prefix, "the recipient string", keys)) {
        std::string message = problem->what;
        // A recipient string is public: quote the offending character when it is printable.
        if (const char c = problem->position > 0 ? text[problem->position - 1] : '\0'; c > 0x20 && c < 0x7f)
            message += " (found '" + std::string(1, c) + "')";
        return make_error(Errc::usage, message);
    }
    Recipient r;
    std::copy_n(keys.begin(), crypto::k_public_key_bytes, r.box_key.begin());
    std::copy_n(keys.begin() + crypto::k_public_key_bytes, crypto::k_public_key_bytes, r.sign_key.begin());
    return r;
}

SecureString encode_identity_key(const Identity& id)
{
    const Secret material = material_of(id);
    return encode_keys(k_identity_key_prefix, std::span<const std::uint8_t>(material.data(), material.size()));
}

Result<Identity> parse_identity_key(std::string_view text)
{
    text = trimmed(text);
    if (text.starts_with(k_recipient_prefix))
        return make_error(Errc::damaged, "that is a recipient string (public), not an identity key");
    SecureBytes material;
    if (auto problem = decode_keys(text, k_identity_key_prefix, "the identity key", material))
        return make_error(Errc::damaged, problem->what);
    return identity_from_material(material);
}

Result<FileInfo> read_file_info(std::span<const std::uint8_t> file)
{
    PITOOL_TRY_ASSIGN(ParsedFile p, parse_file(file));
    return p.info;
}

Result<Identity> open_file(std::span<const std::uint8_t> file, const Secret* passphrase)
{
    PITOOL_TRY_ASSIGN(ParsedFile p, parse_file(file));
    Result<Identity> id = make_error(Errc::internal, "unset");
    if (!p.info.kdf) {
        id = parse_identity_key(p.key_line);
        if (!id) return damaged("its key line: " + id.error().message);
    } else {
        if (passphrase == nullptr) return make_error(Errc::usage, "this identity needs its passphrase");
        std::vector<std::uint8_t> box(k_key_material + crypto::k_box_overhead);
        if (!hex_into(p.sealed_hex, box)) return damaged("its sealed line is not hex");
        PITOOL_TRY_ASSIGN(const Secret key, crypto::derive_key(*passphrase, p.salt, *p.info.kdf));
        Secret material(k_key_material);
        if (!crypto::open_box(box, file.first(p.clear_end), key, {material.data(), material.size()}))
            return make_error(Errc::wrong_passphrase, "wrong passphrase for this identity");
        id = identity_from_material({material.data(), material.size()});
        if (!id) return std::move(id).error();
    }
    if (id->recipient() != p.info.recipient) return damaged("its keys do not match its recipient line");
    return id;
}

Result<SecureBytes> make_file(const Identity& id, const Secret* passphrase, const crypto::KdfParams& kdf)
{
    SecureString text(k_magic);
    text += std::to_string(k_file_version);
    text += "\nrecipient ";
    text += encode_recipient(id.recipient());
    text += "\n";
    if (passphrase == nullptr) {
        text += "kdf none\nkey ";
        text += encode_identity_key(id);
        text += "\n";
    } else {
        if (passphrase->empty()) return make_error(Errc::usage, "the passphrase is empty");
        PITOOL_TRY(crypto::check_params(kdf));
        std::array<std::uint8_t, crypto::k_salt_bytes> salt{};
        crypto::random_bytes(salt);
        text += "kdf argon2id " + std::to_string(kdf.opslimit) + " " + std::to_string(kdf.memlimit) + "\nsalt " +
                hex_of(salt) + "\n";
        PITOOL_TRY_ASSIGN(const Secret key, crypto::derive_key(*passphrase, salt, kdf));
        const Secret material = material_of(id);
        std::vector<std::uint8_t> box;
        crypto::seal_box({material.data(), material.size()}, id_bytes_of({text.data(), text.size()}), key, box);
        text += "sealed " + hex_of(box) + "\n";
    }
    std::array<std::uint8_t, k_file_checksum_bytes> sum{};
    crypto::hash(id_bytes_of({text.data(), text.size()}), sum);
    text += "checksum " + hex_of(sum) + "\n";
    SecureBytes out(text.begin(), text.end());
    secure_clear(text);
    return out;
}

} // namespace pitool::identity
