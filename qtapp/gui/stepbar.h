// The step bar: Connect → Greeting → EHLO → STARTTLS → TLS handshake → EHLO → AUTH → MAIL →
// RCPT → DATA → QUIT, each step coloured by its status (smtpc::Explainer decides the statuses).
#pragma once

#include <QWidget>
#include <vector>

#include "smtpc/explain.h"

namespace smtpc::gui {

class StepBar : public QWidget {
  Q_OBJECT
 public:
  explicit StepBar(QWidget* parent = nullptr);
  void setSteps(std::vector<StepView> steps);
  const std::vector<StepView>& steps() const { return steps_; }
  // "Connect:done Greeting:active ..." (what tests and the accessibility description read)
  QString summary() const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  int stepAt(QPoint point) const;
  QRectF stepRect(int index) const;

  std::vector<StepView> steps_;
};

}  // namespace smtpc::gui
