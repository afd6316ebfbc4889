#include "devices/i8042.h"

namespace kiln {

void I8042::save_state(snapshot::Encoder& out) {
  std::lock_guard lock(mu_);
  out.u8(ctr_);
  out.u8(output_port_);
  out.u8(pending_);
  out.boolean(last_was_command_);
  out.u8(last_data_);
  out.u8(port_b_);
  out.boolean(port_b_toggle_);
  const std::vector<uint8_t> waiting(output_.begin(), output_.end());
  out.bytes(waiting);
}

Status I8042::restore_state(snapshot::Decoder& in) {
  uint8_t fields[7] = {};
  bool flags[2] = {};
  for (int i : {0, 1, 2}) {
    fields[i] = KILN_TRY_VALUE(in.u8());
  }
  flags[0] = KILN_TRY_VALUE(in.boolean());
  for (int i : {3, 4}) {
    fields[i] = KILN_TRY_VALUE(in.u8());
  }
  flags[1] = KILN_TRY_VALUE(in.boolean());
  auto waiting = KILN_TRY_VALUE(in.bytes(kOutputDepth));
  // A pending command is one that takes a parameter byte: 0x60-0x7f (controller RAM), 0xd1
  // (output port), 0xd2-0xd4 (output buffers); nothing else can be mid-sequence.
  const uint8_t pending = fields[2];
  const bool takes_parameter = (pending >= 0x60 && pending < 0x80) || (pending >= 0xd1 && pending <= 0xd4);
  if (pending != 0 && !takes_parameter) {
    return in.invalid(fmt::format("i8042 pending command {:#x}", pending));
  }
  std::lock_guard lock(mu_);
  ctr_ = fields[0];
  output_port_ = fields[1];
  pending_ = pending;
  last_was_command_ = flags[0];
  last_data_ = fields[3];
  port_b_ = fields[4] & 0x0f;
  port_b_toggle_ = flags[1];
  output_.assign(waiting.begin(), waiting.end());
  return {};
}

}  // namespace kiln
