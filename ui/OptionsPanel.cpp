#include "ui/OptionsPanel.h"

#include "ui/DegreeControl.h"
#include "ui/PlanDocument.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSignalBlocker>
#include <QSpinBox>

namespace meshwork::ui {

namespace {
template <typename E>
void fillEnum(QComboBox* box, std::initializer_list<E> values)
{
    for (E v : values) box->addItem(QString::fromLatin1(toString(v)), int(v));
}

void select(QComboBox* box, int data)
{
    const int i = box->findData(data);
    if (i == box->currentIndex()) return;
    QSignalBlocker b(box);
    box->setCurrentIndex(i);
}
} // namespace

template <typename F>
void OptionsPanel::edit(const QString& text, F&& change, const QString& mergeKey)
{
    Plan p = m_doc->plan();
    change(p);
    if (p == m_doc->plan()) return;
    m_doc->editPlan(p, text, mergeKey);
}

OptionsPanel::OptionsPanel(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_sp(new QCheckBox(QStringLiteral("sequence parallelism (needs tp > 1)"), this)),
      m_zero(new QComboBox(this)), m_offload(new QComboBox(this)), m_offloadFraction(new QDoubleSpinBox(this)),
      m_recompute(new QComboBox(this)),
      m_microBatch(new DegreeControl(QStringLiteral("micro-batch"), QStringLiteral("sequences per micro-batch"), 1, 64, this)),
      m_globalBatch(new QSpinBox(this)), m_seq(new QSpinBox(this)), m_precision(new QComboBox(this)),
      m_gradReduce(new QComboBox(this)), m_optimizer(new QComboBox(this)), m_target(new QComboBox(this))
{
    setObjectName(QStringLiteral("optionsPanel"));
    m_sp->setObjectName(QStringLiteral("sp"));
    m_zero->setObjectName(QStringLiteral("zero"));
    m_offload->setObjectName(QStringLiteral("offload"));
    m_offloadFraction->setObjectName(QStringLiteral("offload-fraction"));
    m_recompute->setObjectName(QStringLiteral("recompute"));
    m_globalBatch->setObjectName(QStringLiteral("global-batch"));
    m_seq->setObjectName(QStringLiteral("seq"));
    m_precision->setObjectName(QStringLiteral("precision"));
    m_gradReduce->setObjectName(QStringLiteral("grad-reduce"));
    m_optimizer->setObjectName(QStringLiteral("optimizer"));
    m_target->setObjectName(QStringLiteral("target"));

    for (int z = 0; z <= 3; ++z) m_zero->addItem(QString::number(z), z);
    m_zero->setToolTip(QStringLiteral("ZeRO stage over the data-parallel axis: 1 shards optimizer states, "
                                      "2 also gradients, 3 also weights"));
    fillEnum(m_offload, {Offload::None, Offload::Optimizer, Offload::OptimizerParams});
    m_offloadFraction->setRange(0, 1);
    m_offloadFraction->setSingleStep(0.05);
    m_offloadFraction->setDecimals(2);
    m_offloadFraction->setKeyboardTracking(false);
    fillEnum(m_recompute, {Recompute::None, Recompute::Selective, Recompute::Full});
    m_globalBatch->setRange(1, 1 << 24);
    m_globalBatch->setKeyboardTracking(false);
    m_globalBatch->setToolTip(QStringLiteral("sequences per optimizer step; a multiple of micro-batch x dp"));
    m_seq->setRange(16, 1 << 20);
    m_seq->setSingleStep(512);
    m_seq->setKeyboardTracking(false);
    m_seq->setToolTip(QStringLiteral("tokens per sequence"));
    fillEnum(m_precision, {Precision::Bf16, Precision::Fp16, Precision::Fp32});
    fillEnum(m_gradReduce, {Precision::Fp32, Precision::Bf16});
    m_gradReduce->setToolTip(QStringLiteral("type of the data-parallel gradient reduction: bf16 halves its bytes; "
                                            "gradients and the optimizer stay fp32"));
    fillEnum(m_optimizer, {Optimizer::AdamW, Optimizer::Lamb, Optimizer::Lars, Optimizer::Sgd});
    m_target->addItem(QStringLiteral("meshwork (our trainer)"), int(Target::Meshwork));
    m_target->addItem(QStringLiteral("megatron (exported plans)"), int(Target::Megatron));
    m_target->setToolTip(QStringLiteral("which framework's memory and time the estimate models"));

    auto* form = new QFormLayout(this);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(QStringLiteral("sp"), m_sp);
    form->addRow(QStringLiteral("zero"), m_zero);
    form->addRow(QStringLiteral("offload"), m_offload);
    form->addRow(QStringLiteral("offload-fraction"), m_offloadFraction);
    form->addRow(QStringLiteral("recompute"), m_recompute);
    form->addRow(m_microBatch);
    form->addRow(QStringLiteral("global-batch"), m_globalBatch);
    form->addRow(QStringLiteral("seq"), m_seq);
    form->addRow(QStringLiteral("precision"), m_precision);
    form->addRow(QStringLiteral("grad-reduce"), m_gradReduce);
    form->addRow(QStringLiteral("optimizer"), m_optimizer);
    form->addRow(QStringLiteral("estimate for"), m_target);

    connect(m_sp, &QCheckBox::toggled, this,
            [this](bool on) { edit(on ? QStringLiteral("Turn sp on") : QStringLiteral("Turn sp off"), [&](Plan& p) { p.sp = on; }); });
    connect(m_zero, &QComboBox::activated, this, [this](int) {
        const int z = m_zero->currentData().toInt();
        edit(QStringLiteral("Set zero to %1").arg(z), [&](Plan& p) { p.zero = z; });
    });
    connect(m_offload, &QComboBox::activated, this, [this](int) {
        const auto o = Offload(m_offload->currentData().toInt());
        edit(QStringLiteral("Set offload to %1").arg(QString::fromLatin1(toString(o))), [&](Plan& p) { p.offload = o; });
    });
    connect(m_offloadFraction, &QDoubleSpinBox::valueChanged, this, [this](double f) {
        edit(QStringLiteral("Set offload-fraction to %1").arg(f), [&](Plan& p) { p.offloadFraction = f; });
    });
    connect(m_recompute, &QComboBox::activated, this, [this](int) {
        const auto r = Recompute(m_recompute->currentData().toInt());
        edit(QStringLiteral("Set recompute to %1").arg(QString::fromLatin1(toString(r))), [&](Plan& p) { p.recompute = r; });
    });
    connect(m_microBatch, &DegreeControl::valueEdited, this, [this](int v, const QString& key) {
        edit(QStringLiteral("Set micro-batch to %1").arg(v), [&](Plan& p) { p.microBatch = v; }, key);
    });
    connect(m_globalBatch, &QSpinBox::valueChanged, this, [this](int v) {
        edit(QStringLiteral("Set global-batch to %1").arg(v), [&](Plan& p) { p.globalBatch = v; });
    });
    connect(m_seq, &QSpinBox::valueChanged, this, [this](int v) {
        edit(QStringLiteral("Set seq to %1").arg(v), [&](Plan& p) { p.seq = v; });
    });
    connect(m_precision, &QComboBox::activated, this, [this](int) {
        const auto v = Precision(m_precision->currentData().toInt());
        edit(QStringLiteral("Set precision to %1").arg(QString::fromLatin1(toString(v))), [&](Plan& p) { p.precision = v; });
    });
    connect(m_gradReduce, &QComboBox::activated, this, [this](int) {
        const auto v = Precision(m_gradReduce->currentData().toInt());
        edit(QStringLiteral("Set grad-reduce to %1").arg(QString::fromLatin1(toString(v))), [&](Plan& p) { p.gradReduce = v; });
    });
    connect(m_optimizer, &QComboBox::activated, this, [this](int) {
        const auto v = Optimizer(m_optimizer->currentData().toInt());
        edit(QStringLiteral("Set optimizer to %1").arg(QString::fromLatin1(toString(v))), [&](Plan& p) { p.optimizer = v; });
    });
    connect(m_target, &QComboBox::activated, this, [this](int) { m_doc->setTarget(Target(m_target->currentData().toInt())); });
    connect(doc, &PlanDocument::changed, this, &OptionsPanel::refresh);
    refresh();
}

void OptionsPanel::refresh()
{
    const Plan& p = m_doc->plan();
    if (m_sp->isChecked() != p.sp) {
        QSignalBlocker b(m_sp);
        m_sp->setChecked(p.sp);
    }
    select(m_zero, p.zero);
    select(m_offload, int(p.offload));
    select(m_recompute, int(p.recompute));
    select(m_precision, int(p.precision));
    select(m_gradReduce, int(p.gradReduce));
    select(m_optimizer, int(p.optimizer));
    select(m_target, int(m_doc->target()));
    QSignalBlocker b1(m_offloadFraction), b2(m_globalBatch), b3(m_seq);
    // Only what changed: QSpinBox::setValue repaints even when the value is the same.
    if (m_offloadFraction->value() != p.offloadFraction) m_offloadFraction->setValue(p.offloadFraction);
    m_microBatch->setValue(int(p.microBatch));
    if (m_globalBatch->value() != p.effectiveGlobalBatch()) m_globalBatch->setValue(int(p.effectiveGlobalBatch()));
    if (m_seq->value() != p.seq) m_seq->setValue(int(p.seq));
}

} // namespace meshwork::ui
