#include "api/json_object.h"

namespace kiln::api {
namespace {

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return fmt::format("boolean `{}`", v.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return fmt::format("integer `{}`", v.dump());
    case Json::value_t::number_float:
      return fmt::format("floating point `{}`", v.dump());
    case Json::value_t::string:
      return fmt::format("string {}", v.dump());
    case Json::value_t::array:
      return "a sequence";
    default:
      return "a map";
  }
}

std::string list(std::span<const std::string_view> names) {
  std::string out;
  for (const auto name : names) out += fmt::format("{}`{}`", out.empty() ? "" : ", ", name);
  return out;
}

tl::unexpected<Error> wrong_type(std::string_view key, const Json& v, std::string_view expected) {
  return fail("invalid type for field `{}`: {}, expected {}", key, describe(v), expected);
}

}  // namespace

Result<Json> parse_json(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without the tag.
    std::string_view what = e.what();
    if (const size_t tag_end = what.find("] "); tag_end != std::string_view::npos) what.remove_prefix(tag_end + 2);
    return fail("{}", what);
  }
}

Result<JsonObject> JsonObject::of(const Json& value, std::span<const std::string_view> fields) {
  if (!value.is_object()) return fail("invalid type: {}, expected a JSON object", describe(value));
  for (const auto& [key, unused] : value.items()) {
    bool known = false;
    for (const auto field : fields) known |= key == field;
    if (!known) return fail("unknown field `{}`, expected one of {}", key, list(fields));
  }
  return JsonObject(value);
}

const Json* JsonObject::find(std::string_view key) const {
  const auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<std::string>> JsonObject::optional_string(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(key, *v, "a string");
  std::string text = v->get<std::string>();
  // Paths and command lines end up as C strings: an embedded NUL would silently cut them.
  if (text.find('\0') != std::string::npos) return fail("invalid value for field `{}`: contains a NUL character", key);
  return std::optional<std::string>(std::move(text));
}

Result<std::string> JsonObject::required_string(std::string_view key) const {
  auto v = KILN_TRY_VALUE(optional_string(key));
  if (!v) return fail("missing field `{}`", key);
  return std::move(*v);
}

Result<std::optional<bool>> JsonObject::optional_bool(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return wrong_type(key, *v, "a boolean");
  return std::optional<bool>(v->get<bool>());
}

Result<bool> JsonObject::required_bool(std::string_view key) const {
  auto v = KILN_TRY_VALUE(optional_bool(key));
  if (!v) return fail("missing field `{}`", key);
  return *v;
}

Result<std::optional<uint64_t>> JsonObject::optional_uint(std::string_view key) const {
  const Json* v = find(key);
  if (v == nullptr) return std::optional<uint64_t>();
  if (v->is_number_unsigned()) return std::optional<uint64_t>(v->get<uint64_t>());
  if (v->is_number_integer()) return fail("invalid value for field `{}`: {}, expected a non-negative integer", key, describe(*v));
  return wrong_type(key, *v, "a non-negative integer");
}

Result<uint64_t> JsonObject::required_uint(std::string_view key) const {
  auto v = KILN_TRY_VALUE(optional_uint(key));
  if (!v) return fail("missing field `{}`", key);
  return *v;
}

const Json* JsonObject::optional_value(std::string_view key) const { return find(key); }

Status JsonObject::absent(std::string_view key, std::string_view why) const {
  if (find(key) != nullptr) return fail("field `{}`: {}", key, why);
  return {};
}

Result<std::string> one_of(std::string_view field, const std::string& value,
                           std::initializer_list<std::string_view> variants) {
  for (const auto v : variants) {
    if (value == v) return value;
  }
  return fail("unknown variant `{}` for field `{}`, expected one of {}", value, field,
              list(std::span<const std::string_view>(variants.begin(), variants.size())));
}

}  // namespace kiln::api
