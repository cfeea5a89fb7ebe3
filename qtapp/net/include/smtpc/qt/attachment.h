/// \file
/// Attachments from files with their content type from Qt's MIME database (shared-mime-info: by
/// name and, where the name says nothing, by content), which knows far more types than core's
/// table of common extensions; the browser build keeps core's table and the browser's own type.
#pragma once

#include <QString>
#include <string>

#include "smtpc/message.h"
#include "smtpc/qt/qt_export.h"

namespace smtpc::qt {

/// The content type of the file at `path`: "message/rfc822" for mail.eml, "application/pdf" for a
/// PDF named "scan"; "application/octet-stream" when nothing is known (never Qt's
/// "application/x-zerosize" for an empty file, nor a type for a folder).
SMTPC_QT_EXPORT std::string contentTypeOf(const QString& path);

/// Attachment::fromFile with contentTypeOf(path) as its type.
SMTPC_QT_EXPORT Result<Attachment> attachFile(const QString& path);

}  // namespace smtpc::qt
