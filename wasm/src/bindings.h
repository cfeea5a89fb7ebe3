// What bindings.cpp (SmtpClient) lends the other bindings of the page: the form's connection
// settings read as SmtpClient reads them, and the TLS details as the page shows them.
#pragma once

#include <emscripten/val.h>

#include <optional>
#include <string>

#include "smtpc/form.h"
#include "smtpc/session.h"
#include "smtpc/tls.h"
#include "smtpc/transcript.h"

namespace smtpc::web {

// The form's server, port, security, login, certificates and timeout (by core's field ids) for a
// run of `plan`; nullopt with the form's mistake in `out`.
std::optional<ConnectParams> paramsFrom(const form::Values& v, const form::RunPlan& plan, form::Problem* out);
// A transcript line's {kind, prefix, encrypted, at, text}, set on the event object `o`.
void setTranscriptEntry(emscripten::val& o, const TranscriptEntry& e);
// {good, note, boundary, rows: [{label, value}], chain: [{title, rows}]}
emscripten::val tlsToJs(const TlsInfo& info);

// Calls `callback` (unless null) with {type, ...what `fill(object)` sets}: how every binding's
// events reach the page.
template <typename Fill>
void emitEvent(const emscripten::val& callback, const char* type, Fill fill) {
  if (callback.isNull() || callback.isUndefined()) return;
  emscripten::val o = emscripten::val::object();
  o.set("type", std::string(type));
  fill(o);
  callback(o);
}

}  // namespace smtpc::web
