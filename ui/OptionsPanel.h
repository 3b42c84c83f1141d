// The plan's training options, labelled with the CLI's flag names (sp, zero, offload,
// offload-fraction, recompute, micro-batch, global-batch, seq, precision, grad-reduce, optimizer).
#pragma once

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace meshwork::ui {

class DegreeControl;
class PlanDocument;

class OptionsPanel : public QWidget {
    Q_OBJECT
public:
    OptionsPanel(PlanDocument* doc, QWidget* parent = nullptr);

    QCheckBox* spBox() const { return m_sp; }
    QComboBox* zeroBox() const { return m_zero; }
    QComboBox* offloadBox() const { return m_offload; }
    QComboBox* recomputeBox() const { return m_recompute; }
    DegreeControl* microBatch() const { return m_microBatch; }
    QSpinBox* globalBatchBox() const { return m_globalBatch; }
    QSpinBox* seqBox() const { return m_seq; }
    QComboBox* precisionBox() const { return m_precision; }
    QComboBox* gradReduceBox() const { return m_gradReduce; }
    QComboBox* optimizerBox() const { return m_optimizer; }
    QComboBox* targetBox() const { return m_target; }

private:
    void refresh();
    template <typename F> void edit(const QString& text, F&& change, const QString& mergeKey = {});

    PlanDocument* m_doc;
    QCheckBox* m_sp;
    QComboBox* m_zero;
    QComboBox* m_offload;
    QDoubleSpinBox* m_offloadFraction;
    QComboBox* m_recompute;
    DegreeControl* m_microBatch;
    QSpinBox* m_globalBatch;
    QSpinBox* m_seq;
    QComboBox* m_precision;
    QComboBox* m_gradReduce;
    QComboBox* m_optimizer;
    QComboBox* m_target;
};

} // namespace meshwork::ui
