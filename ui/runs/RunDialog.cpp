#include "ui/runs/RunDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QToolButton>

namespace meshwork::ui {

QStringList RunDialog::detectGpus()
{
    const QString smi = QStandardPaths::findExecutable(QStringLiteral("nvidia-smi"));
    if (smi.isEmpty()) return {};
    QProcess p;
    p.start(smi, {QStringLiteral("--query-gpu=name,memory.total"), QStringLiteral("--format=csv,noheader")});
    if (!p.waitForFinished(1000) || p.exitCode() != 0) {
        p.kill();
        return {};
    }
    QStringList out;
    for (const QByteArray& line : p.readAllStandardOutput().split('\n'))
        if (!line.trimmed().isEmpty()) out << QString::fromUtf8(line.trimmed());
    return out;
}

RunDialog::RunDialog(const RunOptions& initial, const QStringList& gpus, int ranks, const QString& planSummary,
                     QWidget* parent)
    : QDialog(parent), m_ranks(ranks)
{
    setWindowTitle(tr("Run on this machine"));
    auto* form = new QFormLayout;
    auto* plan = new QLabel(planSummary);
    plan->setWordWrap(true);
    form->addRow(tr("Plan:"), plan);

    m_name = new QLineEdit(initial.name);
    m_name->setPlaceholderText(tr("the run id"));
    form->addRow(tr("&Name:"), m_name);

    m_device = new QComboBox;
    m_device->setObjectName(QStringLiteral("deviceCombo"));
    m_device->addItem(tr("This machine: CPU"));
    if (gpus.isEmpty()) {
        m_device->addItem(tr("This machine: GPUs (none found)"));
    } else {
        m_device->addItem((gpus.size() == 1 ? tr("This machine: 1 GPU, %1").arg(gpus.first())
                                              : tr("This machine: %1 GPUs, %2").arg(gpus.size()).arg(gpus.first())));
    }
    m_device->setCurrentIndex(initial.device == RunOptions::Device::Gpu && !gpus.isEmpty() ? 1 : 0);
    form->addRow(tr("&Target:"), m_device);

    m_data = new QComboBox;
    m_data->setObjectName(QStringLiteral("dataCombo"));
    m_data->addItem(tr("Synthetic corpus (learnable, generated)"));
    m_data->addItem(tr("Text file (byte tokens)"));
    m_data->addItem(tr("Token file (llm.c .bin)"));
    m_data->setCurrentIndex(int(initial.data));
    form->addRow(tr("&Data:"), m_data);

    m_path = new QLineEdit(initial.dataPath);
    auto* browse = new QToolButton;
    browse->setText(tr("…"));
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    form->addRow(tr("&File:"), pathRow);
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString filter = m_data->currentIndex() == 2 ? tr("Token files (*.bin);;All files (*)") : tr("Text (*.txt);;All files (*)");
        const QString f = QFileDialog::getOpenFileName(this, tr("Training data"), m_path->text(), filter);
        if (!f.isEmpty()) m_path->setText(f);
    });

    m_steps = new QSpinBox;
    m_steps->setRange(1, 100000000);
    m_steps->setValue(int(initial.steps));
    form->addRow(tr("&Steps:"), m_steps);

    m_lr = new QDoubleSpinBox;
    m_lr->setDecimals(6);
    m_lr->setRange(1e-6, 10);
    m_lr->setSingleStep(1e-4);
    m_lr->setValue(initial.lr);
    form->addRow(tr("&Learning rate:"), m_lr);

    m_checkpoint = new QSpinBox;
    m_checkpoint->setRange(0, 100000000);
    m_checkpoint->setValue(int(initial.checkpointEvery));
    m_checkpoint->setSpecialValueText(tr("only when stopped"));
    m_checkpoint->setSuffix(tr(" steps"));
    form->addRow(tr("&Checkpoint every:"), m_checkpoint);

    m_eval = new QSpinBox;
    m_eval->setRange(0, 100000000);
    m_eval->setValue(int(initial.evalEvery));
    m_eval->setSpecialValueText(tr("only at the end"));
    m_eval->setSuffix(tr(" steps"));
    form->addRow(tr("&Validate every:"), m_eval);

    m_problem = new QLabel;
    m_problem->setWordWrap(true);
    QPalette pal = m_problem->palette();
    pal.setColor(QPalette::WindowText, QColor(0xc0, 0x1c, 0x28));
    m_problem->setPalette(pal);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Run"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);

    auto update = [this, buttons, gpus] {
        const bool file = m_data->currentIndex() != 0;
        m_path->setEnabled(file);
        QString problem = checkRunOptions(options());
        if (problem.isEmpty() && m_device->currentIndex() == 1 && gpus.isEmpty())
            problem = tr("No NVIDIA GPU was found on this machine (nvidia-smi): train on the CPU.");
        if (problem.isEmpty() && m_ranks > 1)
            problem = tr("The plan has %1 ranks: %1 trainer processes will start here.").arg(m_ranks);
        m_problem->setText(problem);
        buttons->button(QDialogButtonBox::Ok)->setEnabled(checkRunOptions(options()).isEmpty()
                                                         && !(m_device->currentIndex() == 1 && gpus.isEmpty()));
    };
    for (QComboBox* c : {m_device, m_data}) connect(c, &QComboBox::currentIndexChanged, this, update);
    connect(m_path, &QLineEdit::textChanged, this, update);
    update();
}

RunOptions RunDialog::options() const
{
    RunOptions o;
    o.name = m_name->text().trimmed();
    o.device = m_device->currentIndex() == 1 ? RunOptions::Device::Gpu : RunOptions::Device::Cpu;
    o.data = RunOptions::Data(m_data->currentIndex());
    o.dataPath = m_path->text().trimmed();
    o.steps = m_steps->value();
    o.lr = m_lr->value();
    o.checkpointEvery = m_checkpoint->value();
    o.evalEvery = m_eval->value();
    return o;
}

} // namespace meshwork::ui
