#include "ui/IssueList.h"

#include "ui/Theme.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QPainter>
#include <QPaintEvent>

#include <algorithm>
#include <cmath>

namespace meshwork::ui {

QStringList toQStringList(const std::vector<std::string>& v)
{
    QStringList out;
    out.reserve(qsizetype(v.size()));
    for (const auto& s : v) out << QString::fromStdString(s);
    return out;
}

IssueList::IssueList(QWidget* parent) : QWidget(parent)
{
    QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
    auto* copy = new QAction(QStringLiteral("Copy problems"), this);
    connect(copy, &QAction::triggered, this, [this] { QApplication::clipboard()->setText(plainText()); });
    addAction(copy);
    setContextMenuPolicy(Qt::ActionsContextMenu);
    render();
}

void IssueList::setIssues(const QStringList& errors, const QStringList& warnings)
{
    if (errors == m_errors && warnings == m_warnings) return;
    m_errors = errors;
    m_warnings = warnings;
    render();
}

QString IssueList::plainText() const
{
    QStringList lines;
    for (const Line& l : m_lines) lines << l.text;
    return lines.join(QLatin1Char('\n'));
}

void IssueList::changeEvent(QEvent* e)
{
    QWidget::changeEvent(e);
    if (e->type() == QEvent::PaletteChange) render();
    if (e->type() == QEvent::FontChange) invalidate();
}

void IssueList::render()
{
    const QPalette& pal = palette();
    m_lines.clear();
    m_html.clear();
    if (m_errors.isEmpty() && m_warnings.isEmpty()) {
        m_lines.push_back({QStringLiteral("✔ valid: the plan fits and every constraint holds"), okColor(pal)});
        m_html = QStringLiteral("<span style='color:%1'>%2</span>").arg(okColor(pal).name(), m_lines.back().text);
    }
    for (const QString& e : m_errors) {
        m_lines.push_back({QStringLiteral("✖ ") + e, errorColor(pal)});
        m_html += QStringLiteral("<div style='color:%1'>✖ %2</div>").arg(errorColor(pal).name(), e.toHtmlEscaped());
    }
    for (const QString& w : m_warnings) {
        m_lines.push_back({QStringLiteral("⚠ ") + w, warningColor(pal)});
        m_html += QStringLiteral("<div style='color:%1'>⚠ %2</div>").arg(warningColor(pal).name(), w.toHtmlEscaped());
    }
    invalidate();
}

void IssueList::invalidate()
{
    m_layoutWidth = -1;
    m_heightCount = 0;
    // As a word-wrapped label: the widest line, at most 80 average characters; a line each,
    // at least as wide as a long word (heightForWidth() gives the height a layout uses).
    const QFontMetrics fm = fontMetrics();
    int widest = 0;
    for (const Line& l : m_lines) widest = std::max(widest, l.text.size() > 80 ? fm.averageCharWidth() * 80 : fm.horizontalAdvance(l.text));
    const QMargins m = contentsMargins();
    const int w = std::min(widest + 1, fm.averageCharWidth() * 80), h = int(m_lines.size()) * fm.lineSpacing();
    m_sizeHint = QSize(w + m.left() + m.right(), h + m.top() + m.bottom());
    m_minimumSizeHint = QSize(std::min(w, fm.averageCharWidth() * 16) + m.left() + m.right(), m_sizeHint.height());
    updateGeometry();
    update();
}

int IssueList::layOut(int width) const
{
    width = std::max(1, width);
    if (width == m_layoutWidth) return m_layoutHeight;
    m_layouts.clear();
    QTextOption option(Qt::AlignLeft | Qt::AlignTop);
    option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    double y = 0;
    for (const Line& l : m_lines) {
        auto layout = std::make_unique<QTextLayout>(l.text, font());
        layout->setTextOption(option);
        layout->setCacheEnabled(true);
        layout->beginLayout();
        for (QTextLine line = layout->createLine(); line.isValid(); line = layout->createLine()) {
            line.setLineWidth(width);
            line.setPosition(QPointF(0, y));
            y += line.height();
        }
        layout->endLayout();
        m_layouts.push_back(std::move(layout));
    }
    m_layoutWidth = width;
    m_layoutHeight = int(std::ceil(y));
    return m_layoutHeight;
}

int IssueList::heightForWidth(int width) const
{
    for (int i = 0; i < m_heightCount; ++i)
        if (m_heights[size_t(i)].x() == width) return m_heights[size_t(i)].y();
    const QMargins m = contentsMargins();
    const int h = layOut(width - m.left() - m.right()) + m.top() + m.bottom();
    std::move_backward(m_heights.begin(), m_heights.end() - 1, m_heights.end());
    m_heights[0] = QPoint(width, h);
    m_heightCount = std::min<int>(m_heightCount + 1, int(m_heights.size()));
    return h;
}

QSize IssueList::sizeHint() const { return m_sizeHint; }
QSize IssueList::minimumSizeHint() const { return m_minimumSizeHint; }

void IssueList::paintEvent(QPaintEvent* e)
{
    QPainter p(this);
    const QRect area = contentsRect();
    layOut(area.width());
    const QRect clip = e->rect();
    for (size_t i = 0; i < m_layouts.size(); ++i) {
        const QRectF box = m_layouts[i]->boundingRect().translated(area.topLeft());
        if (box.bottom() < clip.top() || box.top() > clip.bottom()) continue;
        p.setPen(m_lines[i].color);
        m_layouts[i]->draw(&p, area.topLeft());
    }
}

} // namespace meshwork::ui
