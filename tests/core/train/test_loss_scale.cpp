// fp16 dynamic loss scaling: halve and skip on overflow, never below 1, double after a run
// of clean steps (Micikevicius et al. 2018).
#include "core/train/LossScale.h"

#include <QtTest>
#include <limits>

using namespace meshwork;

class TestLossScale : public QObject {
    Q_OBJECT
private slots:
    void overflowHalvesAndSkips()
    {
        double scale = 65536;
        int64_t good = 5;
        QVERIFY(!updateLossScale(scale, good, false));
        QCOMPARE(scale, 32768.0);
        QCOMPARE(good, int64_t(0));
    }

    void neverBelowOne()
    {
        double scale = 1.5;
        int64_t good = 0;
        for (int i = 0; i < 5; ++i) QVERIFY(!updateLossScale(scale, good, false));
        QCOMPARE(scale, 1.0);
    }

    void doublesAfterTheGrowthInterval()
    {
        double scale = 1024;
        int64_t good = 0;
        for (int i = 0; i < 9; ++i) QVERIFY(updateLossScale(scale, good, true, 10));
        QCOMPARE(scale, 1024.0);
        QVERIFY(updateLossScale(scale, good, true, 10));
        QCOMPARE(scale, 2048.0);
        QCOMPARE(good, int64_t(0));
        // An overflow in the middle of a run restarts the count.
        for (int i = 0; i < 5; ++i) updateLossScale(scale, good, true, 10);
        updateLossScale(scale, good, false, 10);
        QCOMPARE(scale, 1024.0);
        for (int i = 0; i < 9; ++i) updateLossScale(scale, good, true, 10);
        QCOMPARE(scale, 1024.0);
    }
};

QTEST_APPLESS_MAIN(TestLossScale)
#include "test_loss_scale.moc"
