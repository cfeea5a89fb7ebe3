// What to try, said once. The engine's explanations (session.cpp), the TLS policy's sentences
// (tls_policy.cpp) and the diagnosis (diagnosis.cpp) build their advice from these, so a person
// reads the same words about ports and security modes wherever a run went wrong, and a change of
// wording is one edit.
#pragma once

#include <string_view>

namespace smtpc::advice {

// Which port goes with which mode: RFC 8314 §3.3 (465, TLS from the first byte), RFC 6409 (587,
// submission with STARTTLS), RFC 5321 (25, relay between servers).
inline constexpr std::string_view kPortGuide =
    "Check that the port matches the security mode: 587 is for STARTTLS submission, 465 for implicit TLS, "
    "25 for server-to-server mail.";

// The two encrypted choices, by port; a phrase to finish "use …" or "try …".
inline constexpr std::string_view kEncryptedModes = "port 587 (STARTTLS) or 465 (implicit TLS)";

// A port that stays silent or hangs up before the greeting most likely waits for a TLS handshake.
inline constexpr std::string_view kImplicitTlsIfThePortExpectsIt =
    "If this port expects implicit TLS (usually 465), choose implicit TLS.";

// A port that never finishes a TLS handshake most likely speaks clear text first.
inline constexpr std::string_view kStartTlsIfThePortExpectsIt =
    "If this port expects STARTTLS or clear text (25, 587), choose STARTTLS.";

// Port 465 was chosen with another mode.
inline constexpr std::string_view kPort465IsImplicitTls =
    "Port 465 uses implicit TLS: choose \"Implicit TLS\" as the security mode.";

// Before a run (the form's hint): port 465 with a mode that starts in clear text.
inline constexpr std::string_view kPort465ExpectsTls = "Port 465 usually expects TLS from the first byte: choose Implicit TLS.";

// A login or AUTH needs encryption first; a sentence that may go on (", or allow …").
inline constexpr std::string_view kChooseTls = "Choose STARTTLS or implicit TLS";

// STARTTLS is missing or broken on this port; a phrase that a sentence goes on from.
inline constexpr std::string_view kTryImplicitTlsOrAnotherPort = "Try implicit TLS on port 465, or another port";

}  // namespace smtpc::advice
