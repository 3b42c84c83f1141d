// The workbench driven as a user drives it, offscreen: degrees change the estimate and the
// memory bars; an invalid plan lists its reasons with nothing disabled; undo and redo restore
// exact plans and a slider drag is one step; a config.json import fills the model; a saved
// plan reopens identical; a search row applies; the mesh flags TP groups that cross nodes.
#include "core/planner/StageBalance.h"
#include "core/spec/Catalog.h"
#include "core/spec/StageLayers.h"
#include "ui/ClusterPanel.h"
#include "ui/DegreeControl.h"
#include "ui/EstimatePanel.h"
#include "ui/ExportDialog.h"
#include "ui/Format.h"
#include "ui/IssueList.h"
#include "ui/MainWindow.h"
#include "ui/MemoryChart.h"
#include "ui/MeshPanel.h"
#include "ui/MeshView.h"
#include "ui/ModelEditor.h"
#include "ui/ModelPanel.h"
#include "ui/OptionsPanel.h"
#include "ui/PlanDocument.h"
#include "ui/SearchPanel.h"
#include "ui/SearchResultsModel.h"
#include "ui/WrappedLabel.h"

#include <QAction>
#include <QCheckBox>
#include <QClipboard>
#include <QGuiApplication>
#include <QComboBox>
#include <QPushButton>
#include <QScreen>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QLineEdit>
#include <QMimeData>
#include <QSignalSpy>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QToolBar>
#include <QUndoStack>

#include <memory>

using namespace meshwork;
using namespace meshwork::ui;

namespace {
std::unique_ptr<MainWindow> makeWindow()
{
    auto w = std::make_unique<MainWindow>(MainWindow::Options{false, false});
    w->resize(1400, 900);
    w->show();
    return w;
}

void setDegree(MainWindow& w, const char* name, int v)
{
    w.meshPanel()->degree(QString::fromLatin1(name))->spinBox()->setValue(v);
}

bool allContain(const QStringList& haystack, const QString& needle)
{
    for (const QString& s : haystack)
        if (s.contains(needle)) return true;
    return false;
}
} // namespace

class TestWorkbench : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void opensOnExample();
    void degreeUpdatesEstimateAndBars_data();
    void degreeUpdatesEstimateAndBars();
    void invalidPlanShowsReasons_data();
    void invalidPlanShowsReasons();
    void balanceEvensPipelineStages();
    void undoRedoRestoresExactPlans();
    void sliderDragIsOneUndoStep();
    void hfImportFillsModel();
    void hfImportByDrop();
    void hfImportErrorKeepsModel();
    void savedPlanReopensIdentical();
    void badFileLosesNothing();
    void searchAppliesChosenRow();
    void searchCancels();
    void meshFlagsTpAcrossNodes_data();
    void meshFlagsTpAcrossNodes();
    void clusterPresetRefitsDp();
    void docksAndToolbarsHaveNames();
    void exportShowsEachFormat_data();
    void exportShowsEachFormat();
    void meshRepaintsOnlyWhatChanged();
    void wrappedLabelHintsFollowText();
    void issueListWrapsAndCopies();
};

void TestWorkbench::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // QSettings go to a test location
    QCoreApplication::setOrganizationName(QStringLiteral("meshwork-test"));
    QCoreApplication::setApplicationName(QStringLiteral("meshwork-test"));
}

void TestWorkbench::opensOnExample()
{
    auto w = makeWindow();
    const PlanDocument* doc = w->document();
    QCOMPARE(QString::fromStdString(doc->model().name), QStringLiteral("gpt2-124m"));
    QCOMPARE(doc->cluster().worldSize(), 8);
    QCOMPARE(QString::fromStdString(doc->cluster().gpu.id), QStringLiteral("h100-sxm"));
    QVERIFY2(doc->estimate().valid, doc->estimate().errors.empty() ? "" : doc->estimate().errors.front().c_str());
    QVERIFY(doc->estimate().throughput.tokensPerS > 0);
    QCOMPARE(w->estimatePanel()->tokensPerSText(), formatCount(doc->estimate().throughput.tokensPerS));
    QCOMPARE(w->meshPanel()->view()->cells().size(), size_t(8));
}

void TestWorkbench::degreeUpdatesEstimateAndBars_data()
{
    QTest::addColumn<int>("dp");
    QTest::addColumn<int>("tp");
    QTest::addColumn<int>("pp");
    QTest::newRow("tp 2") << 4 << 2 << 1;
    QTest::newRow("pp 4") << 2 << 1 << 4;
    QTest::newRow("tp 2 pp 2") << 2 << 2 << 2;
    QTest::newRow("pp 2") << 4 << 1 << 2;
}

void TestWorkbench::degreeUpdatesEstimateAndBars()
{
    QFETCH(int, dp);
    QFETCH(int, tp);
    QFETCH(int, pp);
    auto w = makeWindow();
    const PlanDocument* doc = w->document();
    const double before = doc->estimate().throughput.tokensPerS;
    const double memBefore = doc->estimate().memory.totalGiB;
    setDegree(*w, "tp", tp);
    setDegree(*w, "pp", pp);
    setDegree(*w, "dp", dp);
    QCOMPARE(doc->plan().tp, tp);
    QCOMPARE(doc->plan().pp, pp);
    QCOMPARE(doc->plan().dp, dp);
    const Estimate& e = doc->estimate();
    QVERIFY2(e.valid, e.errors.empty() ? "" : e.errors.front().c_str());
    QVERIFY(e.throughput.tokensPerS != before || e.memory.totalGiB != memBefore);
    // The bars show this estimate: one per stage, each stack summing to the stage's total.
    const auto totals = w->memoryChart()->stageTotals();
    QCOMPARE(int(totals.size()), pp);
    QCOMPARE(int(e.memory.stages.size()), pp);
    for (int s = 0; s < pp; ++s) QVERIFY2(std::abs(totals[size_t(s)] - e.memory.stages[size_t(s)].total) < 1e-6,
                                          qPrintable(QStringLiteral("stage %1: bars %2, estimate %3").arg(s).arg(totals[size_t(s)]).arg(e.memory.stages[size_t(s)].total)));
    QCOMPARE(w->memoryChart()->capacityLine(), doc->cluster().gpu.memoryGiB);
    QCOMPARE(w->estimatePanel()->tokensPerSText(), formatCount(e.throughput.tokensPerS));
    // The mesh follows: colour by PP stage has pp colours.
    w->meshPanel()->colorAxisBox()->setCurrentIndex(1);
    QCOMPARE(w->meshPanel()->view()->colorKeyCount(), pp);
}

void TestWorkbench::invalidPlanShowsReasons_data()
{
    QTest::addColumn<QString>("control");
    QTest::addColumn<int>("value");
    QTest::addColumn<QStringList>("reasons");
    QTest::newRow("tp 8") << "tp" << 8
                          << QStringList{QStringLiteral("heads (12) must be divisible by tp (8)"),
                                         QStringLiteral("must equal the cluster's GPUs")};
    QTest::newRow("pp 5") << "pp" << 5
                          << QStringList{QStringLiteral("layers (12) must be divisible by pp x vpp"),
                                         QStringLiteral("must equal the cluster's GPUs")};
    QTest::newRow("dp 3") << "dp" << 3 << QStringList{QStringLiteral("must equal the cluster's GPUs")};
}

void TestWorkbench::invalidPlanShowsReasons()
{
    QFETCH(QString, control);
    QFETCH(int, value);
    QFETCH(QStringList, reasons);
    auto w = makeWindow();
    w->meshPanel()->degree(control)->spinBox()->setValue(value);
    QVERIFY(!w->document()->estimate().valid);
    const QStringList shown = w->meshPanel()->issues()->errors();
    for (const QString& r : reasons) QVERIFY2(allContain(shown, r), qPrintable(r + QStringLiteral(" not in: ") + shown.join(QLatin1Char('|'))));
    QVERIFY(w->meshPanel()->issues()->text().contains(reasons.front().toHtmlEscaped()));
    QCOMPARE(w->estimatePanel()->issues()->errors(), shown);
    // Nothing the user needs to fix it is disabled.
    for (const char* d : {"dp", "tp", "pp", "vpp", "cp"}) {
        QVERIFY(w->meshPanel()->degree(QString::fromLatin1(d))->slider()->isEnabled());
        QVERIFY(w->meshPanel()->degree(QString::fromLatin1(d))->spinBox()->isEnabled());
    }
    QVERIFY(w->meshPanel()->orderBox()->isEnabled());
    QVERIFY(w->optionsPanel()->isEnabled());
    // Fixing it clears the reasons.
    w->document()->undoStack()->undo();
    QVERIFY(w->document()->estimate().valid);
    QVERIFY(w->meshPanel()->issues()->errors().isEmpty());
}

// GPT-2 124M over pp 2 with 6 layers a stage: the last stage, which also runs the head and the
// loss, is the slowest and the mesh's issues say which split evens them; Balance applies it
// (one undo step), a typed list applies too, and a list that is no list changes nothing.
void TestWorkbench::balanceEvensPipelineStages()
{
    auto w = makeWindow();
    MeshPanel* mesh = w->meshPanel();
    setDegree(*w, "pp", 2);
    setDegree(*w, "dp", 4);
    QVERIFY(w->document()->estimate().valid);
    QVERIFY(w->document()->plan().stageLayers.empty());
    Plan even = w->document()->plan();
    const std::vector<int> split = balancedStageLayers(w->document()->model(), w->document()->cluster(), even,
                                                       w->document()->target(), w->document()->estimate().flashAttention);
    QCOMPARE(int(split.size()), 2);
    const QString hint = QStringLiteral("stage-layers %1 makes the slowest").arg(QString::fromStdString(formatStageLayers(split)));
    QVERIFY2(allContain(mesh->issues()->warnings(), hint), qPrintable(mesh->issues()->warnings().join(QLatin1Char('|'))));
    const double evenTokens = w->document()->estimate().throughput.tokensPerS;

    const int undoBefore = w->document()->undoStack()->count();
    QTest::mouseClick(mesh->balanceButton(), Qt::LeftButton);
    QCOMPARE(w->document()->plan().stageLayers, split);
    QCOMPARE(mesh->stageLayersEdit()->text(), QString::fromStdString(formatStageLayers(split)));
    QVERIFY(w->document()->estimate().valid);
    QVERIFY(w->document()->estimate().throughput.tokensPerS > evenTokens);
    QVERIFY(!allContain(mesh->issues()->warnings(), QStringLiteral("pipeline stages are uneven")));
    QCOMPARE(w->document()->undoStack()->count(), undoBefore + 1);
    // Coloured by pipeline stage, the legend names each stage's layers.
    mesh->colorAxisBox()->setCurrentIndex(1);
    QCOMPARE(mesh->view()->keyLabel(0), QStringLiteral("0: %1 layers").arg(split[0]));
    QCOMPARE(mesh->view()->keyLabel(1), QStringLiteral("1: %1 layer%2").arg(split[1]).arg(split[1] == 1 ? "" : "s"));

    // A typed list that does not add up to the model's layers: the plan takes it and says why.
    mesh->stageLayersEdit()->setText(QStringLiteral("10,1"));
    emit mesh->stageLayersEdit()->editingFinished();
    QCOMPARE(w->document()->plan().stageLayers, (std::vector<int>{10, 1}));
    QVERIFY(allContain(mesh->issues()->errors(), QStringLiteral("stage-layers (10,1) add up to 11 layers but the model has 12")));
    // Text that is no list: the plan stays, the field names the fault.
    mesh->stageLayersEdit()->setText(QStringLiteral("ten,2"));
    emit mesh->stageLayersEdit()->editingFinished();
    QCOMPARE(w->document()->plan().stageLayers, (std::vector<int>{10, 1}));
    QVERIFY(mesh->stageLayersEdit()->toolTip().contains(QStringLiteral("expected layer counts separated by commas")));
    // Empty: even again.
    mesh->stageLayersEdit()->setText(QString());
    emit mesh->stageLayersEdit()->editingFinished();
    QVERIFY(w->document()->plan().stageLayers.empty());
    QVERIFY(w->document()->estimate().valid);
    // A new pp starts even: the list described the old stages.
    QTest::mouseClick(mesh->balanceButton(), Qt::LeftButton);
    QCOMPARE(w->document()->plan().stageLayers, split);
    setDegree(*w, "pp", 4);
    setDegree(*w, "dp", 2);
    QVERIFY(w->document()->plan().stageLayers.empty());
    QVERIFY(w->document()->estimate().valid);
}

void TestWorkbench::undoRedoRestoresExactPlans()
{
    auto w = makeWindow();
    PlanDocument* doc = w->document();
    QUndoStack* undo = doc->undoStack();
    std::vector<Plan> plans{doc->plan()};
    setDegree(*w, "tp", 2);
    plans.push_back(doc->plan());
    setDegree(*w, "dp", 4);
    plans.push_back(doc->plan());
    w->optionsPanel()->zeroBox()->setCurrentIndex(3);
    emit w->optionsPanel()->zeroBox()->activated(3);
    plans.push_back(doc->plan());
    w->optionsPanel()->spBox()->setChecked(true);
    plans.push_back(doc->plan());
    w->optionsPanel()->seqBox()->setValue(512);
    plans.push_back(doc->plan());
    // grad-reduce, found by its CLI name, next to precision.
    auto* gradReduce = w->optionsPanel()->findChild<QComboBox*>(QStringLiteral("grad-reduce"));
    QVERIFY(gradReduce);
    QCOMPARE(gradReduce, w->optionsPanel()->gradReduceBox());
    QCOMPARE(gradReduce->currentText(), QStringLiteral("fp32"));
    const double dpBefore = doc->estimate().time.dpCommTotal;
    gradReduce->setCurrentIndex(gradReduce->findText(QStringLiteral("bf16")));
    emit gradReduce->activated(gradReduce->currentIndex());
    QCOMPARE(doc->plan().gradReduce, Precision::Bf16);
    QCOMPARE(undo->undoText(), QStringLiteral("Set grad-reduce to bf16"));
    QVERIFY2(doc->estimate().time.dpCommTotal < dpBefore, "a bf16 reduction moves fewer bytes");
    plans.push_back(doc->plan());
    QCOMPARE(undo->count(), 6);
    for (size_t i = 1; i < plans.size(); ++i) QVERIFY(!(plans[i] == plans[i - 1]));
    for (int i = int(plans.size()) - 2; i >= 0; --i) {
        undo->undo();
        QVERIFY2(doc->plan() == plans[size_t(i)], qPrintable(QStringLiteral("after undo to %1").arg(i)));
        // The controls show the restored plan.
        QCOMPARE(w->meshPanel()->degree(QStringLiteral("tp"))->value(), plans[size_t(i)].tp);
        QCOMPARE(w->optionsPanel()->spBox()->isChecked(), plans[size_t(i)].sp);
        QCOMPARE(gradReduce->currentData().toInt(), int(plans[size_t(i)].gradReduce));
    }
    for (size_t i = 1; i < plans.size(); ++i) {
        undo->redo();
        QVERIFY(doc->plan() == plans[i]);
    }
    // A model change undoes too, back to the exact model and plan.
    const PlanState before = doc->state();
    doc->editModel(*findModel("llama2-7b"), QStringLiteral("model"));
    QCOMPARE(QString::fromStdString(doc->model().name), QStringLiteral("llama2-7b"));
    undo->undo();
    QVERIFY(doc->state() == before);
}

void TestWorkbench::sliderDragIsOneUndoStep()
{
    auto w = makeWindow();
    PlanDocument* doc = w->document();
    const Plan start = doc->plan();
    QSlider* slider = w->optionsPanel()->microBatch()->slider();
    const int steps = doc->undoStack()->count();
    slider->setSliderDown(true); // the user presses the handle...
    emit slider->sliderPressed();
    for (int v = 2; v <= 32; ++v) slider->setValue(v); // ...drags across 31 values...
    slider->setSliderDown(false); // ...and lets go
    QCOMPARE(doc->plan().microBatch, int64_t(32));
    QCOMPARE(doc->undoStack()->count(), steps + 1);
    doc->undoStack()->undo();
    QVERIFY(doc->plan() == start);
    // A second drag is a second step.
    emit slider->sliderPressed();
    slider->setSliderDown(true);
    slider->setValue(4);
    slider->setValue(8);
    slider->setSliderDown(false);
    emit slider->sliderPressed();
    slider->setSliderDown(true);
    slider->setValue(2);
    slider->setSliderDown(false);
    QCOMPARE(doc->undoStack()->count(), steps + 2);
    doc->undoStack()->undo();
    QCOMPARE(doc->plan().microBatch, int64_t(8));
}

void TestWorkbench::hfImportFillsModel()
{
    auto w = makeWindow();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("config.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
      "intermediate_size": 5632, "num_attention_heads": 32, "num_hidden_layers": 22, "num_key_value_heads": 4,
      "vocab_size": 32000, "max_position_embeddings": 2048, "rms_norm_eps": 1e-05, "tie_word_embeddings": false})");
    f.close();
    QVERIFY2(w->modelPanel()->importFile(path), qPrintable(w->modelPanel()->importError()));
    const ModelSpec& m = w->document()->model();
    QCOMPARE(m.layers, int64_t(22));
    QCOMPARE(m.hidden, int64_t(2048));
    QCOMPARE(m.heads, int64_t(32));
    QCOMPARE(m.kvHeads, int64_t(4));
    QCOMPARE(m.ffn, int64_t(5632));
    QCOMPARE(m.vocab, int64_t(32000));
    QVERIFY(m.ffnKind == FfnKind::SwiGlu);
    QCOMPARE(w->modelPanel()->editor()->field(QStringLiteral("layers"))->value(), 22);
    QVERIFY(w->document()->estimate().memory.totalGiB > 0);
    w->document()->undoStack()->undo();
    QCOMPARE(QString::fromStdString(w->document()->model().name), QStringLiteral("gpt2-124m"));
}

void TestWorkbench::hfImportByDrop()
{
    auto w = makeWindow();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("config.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 1024, "n_head": 16,
      "n_layer": 24, "n_positions": 1024, "vocab_size": 50257})");
    f.close();
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    // Dropped on the model panel, as a file manager does.
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(w->modelPanel(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(w->modelPanel(), &drop);
    QVERIFY2(w->modelPanel()->importError().isEmpty(), qPrintable(w->modelPanel()->importError()));
    QCOMPARE(w->document()->model().layers, int64_t(24));
    QCOMPARE(w->document()->model().hidden, int64_t(1024));
    QCOMPARE(w->document()->model().heads, int64_t(16));
    QVERIFY(w->document()->model().ffnKind == FfnKind::Gelu);
}

void TestWorkbench::hfImportErrorKeepsModel()
{
    auto w = makeWindow();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("broken.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"model_type": "llama", "hidden_size": "big"})");
    f.close();
    const PlanState before = w->document()->state();
    QVERIFY(!w->modelPanel()->importFile(path));
    QVERIFY(w->modelPanel()->importError().contains(QStringLiteral("broken.json")));
    QVERIFY(w->modelPanel()->importError().contains(QStringLiteral("unchanged")));
    QVERIFY(w->document()->state() == before);
}

void TestWorkbench::savedPlanReopensIdentical()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("mine.meshwork.json"));
    PlanState saved;
    {
        auto w = makeWindow();
        w->document()->editModel(*findModel("llama2-13b"), QStringLiteral("model"));
        w->clusterPanel()->nodesBox()->setValue(2);
        setDegree(*w, "tp", 4);
        setDegree(*w, "pp", 2);
        setDegree(*w, "dp", 2);
        w->optionsPanel()->recomputeBox()->setCurrentIndex(2);
        emit w->optionsPanel()->recomputeBox()->activated(2);
        saved = w->document()->state();
        QVERIFY(w->document()->isModified());
        QVERIFY2(w->saveFile(path), qPrintable(w->lastError()));
        QVERIFY(!w->document()->isModified());
    }
    auto w = makeWindow();
    QVERIFY2(w->openFile(path), qPrintable(w->lastError()));
    QVERIFY(w->document()->plan() == saved.plan);
    QVERIFY(w->document()->state() == saved);
    QCOMPARE(w->document()->filePath(), QFileInfo(path).absoluteFilePath());
    QCOMPARE(w->meshPanel()->degree(QStringLiteral("tp"))->value(), 4);
    QCOMPARE(w->clusterPanel()->nodesBox()->value(), 2);
}

void TestWorkbench::badFileLosesNothing()
{
    auto w = makeWindow();
    setDegree(*w, "tp", 2);
    const PlanState before = w->document()->state();
    const int steps = w->document()->undoStack()->count();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("garbage.meshwork.json"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is not a plan");
    f.close();
    QVERIFY(!w->openFile(path));
    QVERIFY(w->lastError().contains(QStringLiteral("garbage.meshwork.json")));
    QVERIFY(w->lastError().contains(QStringLiteral("not valid JSON")));
    QVERIFY(w->document()->state() == before);
    QCOMPARE(w->document()->undoStack()->count(), steps);
}

void TestWorkbench::searchAppliesChosenRow()
{
    auto w = makeWindow();
    PlanDocument* doc = w->document();
    SearchPanel* search = w->searchPanel();
    QSignalSpy done(search, &SearchPanel::searchFinished);
    search->startSearch();
    QVERIFY(search->isRunning());
    QVERIFY(done.wait(120000));
    QVERIFY(!search->isRunning());
    const int rows = search->proxy()->rowCount();
    QVERIFY(rows > 1);
    // Sorted by tokens/s, fastest first.
    const double first = search->proxy()->index(0, SearchResultsModel::TokensPerS).data(SearchResultsModel::SortRole).toDouble();
    const double second = search->proxy()->index(1, SearchResultsModel::TokensPerS).data(SearchResultsModel::SortRole).toDouble();
    QVERIFY(first >= second);
    int paretoRows = 0, chosen = -1;
    for (int r = 0; r < rows; ++r) {
        const bool pareto = search->proxy()->index(r, SearchResultsModel::Pareto).data(SearchResultsModel::SortRole).toInt() == 1;
        paretoRows += pareto;
        const int source = search->proxy()->mapToSource(search->proxy()->index(r, 0)).row();
        if (chosen < 0 && r > 0 && !(search->results()->resultAt(source).plan == doc->plan())) chosen = r;
    }
    QVERIFY(paretoRows >= 1);
    QVERIFY(chosen > 0);
    const Plan before = doc->plan();
    const Plan expected = search->results()->resultAt(search->proxy()->mapToSource(search->proxy()->index(chosen, 0)).row()).plan;
    search->applyRow(chosen);
    QVERIFY(doc->plan() == expected);
    QCOMPARE(w->meshPanel()->degree(QStringLiteral("tp"))->value(), expected.tp);
    doc->undoStack()->undo();
    QVERIFY(doc->plan() == before);
}

void TestWorkbench::searchCancels()
{
    auto w = makeWindow();
    w->document()->editModel(*findModel("llama2-70b"), QStringLiteral("model"));
    w->clusterPanel()->applyPreset(2); // 64x8 H100: a long search
    SearchPanel* search = w->searchPanel();
    QSignalSpy done(search, &SearchPanel::searchFinished);
    search->startSearch();
    search->cancel();
    QVERIFY(done.wait(120000));
    QCOMPARE(done.first().at(1).toBool(), true);
    QVERIFY(!search->isRunning());
    QVERIFY(!search->cancelButton()->isEnabled());
}

void TestWorkbench::meshFlagsTpAcrossNodes_data()
{
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("perNode");
    QTest::addColumn<int>("tp");
    QTest::addColumn<QString>("order");
    QTest::addColumn<bool>("flagged");
    QTest::newRow("tp 4 in a node of 8") << 2 << 8 << 4 << "tp-cp-dp-pp" << false;
    QTest::newRow("tp 4 over nodes of 2") << 4 << 2 << 4 << "tp-cp-dp-pp" << true;
    QTest::newRow("tp outermost") << 2 << 8 << 2 << "dp-cp-pp-tp" << true;
}

void TestWorkbench::meshFlagsTpAcrossNodes()
{
    QFETCH(int, nodes);
    QFETCH(int, perNode);
    QFETCH(int, tp);
    QFETCH(QString, order);
    QFETCH(bool, flagged);
    auto w = makeWindow();
    PlanDocument* doc = w->document();
    PlanState s = doc->state();
    s.cluster.nodes = nodes;
    s.cluster.gpusPerNode = perNode;
    s.plan.tp = tp;
    s.plan.dp = nodes * perNode / tp;
    s.plan.globalBatch = 1024;
    s.plan.order = order.toStdString();
    doc->editState(s, QStringLiteral("layout"));
    MeshView* view = w->meshPanel()->view();
    QCOMPARE(int(view->cells().size()), nodes * perNode);
    QCOMPARE(!view->crossNodeGroups().isEmpty(), flagged);
    int flaggedCells = 0;
    for (const auto& c : view->cells()) flaggedCells += c.tpCrossesNode;
    QCOMPARE(flaggedCells > 0, flagged);
    QCOMPARE(allContain(w->meshPanel()->issues()->warnings(), QStringLiteral("leave NVLink")), flagged);
    // Cells are coloured by TP group: tp ranks share each colour.
    QCOMPARE(view->colorKeyCount(), nodes * perNode / tp);
    QCOMPARE(w->meshPanel()->orderBox()->currentText(), order);
}

void TestWorkbench::clusterPresetRefitsDp()
{
    auto w = makeWindow();
    setDegree(*w, "tp", 2);
    setDegree(*w, "dp", 4);
    w->clusterPanel()->applyPreset(3); // 8x8 H100
    QCOMPARE(w->document()->cluster().worldSize(), 64);
    QCOMPARE(w->document()->plan().tp, 2);
    QCOMPARE(w->document()->plan().dp, 32);
    QVERIFY(w->document()->estimate().valid);
    w->document()->undoStack()->undo();
    QCOMPARE(w->document()->cluster().worldSize(), 8);
    QCOMPARE(w->document()->plan().dp, 4);
}

void TestWorkbench::docksAndToolbarsHaveNames()
{
    auto w = makeWindow();
    const auto docks = w->findChildren<QDockWidget*>();
    QVERIFY(docks.size() >= 6);
    for (QDockWidget* d : docks) QVERIFY2(!d->objectName().isEmpty(), qPrintable(d->windowTitle()));
    for (QToolBar* t : w->findChildren<QToolBar*>()) QVERIFY(!t->objectName().isEmpty());
    // A layout saved and restored is the same layout.
    w->dock(QStringLiteral("searchDock"))->raise();
    w->dock(QStringLiteral("clusterDock"))->hide();
    const QByteArray state = w->saveState();
    auto w2 = makeWindow();
    QVERIFY(w2->restoreState(state));
    QVERIFY(w2->dock(QStringLiteral("clusterDock"))->isHidden());
}

void TestWorkbench::exportShowsEachFormat_data()
{
    QTest::addColumn<int>("format");
    QTest::addColumn<QString>("tpKey");
    QTest::newRow("megatron") << 0 << "--tensor-model-parallel-size";
    QTest::newRow("colossal-ai") << 2 << "tp_size";
    QTest::newRow("torchtitan") << 3 << "tensor_parallel_degree";
}

void TestWorkbench::exportShowsEachFormat()
{
    QFETCH(int, format);
    QFETCH(QString, tpKey);
    auto w = makeWindow();
    setDegree(*w, "tp", 2);
    setDegree(*w, "dp", 4);
    ExportDialog dialog(w->document()->state());
    dialog.formatBox()->setCurrentIndex(format);
    QVERIFY2(dialog.text().contains(tpKey), qPrintable(dialog.text().left(400)));
    dialog.copyToClipboard();
    QCOMPARE(QGuiApplication::clipboard()->text(), dialog.text());
}

namespace {
// Counts the paint events a widget gets.
class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject*, QEvent* e) override
    {
        paints += e->type() == QEvent::Paint;
        return false;
    }
};
} // namespace

void TestWorkbench::meshRepaintsOnlyWhatChanged()
{
    // An edit repaints the mesh cells that changed, none when the picture stays (a
    // micro-batch drag); what is on screen afterwards is the picture a full repaint draws.
    auto w = makeWindow();
    QVERIFY(QTest::qWaitForWindowExposed(w.get()));
    PlanDocument* doc = w->document();
    PlanState s = doc->state();
    s.model = *findModel("llama2-70b");
    s.cluster.nodes = 64;
    s.plan.tp = 8;
    s.plan.pp = 4;
    s.plan.dp = 16;
    s.plan.microBatch = 1;
    s.plan.globalBatch = 1024;
    doc->reset(s);
    QApplication::processEvents();
    MeshView* view = w->meshPanel()->view();
    PaintCounter counter;
    view->installEventFilter(&counter);

    Plan p = doc->plan();
    p.microBatch = 2;
    doc->editPlan(p, QStringLiteral("micro-batch"));
    QApplication::processEvents();
    QCOMPARE(counter.paints, 0);

    // TP groups across nodes (red outlines), then half the GPUs idle, then back.
    for (const auto& [tp, dp] : {std::pair{16, 8}, std::pair{16, 4}, std::pair{8, 4}, std::pair{8, 16}}) {
        p.tp = tp;
        p.dp = dp;
        doc->editPlan(p, QStringLiteral("degrees"));
        QApplication::processEvents();
        const QPoint at = view->mapTo(w.get(), QPoint(0, 0));
        const QImage onScreen =
            w->screen()->grabWindow(w->winId(), at.x(), at.y(), view->width(), view->height()).toImage().convertToFormat(QImage::Format_RGB32);
        const QImage full = view->grab().toImage().convertToFormat(QImage::Format_RGB32);
        QCOMPARE(onScreen.size(), full.size());
        QVERIFY2(onScreen == full, qPrintable(QStringLiteral("tp %1 dp %2: the screen differs from a full repaint").arg(tp).arg(dp)));
    }
    QVERIFY(counter.paints > 0);
}

void TestWorkbench::wrappedLabelHintsFollowText()
{
    // The cached hints answer as QLabel does, and follow the text.
    WrappedLabel label;
    QLabel reference;
    reference.setWordWrap(true);
    for (QLabel* l : {static_cast<QLabel*>(&label), &reference}) {
        l->setTextFormat(Qt::RichText);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    const QString shortText = QStringLiteral("<b>valid</b>");
    QString longText;
    for (int i = 0; i < 6; ++i) longText += QStringLiteral("<div>problem %1: a reason long enough to wrap at two hundred pixels</div>").arg(i);
    for (const QString& text : {shortText, longText, shortText}) {
        label.setText(text);
        reference.setText(text);
        for (int width : {200, 400, 200})
            QCOMPARE(label.heightForWidth(width), reference.heightForWidth(width));
        QVERIFY(label.minimumSizeHint().width() <= label.sizeHint().width());
        QVERIFY(label.minimumSizeHint().width() > 0);
    }
    label.setText(longText);
    QVERIFY(label.heightForWidth(200) > label.heightForWidth(400));
    QVERIFY(label.minimumSizeHint().height() >= 6 * label.fontMetrics().lineSpacing());
}

void TestWorkbench::issueListWrapsAndCopies()
{
    // Long problems wrap (taller when narrower); the context menu copies them, a line each.
    IssueList list;
    const QStringList errors = {QStringLiteral("kv-heads (8) must be divisible by tp (16)")};
    const QStringList warnings = {QStringLiteral("tp = 16 spans nodes (8 GPUs per node): tensor-parallel collectives run on the inter-node network")};
    list.setIssues(errors, warnings);
    const int lines2 = 2 * list.fontMetrics().height();
    QVERIFY(list.heightForWidth(2000) >= lines2);
    QVERIFY(list.heightForWidth(2000) < 3 * list.fontMetrics().lineSpacing());
    QVERIFY(list.heightForWidth(150) > list.heightForWidth(2000));
    QVERIFY(list.text().contains(warnings.front().toHtmlEscaped()));
    QCOMPARE(list.actions().size(), 1);
    list.actions().front()->trigger();
    QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("✖ ") + errors.front() + QLatin1Char('\n') + QStringLiteral("⚠ ") + warnings.front());
    list.setIssues({}, {});
    QVERIFY(list.heightForWidth(2000) < lines2);
}

QTEST_MAIN(TestWorkbench)
#include "test_workbench.moc"
