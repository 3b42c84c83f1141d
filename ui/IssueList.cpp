#include "ui/IssueList.h"

#include "ui/Theme.h"

#include <QEvent>

namespace meshwork::ui {

QStringList toQStringList(const std::vector<std::string>& v)
{
    QStringList out;
    out.reserve(qsizetype(v.size()));
    for (const auto& s : v) out << QString::fromStdString(s);
    return out;
}

IssueList::IssueList(QWidget* parent) : WrappedLabel(parent)
{
    setTextFormat(Qt::RichText);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    setAlignment(Qt::AlignLeft | Qt::AlignTop);
    render();
}

void IssueList::setIssues(const QStringList& errors, const QStringList& warnings)
{
    if (errors == m_errors && warnings == m_warnings) return;
    m_errors = errors;
    m_warnings = warnings;
    render();
}

void IssueList::changeEvent(QEvent* e)
{
    WrappedLabel::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) render();
}

void IssueList::render()
{
    const QPalette& pal = palette();
    QString html;
    if (m_errors.isEmpty() && m_warnings.isEmpty()) {
        html = QStringLiteral("<span style='color:%1'>✔ valid: the plan fits and every constraint holds</span>")
                   .arg(okColor(pal).name());
    }
    for (const QString& e : m_errors)
        html += QStringLiteral("<div style='color:%1'>✖ %2</div>").arg(errorColor(pal).name(), e.toHtmlEscaped());
    for (const QString& w : m_warnings)
        html += QStringLiteral("<div style='color:%1'>⚠ %2</div>").arg(warningColor(pal).name(), w.toHtmlEscaped());
    setText(html);
}

} // namespace meshwork::ui
