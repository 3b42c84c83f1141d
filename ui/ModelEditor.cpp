#include "ui/ModelEditor.h"

#include "core/spec/Catalog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>

namespace meshwork::ui {

ModelEditor::ModelEditor(QWidget* parent)
    : QWidget(parent), m_name(new QLineEdit(this)), m_ffnKind(new QComboBox(this)), m_norm(new QComboBox(this)),
      m_position(new QComboBox(this)), m_tied(new QCheckBox(QStringLiteral("tied embeddings"), this)),
      m_bias(new QCheckBox(QStringLiteral("biases"), this))
{
    setObjectName(QStringLiteral("modelEditor"));
    auto* form = new QFormLayout(this);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_name->setObjectName(QStringLiteral("modelName"));
    form->addRow(QStringLiteral("name"), m_name);
    const struct { const char* name; const char* tip; int max; } specs[] = {
        {"layers", "transformer layers (L)", 1024},
        {"hidden", "hidden size (C)", 1 << 17},
        {"heads", "attention heads (NH)", 1024},
        {"kv-heads", "key/value heads (grouped-query attention)", 1024},
        {"ffn", "MLP inner size", 1 << 19},
        {"vocab", "vocabulary size (V)", 1 << 22},
        {"max-seq", "longest sequence the model takes", 1 << 21},
    };
    for (const auto& s : specs) {
        auto* box = new QSpinBox(this);
        const QString name = QString::fromLatin1(s.name);
        box->setObjectName(name);
        box->setRange(1, s.max);
        box->setKeyboardTracking(false);
        box->setToolTip(QString::fromLatin1(s.tip));
        form->addRow(name, box);
        m_fields[name] = box;
        connect(box, &QSpinBox::valueChanged, this, [this, name] { emitEdit(name); });
    }
    m_ffnKind->addItem(QStringLiteral("gelu"), int(FfnKind::Gelu));
    m_ffnKind->addItem(QStringLiteral("swiglu"), int(FfnKind::SwiGlu));
    m_norm->addItem(QStringLiteral("layernorm"), int(NormKind::LayerNorm));
    m_norm->addItem(QStringLiteral("rmsnorm"), int(NormKind::RmsNorm));
    m_position->addItem(QStringLiteral("learned"), int(PositionKind::Learned));
    m_position->addItem(QStringLiteral("rope"), int(PositionKind::Rope));
    form->addRow(QStringLiteral("ffn kind"), m_ffnKind);
    form->addRow(QStringLiteral("norm"), m_norm);
    form->addRow(QStringLiteral("position"), m_position);
    form->addRow(m_tied);
    form->addRow(m_bias);
    connect(m_name, &QLineEdit::editingFinished, this, [this] { emitEdit(QStringLiteral("name")); });
    for (QComboBox* c : {m_ffnKind, m_norm, m_position})
        connect(c, &QComboBox::activated, this, [this, c] { emitEdit(c == m_ffnKind ? QStringLiteral("ffn kind") : c == m_norm ? QStringLiteral("norm") : QStringLiteral("position")); });
    connect(m_tied, &QCheckBox::toggled, this, [this] { emitEdit(QStringLiteral("tied embeddings")); });
    connect(m_bias, &QCheckBox::toggled, this, [this] { emitEdit(QStringLiteral("biases")); });
}

QSpinBox* ModelEditor::field(const QString& name) const
{
    auto it = m_fields.find(name);
    return it == m_fields.end() ? nullptr : it->second;
}

void ModelEditor::setModel(const ModelSpec& m)
{
    m_model = m;
    const std::pair<const char*, int64_t> values[] = {{"layers", m.layers}, {"hidden", m.hidden}, {"heads", m.heads},
                                                      {"kv-heads", m.kvHeads}, {"ffn", m.ffn}, {"vocab", m.vocab},
                                                      {"max-seq", m.maxSeq}};
    for (const auto& [name, v] : values) {
        QSpinBox* box = m_fields.at(QString::fromLatin1(name));
        QSignalBlocker b(box);
        box->setValue(int(v));
    }
    QSignalBlocker b1(m_name), b2(m_ffnKind), b3(m_norm), b4(m_position), b5(m_tied), b6(m_bias);
    m_name->setText(QString::fromStdString(m.name));
    m_ffnKind->setCurrentIndex(m_ffnKind->findData(int(m.ffnKind)));
    m_norm->setCurrentIndex(m_norm->findData(int(m.normKind)));
    m_position->setCurrentIndex(m_position->findData(int(m.positionKind)));
    m_tied->setChecked(m.tiedEmbeddings);
    m_bias->setChecked(m.bias);
}

void ModelEditor::emitEdit(const QString& what)
{
    ModelSpec m = m_model;
    m.layers = m_fields.at(QStringLiteral("layers"))->value();
    m.hidden = m_fields.at(QStringLiteral("hidden"))->value();
    m.heads = m_fields.at(QStringLiteral("heads"))->value();
    m.kvHeads = m_fields.at(QStringLiteral("kv-heads"))->value();
    m.ffn = m_fields.at(QStringLiteral("ffn"))->value();
    if (m.vocab != m_fields.at(QStringLiteral("vocab"))->value()) {
        m.vocab = m_fields.at(QStringLiteral("vocab"))->value();
        m.paddedVocab = 0; // re-derived from the new vocabulary
    }
    m.maxSeq = m_fields.at(QStringLiteral("max-seq"))->value();
    m.ffnKind = FfnKind(m_ffnKind->currentData().toInt());
    m.normKind = NormKind(m_norm->currentData().toInt());
    m.positionKind = PositionKind(m_position->currentData().toInt());
    m.tiedEmbeddings = m_tied->isChecked();
    m.bias = m_bias->isChecked();
    const std::string typed = m_name->text().trimmed().toStdString();
    m.name = typed.empty() ? "custom" : typed;
    // A catalog model with changed dimensions is no longer that model (as the CLI marks it).
    if (what != QLatin1String("name") && findModel(m.name) && m.name.back() != '*') m.name += "*";
    m.fillDerived();
    emit modelEdited(m, what);
}

} // namespace meshwork::ui
