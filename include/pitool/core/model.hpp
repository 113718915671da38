#pragma once
/// The domain model: integrations, their tokens and the vault's history.

#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"
#include "pitool/util/time.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pitool::core {

enum class Provider { leadconnector, hint };
enum class Kind { pit, oauth_app, oauth, partner_key, practice_key };
enum class Level { none, agency, location };

[[nodiscard]] std::string_view to_string(Provider p) noexcept;
[[nodiscard]] std::string_view to_string(Kind k) noexcept;
[[nodiscard]] std::string_view to_string(Level l) noexcept;
[[nodiscard]] Result<Provider> parse_provider(std::string_view s);
[[nodiscard]] Result<Kind> parse_kind(std::string_view s);
[[nodiscard]] Result<Level> parse_level(std::string_view s);

/// Whether `kind` exists for `provider` (pit/oauth-app/oauth: leadconnector;
/// partner-key/practice-key: hint).
[[nodiscard]] bool kind_allowed(Provider provider, Kind kind) noexcept;
/// The provider's production base URL.
[[nodiscard]] std::string_view default_base_url(Provider p) noexcept;

/// Integration names: `[a-z0-9][a-z0-9._-]{0,63}`. Errc::usage otherwise.
[[nodiscard]] Status validate_name(std::string_view name);
/// Free text (description, ids, scopes): at most `max` bytes of valid UTF-8
/// with no terminal controls (C0, DEL, C1, bidirectional controls: see
/// util::is_terminal_control). Errc::usage otherwise, naming `what`.
[[nodiscard]] Status validate_text(std::string_view what, std::string_view text, std::size_t max);
/// Token bytes: 8 to 16384 printable ASCII characters, no spaces. Errc::usage otherwise.
[[nodiscard]] Status validate_token(const Secret& token);

/// A secret credential value with its issue time.
struct Token {
    Secret value; ///< secret
    Timestamp issued_at{};
    std::string fingerprint; ///< non-secret: "last4:hash8", see fingerprint()
};

/// The previous token during a "rotate and expire later" window.
struct RotationWindow {
    Token old;
    Timestamp started_at{};
    Timestamp old_expires_at{}; ///< started_at + 7 days
};

/// OAuth session data of an `oauth` integration (non-secret parts); the
/// access token is Integration::token, the refresh token `refresh_token`.
struct OAuthSession {
    std::optional<Secret> refresh_token; ///< secret
    std::optional<Timestamp> access_expires_at;
    std::string user_type; ///< "Location" or "Company"
    std::string user_id;
    std::string app; ///< the oauth-app integration it came from
};

/// The result of the last test call of a token.
struct LastCheck {
    Timestamp at{};
    int status = 0; ///< HTTP status, 0 when no response
    bool ok = false;
    std::string summary; ///< one line, non-secret
};

struct Integration {
    std::string name;
    Provider provider = Provider::leadconnector;
    Kind kind = Kind::pit;
    std::string description;
    Level level = Level::none;
    std::string account_id; ///< companyId, locationId or practice id
    std::vector<std::string> scopes;
    std::string base_url;
    std::string client_id; ///< oauth-app only
    Timestamp created_at{};
    Token token; ///< the current token (client secret for oauth-app)
    std::optional<RotationWindow> rotation;
    std::optional<OAuthSession> oauth; ///< kind oauth only
    std::optional<LastCheck> last_check;
    /// Provider-specific, non-secret extras (e.g. Hint integration id/status,
    /// practice name). Stored as a JSON object: they come back from the vault
    /// sorted by key, and a repeated key keeps its last value.
    std::vector<std::pair<std::string, std::string>> extra;
    /// True when only the metadata was read: token.value, rotation->old.value
    /// and oauth->refresh_token are empty and must not be used. The vault
    /// keeps the sealed secrets as they were when such a record is saved.
    bool sealed = false;
};

/// One entry of the vault's append-only history.
struct Event {
    Timestamp at{};
    std::string action;      ///< "create", "rotate", "rotate-now", "cancel-rotation", ...
    std::string name;        ///< integration name ("" for vault-wide events)
    std::string fingerprint; ///< fingerprint of the token concerned, if any
    std::string actor;       ///< user@host
    std::string detail;      ///< optional, non-secret
    std::string hash;        ///< hex BLAKE2b-256 chaining this event to the previous one
};

/// The chain hash of `e` following an event whose hash is `prev` ("" for
/// the first event): hex BLAKE2b-256 over length-prefixed fields.
[[nodiscard]] std::string event_chain_hash(const std::string& prev, const Event& e);

/// Everything the vault holds, decrypted.
struct Payload {
    std::vector<Integration> integrations;
    std::vector<Event> history;
    /// The hash of the event before history.front() when only the events
    /// recorded since opening are here ("" when the history is complete).
    std::string chain_tip;

    [[nodiscard]] Integration* find(std::string_view name) noexcept;
    [[nodiscard]] const Integration* find(std::string_view name) const noexcept;
    /// Appends an event, filling in its chain hash.
    void record(Event e);
    /// Index of the first event whose hash does not chain, or -1 if intact.
    [[nodiscard]] long first_broken_event() const;
};

} // namespace pitool::core
