#include "ui/MainWindow.h"

#include "ui/ClusterPanel.h"
#include "ui/EstimatePanel.h"
#include "ui/ExportDialog.h"
#include "ui/Format.h"
#include "ui/MemoryChart.h"
#include "ui/MeshPanel.h"
#include "ui/ModelPanel.h"
#include "ui/OptionsPanel.h"
#include "ui/PlanDocument.h"
#include "ui/PlanFile.h"
#include "ui/RecentFiles.h"
#include "ui/SearchPanel.h"
#include "ui/runs/RunsWorkspace.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <QUndoStack>

// The icons are compiled into this static library; a static library's resources must be
// registered by hand (Q_INIT_RESOURCE, from the global namespace), or the linker drops them.
static void initMeshworkResources()
{
    Q_INIT_RESOURCE(meshwork);
}

namespace meshwork::ui {

MainWindow::MainWindow(Options options, QWidget* parent)
    : QMainWindow(parent), m_opts(options), m_doc(new PlanDocument(this)), m_statusEstimate(new QLabel(this))
{
    initMeshworkResources();
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/meshwork.svg")));
    setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);

    m_mesh = new MeshPanel(m_doc, this);
    setCentralWidget(m_mesh);
    m_model = new ModelPanel(m_doc, this);
    m_cluster = new ClusterPanel(m_doc, this);
    m_options = new OptionsPanel(m_doc, this);
    m_estimate = new EstimatePanel(m_doc, this);
    m_memory = new MemoryChart(m_doc, this);
    m_search = new SearchPanel(m_doc, this);
    m_runs = new RunsWorkspace(m_opts.runsDatabase, this);

    addPanel(m_model, QStringLiteral("Model"), QStringLiteral("modelDock"), Qt::LeftDockWidgetArea);
    addPanel(m_cluster, QStringLiteral("Cluster"), QStringLiteral("clusterDock"), Qt::LeftDockWidgetArea);
    addPanel(m_estimate, QStringLiteral("Estimate"), QStringLiteral("estimateDock"), Qt::RightDockWidgetArea);
    addPanel(m_options, QStringLiteral("Training options"), QStringLiteral("optionsDock"), Qt::RightDockWidgetArea);
    auto* memoryDock = addPanel(m_memory, QStringLiteral("Memory budget"), QStringLiteral("memoryDock"), Qt::BottomDockWidgetArea);
    auto* searchDock = addPanel(m_search, QStringLiteral("Search"), QStringLiteral("searchDock"), Qt::BottomDockWidgetArea);
    auto* runsDock = addPanel(m_runs, QStringLiteral("Runs"), QStringLiteral("runsDock"), Qt::BottomDockWidgetArea);
    tabifyDockWidget(memoryDock, searchDock);
    tabifyDockWidget(memoryDock, runsDock);
    memoryDock->raise();
    resize(1480, 920);
    // Side docks own the full height; the bottom area sits between them under the mesh.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    resizeDocks({dock(QStringLiteral("modelDock")), dock(QStringLiteral("estimateDock"))}, {340, 360}, Qt::Horizontal);
    resizeDocks({memoryDock}, {300}, Qt::Vertical);
    resizeDocks({dock(QStringLiteral("estimateDock")), dock(QStringLiteral("optionsDock"))}, {560, 340}, Qt::Vertical);
    resizeDocks({dock(QStringLiteral("modelDock")), dock(QStringLiteral("clusterDock"))}, {520, 340}, Qt::Vertical);

    createActions();
    statusBar()->addPermanentWidget(m_statusEstimate);
    statusBar()->setObjectName(QStringLiteral("statusBar"));

    connect(m_doc, &PlanDocument::changed, this, [this] {
        const Estimate& e = m_doc->estimate();
        m_statusEstimate->setText(e.valid ? QStringLiteral("%1 tokens/s · MFU %2 · %3 per GPU")
                                                .arg(formatCount(e.throughput.tokensPerS), formatPercent(e.throughput.mfu),
                                                     formatGiB(e.memory.totalGiB))
                                          : QStringLiteral("invalid plan: %1 problem(s)").arg(e.errors.size()));
    });
    connect(m_doc, &PlanDocument::filePathChanged, this, &MainWindow::updateTitle);
    connect(m_doc, &PlanDocument::modifiedChanged, this, &MainWindow::updateTitle);
    emit m_doc->changed();
    updateTitle();

    m_defaultState = saveState();
    if (m_opts.restoreSettings) {
        QSettings s;
        restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
        restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    }
}

QDockWidget* MainWindow::addPanel(QWidget* panel, const QString& title, const QString& objectName, Qt::DockWidgetArea area)
{
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(objectName); // saveState() needs it
    auto* scroll = new QScrollArea(dock);
    scroll->setWidget(panel);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    // Panels reflow to the dock's width (word-wrapped labels, shrinking combos); only a
    // short dock scrolls, vertically.
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    dock->setWidget(scroll);
    addDockWidget(area, dock);
    return dock;
}

QDockWidget* MainWindow::dock(const QString& objectName) const
{
    return findChild<QDockWidget*>(objectName);
}

void MainWindow::createActions()
{
    QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
    QAction* newAct = file->addAction(QIcon(QStringLiteral(":/icons/new.svg")), QStringLiteral("&New plan"), this, &MainWindow::newPlan);
    newAct->setShortcut(QKeySequence::New);
    QAction* openAct = file->addAction(QIcon(QStringLiteral(":/icons/open.svg")), QStringLiteral("&Open…"), this, &MainWindow::open);
    openAct->setShortcut(QKeySequence::Open);
    QMenu* recentMenu = file->addMenu(QStringLiteral("Open &Recent"));
    recentMenu->setObjectName(QStringLiteral("recentMenu"));
    m_recent = new RecentFiles(recentMenu, this);
    connect(m_recent, &RecentFiles::openRequested, this, [this](const QString& p) { openFile(p); });
    QAction* saveAct = file->addAction(QIcon(QStringLiteral(":/icons/save.svg")), QStringLiteral("&Save"), this, &MainWindow::save);
    saveAct->setShortcut(QKeySequence::Save);
    QAction* saveAsAct = file->addAction(QStringLiteral("Save &As…"), this, &MainWindow::saveAs);
    saveAsAct->setShortcut(QKeySequence::SaveAs);
    file->addSeparator();
    QAction* importAct = file->addAction(QStringLiteral("&Import model config.json…"), m_model, &ModelPanel::chooseImportFile);
    importAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    QAction* exportAct = file->addAction(QIcon(QStringLiteral(":/icons/export.svg")), QStringLiteral("&Export plan…"), this, &MainWindow::showExport);
    exportAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    file->addSeparator();
    QAction* quitAct = file->addAction(QStringLiteral("&Quit"), this, &QWidget::close);
    quitAct->setShortcut(QKeySequence::Quit);
    quitAct->setMenuRole(QAction::QuitRole);

    QMenu* edit = menuBar()->addMenu(QStringLiteral("&Edit"));
    QAction* undo = m_doc->undoStack()->createUndoAction(this, QStringLiteral("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    undo->setIcon(QIcon(QStringLiteral(":/icons/undo.svg")));
    QAction* redo = m_doc->undoStack()->createRedoAction(this, QStringLiteral("&Redo"));
    redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence::Redo});
    redo->setIcon(QIcon(QStringLiteral(":/icons/redo.svg")));
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* plan = menuBar()->addMenu(QStringLiteral("&Plan"));
    QAction* searchAct = plan->addAction(QIcon(QStringLiteral(":/icons/search.svg")), QStringLiteral("&Search plans"), this, &MainWindow::showSearch);
    searchAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    QAction* runAct = plan->addAction(QIcon(QStringLiteral(":/icons/run.svg")), QStringLiteral("&Run…"), this, &MainWindow::runPlan);
    runAct->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    runAct->setObjectName(QStringLiteral("runAction"));
    QMenu* presets = plan->addMenu(QStringLiteral("Cluster &preset"));
    for (size_t i = 0; i < clusterPresets().size(); ++i)
        presets->addAction(clusterPresets()[i].name, this, [this, i] { m_cluster->applyPreset(int(i)); });

    QMenu* view = menuBar()->addMenu(QStringLiteral("&View"));
    for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());
    view->addSeparator();
    view->addAction(QStringLiteral("&Reset layout"), this, &MainWindow::resetLayout);

    QToolBar* bar = addToolBar(QStringLiteral("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar")); // saveState() needs it
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(openAct);
    bar->addAction(saveAct);
    bar->addSeparator();
    bar->addAction(undo);
    bar->addAction(redo);
    bar->addSeparator();
    bar->addAction(searchAct);
    bar->addAction(exportAct);
    bar->addAction(runAct);
}

void MainWindow::runPlan()
{
    if (QDockWidget* d = dock(QStringLiteral("runsDock"))) {
        d->show();
        d->raise();
    }
    const PlanState& s = m_doc->state();
    m_runs->startRunOn(s.model, s.plan, s.cluster);
}

void MainWindow::updateTitle()
{
    const QString name = m_doc->filePath().isEmpty() ? QStringLiteral("untitled") : QFileInfo(m_doc->filePath()).fileName();
    setWindowTitle(QStringLiteral("%1[*] — Meshwork").arg(name));
    setWindowModified(m_doc->isModified());
}

void MainWindow::reportError(const QString& message)
{
    m_lastError = message;
    statusBar()->showMessage(message, 15000);
    if (m_opts.interactive) QMessageBox::warning(this, QStringLiteral("Meshwork"), message);
}

bool MainWindow::openFile(const QString& path)
{
    QString error;
    auto state = readPlanFile(path, &error);
    if (!state) {
        reportError(error + QStringLiteral(". The open plan is unchanged."));
        return false;
    }
    m_doc->reset(*state, QFileInfo(path).absoluteFilePath());
    m_recent->add(path);
    m_lastError.clear();
    statusBar()->showMessage(QStringLiteral("Opened %1").arg(QFileInfo(path).fileName()), 5000);
    return true;
}

bool MainWindow::saveFile(const QString& path)
{
    QString target = path;
    if (!target.endsWith(QLatin1String(kPlanFileSuffix))) {
        if (target.endsWith(QLatin1String(".json"))) target.chop(5);
        target += QLatin1String(kPlanFileSuffix);
    }
    QString error;
    if (!writePlanFile(target, m_doc->state(), &m_doc->estimate(), &error)) {
        reportError(error);
        return false;
    }
    m_doc->setFilePath(QFileInfo(target).absoluteFilePath());
    m_doc->markSaved();
    m_recent->add(target);
    statusBar()->showMessage(QStringLiteral("Saved %1").arg(QFileInfo(target).fileName()), 5000);
    return true;
}

bool MainWindow::save()
{
    return m_doc->filePath().isEmpty() ? saveAs() : saveFile(m_doc->filePath());
}

bool MainWindow::saveAs()
{
    const QString suggested = m_doc->filePath().isEmpty()
                                  ? QString::fromStdString(m_doc->model().name) + QLatin1String(kPlanFileSuffix)
                                  : m_doc->filePath();
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save plan"), suggested,
                                                      QStringLiteral("Meshwork plans (*.meshwork.json)"));
    return !path.isEmpty() && saveFile(path);
}

void MainWindow::open()
{
    if (!maybeSave()) return;
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Open plan"), QString(),
                                                      QStringLiteral("Meshwork plans (*.meshwork.json);;JSON (*.json)"));
    if (!path.isEmpty()) openFile(path);
}

void MainWindow::newPlan()
{
    if (!maybeSave()) return;
    m_doc->reset(examplePlanState());
}

void MainWindow::showExport()
{
    auto* dialog = new ExportDialog(m_doc->state(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::showSearch()
{
    if (QDockWidget* d = dock(QStringLiteral("searchDock"))) {
        d->show();
        d->raise();
    }
    m_search->startSearch();
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState);
    for (QDockWidget* d : findChildren<QDockWidget*>()) d->show();
}

bool MainWindow::maybeSave()
{
    if (!m_doc->isModified() || !m_opts.interactive) return true;
    const auto answer = QMessageBox::question(this, QStringLiteral("Meshwork"),
                                              QStringLiteral("The plan has unsaved changes. Save them?"),
                                              QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
    if (answer == QMessageBox::Cancel) return false;
    return answer == QMessageBox::Discard || save();
}

void MainWindow::closeEvent(QCloseEvent* e)
{
    if (!maybeSave()) {
        e->ignore();
        return;
    }
    if (m_opts.restoreSettings) {
        QSettings s;
        s.setValue(QStringLiteral("window/geometry"), saveGeometry());
        s.setValue(QStringLiteral("window/state"), saveState());
    }
    e->accept();
}

} // namespace meshwork::ui
