#include "js_values.h"

namespace smtpc::web {

std::string str(const val& object, const char* key) {
  const val v = object[key];
  return v.isString() ? v.as<std::string>() : std::string();
}
double number(const val& object, const char* key, double otherwise) {
  const val v = object[key];
  return v.isNumber() ? v.as<double>() : otherwise;
}

val stringArray(const std::vector<std::string>& items) {
  val array = val::array();
  for (const auto& s : items) array.call<void>("push", s);
  return array;
}

val problemToJs(const form::Problem& problem) {
  val o = val::object();
  o.set("field", problem.field);
  o.set("headline", problem.headline);
  o.set("explanation", problem.explanation);
  return o;
}

form::Problem problem(std::string field, std::string headline, std::string explanation) {
  return form::Problem{std::move(field), std::move(headline), std::move(explanation)};
}

// The page's form values (keyed by core's field ids, smtpc/form.h) into core's form model.
form::Values valuesFromJs(const val& o) {
  form::Values values;
  for (const auto& field : form::fields()) {
    const val v = o[std::string(field.id)];
    if (v.isString()) values[std::string(field.id)] = v.as<std::string>();
    else if (v.isNumber()) values[std::string(field.id)] = std::to_string(static_cast<long long>(v.as<double>()));
    else if (!v.isUndefined() && !v.isNull() && v.as<bool>()) values[std::string(field.id)] = "1";
  }
  return values;
}

std::string value(const form::Values& values, const char* id) {
  const auto it = values.find(id);
  return it == values.end() ? std::string() : it->second;
}

int integer(const std::string& text, int otherwise) {
  if (text.empty() || text.size() > 6) return otherwise;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return otherwise;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace smtpc::web
