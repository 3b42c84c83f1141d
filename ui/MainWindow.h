// The workbench window: wires the panels (model, cluster, mesh, options, memory, estimate,
// search) to one PlanDocument, owns the menus, the dock layout and the file actions. Logic
// lives in the panels and the document, not here (CONVENTIONS.md).
#pragma once

#include <QMainWindow>

class QDockWidget;
class QLabel;

namespace meshwork::ui {

class ClusterPanel;
class EstimatePanel;
class MemoryChart;
class MeshPanel;
class ModelPanel;
class OptionsPanel;
class PlanDocument;
class RecentFiles;
class SearchPanel;
class RunsWorkspace;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    struct Options {
        bool restoreSettings = true; // geometry and dock layout from QSettings
        bool interactive = true;     // false: no modal dialogs (tests, screenshots); errors go to lastError()
        QString runsDatabase;        // the run store; empty: $XDG_DATA_HOME/meshwork/runs.sqlite
    };
    explicit MainWindow(Options options, QWidget* parent = nullptr);
    MainWindow() : MainWindow(Options{}) {}

    PlanDocument* document() const { return m_doc; }
    ModelPanel* modelPanel() const { return m_model; }
    ClusterPanel* clusterPanel() const { return m_cluster; }
    MeshPanel* meshPanel() const { return m_mesh; }
    OptionsPanel* optionsPanel() const { return m_options; }
    MemoryChart* memoryChart() const { return m_memory; }
    EstimatePanel* estimatePanel() const { return m_estimate; }
    SearchPanel* searchPanel() const { return m_search; }
    RunsWorkspace* runsWorkspace() const { return m_runs; }
    QDockWidget* dock(const QString& objectName) const;
    QString lastError() const { return m_lastError; }

public slots:
    bool openFile(const QString& path);
    bool saveFile(const QString& path);
    bool save();
    bool saveAs();
    void open();
    void newPlan();
    void showExport();
    void showSearch();
    // Starts the open plan as a training run (the Runs panel asks for data, steps, target).
    void runPlan();
    void resetLayout();

protected:
    void closeEvent(QCloseEvent* e) override;

private:
    QDockWidget* addPanel(QWidget* panel, const QString& title, const QString& objectName, Qt::DockWidgetArea area);
    void createActions();
    void updateTitle();
    void reportError(const QString& message);
    bool maybeSave();

    Options m_opts;
    PlanDocument* m_doc;
    ModelPanel* m_model;
    ClusterPanel* m_cluster;
    MeshPanel* m_mesh;
    OptionsPanel* m_options;
    MemoryChart* m_memory;
    EstimatePanel* m_estimate;
    SearchPanel* m_search;
    RunsWorkspace* m_runs;
    RecentFiles* m_recent = nullptr;
    QLabel* m_statusEstimate;
    QByteArray m_defaultState;
    QString m_lastError;
};

} // namespace meshwork::ui
