#include "smtpc/qt/attachment.h"

#include <QMimeDatabase>
#include <QMimeType>

namespace smtpc::qt {

std::string contentTypeOf(const QString& path) {
  const QMimeType type = QMimeDatabase().mimeTypeForFile(path);
  const QString name = type.name();
  // An empty file's "application/x-zerosize", a folder's "inode/directory" and the default say
  // nothing a reader could use: the neutral type.
  if (!type.isValid() || type.isDefault() || name == QLatin1String("application/x-zerosize") ||
      name.startsWith(QLatin1String("inode/")))
    return "application/octet-stream";
  return name.toStdString();
}

Result<Attachment> attachFile(const QString& path) {
  return Attachment::fromFile(path.toStdString(), contentTypeOf(path));
}

}  // namespace smtpc::qt
