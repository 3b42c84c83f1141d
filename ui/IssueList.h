// Every problem with the plan, one line each, in words (errors red, warnings amber).
#pragma once

#include "ui/WrappedLabel.h"

#include <QStringList>

namespace meshwork::ui {

class IssueList : public WrappedLabel {
    Q_OBJECT
public:
    explicit IssueList(QWidget* parent = nullptr);

    void setIssues(const QStringList& errors, const QStringList& warnings);
    const QStringList& errors() const { return m_errors; }
    const QStringList& warnings() const { return m_warnings; }

protected:
    void changeEvent(QEvent* e) override;

private:
    void render();

    QStringList m_errors;
    QStringList m_warnings;
};

QStringList toQStringList(const std::vector<std::string>& v);

} // namespace meshwork::ui
