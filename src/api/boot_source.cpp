// /boot-source (swagger BootSource).
#include "api/vm_model.h"

namespace kiln::api {

Result<BootSource> parse_boot_source(const Json& body) {
  auto o = KILN_TRY_VALUE(JsonObject::of(body, {"kernel_image_path", "initrd_path", "boot_args"}));
  BootSource boot;
  auto kernel = KILN_TRY_VALUE(o.required_string("kernel_image_path"));
  boot.kernel_image_path = std::move(kernel);
  auto initrd = KILN_TRY_VALUE(o.optional_string("initrd_path"));
  boot.initrd_path = std::move(initrd);
  auto args = KILN_TRY_VALUE(o.optional_string("boot_args"));
  boot.boot_args = std::move(args);
  return boot;
}

Json to_json(const BootSource& boot) {
  Json j = {{"kernel_image_path", boot.kernel_image_path}};
  if (boot.initrd_path) j["initrd_path"] = *boot.initrd_path;
  if (boot.boot_args) j["boot_args"] = *boot.boot_args;
  return j;
}

}  // namespace kiln::api
