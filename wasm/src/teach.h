// Teaching mode for the page (issue 17): what SmtpClient (bindings.cpp) hands the page at a pause,
// the explanation each report line carries, and how a lesson's run ended. The free functions
// (explainLine, lessons, lessonValues) are registered in teach_binding.cpp.
#pragma once

#include <emscripten/val.h>

#include <optional>
#include <string>

#include "smtpc/error.h"
#include "smtpc/pause.h"
#include "smtpc/step.h"
#include "smtpc/transcript.h"

namespace smtpc::web {

// {where, number, step, command, why, replies: [{code, meaning}], patience, note, reply}
emscripten::val pauseToJs(const Pause& pause);
// {asSaid, expected, text} for lesson `id` after a run that ended with `error` at `failedStep`;
// `again`: the run repeats the lesson (greylisting expects another ending then). Null: no lesson.
emscripten::val lessonResultToJs(const std::string& id, bool again, const Error& error, std::optional<Step> failedStep);

}  // namespace smtpc::web
