// Reading and writing the page's JavaScript values, for the bindings (bindings.cpp,
// form_binding.cpp, signin_binding.cpp): the form as core's Values, a form problem as an object.
#pragma once

#include <emscripten/val.h>

#include <string>
#include <vector>

#include "smtpc/form.h"

namespace smtpc::web {

using emscripten::val;

std::string str(const val& object, const char* key);  // "" unless a string
double number(const val& object, const char* key, double otherwise);
val stringArray(const std::vector<std::string>& items);
val problemToJs(const form::Problem& problem);
form::Problem problem(std::string field, std::string headline, std::string explanation);
// The page's form values, keyed by core's field ids (smtpc/form.h): text, numbers, check boxes.
form::Values valuesFromJs(const val& o);
std::string value(const form::Values& values, const char* id);
// A non-negative decimal of at most 6 digits, else `otherwise`.
int integer(const std::string& text, int otherwise);

}  // namespace smtpc::web
