// The form's model for the page (smtpc/form.h) through embind: the field table, the hints beside
// the fields, the account a remembered password belongs to, and a link's proposals.
#include <emscripten/bind.h>

#include "js_values.h"
#include "smtpc/sasl.h"

namespace smtpc::web {

namespace {

// The form's table (smtpc/form.h): the page builds its state, what it remembers and what a link
// may propose from it, and fills its lists from the choices.
val fieldsJs() {
  static constexpr const char* kKinds[] = {"text", "number", "choice", "check", "secret", "pem"};
  val array = val::array();
  for (const auto& field : form::fields()) {
    val o = val::object();
    o.set("id", std::string(field.id));
    o.set("label", std::string(field.label));
    o.set("kind", std::string(kKinds[static_cast<int>(field.kind)]));
    o.set("remembered", field.remembered);
    o.set("linkKey", std::string(field.linkKey));
    val choices = val::array();
    for (const auto& c : form::choices(field.id)) choices.call<void>("push", stringArray({c.value, c.text}));
    o.set("choices", choices);
    array.call<void>("push", o);
  }
  return array;
}

// What the form shows beside its fields: the security hint, the "insecure switches" warning,
// which credential fields the login method uses.
val formHints(val values) {
  const form::Values v = valuesFromJs(values);
  val o = val::object();
  const auto mode = securityModeFromName(value(v, "security"));
  o.set("securityWarning", mode ? form::securityHint(*mode, static_cast<std::uint16_t>(integer(value(v, "port"), 0))) : std::string());
  o.set("insecure", form::insecureSwitches(!value(v, "acceptInvalid").empty(), !value(v, "allowPlaintext").empty()));
  const auto fields = form::credentialFields(mechanismFromName(value(v, "auth")).value_or(AuthMechanism::Auto));
  o.set("password", fields.password);
  o.set("token", fields.token);
  o.set("signIn", fields.token);  // "Sign in…" sits beside the method whenever it can use a token
  const form::SignInFields signIn = form::signInFields(value(v, "oauthProvider"));
  o.set("oauthIssuer", signIn.issuer);
  o.set("tenant", signIn.tenant);
  return o;
}

// The account a remembered password belongs to: {relay, server, port (text), user}.
val accountJs(val values) {
  const form::Account a = form::accountOf(valuesFromJs(values));
  val o = val::object();
  o.set("relay", a.relay);
  o.set("server", a.server);
  o.set("port", std::to_string(a.port));
  o.set("user", a.user);
  return o;
}

// "fill", "clear" or "keep": what the password field does now. `saved`: the account the
// remembered password was saved for ({relay, server, port, user}), or null.
std::string passwordAction(val saved, val values, bool fieldHoldsFilled) {
  std::optional<form::Account> savedFor;
  if (!saved.isNull() && !saved.isUndefined() && saved["port"].isString() && saved["server"].isString()) {
    form::Values fromSaved{{"proxy", str(saved, "relay")}, {"server", str(saved, "server")},
                           {"port", str(saved, "port")}, {"username", str(saved, "user")}};
    savedFor = form::accountOf(fromSaved);
  }
  const form::Values v = valuesFromJs(values);
  switch (form::rememberedPassword(savedFor, form::accountOf(v), value(v, "password").empty(), fieldHoldsFilled)) {
    case form::PasswordField::Fill: return "fill";
    case form::PasswordField::Clear: return "clear";
    case form::PasswordField::Keep: break;
  }
  return "keep";
}

// A link's proposals: {changes: [{field, label, from, to, value}], refused: [text],
// customServer, portChosen}. `query`: [[key, value], ...]; `ca`: {named, path, pem} or null.
val reviewLinkJs(val query, val values, val ca) {
  std::vector<std::pair<std::string, std::string>> pairs;
  const unsigned count = query.isArray() ? query["length"].as<unsigned>() : 0;
  for (unsigned i = 0; i < count; ++i) pairs.emplace_back(query[i][0].as<std::string>(), query[i][1].as<std::string>());
  form::LinkCa linkCa;
  if (!ca.isNull() && !ca.isUndefined()) linkCa = form::LinkCa{str(ca, "named"), str(ca, "path"), str(ca, "pem")};
  const form::LinkReview review = form::reviewLink(pairs, valuesFromJs(values), linkCa);
  val changes = val::array();
  for (const auto& c : review.changes) {
    val o = val::object();
    o.set("field", c.field);
    o.set("label", c.label);
    o.set("from", c.from);
    o.set("to", c.to);
    o.set("value", c.value);
    changes.call<void>("push", o);
  }
  val o = val::object();
  o.set("changes", changes);
  o.set("refused", stringArray(review.refused));
  o.set("customServer", review.customServer);
  o.set("portChosen", review.portChosen);
  return o;
}

}  // namespace

}  // namespace smtpc::web

EMSCRIPTEN_BINDINGS(smtpc_form) {
  using namespace smtpc::web;
  emscripten::function("fields", &fieldsJs);
  emscripten::function("formHints", &formHints);
  emscripten::function("account", &accountJs);
  emscripten::function("passwordAction", &passwordAction);
  emscripten::function("reviewLink", &reviewLinkJs);
}
