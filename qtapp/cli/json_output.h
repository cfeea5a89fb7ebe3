// The JSON documents smtpc prints with --json: a send or test's result, --discover's outcome, a
// sign-in's failure. docs/json.md describes each field.
#pragma once

#include <QJsonDocument>
#include <QJsonObject>
#include <iostream>

namespace smtpc::cli {

// The documents' "version": within one version fields may be added, never removed or changed in
// meaning; a program that reads them checks it (docs/json.md).
inline constexpr int kJsonVersion = 1;

// Prints `document`, with its version, on standard output.
inline void printJson(QJsonObject document) {
  document.insert(QStringLiteral("version"), kJsonVersion);
  std::cout << QJsonDocument(document).toJson(QJsonDocument::Indented).toStdString();
}

}  // namespace smtpc::cli
