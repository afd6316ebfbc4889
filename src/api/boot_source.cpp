// /boot-source (swagger BootSource).
#include "api/vm_model.h"

namespace kiln::api {

Result<BootSource> parse_boot_source(const Json& body) {
  auto o = JsonObject::of(body, {"kernel_image_path", "initrd_path", "boot_args"});
  if (!o) return tl::unexpected(o.error());
  BootSource boot;
  auto kernel = o->required_string("kernel_image_path");
  if (!kernel) return tl::unexpected(kernel.error());
  boot.kernel_image_path = std::move(*kernel);
  auto initrd = o->optional_string("initrd_path");
  if (!initrd) return tl::unexpected(initrd.error());
  boot.initrd_path = std::move(*initrd);
  auto args = o->optional_string("boot_args");
  if (!args) return tl::unexpected(args.error());
  boot.boot_args = std::move(*args);
  return boot;
}

Json to_json(const BootSource& boot) {
  Json j = {{"kernel_image_path", boot.kernel_image_path}};
  if (boot.initrd_path) j["initrd_path"] = *boot.initrd_path;
  if (boot.boot_args) j["boot_args"] = *boot.boot_args;
  return j;
}

}  // namespace kiln::api
