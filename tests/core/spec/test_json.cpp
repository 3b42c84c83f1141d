#include "core/json/Json.h"

#include <QtTest>

using namespace meshwork;

class TestJson : public QObject {
    Q_OBJECT
private slots:
    void roundTrip()
    {
        // (no raw string here: moc 6.4 mis-reads one that holds \" and writes an empty .moc)
        const char* text = "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\\\"y\\n\\u00e9\",\"d\":-2.5e-3,\"e\":{}}";
        std::string err;
        auto j = Json::parse(text, &err);
        QVERIFY2(j.has_value(), err.c_str());
        QCOMPARE((*j)["a"].asNumber(), 1.0);
        QCOMPARE((*j)["c"].asString(), std::string("x\"y\n\xc3\xa9"));
        auto again = Json::parse(j->dump(2), &err);
        QVERIFY(again.has_value());
        QCOMPARE(again->dump(), j->dump());
        QCOMPARE(Json(0.1).dump(), std::string("0.1"));
        QCOMPARE(Json(int64_t(124439808)).dump(), std::string("124439808"));
    }

    void errorsHavePositions_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("truncated") << "{\"a\": [1, 2" << "unterminated";
        QTest::newRow("trailing") << "{} x" << "after";
        QTest::newRow("bad literal") << "[tru]" << "literal";
        QTest::newRow("line") << "{\n\"a\": ?}" << "line 2";
        QTest::newRow("empty") << "" << "end of input";
        QTest::newRow("overflow") << "1e999" << "range";
    }
    void errorsHavePositions()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        std::string err;
        QVERIFY(!Json::parse(text.toStdString(), &err).has_value());
        QVERIFY2(QString::fromStdString(err).contains(expected), err.c_str());
    }
};

QTEST_APPLESS_MAIN(TestJson)
#include "test_json.moc"
