#include "ui/ModelPanel.h"

#include "core/spec/HfConfig.h"
#include "ui/Format.h"
#include "ui/ModelCatalogModel.h"
#include "ui/ModelEditor.h"
#include "ui/PlanDocument.h"
#include "ui/Theme.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QTableView>
#include <QTabWidget>
#include <QVBoxLayout>

namespace meshwork::ui {

namespace {
QString localJsonPath(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls()) return {};
    for (const QUrl& u : mime->urls())
        if (u.isLocalFile() && u.toLocalFile().endsWith(QStringLiteral(".json"), Qt::CaseInsensitive)) return u.toLocalFile();
    return {};
}
} // namespace

ModelPanel::ModelPanel(PlanDocument* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_catalog(new ModelCatalogModel(this)), m_proxy(new ModelFilterProxy(this)),
      m_search(new QLineEdit(this)), m_family(new QComboBox(this)), m_view(new QTableView(this)),
      m_editor(new ModelEditor(this)), m_message(new QLabel(this)), m_summary(new QLabel(this))
{
    setObjectName(QStringLiteral("modelPanel"));
    setAcceptDrops(true);
    m_proxy->setSourceModel(m_catalog);
    m_proxy->setSortRole(ModelCatalogModel::SortRole);

    m_search->setObjectName(QStringLiteral("modelSearch"));
    m_search->setPlaceholderText(QStringLiteral("Search models"));
    m_search->setClearButtonEnabled(true);
    m_family->setObjectName(QStringLiteral("modelFamily"));
    m_family->addItem(QStringLiteral("every family"), QString());
    for (const QString& f : m_catalog->families()) m_family->addItem(f, f);

    m_view->setObjectName(QStringLiteral("modelCatalog"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(ModelCatalogModel::Parameters, Qt::AscendingOrder);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(ModelCatalogModel::Name, QHeaderView::Stretch);
    m_view->horizontalHeader()->setSectionResizeMode(ModelCatalogModel::Family, QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(ModelCatalogModel::Parameters, QHeaderView::ResizeToContents);
    m_view->setAlternatingRowColors(true);

    auto* import = new QPushButton(QStringLiteral("Import config.json…"), this);
    import->setObjectName(QStringLiteral("importConfig"));
    import->setToolTip(QStringLiteral("a Hugging Face config.json (GPT-2, LLaMA, Mistral, Qwen2); or drop one here"));
    m_message->setWordWrap(true);
    m_message->setObjectName(QStringLiteral("importMessage"));
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);

    auto* filters = new QHBoxLayout;
    filters->addWidget(m_search, 1);
    filters->addWidget(m_family);

    auto* catalogPage = new QWidget(this);
    auto* cl = new QVBoxLayout(catalogPage);
    cl->setContentsMargins(0, 4, 0, 0);
    cl->addLayout(filters);
    cl->addWidget(m_view, 1);

    auto* editorScroll = new QScrollArea(this);
    editorScroll->setWidget(m_editor);
    editorScroll->setWidgetResizable(true);
    editorScroll->setFrameShape(QFrame::NoFrame);

    auto* tabs = new QTabWidget(this);
    tabs->setObjectName(QStringLiteral("modelTabs"));
    tabs->addTab(catalogPage, QStringLiteral("Catalog"));
    tabs->addTab(editorScroll, QStringLiteral("Custom"));

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(tabs, 1);
    layout->addWidget(import);
    layout->addWidget(m_message);

    connect(m_search, &QLineEdit::textChanged, m_proxy, &ModelFilterProxy::setSearch);
    connect(m_family, &QComboBox::currentIndexChanged, this, [this] { m_proxy->setFamily(m_family->currentData().toString()); });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
        if (!current.isValid()) return;
        const ModelSpec& m = m_catalog->modelAt(m_proxy->mapToSource(current).row());
        if (m.name != m_doc->model().name || !sameModel(m, m_doc->model()))
            m_doc->editModel(m, QStringLiteral("Choose model %1").arg(QString::fromStdString(m.name)));
    });
    connect(m_editor, &ModelEditor::modelEdited, this, [this](const ModelSpec& m, const QString& what) {
        m_doc->editModel(m, QStringLiteral("Edit model %1").arg(what));
    });
    connect(import, &QPushButton::clicked, this, &ModelPanel::chooseImportFile);
    connect(doc, &PlanDocument::changed, this, &ModelPanel::refresh);
    refresh();
}

void ModelPanel::refresh()
{
    const ModelSpec& m = m_doc->model();
    if (m_shown && sameModel(*m_shown, m)) return; // a plan edit: nothing here changed
    m_shown = m;
    m_editor->setModel(m);
    m_summary->setText(QStringLiteral("<b>%1</b> — %2 parameters · L %3 · C %4 · NH %5 · KV %6 · V %7")
                           .arg(QString::fromStdString(m.name).toHtmlEscaped(), formatCount(double(m.parameterCount())))
                           .arg(m.layers).arg(m.hidden).arg(m.heads).arg(m.kvHeads).arg(m.vocab));
    const int row = m_catalog->rowOf(m.name);
    QSignalBlocker block(m_view->selectionModel());
    if (row >= 0 && sameModel(m_catalog->modelAt(row), m)) {
        const QModelIndex idx = m_proxy->mapFromSource(m_catalog->index(row, 0));
        if (idx.isValid()) {
            m_view->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
            m_view->scrollTo(idx);
        }
    } else {
        m_view->selectionModel()->clear();
    }
}

bool ModelPanel::importFile(const QString& path)
{
    const QPalette& pal = palette();
    try {
        ModelSpec m = loadModelFile(path.toStdString());
        if (m.name.empty()) m.name = QFileInfo(path).completeBaseName().toStdString();
        m_doc->editModel(m, QStringLiteral("Import %1").arg(QFileInfo(path).fileName()));
        m_message->setText(QStringLiteral("<span style='color:%1'>Imported %2 from %3</span>")
                               .arg(okColor(pal).name(), QString::fromStdString(m.name).toHtmlEscaped(),
                                    QFileInfo(path).fileName().toHtmlEscaped()));
        m_message->setProperty("failed", false);
        return true;
    } catch (const std::exception& e) {
        m_message->setText(QStringLiteral("<span style='color:%1'>Could not import %2: %3. The model is unchanged.</span>")
                               .arg(errorColor(pal).name(), QFileInfo(path).fileName().toHtmlEscaped(),
                                    QString::fromStdString(e.what()).toHtmlEscaped()));
        m_message->setProperty("failed", true);
        return false;
    }
}

QString ModelPanel::importError() const
{
    return m_message->property("failed").toBool() ? m_message->text() : QString();
}

void ModelPanel::chooseImportFile()
{
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Import a model"), QString(),
                                                      QStringLiteral("Model config (*.json);;All files (*)"));
    if (!path.isEmpty()) importFile(path);
}

void ModelPanel::dragEnterEvent(QDragEnterEvent* e)
{
    if (!localJsonPath(e->mimeData()).isEmpty()) e->acceptProposedAction();
}

void ModelPanel::dropEvent(QDropEvent* e)
{
    const QString path = localJsonPath(e->mimeData());
    if (path.isEmpty()) return;
    e->acceptProposedAction();
    importFile(path);
}

} // namespace meshwork::ui
