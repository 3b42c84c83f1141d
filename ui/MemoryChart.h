// The memory budget: one stacked bar per pipeline stage (weights, gradients, optimizer,
// activations, logits, buffers, context+reserve) against the GPU's capacity line, the part
// past it marked red; host RAM per GPU when states are offloaded.
#pragma once

#include "core/planner/Estimate.h"

#include <QSharedPointer>
#include <QWidget>

#include <utility>
#include <vector>

class QCustomPlot;
class QCPBars;
class QCPAxisTickerText;
class QCPItemRect;
class QCPItemStraightLine;
class QCPItemText;
class QLabel;

namespace meshwork::ui {

class PlanDocument;

class MemoryChart : public QWidget {
    Q_OBJECT
public:
    MemoryChart(PlanDocument* doc, QWidget* parent = nullptr);

    static QStringList termNames();
    // What the bars show now: per term (termNames() order), one value per stage, in GiB.
    std::vector<double> termValues(int term) const;
    std::vector<double> stageTotals() const;
    double capacityLine() const;
    int overBudgetStages() const { return m_overBudget; }
    QCustomPlot* plot() const { return m_plot; }
    QString summary() const;

protected:
    void changeEvent(QEvent* e) override;

private:
    void refresh();
    void applyPalette();

    PlanDocument* m_doc;
    QCustomPlot* m_plot;
    std::vector<QCPBars*> m_bars;
    QCPItemStraightLine* m_capacity;
    QCPItemText* m_capacityLabel;
    std::vector<QCPItemRect*> m_overItems;
    QSharedPointer<QCPAxisTickerText> m_ticker;
    QLabel* m_summary;
    int m_overBudget = 0;
    std::vector<double> m_shown; // the figures the chart shows, to skip replots that change nothing
    std::pair<int, double> m_axesFrame{0, 0.0}; // stages and top of the scale the axes were drawn for
};

} // namespace meshwork::ui
