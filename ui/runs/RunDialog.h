// The Run dialog: where to train (this machine's CPU or its GPUs), on what data (the
// synthetic corpus, a text file, a token file), for how many steps, at what learning rate,
// checkpointing how often. It edits a RunOptions; RunsWorkspace starts the run.
#pragma once

#include "ui/runs/RunOptions.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace meshwork::ui {

class RunDialog : public QDialog {
    Q_OBJECT
public:
    // gpus: the GPUs this machine has (names), empty when none. ranks: the plan's world size.
    RunDialog(const RunOptions& initial, const QStringList& gpus, int ranks, const QString& planSummary,
              QWidget* parent = nullptr);

    RunOptions options() const;

    // Names of this machine's NVIDIA GPUs (nvidia-smi), empty without one. Blocks for at most
    // a second; call it once.
    static QStringList detectGpus();

private:

    QLineEdit* m_name;
    QComboBox* m_device;
    QComboBox* m_data;
    QLineEdit* m_path;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_lr;
    QSpinBox* m_checkpoint;
    QSpinBox* m_eval;
    QLabel* m_problem;
    int m_ranks;
};

} // namespace meshwork::ui
