#include "virtio/net/mac_address.h"

#include <fmt/format.h>

namespace kiln::virtio::net {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<MacAddress> parse_mac(std::string_view text) {
  MacAddress mac{};
  const auto bad = [&] { return fail("MAC address '{}': expected six hexadecimal pairs like 06:00:ac:10:00:02", text); };
  if (text.size() != 17) return bad();
  for (size_t i = 0; i < 6; ++i) {
    const int hi = hex_digit(text[3 * i]);
    const int lo = hex_digit(text[3 * i + 1]);
    if (hi < 0 || lo < 0) return bad();
    if (i < 5 && text[3 * i + 2] != ':' && text[3 * i + 2] != '-') return bad();
    mac[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if ((mac[0] & 1) != 0) return fail("MAC address {}: a multicast address (the first octet is odd)", text);
  if (mac == MacAddress{}) return fail("MAC address {}: all zeros", text);
  return mac;
}

std::string format_mac(const MacAddress& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

MacAddress derived_mac(std::string_view seed) {
  // FNV-1a 64: stable across builds and hosts (std::hash is neither).
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : seed) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  MacAddress mac{};
  for (size_t i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(h >> (8 * i));
  mac[0] = static_cast<uint8_t>((mac[0] & 0xfc) | 0x02);  // locally administered, unicast
  return mac;
}

}  // namespace kiln::virtio::net
