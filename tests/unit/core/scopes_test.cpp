#include "pitool/core/scopes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace pitool::core {
namespace {

// Every scope of providers.md section 1, expanded from its {readonly,write}
// shorthand (85 strings).
constexpr std::string_view k_providers_md[] = {
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

TEST(Scopes, CatalogueHoldsEveryProvidersMdEntry)
{
    for (auto s : k_providers_md) EXPECT_TRUE(is_known_scope(s)) << s;
    EXPECT_GE(leadconnector_scopes().size(), std::size(k_providers_md));
}

TEST(Scopes, SpotChecksIrregularEntries)
{
    // Spread over every line of providers.md section 1, including the
    // irregular ones (saas/location.read, blogs/post.write, camelCase paths).
    for (const char* s : {"contacts.readonly",
                          "contacts.write",
                          "locations.readonly",
                          "locations.write",
                          "locations/customFields.readonly",
                          "locations/customValues.write",
                          "locations/tags.write",
                          "locations/templates.readonly",
                          "locations/tasks.readonly",
                          "conversations/message.write",
                          "conversations/livechat.write",
                          "calendars/resources.readonly",
                          "opportunities.write",
                          "businesses.readonly",
                          "companies.readonly",
                          "users.write",
                          "invoices/estimate.write",
                          "invoices/template.readonly",
                          "products/prices.write",
                          "payments/transactions.readonly",
                          "payments/integration.write",
                          "medias.write",
                          "surveys.readonly",
                          "workflows.readonly",
                          "campaigns.readonly",
                          "links.write",
                          "objects/record.readonly",
                          "associations.write",
                          "socialplanner/account.write",
                          "funnels/page.readonly",
                          "funnels/funnel.readonly",
                          "blogs/post.write",
                          "emails/schedule.readonly",
                          "oauth.write",
                          "snapshots.readonly",
                          "saas/location.read",
                          "saas/company.write",
                          "charges.readonly"})
        EXPECT_TRUE(is_known_scope(s)) << s;
}

TEST(Scopes, UnknownScopesAreRejected)
{
    for (const char* s :
         {"", "contacts", "contacts.read", "Contacts.readonly", "contacts.readonly ", " contacts.readonly",
          "contacts.readonly,contacts.write", "companies.write", "blogs/post.readonly", "saas/location.readonly",
          "locations/customfields.readonly", "surveys.write", "*", "contacts.readonly\n"})
        EXPECT_FALSE(is_known_scope(s)) << '"' << s << '"';
}

TEST(Scopes, CatalogueIsSortedUniqueAndWellFormed)
{
    auto all = leadconnector_scopes();
    ASSERT_GE(all.size(), 85u);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "duplicate scope";
    for (auto s : all) {
        EXPECT_TRUE(is_known_scope(s)) << s;
        EXPECT_EQ(s.find(' '), std::string_view::npos) << s;
        auto dot = s.rfind('.');
        ASSERT_NE(dot, std::string_view::npos) << s;
        auto access = s.substr(dot + 1);
        EXPECT_TRUE(access == "readonly" || access == "write" || access == "read") << s;
    }
}

} // namespace
} // namespace pitool::core
