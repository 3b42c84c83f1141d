// The cluster: a GPU from the catalog, nodes, GPUs per node, bandwidth overrides and the
// price per GPU-hour, with named presets ("8×H100 rented", "one RTX 4090", "64×8 H100").
#pragma once

#include "core/spec/GpuSpec.h"

#include <QWidget>

#include <functional>
#include <optional>

#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace meshwork::ui {

class PlanDocument;

struct ClusterPreset {
    QString name;
    ClusterSpec cluster;
};
const std::vector<ClusterPreset>& clusterPresets();

class ClusterPanel : public QWidget {
    Q_OBJECT
public:
    ClusterPanel(PlanDocument* doc, QWidget* parent = nullptr);

    QComboBox* presetBox() const { return m_preset; }
    QComboBox* gpuBox() const { return m_gpu; }
    QSpinBox* nodesBox() const { return m_nodes; }
    QSpinBox* gpusPerNodeBox() const { return m_gpusPerNode; }
    QDoubleSpinBox* priceBox() const { return m_price; }
    void applyPreset(int index);

private:
    void refresh();
    void edit(const QString& text, const std::function<void(ClusterSpec&)>& change);

    PlanDocument* m_doc;
    QComboBox* m_preset;
    QComboBox* m_gpu;
    QSpinBox* m_nodes;
    QSpinBox* m_gpusPerNode;
    QDoubleSpinBox* m_intra;
    QDoubleSpinBox* m_inter;
    QDoubleSpinBox* m_price;
    QLabel* m_gpuInfo;
    std::optional<ClusterSpec> m_shown;
};

} // namespace meshwork::ui
