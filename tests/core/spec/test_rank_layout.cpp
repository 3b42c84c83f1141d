// Rank layout: Megatron's RankGenerator order, tested without devices.
#include "core/spec/RankLayout.h"
#include "core/spec/SpecError.h"

#include <QtTest>
#include <set>

using namespace meshwork;

class TestRankLayout : public QObject {
    Q_OBJECT
private slots:
    void tpIsInnermostByDefault()
    {
        RankLayout l(2, 1, 2, 2); // tp, cp, dp, pp: 8 ranks
        QCOMPARE(l.worldSize(), 8);
        QCOMPARE(l.groups(Axis::Tp), (std::vector<std::vector<int>>{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
        QCOMPARE(l.groups(Axis::Dp), (std::vector<std::vector<int>>{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
        QCOMPARE(l.groups(Axis::Pp), (std::vector<std::vector<int>>{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
        QCOMPARE(l.groups(Axis::Cp).size(), size_t(8));
    }

    void otherOrders()
    {
        RankLayout l(2, 1, 2, 1, "dp-tp-cp-pp");
        QCOMPARE(l.groups(Axis::Dp), (std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
        QCOMPARE(l.groups(Axis::Tp), (std::vector<std::vector<int>>{{0, 2}, {1, 3}}));
    }

    void coordinatesRoundTripAndGroupsPartition_data()
    {
        QTest::addColumn<int>("tp");
        QTest::addColumn<int>("cp");
        QTest::addColumn<int>("dp");
        QTest::addColumn<int>("pp");
        QTest::addColumn<QString>("order");
        QTest::newRow("8x8") << 8 << 1 << 4 << 2 << "tp-cp-dp-pp";
        QTest::newRow("cp") << 2 << 2 << 3 << 2 << "tp-cp-dp-pp";
        QTest::newRow("pp-first") << 2 << 2 << 2 << 3 << "pp-dp-cp-tp";
    }
    void coordinatesRoundTripAndGroupsPartition()
    {
        QFETCH(int, tp); QFETCH(int, cp); QFETCH(int, dp); QFETCH(int, pp); QFETCH(QString, order);
        RankLayout l(tp, cp, dp, pp, order.toStdString());
        for (int r = 0; r < l.worldSize(); ++r)
            QCOMPARE(l.rankOf(l.coordOf(r)), r);
        for (Axis a : {Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp}) {
            std::set<int> seen;
            for (const auto& g : l.groups(a)) {
                QCOMPARE(int(g.size()), l.size(a));
                for (int r : g) QVERIFY(seen.insert(r).second);
            }
            QCOMPARE(int(seen.size()), l.worldSize());
        }
    }

    void badOrdersAreNamed()
    {
        std::string err;
        QVERIFY(!RankLayout::parseOrder("tp-dp-pp", &err));
        QVERIFY(QString::fromStdString(err).contains("4 axes"));
        QVERIFY(!RankLayout::parseOrder("tp-tp-dp-pp", &err));
        QVERIFY(QString::fromStdString(err).contains("twice"));
        QVERIFY(!RankLayout::parseOrder("tp-xx-dp-pp", &err));
        QVERIFY(QString::fromStdString(err).contains("xx"));
        QVERIFY_THROWS_EXCEPTION(SpecError, RankLayout(1, 1, 1, 1, "bogus"));
    }
};

QTEST_APPLESS_MAIN(TestRankLayout)
#include "test_rank_layout.moc"
