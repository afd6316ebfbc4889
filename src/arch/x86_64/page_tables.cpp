#include "arch/x86_64/page_tables.h"

#include <array>

#include "arch/x86_64/layout.h"

namespace kiln::x86 {

namespace {
constexpr uint64_t kEntriesPerTable = 512;
constexpr uint64_t kTableBytes = kEntriesPerTable * 8;
constexpr uint64_t kHugePage = 2 * MiB;
constexpr uint64_t kPdCount = kIdentityMapBytes / (kEntriesPerTable * kHugePage);
static_assert(kPdCount == 4);
static_assert(kPdAddr.raw() + kPdCount * kTableBytes <= 0xf000, "PDs run into other boot data");
}  // namespace

Status write_identity_page_tables(const GuestMemory& mem) {
  std::array<uint64_t, kEntriesPerTable> table{};

  table[0] = kPdptAddr.raw() | kPtePresent | kPteWritable;
  auto st = mem.write_obj(kPml4Addr, table);
  if (!st) return wrap("writing the PML4", st.error());

  table.fill(0);
  for (uint64_t i = 0; i < kPdCount; ++i) {
    table[i] = (kPdAddr.raw() + i * kTableBytes) | kPtePresent | kPteWritable;
  }
  st = mem.write_obj(kPdptAddr, table);
  if (!st) return wrap("writing the PDPT", st.error());

  for (uint64_t pd = 0; pd < kPdCount; ++pd) {
    for (uint64_t i = 0; i < kEntriesPerTable; ++i) {
      table[i] = ((pd * kEntriesPerTable + i) * kHugePage) | kPtePresent | kPteWritable | kPteHuge;
    }
    st = mem.write_obj(kPdAddr.unchecked_add(pd * kTableBytes), table);
    if (!st) return wrap("writing a page directory", st.error());
  }
  return {};
}

}  // namespace kiln::x86
