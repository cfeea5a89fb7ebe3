// What the GUI tests share: finding a widget by its objectName (the names the page's
// data-testids mirror) and choosing a list entry by its data.
#pragma once

#include <QComboBox>
#include <QLatin1String>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

#include "mainwindow.h"

namespace {

template <typename T>
T* child(smtpc::gui::MainWindow& window, const char* name) {
  auto* widget = window.findChild<T*>(QLatin1String(name));
  if (!widget) qFatal("no widget named %s", name);
  return widget;
}

void select(QComboBox* box, const QString& data) {
  const int index = box->findData(data);
  QVERIFY2(index >= 0, qPrintable(data));
  box->setCurrentIndex(index);
}

// Presses a button and waits for the run it starts to end; returns whether it succeeded.
inline bool pressAndWait(smtpc::gui::MainWindow& w, const char* button) {
  QSignalSpy finished(&w, &smtpc::gui::MainWindow::runFinished);
  QTest::mouseClick(child<QPushButton>(w, button), Qt::LeftButton);
  if (!finished.wait(60000)) return false;
  return finished.first().first().toBool();
}

}  // namespace
