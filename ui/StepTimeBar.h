// One step's time as a single horizontal bar split into its terms, with a legend.
#pragma once

#include <QString>
#include <QWidget>

#include <utility>
#include <vector>

namespace meshwork::ui {

class StepTimeBar : public QWidget {
    Q_OBJECT
public:
    explicit StepTimeBar(QWidget* parent = nullptr);

    // (name, seconds) in the order they are drawn.
    void setTerms(std::vector<std::pair<QString, double>> terms);
    const std::vector<std::pair<QString, double>>& terms() const { return m_terms; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int w) const override;

protected:
    void paintEvent(QPaintEvent*) override;

private:
    int columnsFor(int width) const;
    QString legendText(const QString& name, double seconds) const;

    int widestLegend() const;

    std::vector<std::pair<QString, double>> m_terms;
    size_t m_shapeTerms = 0;
    mutable int m_widestLegend = -1; // px; -1: to measure (text shaping, once per set of terms)
};

} // namespace meshwork::ui
