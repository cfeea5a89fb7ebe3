/// \file
/// Provider presets: settings for mail submission as each provider documents them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "smtpc/core_export.h"
#include "smtpc/session.h"

namespace smtpc {

/// Submission settings as a provider documents them.
struct Preset {
  std::string_view id;    ///< "gmail"
  std::string_view name;  ///< "Gmail"
  std::string_view host;  ///< "smtp.gmail.com"; "localhost" for the local sandbox
  std::uint16_t port;     ///< the submission port; 0 for the local sandbox (the caller fills it in)
  SecurityMode security;  ///< the security mode for that port
  std::string_view note;  ///< the provider's login rules (app password, OAuth2), or empty
  /// For settings discovery (smtpc/discovery.h), space-separated:
  std::string_view domains = {};    ///< the addresses it hosts: "gmail.com googlemail.com"
  std::string_view mxDomains = {};  ///< registrable domains of its MX hosts: a custom domain it hosts
  std::string_view oauthProvider = {};  ///< smtpc::oauth's provider name, when it signs in with OAuth 2
};
/// Every preset, in the order a front end lists them (the local sandbox first).
SMTPC_CORE_EXPORT const std::vector<Preset>& presets();
/// The preset with this id ("gmail"), or null.
SMTPC_CORE_EXPORT const Preset* findPreset(std::string_view id);
/// The preset whose host is `host` or a name under the same provider domain, if any.
SMTPC_CORE_EXPORT const Preset* presetForHost(std::string_view host);
/// The preset for addresses at `domain` ("gmail.com"), or whose MX hosts are under `mxDomain`.
SMTPC_CORE_EXPORT const Preset* presetForDomain(std::string_view domain);
/// The preset whose MX hosts are under `mxDomain` (a registrable domain: "outlook.com"), or null.
SMTPC_CORE_EXPORT const Preset* presetForMxDomain(std::string_view mxDomain);

}  // namespace smtpc
