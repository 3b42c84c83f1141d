// Every problem with the plan, one line each, in words (errors red, warnings amber).
// Painted from laid-out lines rather than a rich-text QLabel: the list changes on most
// steps of a drag, and a QLabel relaid its HTML a dozen times per change (bench_ui_latency).
// The context menu copies the problems.
#pragma once

#include <QColor>
#include <QStringList>
#include <QTextLayout>
#include <QWidget>

#include <array>
#include <memory>
#include <vector>

namespace meshwork::ui {

class IssueList : public QWidget {
    Q_OBJECT
public:
    explicit IssueList(QWidget* parent = nullptr);

    void setIssues(const QStringList& errors, const QStringList& warnings);
    const QStringList& errors() const { return m_errors; }
    const QStringList& warnings() const { return m_warnings; }
    // The list as HTML (coloured lines), as a rich-text label would hold it.
    const QString& text() const { return m_html; }
    // The list as plain text, one problem a line (what Copy puts on the clipboard).
    QString plainText() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;

protected:
    void paintEvent(QPaintEvent* e) override;
    void changeEvent(QEvent* e) override;

private:
    struct Line { QString text; QColor color; };
    void render();
    // Lays the lines out for a width (kept until the text, font or width changes).
    int layOut(int width) const;
    void invalidate();

    QStringList m_errors;
    QStringList m_warnings;
    QString m_html;
    std::vector<Line> m_lines;
    mutable std::vector<std::unique_ptr<QTextLayout>> m_layouts;
    mutable int m_layoutWidth = -1, m_layoutHeight = 0;
    // Heights a layout pass asked for, (width, height), most recent first: a pass asks at
    // a few widths, over and over.
    mutable std::array<QPoint, 4> m_heights;
    mutable int m_heightCount = 0;
    QSize m_sizeHint, m_minimumSizeHint; // per text and font
};

QStringList toQStringList(const std::vector<std::string>& v);

} // namespace meshwork::ui
