#include "ui/WrappedLabel.h"

#include <QEvent>
#include <QTextDocumentFragment>

#include <algorithm>

namespace meshwork::ui {

WrappedLabel::WrappedLabel(QWidget* parent) : QLabel(parent)
{
    setWordWrap(true);
}

void WrappedLabel::changeEvent(QEvent* e)
{
    QLabel::changeEvent(e);
    if (e->type() == QEvent::FontChange || e->type() == QEvent::StyleChange || e->type() == QEvent::ContentsRectChange)
        m_valid = false;
}

void WrappedLabel::dropHintsIfStale() const
{
    if (m_valid && text() == m_hintsFor) return;
    m_valid = true;
    m_hintsFor = text();
    m_heightCount = 0;

    // As QLabel: at most 80 average characters wide, else as wide as the widest line; at
    // least as wide as the longest word, one line per paragraph. Only the height at the
    // width the label has costs a layout (heightForWidth(), which layouts ask for anyway).
    const bool rich = textFormat() == Qt::RichText || (textFormat() == Qt::AutoText && Qt::mightBeRichText(text()));
    const QString plain = rich ? QTextDocumentFragment::fromHtml(text()).toPlainText() : text();
    const QFontMetrics fm = fontMetrics();
    const int maxLine = fm.averageCharWidth() * 80;
    int widestLine = 0;
    QStringView longestWord;
    const QStringList lines = plain.split(QLatin1Char('\n'));
    for (const QString& line : lines) {
        // Measured only when it may be the narrower bound: shaping costs.
        widestLine = std::max(widestLine, line.size() > 80 ? maxLine : fm.horizontalAdvance(line));
        for (const QStringView word : QStringView(line).split(QLatin1Char(' '), Qt::SkipEmptyParts))
            if (word.size() > longestWord.size()) longestWord = word;
    }
    const QMargins m = contentsMargins();
    m_extra = m.left() + m.right() + 2 * margin() + std::max(0, indent());
    m_hintWidth = std::min({widestLine + 1, maxLine, maximumWidth() - m_extra}) + m_extra;
    // The longest word in characters, and a margin for wide letters: a label never needs
    // to be narrower than a word to fit its dock.
    const int wordWidth = fm.horizontalAdvance(longestWord.toString()) * 5 / 4;
    m_minimumSizeHint = QSize(std::min(m_hintWidth, wordWidth + 1 + m_extra), int(lines.size()) * fm.lineSpacing());
}

int WrappedLabel::heightForWidth(int width) const
{
    dropHintsIfStale();
    for (int i = 0; i < m_heightCount; ++i)
        if (m_heights[size_t(i)].x() == width) return m_heights[size_t(i)].y();
    const int h = QLabel::heightForWidth(width);
    std::move_backward(m_heights.begin(), m_heights.end() - 1, m_heights.end());
    m_heights[0] = QPoint(width, h);
    m_heightCount = std::min<int>(m_heightCount + 1, int(m_heights.size()));
    return h;
}

QSize WrappedLabel::sizeHint() const
{
    dropHintsIfStale();
    // No layout for the height: a layout gives a word-wrapped label the height that
    // heightForWidth() says for the width it gets, never this one.
    return QSize(m_hintWidth, m_minimumSizeHint.height());
}

QSize WrappedLabel::minimumSizeHint() const
{
    dropHintsIfStale();
    return m_minimumSizeHint;
}

} // namespace meshwork::ui
