// The tolerant event reader: what it takes, what it skips and counts, and how it reassembles
// lines from arbitrary chunks (a pipe, a growing file, a trainer killed mid-line).
#include "core/events/EventReader.h"

#include <QtTest>

using namespace meshwork;
using Kind = EventReader::LineKind;
Q_DECLARE_METATYPE(EventReader::LineKind)

namespace {

std::string stream(int steps)
{
    std::string s = R"({"v":1,"event":"run_start","t":0,"run_id":"r1","plan":{"tp":2}})" "\n";
    for (int i = 1; i <= steps; ++i)
        s += R"({"v":1,"event":"step","t":)" + std::to_string(i) + R"(,"step":)" + std::to_string(i)
            + R"(,"loss":)" + std::to_string(10.0 / i) + "}\n";
    return s + R"({"v":1,"event":"run_end","t":99,"status":"completed","steps":)" + std::to_string(steps) + "}\n";
}

} // namespace

class TestEventReader : public QObject {
    Q_OBJECT

private slots:
    void parseLine_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<EventReader::LineKind>("kind");
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("why");
        QTest::newRow("step") << QByteArray(R"({"v":1,"event":"step","t":1.5,"step":3,"loss":2.5})") << Kind::Event
                              << "step" << "";
        QTest::newRow("unknown fields kept")
            << QByteArray(R"({"v":1,"event":"log","t":2,"level":"info","message":"hi","new":{"x":1}})")
            << Kind::Event << "log" << "";
        QTest::newRow("unknown event type") << QByteArray(R"({"v":1,"event":"profile","t":3})") << Kind::Event
                                            << "profile" << "";
        QTest::newRow("no t") << QByteArray(R"({"v":1,"event":"log"})") << Kind::Event << "log" << "";
        QTest::newRow("crlf") << QByteArray("{\"v\":1,\"event\":\"eval\",\"t\":1}\r") << Kind::Event << "eval" << "";
        QTest::newRow("blank") << QByteArray("   ") << Kind::Blank << "" << "";
        QTest::newRow("empty") << QByteArray("") << Kind::Blank << "" << "";
        QTest::newRow("not json") << QByteArray("Traceback (most recent call last):") << Kind::Invalid << ""
                                  << "not valid JSON";
        QTest::newRow("cut short") << QByteArray(R"({"v":1,"event":"st)") << Kind::Invalid << "" << "not valid JSON";
        QTest::newRow("array") << QByteArray("[1,2]") << Kind::Invalid << "" << "expected a JSON object";
        QTest::newRow("no v") << QByteArray(R"({"event":"step","t":1})") << Kind::Invalid << "" << "no \"v\"";
        QTest::newRow("v text") << QByteArray(R"({"v":"1","event":"step"})") << Kind::Invalid << "" << "\"v\" must be";
        QTest::newRow("v fraction") << QByteArray(R"({"v":1.5,"event":"step"})") << Kind::Invalid << "" << "\"v\" must be";
        QTest::newRow("no event") << QByteArray(R"({"v":1,"t":1})") << Kind::Invalid << "" << "no \"event\"";
        QTest::newRow("event number") << QByteArray(R"({"v":1,"event":3})") << Kind::Invalid << "" << "\"event\" must be";
        QTest::newRow("newer") << QByteArray(R"({"v":2,"event":"step","t":1})") << Kind::NewerVersion << ""
                               << "protocol version 2 is newer than this build reads (1)";
    }

    void parseLine()
    {
        QFETCH(QByteArray, line);
        QFETCH(EventReader::LineKind, kind);
        QFETCH(QString, type);
        QFETCH(QString, why);
        Event e;
        std::string reason;
        QCOMPARE(EventReader::parseLine(std::string_view(line.constData(), size_t(line.size())), &e, &reason), kind);
        if (kind == Kind::Event) {
            QCOMPARE(QString::fromStdString(e.type), type);
            QCOMPARE(e.v, 1);
            QVERIFY(e.fields.isObject());
        } else if (!why.isEmpty()) {
            QVERIFY2(QString::fromStdString(reason).contains(why), reason.c_str());
        }
    }

    void fieldsAreReadable()
    {
        Event e;
        QCOMPARE(EventReader::parseLine(R"({"v":1,"event":"step","t":1.5,"step":3,"loss":2.5,"lr":null,"x":"y"})", &e),
                 Kind::Event);
        QCOMPARE(e.t, 1.5);
        QCOMPARE(e.number("step").value_or(-1), 3.0);
        QCOMPARE(e.number("loss").value_or(-1), 2.5);
        QVERIFY(!e.number("lr"));     // null: no value
        QVERIFY(!e.number("absent"));
        QVERIFY(!e.number("x"));      // text is not a number
        QCOMPARE(e.string("x"), std::string("y"));
        QCOMPARE(e.string("step", "fallback"), std::string("fallback"));
    }

    void anyChunkingGivesTheSameEvents_data()
    {
        QTest::addColumn<int>("chunk");
        for (int c : {1, 2, 3, 7, 16, 61, 4096}) QTest::newRow(qPrintable(QString::number(c))) << c;
    }

    void anyChunkingGivesTheSameEvents()
    {
        QFETCH(int, chunk);
        const std::string text = stream(20);
        EventReader whole;
        const std::vector<Event> expected = whole.feed(text);
        QCOMPARE(expected.size(), size_t(22));
        EventReader pieces;
        std::vector<Event> got;
        for (size_t pos = 0; pos < text.size(); pos += size_t(chunk))
            for (Event& e : pieces.feed(std::string_view(text).substr(pos, size_t(chunk)))) got.push_back(std::move(e));
        for (Event& e : pieces.finish()) got.push_back(std::move(e));
        QCOMPARE(got.size(), expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
            QCOMPARE(got[i].type, expected[i].type);
            QCOMPARE(got[i].fields.dump(), expected[i].fields.dump());
        }
        QCOMPARE(pieces.stats().events, int64_t(22));
        QCOMPARE(pieces.stats().skipped(), int64_t(0));
        QCOMPARE(pieces.pendingBytes(), size_t(0));
    }

    void partialLineWaitsForItsNewline()
    {
        EventReader r;
        auto first = r.feed("{\"v\":1,\"event\":\"step\",\"t\":1,\"step\":1}\n{\"v\":1,\"event\":\"st");
        QCOMPARE(first.size(), size_t(1));
        QCOMPARE(r.pendingBytes(), std::string("{\"v\":1,\"event\":\"st").size());
        QCOMPARE(r.stats().invalid, int64_t(0)); // not judged before its newline
        auto second = r.feed("ep\",\"t\":2,\"step\":2}\n");
        QCOMPARE(second.size(), size_t(1));
        QCOMPARE(second[0].number("step").value_or(0), 2.0);
        QCOMPARE(r.pendingBytes(), size_t(0));
    }

    void finishTakesAWholeLastLineAndCountsACutOne()
    {
        EventReader whole;
        whole.feed("{\"v\":1,\"event\":\"log\",\"t\":1}\n{\"v\":1,\"event\":\"run_end\",\"t\":2}"); // no final newline
        auto tail = whole.finish();
        QCOMPARE(tail.size(), size_t(1));
        QCOMPARE(tail[0].type, std::string("run_end"));
        QCOMPARE(whole.stats().truncated, int64_t(0));

        EventReader cut; // a trainer killed mid-line
        cut.feed("{\"v\":1,\"event\":\"log\",\"t\":1}\n{\"v\":1,\"event\":\"step\",\"t\":2,\"lo");
        QVERIFY(cut.finish().empty());
        QCOMPARE(cut.stats().events, int64_t(1));
        QCOMPARE(cut.stats().truncated, int64_t(1));
        QCOMPARE(cut.stats().invalid, int64_t(0));
        QCOMPARE(cut.warnings().size(), size_t(1));
        QVERIFY(cut.warnings()[0].find("line 2") != std::string::npos);
        QVERIFY(cut.warnings()[0].find("unfinished") != std::string::npos);
    }

    void badLinesAreSkippedCountedAndReported()
    {
        EventReader r;
        std::string text = "garbage\n" + stream(3) + "{\"v\":2,\"event\":\"step\"}\n\n[1]\n{\"event\":\"x\"}\n";
        const auto events = r.feed(text);
        QCOMPARE(events.size(), size_t(5)); // run_start, 3 steps, run_end
        QCOMPARE(r.stats().lines, int64_t(10));
        QCOMPARE(r.stats().invalid, int64_t(3));
        QCOMPARE(r.stats().newerVersion, int64_t(1));
        QCOMPARE(r.stats().skipped(), int64_t(4));
        QCOMPARE(r.warnings().size(), size_t(4));
        QVERIFY2(r.warnings()[0].rfind("line 1: skipped, not valid JSON", 0) == 0, r.warnings()[0].c_str());
        QVERIFY2(r.warnings()[1].find("line 7") != std::string::npos, r.warnings()[1].c_str());
        QVERIFY(r.warnings()[1].find("upgrade Meshwork") != std::string::npos);
    }

    void warningsAreCappedCountsAreNot()
    {
        EventReader r;
        std::string text;
        for (int i = 0; i < 100; ++i) text += "not json\n";
        r.feed(text);
        QCOMPARE(r.stats().invalid, int64_t(100));
        QCOMPARE(r.warnings().size(), EventReader::kMaxWarnings);
    }
};

QTEST_GUILESS_MAIN(TestEventReader)
#include "test_event_reader.moc"
