// Text helpers the window's files share: core's UTF-8 views as QString, and server text in a
// tooltip shown as written.
#pragma once

#include <QString>
#include <QTextDocument>
#include <string_view>

namespace smtpc::gui {

inline QString qs(std::string_view text) { return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())); }

// A tooltip that shows `text` as written: Qt renders a tooltip as rich text when it looks like
// HTML (Qt::mightBeRichText), and server text may look like anything.
inline QString plainToolTip(const QString& text) { return Qt::convertFromPlainText(text, Qt::WhiteSpaceNormal); }

}  // namespace smtpc::gui
