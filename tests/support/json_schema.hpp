#pragma once
// pitool's JSON documents checked against their JSON Schemas (docs/schema/,
// draft 2020-12) by Debian's python3-jsonschema. The black-box fixtures
// (tests/cli/cli_fixture.cpp, tests/e2e/e2e_support.hpp) check every run that
// asks for JSON; the validator is one python3 process per test process,
// started on first use and stopped before the leak check at the end.

#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pitool::test {

/// What the JSON Schema validator (tests/support/json_schema_validator.py, one
/// long-lived python3 process per test process) says of `document` against
/// docs/schema/`schema`: "" when it follows the schema, else the validator's
/// one-line message. A validator that cannot be started or answer is a
/// message too, never "".
std::string schema_problem(const std::string& schema, const nlohmann::json& document);

/// docs/schema/index.json, parsed once.
const nlohmann::json& schema_index();

/// The schema file index.json names for what `pitool ARGS` printed on stdout
/// and the document to check against it, when the run asked for JSON
/// (`--json`, `audit --format json`): the error object of a failed run gets
/// error.json, any other output its command's schema. nullopt: nothing to
/// check (no JSON asked for, help or version, no output, a command that
/// prints no JSON document of its own, killed by a signal). A stdout that is
/// not one JSON document is returned as a string document, which no schema
/// accepts.
std::optional<std::pair<std::string, nlohmann::json>> json_output_of(const std::vector<std::string>& args,
                                                                     const RunResult& r);

/// Adds a test failure naming the command, the schema and the validator's
/// message unless what `pitool ARGS` printed follows its schema (see
/// json_output_of). The CLI and e2e fixtures call it for every run.
void expect_json_output_follows_schema(const std::vector<std::string>& args, const RunResult& r);

} // namespace pitool::test
