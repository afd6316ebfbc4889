// An Ethernet MAC address: parsing "52:54:00:12:34:56", formatting, and a stable locally
// administered address derived from a name (the VM and interface), for interfaces given none.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kiln::virtio::net {

using MacAddress = std::array<uint8_t, 6>;

// Six hexadecimal pairs separated by ':' (or '-'); a multicast address (bit 0 of the first
// octet) or all zeros is refused: no NIC has one.
[[nodiscard]] Result<MacAddress> parse_mac(std::string_view text);
[[nodiscard]] std::string format_mac(const MacAddress& mac);
// Locally administered (bit 1 set), unicast, from a hash of `seed`: the same seed always gives
// the same address.
[[nodiscard]] MacAddress derived_mac(std::string_view seed);

}  // namespace kiln::virtio::net
