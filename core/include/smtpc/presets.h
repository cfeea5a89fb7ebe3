// Provider presets: settings for mail submission as each provider documents them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "smtpc/session.h"

namespace smtpc {

struct Preset {
  std::string_view id;    // "gmail"
  std::string_view name;  // "Gmail"
  std::string_view host;  // empty for the local sandbox (the caller fills it in)
  std::uint16_t port;
  SecurityMode security;
  std::string_view note;  // the provider's login rules (app password, OAuth2), or empty
};
const std::vector<Preset>& presets();
const Preset* findPreset(std::string_view id);
// The preset whose host is `host` or a name under the same provider domain, if any.
const Preset* presetForHost(std::string_view host);

}  // namespace smtpc
