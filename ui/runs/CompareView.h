// Side by side comparison of 2-8 stored runs: their curves overlaid in every chart (one
// colour per run, the same in every chart and table), the configuration diff with an
// "only differences" switch, the summary table (final and best loss, mean throughput,
// TFLOPS, MFU, peak memory, estimate error), and exports: series as CSV, charts as PNG/PDF.
#pragma once

#include "core/runs/RunTypes.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QTableWidget;

namespace meshwork {
class RunStore;
}

namespace meshwork::ui {

class RunCharts;

class CompareView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMaxRuns = 8;

    explicit CompareView(RunStore& store, QWidget* parent = nullptr);

    // Loads the runs (2 to 8; extra ones are left out with a message). Returns false and
    // shows why when the store refuses.
    bool setRuns(const QStringList& runIds);
    QStringList runIds() const { return m_ids; }

    void setOnlyDifferences(bool on);
    RunCharts* charts() const { return m_charts; }
    QTableWidget* diffTable() const { return m_diff; }
    QTableWidget* summaryTable() const { return m_summary; }
    // The options shown in the diff table now, top to bottom.
    QStringList diffOptions() const;

    // One CSV per run (<dir>/<run id>.csv); returns the files written.
    QStringList exportCsv(const QString& dir) const;
    // Every chart as <dir>/compare-<chart>.<png|pdf>.
    QStringList exportCharts(const QString& dir, const QString& format) const;

private:
    void fillDiff();
    void fillSummary();
    void exportDialog(const QString& kind);

    RunStore& m_store;
    QStringList m_ids;
    std::vector<RunInfo> m_infos;
    RunCharts* m_charts;
    QCheckBox* m_onlyDiff;
    QTableWidget* m_diff;
    QTableWidget* m_summary;
    QLabel* m_message;
};

} // namespace meshwork::ui
