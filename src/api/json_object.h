// Strict reading of one JSON object from an API body or the config file, with Firecracker's
// (serde's) rules and messages: every field must be known, required fields present, and each of
// the right type; `null` counts as absent for optional fields. Messages name the field.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kiln::api {

using Json = nlohmann::json;

// Parses an HTTP body or a file; the message says where the syntax breaks.
[[nodiscard]] Result<Json> parse_json(std::string_view text);

class JsonObject {
 public:
  // Fails when `value` is not an object or holds a field outside `fields`.
  [[nodiscard]] static Result<JsonObject> of(const Json& value, std::span<const std::string_view> fields);
  [[nodiscard]] static Result<JsonObject> of(const Json& value, std::initializer_list<std::string_view> fields) {
    return of(value, std::span<const std::string_view>(fields.begin(), fields.size()));
  }

  [[nodiscard]] Result<std::string> required_string(std::string_view key) const;
  [[nodiscard]] Result<std::optional<std::string>> optional_string(std::string_view key) const;
  [[nodiscard]] Result<bool> required_bool(std::string_view key) const;
  [[nodiscard]] Result<std::optional<bool>> optional_bool(std::string_view key) const;
  [[nodiscard]] Result<uint64_t> required_uint(std::string_view key) const;
  [[nodiscard]] Result<std::optional<uint64_t>> optional_uint(std::string_view key) const;
  // Any value but null; nullptr when absent or null.
  [[nodiscard]] const Json* optional_value(std::string_view key) const;
  // Fails unless the field is absent or null (features kiln does not have yet).
  [[nodiscard]] Status absent(std::string_view key, std::string_view why) const;

 private:
  explicit JsonObject(const Json& object) : object_(&object) {}
  [[nodiscard]] const Json* find(std::string_view key) const;

  const Json* object_;
};

// Matches `value` against a closed set of strings (serde's enum variants).
[[nodiscard]] Result<std::string> one_of(std::string_view field, const std::string& value,
                                         std::initializer_list<std::string_view> variants);

}  // namespace kiln::api
