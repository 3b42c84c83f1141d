#include "ui/MeshPanel.h"

#include "ui/DegreeControl.h"
#include "ui/IssueList.h"
#include "ui/MeshView.h"
#include "ui/PlanDocument.h"

#include "core/planner/StageBalance.h"
#include "core/spec/StageLayers.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <algorithm>

namespace meshwork::ui {

namespace {
QStringList allOrders()
{
    // Every order of the four axes, innermost first; Megatron's default first.
    QStringList axes = {QStringLiteral("tp"), QStringLiteral("cp"), QStringLiteral("dp"), QStringLiteral("pp")};
    QStringList out;
    std::sort(axes.begin(), axes.end());
    do out << axes.join(QLatin1Char('-'));
    while (std::next_permutation(axes.begin(), axes.end()));
    out.removeAll(QStringLiteral("tp-cp-dp-pp"));
    out.prepend(QStringLiteral("tp-cp-dp-pp"));
    return out;
}

QString stageLayersTip()
{
    return QStringLiteral("layers of each pipeline stage, first to last (pp x vpp values, such as 8,4); empty: the "
                          "same number on every stage");
}
} // namespace

MeshPanel::MeshPanel(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_axisBox(new QComboBox(this)), m_orderBox(new QComboBox(this)),
      m_stageLayers(new QLineEdit(this)), m_balance(new QPushButton(QStringLiteral("Balance"), this)),
      m_view(new MeshView(this)), m_issues(new IssueList(this))
{
    setObjectName(QStringLiteral("meshPanel"));
    auto* degrees = new QGridLayout;
    const struct { const char* name; const char* tip; int max; } specs[] = {
        {"dp", "data-parallel degree: model replicas, each on its own share of the batch", 64},
        {"tp", "tensor-parallel degree: each layer's matrices split across this many GPUs", 16},
        {"pp", "pipeline-parallel stages: the layers split into this many consecutive stages", 16},
        {"vpp", "virtual stages per pipeline rank (interleaved 1F1B): a smaller bubble, more sends", 8},
        {"cp", "context-parallel degree: the sequence split across this many GPUs", 16},
    };
    int i = 0;
    for (const auto& s : specs) {
        auto* c = new DegreeControl(QString::fromLatin1(s.name), QString::fromLatin1(s.tip), 1, s.max, this);
        m_degrees[c->name()] = c;
        degrees->addWidget(c, i / 2, i % 2);
        ++i;
        connect(c, &DegreeControl::valueEdited, this,
                [this, c](int v, const QString& key) { editDegree(c->name(), v, key); });
    }

    m_axisBox->setObjectName(QStringLiteral("colorAxis"));
    for (ColorAxis a : {ColorAxis::TpGroup, ColorAxis::PpStage, ColorAxis::DpReplica, ColorAxis::CpGroup})
        m_axisBox->addItem(colorAxisName(a), int(a));
    m_orderBox->setObjectName(QStringLiteral("order"));
    m_orderBox->setEditable(true);
    m_orderBox->setInsertPolicy(QComboBox::NoInsert);
    m_orderBox->addItems(allOrders());
    m_orderBox->setToolTip(QStringLiteral("rank layout, innermost axis first: with tp-cp-dp-pp the ranks of a TP "
                                          "group are consecutive and share a node's NVLink"));
    auto* axisRow = new QHBoxLayout;
    axisRow->addWidget(new QLabel(QStringLiteral("Colour by"), this));
    axisRow->addWidget(m_axisBox);
    axisRow->addSpacing(16);
    axisRow->addWidget(new QLabel(QStringLiteral("order"), this));
    axisRow->addWidget(m_orderBox);
    axisRow->addStretch(1);

    m_stageLayers->setObjectName(QStringLiteral("stageLayers"));
    m_stageLayers->setPlaceholderText(QStringLiteral("even"));
    m_stageLayers->setToolTip(stageLayersTip());
    m_balance->setObjectName(QStringLiteral("balanceStages"));
    m_balance->setToolTip(QStringLiteral("give each stage the layers that make the stages take equal time: the "
                                         "last also runs the output head and the loss, so it takes fewer"));
    auto* stageRow = new QHBoxLayout;
    stageRow->addWidget(new QLabel(QStringLiteral("stage layers"), this));
    stageRow->addWidget(m_stageLayers, 1);
    stageRow->addWidget(m_balance);

    auto* issuesScroll = new QScrollArea(this);
    issuesScroll->setWidget(m_issues);
    issuesScroll->setWidgetResizable(true);
    issuesScroll->setFrameShape(QFrame::NoFrame);
    // A fixed height: a list that grows and shrinks during a drag would resize the mesh
    // and repaint it all every frame. Longer lists scroll.
    issuesScroll->setFixedHeight(fontMetrics().lineSpacing() * 5 + 6);
    m_issues->setObjectName(QStringLiteral("meshIssues"));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(degrees);
    layout->addLayout(axisRow);
    layout->addLayout(stageRow);
    layout->addWidget(m_view, 1);
    layout->addWidget(issuesScroll);

    connect(m_axisBox, &QComboBox::currentIndexChanged, this,
            [this] { m_view->setColorAxis(ColorAxis(m_axisBox->currentData().toInt())); });
    auto applyOrder = [this](const QString& text) {
        Plan p = m_doc->plan();
        if (text.trimmed().toStdString() == p.order) return;
        p.order = text.trimmed().toStdString();
        m_doc->editPlan(p, QStringLiteral("Set order to %1").arg(text.trimmed()));
    };
    connect(m_orderBox, &QComboBox::activated, this, [this, applyOrder](int) { applyOrder(m_orderBox->currentText()); });
    connect(m_orderBox->lineEdit(), &QLineEdit::editingFinished, this,
            [this, applyOrder] { applyOrder(m_orderBox->currentText()); });
    connect(m_stageLayers, &QLineEdit::editingFinished, this, [this] { applyStageLayers(m_stageLayers->text()); });
    connect(m_balance, &QPushButton::clicked, this, &MeshPanel::balanceStages);
    connect(doc, &PlanDocument::changed, this, &MeshPanel::refresh);
    refresh();
}

DegreeControl* MeshPanel::degree(const QString& name) const
{
    auto it = m_degrees.find(name);
    return it == m_degrees.end() ? nullptr : it->second;
}

void MeshPanel::editDegree(const QString& name, int v, const QString& mergeKey)
{
    Plan p = m_doc->plan();
    int* field = name == QLatin1String("dp") ? &p.dp : name == QLatin1String("tp") ? &p.tp
               : name == QLatin1String("pp") ? &p.pp : name == QLatin1String("vpp") ? &p.vpp : &p.cp;
    if (*field == v) return;
    *field = v;
    // A stage-layers list describes the old stages: a new pp or vpp starts even again.
    if (field == &p.pp || field == &p.vpp) p.stageLayers.clear();
    m_doc->editPlan(p, QStringLiteral("Set %1 to %2").arg(name).arg(v), mergeKey);
}

void MeshPanel::applyStageLayers(const QString& text)
{
    Plan p = m_doc->plan();
    std::vector<int> layers;
    if (!text.trimmed().isEmpty()) {
        std::string error;
        auto parsed = parseStageLayers(text.trimmed().toStdString(), &error);
        if (!parsed) {
            // Not a list: the plan stays as it was and the field says why.
            m_stageLayers->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid #c0392b; }"));
            m_stageLayers->setToolTip(QString::fromStdString("stage layers: " + error));
            return;
        }
        layers = *parsed;
    }
    m_stageLayers->setStyleSheet({});
    m_stageLayers->setToolTip(stageLayersTip());
    if (layers == p.stageLayers) return;
    p.stageLayers = layers;
    m_doc->editPlan(p, layers.empty() ? QStringLiteral("Set even stages")
                                      : QStringLiteral("Set stage layers to %1").arg(QString::fromStdString(formatStageLayers(layers))));
}

void MeshPanel::balanceStages()
{
    Plan p = m_doc->plan();
    Plan even = p;
    even.stageLayers.clear();
    p.stageLayers = balancedStageLayers(m_doc->model(), m_doc->cluster(), even, m_doc->target(),
                                        m_doc->estimate().flashAttention);
    if (p.stageLayers == m_doc->plan().stageLayers) return;
    m_doc->editPlan(p, QStringLiteral("Balance pipeline stages"));
}

void MeshPanel::refresh()
{
    const Plan& p = m_doc->plan();
    const int world = std::max(8, m_doc->cluster().worldSize());
    const std::pair<const char*, int> values[] = {{"dp", p.dp}, {"tp", p.tp}, {"pp", p.pp}, {"vpp", p.vpp}, {"cp", p.cp}};
    for (const auto& [name, v] : values) {
        DegreeControl* c = m_degrees.at(QString::fromLatin1(name));
        if (QLatin1String(name) != QLatin1String("vpp"))
            c->setMaximum(QLatin1String(name) == QLatin1String("dp") ? world : std::min(world, 64));
        c->setValue(v);
    }
    if (m_orderBox->currentText() != QString::fromStdString(p.order)) {
        QSignalBlocker block(m_orderBox);
        const QString order = QString::fromStdString(p.order);
        const int idx = m_orderBox->findText(order);
        if (idx >= 0) m_orderBox->setCurrentIndex(idx);
        else m_orderBox->setEditText(order);
    }
    const QString layers = QString::fromStdString(formatStageLayers(p.stageLayers));
    if (!m_stageLayers->hasFocus() && m_stageLayers->text() != layers) {
        m_stageLayers->setText(layers);
        m_stageLayers->setStyleSheet({});
        m_stageLayers->setToolTip(stageLayersTip());
    }
    m_view->setData(m_doc->state(), m_doc->estimate());

    QStringList errors = toQStringList(m_doc->estimate().errors);
    QStringList warnings = toQStringList(m_doc->estimate().warnings);
    for (const QString& g : m_view->crossNodeGroups())
        warnings << QStringLiteral("TP group of %1: its all-reduces leave NVLink for the network").arg(g);
    m_issues->setIssues(errors, warnings);
}

} // namespace meshwork::ui
