#include "ui/ExportDialog.h"

#include "core/planner/Export.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QVBoxLayout>

namespace meshwork::ui {

ExportDialog::ExportDialog(const PlanState& state, QWidget* parent)
    : QDialog(parent), m_state(state), m_format(new QComboBox(this)), m_text(new QPlainTextEdit(this)),
      m_message(new QLabel(this))
{
    setObjectName(QStringLiteral("exportDialog"));
    setWindowTitle(QStringLiteral("Export plan"));
    m_format->setObjectName(QStringLiteral("exportFormat"));
    m_format->addItem(QStringLiteral("Megatron-LM (pretrain_gpt.py arguments)"), int(ExportFormat::Megatron));
    m_format->addItem(QStringLiteral("DeepSpeed (ds_config.json and launch line)"), int(ExportFormat::DeepSpeed));
    m_format->addItem(QStringLiteral("Colossal-AI (HybridParallelPlugin and Booster)"), int(ExportFormat::ColossalAI));
    m_format->addItem(QStringLiteral("torchtitan (job TOML)"), int(ExportFormat::Torchtitan));
    m_text->setReadOnly(true);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setObjectName(QStringLiteral("exportText"));

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* copy = buttons->addButton(QStringLiteral("Copy"), QDialogButtonBox::ActionRole);
    auto* saveButton = buttons->addButton(QStringLiteral("Save…"), QDialogButtonBox::ActionRole);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(QStringLiteral("Format"), this));
    top->addWidget(m_format, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
    resize(760, 520);

    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::regenerate);
    connect(copy, &QPushButton::clicked, this, &ExportDialog::copyToClipboard);
    connect(saveButton, &QPushButton::clicked, this, &ExportDialog::save);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    regenerate();
}

QString ExportDialog::text() const { return m_text->toPlainText(); }

void ExportDialog::regenerate()
{
    try {
        const auto f = ExportFormat(m_format->currentData().toInt());
        m_text->setPlainText(QString::fromStdString(exportPlan(m_state.model, m_state.cluster, m_state.plan, f)));
        m_message->clear();
    } catch (const std::exception& e) {
        m_text->clear();
        m_message->setText(QStringLiteral("Cannot export this plan: %1").arg(QString::fromStdString(e.what())));
    }
}

void ExportDialog::copyToClipboard()
{
    QApplication::clipboard()->setText(text());
    m_message->setText(QStringLiteral("Copied to the clipboard."));
}

void ExportDialog::save()
{
    static const char* suffixes[] = {"sh", "json", "py", "toml"};
    const int f = m_format->currentData().toInt();
    const QString suffix = QString::fromLatin1(suffixes[f >= 0 && f < 4 ? f : 0]);
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save the exported plan"),
                                                      QStringLiteral("plan.") + suffix);
    if (path.isEmpty()) return;
    QSaveFile out(path);
    const QByteArray bytes = text().toUtf8();
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit()) {
        m_message->setText(QStringLiteral("Could not save %1: %2").arg(QFileInfo(path).fileName(), out.errorString()));
        return;
    }
    m_message->setText(QStringLiteral("Saved %1.").arg(QFileInfo(path).fileName()));
}

} // namespace meshwork::ui
