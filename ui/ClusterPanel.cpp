#include "ui/ClusterPanel.h"

#include "core/spec/Catalog.h"
#include "ui/Format.h"
#include "ui/PlanDocument.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>

namespace meshwork::ui {

namespace {
ClusterSpec make(const char* gpu, int nodes, int perNode, double price)
{
    ClusterSpec c;
    if (auto g = findGpu(gpu)) c.gpu = *g;
    c.nodes = nodes;
    c.gpusPerNode = perNode;
    c.pricePerGpuHour = price;
    return c;
}
} // namespace

const std::vector<ClusterPreset>& clusterPresets()
{
    // Prices are typical on-demand cloud rates per GPU-hour (late 2024); edit to your quote.
    static const std::vector<ClusterPreset> presets = {
        {QStringLiteral("8×H100 rented"), make("h100-sxm", 1, 8, 2.5)},
        {QStringLiteral("one RTX 4090"), make("rtx-4090", 1, 1, 0.4)},
        {QStringLiteral("64×8 H100"), make("h100-sxm", 64, 8, 2.0)},
        {QStringLiteral("8×8 H100"), make("h100-sxm", 8, 8, 2.2)},
        {QStringLiteral("8×A100 80GB"), make("a100-80gb", 1, 8, 1.6)},
        {QStringLiteral("4×L40S"), make("l40s", 1, 4, 1.0)},
    };
    return presets;
}

ClusterPanel::ClusterPanel(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_preset(new QComboBox(this)), m_gpu(new QComboBox(this)), m_nodes(new QSpinBox(this)),
      m_gpusPerNode(new QSpinBox(this)), m_intra(new QDoubleSpinBox(this)), m_inter(new QDoubleSpinBox(this)),
      m_price(new QDoubleSpinBox(this)), m_gpuInfo(new QLabel(this))
{
    setObjectName(QStringLiteral("clusterPanel"));
    m_preset->setObjectName(QStringLiteral("clusterPreset"));
    m_preset->addItem(QStringLiteral("custom"));
    for (const auto& p : clusterPresets()) m_preset->addItem(p.name);
    m_gpu->setObjectName(QStringLiteral("gpu"));
    for (const auto& g : gpuCatalog())
        m_gpu->addItem(QString::fromStdString(g.name), QString::fromStdString(g.id));
    m_gpu->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_gpu->setMinimumContentsLength(14);
    m_preset->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_preset->setMinimumContentsLength(10);
    m_nodes->setObjectName(QStringLiteral("nodes"));
    m_nodes->setRange(1, 4096);
    m_gpusPerNode->setObjectName(QStringLiteral("gpus-per-node"));
    m_gpusPerNode->setRange(1, 72);
    for (QSpinBox* s : {m_nodes, m_gpusPerNode}) s->setKeyboardTracking(false);
    for (QDoubleSpinBox* s : {m_intra, m_inter}) {
        s->setRange(0, 10000);
        s->setDecimals(0);
        s->setSuffix(QStringLiteral(" GB/s"));
        s->setKeyboardTracking(false);
    }
    m_intra->setObjectName(QStringLiteral("intra-gbps"));
    m_inter->setObjectName(QStringLiteral("inter-gbps"));
    m_price->setObjectName(QStringLiteral("price"));
    m_price->setRange(0, 1000);
    m_price->setDecimals(2);
    m_price->setSingleStep(0.1);
    m_price->setPrefix(QStringLiteral("$"));
    m_price->setSuffix(QStringLiteral(" / GPU-hour"));
    m_price->setKeyboardTracking(false);
    m_gpuInfo->setWordWrap(true);
    m_gpuInfo->setForegroundRole(QPalette::PlaceholderText);

    auto* form = new QFormLayout(this);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(QStringLiteral("preset"), m_preset);
    form->addRow(QStringLiteral("gpu"), m_gpu);
    form->addRow(QStringLiteral("nodes"), m_nodes);
    form->addRow(QStringLiteral("gpus-per-node"), m_gpusPerNode);
    form->addRow(QStringLiteral("intra-gbps"), m_intra);
    form->addRow(QStringLiteral("inter-gbps"), m_inter);
    form->addRow(QStringLiteral("price"), m_price);
    form->addRow(m_gpuInfo);

    connect(m_preset, &QComboBox::activated, this, [this](int i) { if (i > 0) applyPreset(i - 1); });
    connect(m_gpu, &QComboBox::activated, this, [this](int) {
        auto g = findGpu(m_gpu->currentData().toString().toStdString());
        if (g) edit(QStringLiteral("Choose GPU %1").arg(QString::fromStdString(g->name)), [&](ClusterSpec& c) { c.gpu = *g; });
    });
    connect(m_nodes, &QSpinBox::valueChanged, this,
            [this](int v) { edit(QStringLiteral("Set nodes to %1").arg(v), [&](ClusterSpec& c) { c.nodes = v; }); });
    connect(m_gpusPerNode, &QSpinBox::valueChanged, this,
            [this](int v) { edit(QStringLiteral("Set gpus-per-node to %1").arg(v), [&](ClusterSpec& c) { c.gpusPerNode = v; }); });
    connect(m_intra, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { edit(QStringLiteral("Set intra-gbps"), [&](ClusterSpec& c) { c.intraNodeGBpsOverride = v; }); });
    connect(m_inter, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { edit(QStringLiteral("Set inter-gbps"), [&](ClusterSpec& c) { c.interNodeGBpsOverride = v; }); });
    connect(m_price, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { edit(QStringLiteral("Set price"), [&](ClusterSpec& c) { c.pricePerGpuHour = v; }); });
    connect(doc, &PlanDocument::changed, this, &ClusterPanel::refresh);
    refresh();
}

void ClusterPanel::applyPreset(int index)
{
    if (index < 0 || size_t(index) >= clusterPresets().size()) return;
    const ClusterPreset& p = clusterPresets()[size_t(index)];
    m_doc->editCluster(p.cluster, QStringLiteral("Use cluster %1").arg(p.name));
}

void ClusterPanel::edit(const QString& text, const std::function<void(ClusterSpec&)>& change)
{
    ClusterSpec c = m_doc->cluster();
    change(c);
    m_doc->editCluster(c, text);
}

void ClusterPanel::refresh()
{
    const ClusterSpec& c = m_doc->cluster();
    if (m_shown && sameCluster(*m_shown, c)) return; // a plan edit: nothing here changed
    m_shown = c;
    QSignalBlocker b0(m_preset), b1(m_gpu), b2(m_nodes), b3(m_gpusPerNode), b4(m_intra), b5(m_inter), b6(m_price);
    int preset = 0;
    for (size_t i = 0; i < clusterPresets().size(); ++i)
        if (sameCluster(clusterPresets()[i].cluster, c)) preset = int(i) + 1;
    m_preset->setCurrentIndex(preset);
    const int gi = m_gpu->findData(QString::fromStdString(c.gpu.id));
    if (gi < 0) m_gpu->addItem(QString::fromStdString(c.gpu.name), QString::fromStdString(c.gpu.id)); // from a file
    m_gpu->setCurrentIndex(m_gpu->findData(QString::fromStdString(c.gpu.id)));
    m_nodes->setValue(c.nodes);
    m_gpusPerNode->setValue(c.gpusPerNode);
    m_intra->setSpecialValueText(QStringLiteral("GPU's own (%1 GB/s)").arg(c.gpu.intraNodeGBps));
    m_inter->setSpecialValueText(QStringLiteral("GPU's own (%1 GB/s)").arg(c.gpu.interNodeGBps));
    m_intra->setValue(c.intraNodeGBpsOverride);
    m_inter->setValue(c.interNodeGBpsOverride);
    m_price->setValue(c.pricePerGpuHour);
    m_gpuInfo->setText(QStringLiteral("%1 GPUs · %2 · %3 bf16 TFLOPS · %4 GB/s HBM · %5")
                           .arg(c.worldSize()).arg(formatGiB(c.gpu.memoryGiB)).arg(c.gpu.bf16Tflops, 0, 'f', 0)
                           .arg(c.gpu.hbmGBps, 0, 'f', 0).arg(QString::fromStdString(c.gpu.intraNodeLink)));
}

} // namespace meshwork::ui
