#include "ui/EstimatePanel.h"

#include "ui/Format.h"
#include "ui/IssueList.h"
#include "ui/PlanDocument.h"
#include "ui/StepTimeBar.h"
#include "ui/WrappedLabel.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QVBoxLayout>

namespace meshwork::ui {

namespace {
QLabel* headline(QWidget* parent, const QString& objectName)
{
    auto* l = new QLabel(parent);
    l->setObjectName(objectName);
    QFont f = l->font();
    f.setPointSizeF(f.pointSizeF() * 1.5);
    f.setBold(true);
    l->setFont(f);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A fixed size, with room for the widest figure the formats give ("888.88 ms"): the
    // figures change on every step of a drag, and a label that may change size makes the
    // dock lay out again. setFigure() widens it if a figure ever needs more.
    const QString widest = QStringLiteral("888.88 ms");
    l->setText(widest);
    l->setFixedSize(l->sizeHint());
    l->setProperty("textMargins", l->width() - QFontMetrics(f).horizontalAdvance(widest));
    l->clear();
    return l;
}

void setFigure(QLabel* l, const QString& text)
{
    if (l->text() == text) return;
    const int need = l->property("textMargins").toInt() + QFontMetrics(l->font()).horizontalAdvance(text);
    if (need > l->maximumWidth()) l->setFixedWidth(need);
    l->setText(text);
}

QWidget* tile(QWidget* parent, QLabel* value, const QString& caption)
{
    auto* w = new QWidget(parent);
    auto* v = new QVBoxLayout(w);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    auto* c = new QLabel(caption, w);
    c->setForegroundRole(QPalette::PlaceholderText);
    v->addWidget(value);
    v->addWidget(c);
    return w;
}
} // namespace

EstimatePanel::EstimatePanel(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_tokensPerS(headline(this, QStringLiteral("tokensPerS"))),
      m_tflops(headline(this, QStringLiteral("tflopsPerGpu"))), m_mfu(headline(this, QStringLiteral("mfu"))),
      m_step(headline(this, QStringLiteral("stepTime"))), m_details(new WrappedLabel(this)), m_stepBar(new StepTimeBar(this)),
      m_trainTokens(new QDoubleSpinBox(this)), m_timeToTrain(new QLabel(this)), m_cost(new QLabel(this)),
      m_issues(new IssueList(this))
{
    setObjectName(QStringLiteral("estimatePanel"));
    auto* tiles = new QGridLayout;
    tiles->addWidget(tile(this, m_tokensPerS, QStringLiteral("tokens/s (cluster)")), 0, 0);
    tiles->addWidget(tile(this, m_tflops, QStringLiteral("TFLOPS per GPU")), 0, 1);
    tiles->addWidget(tile(this, m_mfu, QStringLiteral("MFU")), 1, 0);
    tiles->addWidget(tile(this, m_step, QStringLiteral("step time")), 1, 1);

    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_trainTokens->setObjectName(QStringLiteral("trainTokens"));
    m_trainTokens->setRange(0.001, 1e6);
    m_trainTokens->setDecimals(3);
    m_trainTokens->setValue(10);
    m_trainTokens->setSuffix(QStringLiteral(" B tokens"));
    m_trainTokens->setToolTip(QStringLiteral("how many tokens to train on (billions)"));
    m_timeToTrain->setObjectName(QStringLiteral("timeToTrain"));
    m_cost->setObjectName(QStringLiteral("cost"));
    auto* train = new QFormLayout;
    train->addRow(QStringLiteral("train on"), m_trainTokens);
    train->addRow(QStringLiteral("wall-clock time"), m_timeToTrain);
    train->addRow(QStringLiteral("cost"), m_cost);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(tiles);
    layout->addWidget(m_details);
    layout->addWidget(new QLabel(QStringLiteral("<b>Step time</b>"), this));
    layout->addWidget(m_stepBar);
    layout->addLayout(train);
    layout->addWidget(m_issues);
    layout->addStretch(1);

    connect(m_trainTokens, &QDoubleSpinBox::valueChanged, this, &EstimatePanel::refresh);
    connect(doc, &PlanDocument::changed, this, &EstimatePanel::refresh);
    refresh();
}

QString EstimatePanel::tokensPerSText() const { return m_tokensPerS->text(); }
QString EstimatePanel::mfuText() const { return m_mfu->text(); }
QString EstimatePanel::timeToTrainText() const { return m_timeToTrain->text(); }
QString EstimatePanel::costText() const { return m_cost->text(); }

void EstimatePanel::refresh()
{
    const Estimate& e = m_doc->estimate();
    const Plan& p = m_doc->plan();
    const bool have = e.time.step > 0;
    setFigure(m_tokensPerS, have ? formatCount(e.throughput.tokensPerS) : QStringLiteral("–"));
    setFigure(m_tflops, have ? QString::number(e.throughput.tflopsPerGpu, 'f', 1) : QStringLiteral("–"));
    setFigure(m_mfu, have ? formatPercent(e.throughput.mfu) : QStringLiteral("–"));
    setFigure(m_step, have ? formatSeconds(e.time.step) : QStringLiteral("–"));

    m_details->setText(QStringLiteral("%1: %2 parameters · %3 tokens per step (%4 micro-batches of %5 × %6 per DP rank) · "
                                      "%7 GFLOPs per token")
                           .arg(QString::fromStdString(m_doc->model().name), formatCount(double(m_doc->model().parameterCount())),
                                formatCount(double(p.tokensPerStep())))
                           .arg(p.microBatches()).arg(p.microBatch).arg(p.seq)
                           .arg(e.flopsPerToken / 1e9, 0, 'f', 2));

    const TimeEstimate& t = e.time;
    m_stepBar->setTerms({{QStringLiteral("compute"), t.compute},
                         {QStringLiteral("attention"), t.attention},
                         {QStringLiteral("memory-bound"), t.memoryBound},
                         {QStringLiteral("recompute"), t.recompute},
                         {QStringLiteral("TP comm"), t.tpComm},
                         {QStringLiteral("CP comm"), t.cpComm},
                         {QStringLiteral("host-bound"), t.host},
                         {QStringLiteral("PP sends"), t.ppComm},
                         {QStringLiteral("pipeline bubble"), t.bubble},
                         {QStringLiteral("DP comm (exposed)"), t.dpComm},
                         {QStringLiteral("optimizer"), t.optimizer}});

    const double tokens = m_trainTokens->value() * 1e9;
    if (have) {
        m_timeToTrain->setText(formatHours(e.hoursToTrain(tokens)));
        const double cost = e.costToTrain(tokens, m_doc->cluster());
        m_cost->setText(m_doc->cluster().pricePerGpuHour > 0
                            ? QStringLiteral("%1 (%2 GPUs × %3/GPU-hour)")
                                  .arg(formatMoney(cost)).arg(m_doc->cluster().worldSize())
                                  .arg(m_doc->cluster().pricePerGpuHour, 0, 'f', 2)
                            : QStringLiteral("set a price per GPU-hour in the cluster"));
    } else {
        m_timeToTrain->setText(QStringLiteral("–"));
        m_cost->setText(QStringLiteral("–"));
    }
    m_issues->setIssues(toQStringList(e.errors), toQStringList(e.warnings));
}

} // namespace meshwork::ui
