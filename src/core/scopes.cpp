#include "pitool/core/scopes.hpp"

#include <algorithm>
#include <iterator>

namespace pitool::core {
namespace {

// providers.md section 1, expanded; kept sorted for binary search.
constexpr std::string_view k_scopes[] = {
    "associations.readonly",
    "associations.write",
    "blogs/post.write",
    "businesses.readonly",
    "businesses.write",
    "calendars.readonly",
    "calendars.write",
    "calendars/events.readonly",
    "calendars/events.write",
    "calendars/groups.readonly",
    "calendars/groups.write",
    "calendars/resources.readonly",
    "calendars/resources.write",
    "campaigns.readonly",
    "charges.readonly",
    "charges.write",
    "companies.readonly",
    "contacts.readonly",
    "contacts.write",
    "conversations.readonly",
    "conversations.write",
    "conversations/livechat.write",
    "conversations/message.readonly",
    "conversations/message.write",
    "emails/builder.readonly",
    "emails/builder.write",
    "emails/schedule.readonly",
    "forms.readonly",
    "forms.write",
    "funnels/funnel.readonly",
    "funnels/page.readonly",
    "funnels/redirect.readonly",
    "funnels/redirect.write",
    "invoices.readonly",
    "invoices.write",
    "invoices/estimate.readonly",
    "invoices/estimate.write",
    "invoices/schedule.readonly",
    "invoices/schedule.write",
    "invoices/template.readonly",
    "invoices/template.write",
    "links.readonly",
    "links.write",
    "locations.readonly",
    "locations.write",
    "locations/customFields.readonly",
    "locations/customFields.write",
    "locations/customValues.readonly",
    "locations/customValues.write",
    "locations/tags.readonly",
    "locations/tags.write",
    "locations/tasks.readonly",
    "locations/templates.readonly",
    "medias.readonly",
    "medias.write",
    "oauth.readonly",
    "oauth.write",
    "objects/record.readonly",
    "objects/record.write",
    "objects/schema.readonly",
    "objects/schema.write",
    "opportunities.readonly",
    "opportunities.write",
    "payments/integration.readonly",
    "payments/integration.write",
    "payments/orders.readonly",
    "payments/orders.write",
    "payments/subscriptions.readonly",
    "payments/transactions.readonly",
    "products.readonly",
    "products.write",
    "products/prices.readonly",
    "products/prices.write",
    "saas/company.write",
    "saas/location.read",
    "saas/location.write",
    "snapshots.readonly",
    "socialplanner/account.readonly",
    "socialplanner/account.write",
    "socialplanner/post.readonly",
    "socialplanner/post.write",
    "surveys.readonly",
    "users.readonly",
    "users.write",
    "workflows.readonly",
};
static_assert(std::is_sorted(std::begin(k_scopes), std::end(k_scopes)), "keep k_scopes sorted");

} // namespace

std::span<const std::string_view> leadconnector_scopes() noexcept
{
    return k_scopes;
}

bool is_known_scope(std::string_view scope) noexcept
{
    auto all = leadconnector_scopes();
    return std::binary_search(all.begin(), all.end(), scope);
}

} // namespace pitool::core
